"""The store: one SQLite file; its repositories are the only place SQL is written."""

from agent.adapters.store.db import Store

__all__ = ["Store"]
