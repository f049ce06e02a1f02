"""The signing key, held so that it never shows itself (redacted ``repr``/``str``, never pickled)."""

from __future__ import annotations

from typing import Any

from agent.core.errors import ConfigError


class SecretKey:
    """A signing key that never shows itself: ``repr``/``str`` are redacted; ``reveal()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str | SecretKey) -> None:
        if isinstance(value, SecretKey):
            value = value.reveal()
        if not isinstance(value, str) or not value.strip():
            raise ConfigError("secret key: empty")
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretKey('***')"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never pickled (e.g. into a subprocess or a cache) by accident
        raise TypeError("SecretKey cannot be pickled")
