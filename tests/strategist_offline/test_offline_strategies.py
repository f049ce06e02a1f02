"""The strategy library: every shipped file loads; the front-matter parser is strict and names the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.core.errors import ConfigError
from agent.strategist.library import REQUIRED_SECTIONS, catalogue_summary, load_strategies, parse_front_matter

SHIPPED = {
    "balanced-growth",
    "risk-off",
    "equal-weight",
    "score-weighted",
    "risk-parity",
    "cash-reserve",
    "funding-harvest",
    "fixed-targets",
}

GOOD = """---
id: demo
title: A demo strategy
markets: [perp, spot]
directionality: long-only
risk_profile: moderate
horizon: weeks
compatible_regimes: [uptrend, range]
avoided_regimes: []
max_position: 0.3
max_leverage: 1
min_dwell_hours: 24
expected_switching_cost_bps: 12.5
---

## Preconditions
Always.

## Concept
Hold things. Then more.

## Signals
None.

## Sizing
Small.
"""


def write(tmp_path: Path, text: str, name: str = "demo.md") -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_every_shipped_strategy_loads() -> None:
    lib = load_strategies()
    assert set(lib) >= SHIPPED
    for sid, s in lib.items():
        assert s.id == sid == s.path.stem
        assert all(s.section(name) for name in REQUIRED_SECTIONS)
        caps = s.caps()
        assert 0 <= caps.max_position <= 1 and 0 <= caps.max_leverage <= 1
        assert s.compatible_regimes


def test_seed_numbers_in_the_library() -> None:
    lib = load_strategies()
    assert lib["equal-weight"].max_position == 0.125  # seed 000's 12.5 % max position
    assert lib["cash-reserve"].max_position == 0.30  # seed 002's 30 % per asset
    assert "20 %" in lib["cash-reserve"].body and "15 %" in lib["cash-reserve"].body
    assert lib["funding-harvest"].directionality == "market-neutral"
    assert "spot market" in lib["funding-harvest"].section("Concept")
    assert lib["risk-off"].caps().max_position == 0


def test_catalogue_summary_is_one_deterministic_line_per_strategy() -> None:
    lib = load_strategies()
    text = catalogue_summary(lib)
    lines = text.splitlines()
    assert len(lines) == len(lib)
    assert [ln.split(":")[0] for ln in lines] == sorted(lib)
    assert text == catalogue_summary(dict(reversed(list(lib.items()))))
    assert all(len(ln) < 400 for ln in lines)


def test_good_file_parses(tmp_path: Path) -> None:
    lib = load_strategies(write(tmp_path, GOOD))
    s = lib["demo"]
    assert s.markets == ["perp", "spot"] and s.avoided_regimes == []
    assert s.max_leverage == 1.0 and s.expected_switching_cost_bps == 12.5
    assert s.section("Concept") == "Hold things. Then more."
    assert catalogue_summary(lib).startswith("demo: A demo strategy | long-only")


def test_quoted_values_and_comments(tmp_path: Path) -> None:
    text = GOOD.replace("title: A demo strategy", '# a comment\ntitle: "A: quoted title"')
    assert load_strategies(write(tmp_path, text))["demo"].title == "A: quoted title"


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (lambda t: t.replace("max_position: 0.3", "max_position: 1.5"), "key 'max_position'"),
        (lambda t: t.replace("max_position: 0.3", "max_position: lots"), "key 'max_position'"),
        (lambda t: t.replace("horizon: weeks\n", ""), "key 'horizon': required key is missing"),
        (lambda t: t.replace("horizon: weeks", "horizon: weeks\ncolour: blue"), "key 'colour': unknown key"),
        (lambda t: t.replace("horizon: weeks", "horizon: weeks\nhorizon: days"), "key 'horizon': duplicate"),
        (lambda t: t.replace("markets: [perp, spot]", "markets: [perp, spot"), "key 'markets'"),
        (lambda t: t.replace("markets: [perp, spot]", "markets: [perp, futures]"), "key 'markets'"),
        (lambda t: t.replace("markets: [perp, spot]", "markets: [perp,, spot]"), "key 'markets'"),
        (lambda t: t.replace("directionality: long-only", "directionality: sideways"), "key 'directionality'"),
        (lambda t: t.replace("id: demo", "id: other"), "key 'id'"),
        (lambda t: t.replace("title: A demo strategy", "title:"), "key 'title': missing value"),
        (lambda t: t.replace("title: A demo strategy", 'title: "unbalanced'), "key 'title'"),
        (lambda t: t.replace("title: A demo strategy", "just some words"), "expected 'key: value'"),
        (lambda t: t.replace("## Sizing\nSmall.\n", ""), "Sizing"),
        (lambda t: t[4:], "must start with a '---'"),
        (lambda t: t.replace("---\n\n## Preconditions", "\n## Preconditions"), "not closed"),
    ],
)
def test_malformed_file_names_file_and_key(tmp_path: Path, edit, fragment: str) -> None:
    write(tmp_path, edit(GOOD))
    with pytest.raises(ConfigError) as err:
        load_strategies(tmp_path)
    assert "demo.md" in str(err.value)
    assert fragment in str(err.value)


def test_empty_or_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no strategy files"):
        load_strategies(tmp_path)
    with pytest.raises(ConfigError, match="not found"):
        load_strategies(tmp_path / "nope")


def test_parse_front_matter_returns_body() -> None:
    data, body = parse_front_matter(GOOD, "x.md")
    assert data["compatible_regimes"] == ["uptrend", "range"]
    assert body.startswith("## Preconditions")
