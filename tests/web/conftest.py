"""Fixtures for the advisor tests (helpers in ``web_support``)."""

from web_support import advisor, browser, page, read_only_advisor

__all__ = ["advisor", "browser", "page", "read_only_advisor"]
