"""The Hyperliquid venue: ``client`` (through hyperliquid-python-sdk), ``parsing`` and ``answers`` (responses),
``constants`` (URLs and request weights) and ``settings`` (the adapter's own configuration)."""
