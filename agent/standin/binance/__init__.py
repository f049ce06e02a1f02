"""A local Binance spot exchange on loopback (the second venue's stand-in): :mod:`.exchange` is the state and
its rules, :mod:`.server` the HTTP API that ccxt and python-binance talk to, :mod:`.seed` the demo account."""
