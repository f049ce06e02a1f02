"""Fixtures for the MCP tests (helpers in ``mcp_support``; no ``__init__.py`` here, or this folder would
shadow the ``mcp`` package)."""

from mcp_support import clock, mcp, mcp_read_only, services, settings

__all__ = ["clock", "mcp", "mcp_read_only", "services", "settings"]
