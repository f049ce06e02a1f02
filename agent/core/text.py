"""Text that echoes input (coin names, reasons, model replies) made safe to show: control characters escaped,
and the password of a URL (``postgresql://user:pw@host/db``) hidden."""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def safe(text: object) -> str:
    """``text`` with control, bidi-override and zero-width-marker characters escaped (``\\x00``, ``\\u202e``)."""

    def esc(m: re.Match[str]) -> str:
        c = ord(m.group(0))
        return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"

    return _UNSAFE.sub(esc, str(text))


_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)[^\s@]+@")


def without_passwords(text: object) -> str:
    """``text`` with every URL's password replaced by ``***`` (``postgresql://user:***@host/db``)."""
    return _URL_PASSWORD.sub(r"\1***@", str(text))
