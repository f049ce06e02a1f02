"""Adapters to the outside world: Hyperliquid, paper fills, snapshot files, alerts, and the store (all SQL)."""
