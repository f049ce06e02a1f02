"""One line of the doctor's report: a named check, whether it passed, what was found and how to fix it.

Each venue's doctor (:mod:`~agent.services.evidence.doctor`, :mod:`~agent.services.evidence.doctor_binance`)
returns these; the doctor module re-exports the class.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    check: str
    ok: bool
    detail: str
    fix: str = ""

    def to_public(self) -> dict[str, Any]:
        return asdict(self)
