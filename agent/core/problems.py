"""Pydantic's validation errors as the one-line problems every boundary shows.

Each interface words its problems the same way: ``where: what`` per bad field, the location dotted
(``rebalance.max_slippage``), pydantic's ``"Value error, "`` prefix dropped, an unexpected key named as
such. Callers choose only the words of their boundary (``root`` when the whole value is wrong, the word
for an unknown key: "unknown key" in a config file, "unknown field" in tool arguments).

Example::

    >>> from pydantic import BaseModel, ConfigDict, ValidationError
    >>> class Band(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     width: float
    >>> try:
    ...     Band.model_validate({"width": "wide", "colour": 1})
    ... except ValidationError as e:
    ...     print(one_line(e))
    width: Input should be a valid number, unable to parse string as a number; colour: unknown key
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticError


@dataclass(frozen=True)
class Problem:
    """One bad field: where it is, what is wrong, pydantic's error type and its context (bounds …)."""

    where: str
    message: str
    kind: str
    loc: tuple[str | int, ...] = ()
    ctx: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def problems(
    e: PydanticError,
    *,
    root: str = "value",
    skip: int = 0,
    unknown: str = "unknown key",
    missing: str | None = None,
) -> list[Problem]:
    """Every problem of ``e`` (``skip``: leading location parts to drop; ``missing``: the words for a
    required field left out, pydantic's "Field required" by default)."""
    out = []
    for err in e.errors(include_url=False, include_input=False):
        loc = tuple(err["loc"][skip:])
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = unknown
        elif err["type"] == "missing" and missing is not None:
            message = missing
        where = ".".join(str(p) for p in loc) or root
        out.append(Problem(where, message, err["type"], loc, dict(err.get("ctx") or {})))
    return out


def first(e: PydanticError, **words: Any) -> Problem:
    """The first problem of ``e`` (a config error names one key; see :func:`problems` for ``words``)."""
    return problems(e, **words)[0]


def one_line(e: PydanticError, **words: Any) -> str:
    """Every problem of ``e`` on one line, ``"; "`` between them (see :func:`problems` for ``words``)."""
    return "; ".join(str(p) for p in problems(e, **words))
