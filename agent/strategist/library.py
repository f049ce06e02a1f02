"""The strategy library: ``prompts/strategies/*.md`` parsed into typed ``Strategy`` objects.

Each file is front matter between two ``---`` lines, then a Markdown body with the sections
Preconditions, Concept, Signals and Sizing. The front matter is parsed by a deliberately tiny, strict
parser (``key: value`` and ``key: [a, b]`` lines only) rather than PyYAML: the format stays small
enough to read at a glance, we add no dependency, and YAML's surprises (``no`` -> False, ``1e3``
-> float, anchors) cannot creep into a file the LLM's prompt is built from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.core import problems
from agent.core.errors import ConfigError

Directionality = Literal["long-only", "long-short", "market-neutral"]
RiskProfile = Literal["conservative", "moderate", "aggressive"]
#: the market regimes the offline strategist tells apart (``agent.strategist.regime.classify``)
REGIMES = ("crash", "high-vol", "caution", "broad-rally", "uptrend", "range", "downtrend")

REQUIRED_SECTIONS = ("Preconditions", "Concept", "Signals", "Sizing")
_KEY_RE = re.compile(r"^([a-z_][a-z0-9_]*)\s*:\s*(.*)$")
_ID_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class StrategyCaps:
    """The hard caps a strategy declares, applied on top of the config limits."""

    max_position: float
    max_leverage: float


class Strategy(BaseModel):
    """One strategy of the library: its front matter, its Markdown body and where it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str = Field(min_length=1)
    markets: list[Literal["perp", "spot"]] = Field(min_length=1)
    directionality: Directionality
    risk_profile: RiskProfile
    horizon: str = Field(min_length=1)
    compatible_regimes: list[str]
    avoided_regimes: list[str]
    max_position: float = Field(ge=0.0, le=1.0)
    max_leverage: float = Field(ge=0.0, le=50.0)
    min_dwell_hours: float = Field(ge=0.0)
    expected_switching_cost_bps: float = Field(ge=0.0)
    body: str
    path: Path
    sections: dict[str, str] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError(f"{v!r} is not a lowercase-hyphenated id")
        return v

    def caps(self) -> StrategyCaps:
        """Max |weight| per asset and max gross exposure this strategy allows."""
        return StrategyCaps(max_position=self.max_position, max_leverage=self.max_leverage)

    def section(self, name: str) -> str:
        return self.sections.get(name, "")


def default_directory() -> Path:
    """The installed ``prompts/strategies`` folder."""
    return Path(str(files("prompts") / "strategies"))


def _parse_value(raw: str, where: str) -> str | list[str]:
    raw = raw.strip()
    if raw.startswith("["):
        if not raw.endswith("]"):
            raise ConfigError(f"{where}: unterminated list {raw!r}")
        inner = raw[1:-1].strip()
        if not inner:
            return []
        items = [_unquote(x.strip(), where) for x in inner.split(",")]
        if any(not x for x in items):
            raise ConfigError(f"{where}: empty list item in {raw!r}")
        return items
    if not raw:
        raise ConfigError(f"{where}: missing value")
    return _unquote(raw, where)


def _unquote(s: str, where: str) -> str:
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
    if s[:1] in "\"'" or s[-1:] in "\"'":
        raise ConfigError(f"{where}: unbalanced quote in {s!r}")
    return s


def parse_front_matter(text: str, source: str = "<text>") -> tuple[dict[str, str | list[str]], str]:
    """Split ``text`` into (front matter dict, body); raise ``ConfigError`` naming ``source`` and the key."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise ConfigError(f"{source}: must start with a '---' front matter line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ConfigError(f"{source}: front matter is not closed by a '---' line") from None
    data: dict[str, str | list[str]] = {}
    for lineno in range(1, end):
        line = lines[lineno]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _KEY_RE.match(line)
        if m is None:
            raise ConfigError(f"{source}:{lineno + 1}: expected 'key: value', got {line.strip()!r}")
        key, raw = m.group(1), m.group(2)
        where = f"{source}: key '{key}'"
        if key in data:
            raise ConfigError(f"{where}: duplicate key")
        data[key] = _parse_value(raw, where)
    body = "\n".join(lines[end + 1 :]).strip() + "\n"
    return data, body


def split_sections(body: str) -> dict[str, str]:
    """``## Heading`` -> text under it (up to the next ``## ``)."""
    sections: dict[str, str] = {}
    current: str | None = None
    buf: list[str] = []
    for line in body.splitlines():
        if line.startswith("## "):
            if current is not None:
                sections[current] = "\n".join(buf).strip()
            current, buf = line[3:].strip(), []
        elif current is not None:
            buf.append(line)
    if current is not None:
        sections[current] = "\n".join(buf).strip()
    return sections


def parse_strategy(text: str, path: Path) -> Strategy:
    """Parse one strategy file's text; every problem becomes a ``ConfigError`` naming the file and key."""
    data, body = parse_front_matter(text, str(path))
    sections = split_sections(body)
    missing = [s for s in REQUIRED_SECTIONS if not sections.get(s)]
    if missing:
        raise ConfigError(f"{path}: body lacks the section(s) {', '.join(missing)} ('## Name' headings)")
    try:
        strategy = Strategy.model_validate({**data, "body": body, "path": path, "sections": sections})
    except ValidationError as exc:
        err = problems.first(exc, missing="required key is missing")
        key = str(err.loc[0]) if err.loc else "?"
        raise ConfigError(f"{path}: key '{key}': {err.message}") from None
    if strategy.id != path.stem:
        raise ConfigError(f"{path}: key 'id': {strategy.id!r} does not match the file name {path.stem!r}")
    return strategy


def load_strategies(directory: str | Path | None = None) -> dict[str, Strategy]:
    """Every ``*.md`` strategy in ``directory`` (default: the installed library), keyed and sorted by id."""
    folder = Path(directory) if directory is not None else default_directory()
    if not folder.is_dir():
        raise ConfigError(f"{folder}: strategy directory not found")
    out: dict[str, Strategy] = {}
    for path in sorted(folder.glob("*.md")):
        strategy = parse_strategy(path.read_text(encoding="utf-8"), path)
        out[strategy.id] = strategy
    if not out:
        raise ConfigError(f"{folder}: no strategy files (*.md)")
    return out


def _regimes(s: Strategy) -> str:
    """The regimes a strategy suits (``any`` for all of them) and those it avoids, in few words."""
    fit = "any" if set(s.compatible_regimes) >= set(REGIMES) else ",".join(s.compatible_regimes) or "-"
    return fit + (f" (avoid {','.join(s.avoided_regimes)})" if s.avoided_regimes else "")


def _first_sentence(text: str, limit: int = 64) -> str:
    """The first sentence, cut at a word boundary to ``limit`` characters."""
    flat = " ".join(text.split())
    cut = flat.split(". ")[0].rstrip(".")
    return cut if len(cut) <= limit else cut[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def catalogue_summary(strategies: dict[str, Strategy]) -> str:
    """One deterministic line per strategy (sorted by id) for the LLM prompt and ``list_strategies``."""
    lines = []
    for sid in sorted(strategies):
        s = strategies[sid]
        lines.append(
            f"{s.id}: {s.title} | {s.directionality}, {'/'.join(s.markets)}, risk {s.risk_profile}, "
            f"horizon {s.horizon} | regimes {_regimes(s)} | max_position {s.max_position:g}, "
            f"max_leverage {s.max_leverage:g}, dwell {s.min_dwell_hours:g}h, "
            f"switch ~{s.expected_switching_cost_bps:g}bp | {_first_sentence(s.section('Concept'))}"
        )
    return "\n".join(lines)
