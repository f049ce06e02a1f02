"""The decide step: a strategist picks a strategy and returns a validated target allocation."""
