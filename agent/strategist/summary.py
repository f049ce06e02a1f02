"""The prompt's two halves: a byte-stable static prefix, and a compact per-decision state summary.

The static prefix (system prompt, strategy catalogue, tool definitions) is identical across decisions so
providers can cache it (Anthropic: ``cache_control``; OpenAI: automatic prefix caching). The state summary
comes after it and is as small as possible: one line per asset, fixed decimals, sorted rows, so the same
state always renders to the same bytes (cache-friendly and diffable in the decision record).

Everything that comes from the market or the account is *data*: it is rendered inside delimited blocks, and
names that are not plain tickers are JSON-escaped (with ``<``, ``>`` and ``|`` escaped too) so a coin name
cannot close a block or forge a table row.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from importlib import resources
from typing import Any

from agent.core.domain import CASH
from agent.strategist.base import DecisionContext

HOURS_PER_YEAR = 8760  # Hyperliquid funds hourly; the prompt shows funding annualised, as strategies state it
_SAFE_NAME = re.compile(r"[A-Za-z0-9@/._:-]{1,32}")

# Short column names for the features of ``agent.strategist.features`` (the legend is in prompts/system.md, i.e. in
# the cached prefix, so each row stays short). Features not listed keep their own name.
FEATURE_ALIASES = {
    "return_30d": "r30",
    "return_90d": "r90",
    "vol_30d": "vol30",
    "vol_90d": "vol90",
    "price_vs_ma50": "vsma50",
    "drawdown": "dd",
    "max_drawdown_90d": "mdd90",
    "avg_correlation": "corr",
    "funding_7d_apr": "f7apr",
    "funding_7d_positive_share": "f7pos",
}
# Redundant in the prompt: the mid and the hourly funding have their own columns; the rest is derivable.
HIDDEN_FEATURES = frozenset(
    {
        "close",
        "history_days",
        "funding_hourly",
        "funding_apr",
        "funding_hours",
        "funding_7d_mean",
        "max_drawdown_365d",
        "drawdown_90d",
    }
)


def load_system_prompt(name: str = "system.md") -> str:
    """A prompt of ``prompts/`` (default: the strategist's ``system.md``), shipped as package data."""
    return resources.files("prompts").joinpath(name).read_text(encoding="utf-8").strip()


def safe_name(name: str) -> str:
    """A ticker as-is; anything else JSON-quoted and escaped so it cannot break out of a data block."""
    if _SAFE_NAME.fullmatch(name):
        return name
    quoted = json.dumps(name[:32], ensure_ascii=True)
    return quoted.replace("<", "\\u003c").replace(">", "\\u003e").replace("|", "\\u007c")


def _text(value: object, limit: int = 400) -> str:
    """Free text from a strategy file, on one line, without block delimiters."""
    s = " ".join(str(value).split())
    return s[:limit].replace("<", "‹").replace(">", "›")


def render_catalogue(strategies: Mapping[str, Any]) -> str:
    """The strategy catalogue as static text; uses ``agent.strategist.library.catalogue_summary`` when it applies."""
    body: str | None = None
    try:
        from agent.strategist.library import Strategy, catalogue_summary  # written in parallel; may be absent

        if strategies and all(isinstance(s, Strategy) for s in strategies.values()):
            body = catalogue_summary(dict(strategies)).strip()
    except ImportError:
        body = None
    if body is None:
        lines = []
        for sid in sorted(strategies):
            s = strategies[sid]
            caps = []
            for cap in ("max_position", "max_leverage"):
                value = getattr(s, cap, None)
                if value is not None:
                    caps.append(f"{cap}={value:g}")
            title = _text(getattr(s, "title", ""), 80)
            lines.append(f"- {safe_name(sid)}: {title} ({', '.join(caps) or 'no own caps'})")
            summary = getattr(s, "summary", None) or getattr(s, "description", None)
            if summary:
                lines.append(f"  {_text(summary)}")
        body = "\n".join(lines)
    body = body.replace("<", "‹").replace(">", "›")  # strategy text cannot close or open a block
    return f"<strategy_catalogue>\n{body}\n</strategy_catalogue>"


def static_prefix(system_prompt: str, strategies: Mapping[str, Any]) -> tuple[str, ...]:
    """The static system blocks, in order; the last one carries the cache breakpoint."""
    return (system_prompt, render_catalogue(strategies))


# --------------------------------------------------------------------------- state summary

#: The owner's rejected previews in the prompt: at most this many rows sharing ``REJECTIONS_CHARS`` characters
#: (each row's plan cut to ``REJECTED_PLAN_CHARS``, its reason to what is left of the row's share).
REJECTIONS_SHOWN = 3
REJECTIONS_CHARS = 320
REJECTED_PLAN_CHARS = 60


def _cell(value: object, limit: int) -> str:
    """Owner or store text in one table cell: one line, cut to ``limit``, no block delimiters, no column bar."""
    s = _text(value, limit)
    return s.replace("|", "¦")


def _share(total: int, wants: list[int]) -> list[int]:
    """``total`` characters shared among texts of lengths ``wants``: short ones whole, the rest cut evenly."""
    room = [0] * len(wants)
    left, open_ = total, sorted(range(len(wants)), key=lambda i: wants[i])
    while open_:
        each = left // len(open_)
        i = open_.pop(0)
        room[i] = min(wants[i], each)
        left -= room[i]
    return room


def render_rejections(rejections: Any) -> list[str]:
    """The owner's last rejected previews as a delimited data block (nothing when there are none)."""
    rows = list(rejections or ())[:REJECTIONS_SHOWN]
    if not rows:
        return []
    heads = [f"{_cell(r.get('date', ''), 10)}|{_cell(r.get('plan', ''), REJECTED_PLAN_CHARS)}|" for r in rows]
    reasons = [_cell(r.get("reason", ""), REJECTIONS_CHARS) for r in rows]
    room = _share(max(REJECTIONS_CHARS - sum(map(len, heads)), 20 * len(rows)), [len(s) for s in reasons])
    lines = ["<rejected_plans>the owner refused these, newest first; heed why"]
    lines += [head + reason[:n] for head, reason, n in zip(heads, reasons, room, strict=True)]
    lines.append("</rejected_plans>")
    return lines


def _w(x: float) -> str:
    """Weights to 0.1 percentage point (finer is noise for a rebalancer with a 5 % band), without trailing
    zeros: ``0.1``, ``0.125``, ``0``."""
    if abs(x) < 0.0005:
        return "0"
    return f"{x:.3f}".rstrip("0").rstrip(".")


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.6g}"


def _feat(x: float | None) -> str:
    """Features are fractions (returns, vols, drawdowns, APRs): two decimals = one percentage point."""
    if x is None or not math.isfinite(x):
        return "-"
    s = f"{x:.2f}"
    return "0.00" if s == "-0.00" else s


def summary_universe(ctx: DecisionContext) -> list[str]:
    """The assets shown: held, targeted, with features, or allowed; all listed assets if none of these."""
    market = ctx.market.assets
    coins = {c for c, p in ctx.state.positions.items() if p.size != 0}
    coins |= {c for c in (ctx.current_targets or {}) if c != CASH}
    coins |= set(ctx.features)
    if ctx.limits.allowed_assets is not None:
        coins |= set(ctx.limits.allowed_assets)
    if not coins:
        coins = set(market)
    return sorted(c for c in coins if c in market)


def render_state_summary(ctx: DecisionContext) -> str:
    """The dynamic part of the prompt: account, limits, and one row per asset."""
    market = ctx.market
    equity = ctx.state.equity(market)
    weights = ctx.state.weights(market)
    targets = dict(ctx.current_targets) if ctx.current_targets else None
    if targets is not None and CASH not in targets:
        targets[CASH] = 1.0 - sum(abs(t) for c, t in targets.items() if c != CASH)
    coins = summary_universe(ctx)
    feature_names = sorted(
        {k for c in coins for k in ctx.features.get(c, {}) if k not in HIDDEN_FEATURES},
        key=lambda k: FEATURE_ALIASES.get(k, k),
    )
    limits = ctx.limits
    allowed = "any listed" if limits.allowed_assets is None else ",".join(map(safe_name, sorted(limits.allowed_assets)))
    lines = [
        "<portfolio_state>",
        f"equity_usd={equity:.2f} perp_account_value={ctx.state.perp_account_value:.2f} "
        f"spot_usdc={ctx.state.usdc_spot_total:.2f}",
        f"limits: max_gross_leverage={limits.max_gross_leverage:g} "
        f"max_weight={'-' if limits.max_weight is None else f'{limits.max_weight:g}'} allowed_assets={allowed}",
    ]
    columns = [safe_name(FEATURE_ALIASES.get(k, k)) for k in feature_names]
    header = ["coin", "mkt", "maxlev", "mid", "w", "tgt", "drift", "fapr", *columns]
    lines.append("|".join(header))
    for coin in coins:
        info = market.assets[coin]
        w = weights.get(coin, 0.0)
        tgt = targets.get(coin, 0.0) if targets is not None else None
        row = [
            safe_name(coin),
            info.market,
            "-" if info.max_leverage is None else str(info.max_leverage),
            _num(info.mid),
            _w(w),
            "-" if tgt is None else _w(tgt),
            "-" if tgt is None else _w(w - tgt),
            "-" if info.funding is None else _feat(info.funding * HOURS_PER_YEAR),
        ]
        feats = ctx.features.get(coin, {})
        row += [_feat(feats.get(name)) for name in feature_names]
        lines.append("|".join(row))
    cash_w = weights.get(CASH, 1.0)
    cash_t = targets.get(CASH) if targets is not None else None
    lines.append(
        "|".join(
            [CASH, "cash", "-", "1", _w(cash_w), "-" if cash_t is None else _w(cash_t)]
            + ["-" if cash_t is None else _w(cash_w - cash_t), "-"]
            + ["-"] * len(feature_names)
        )
    )
    if targets is not None:
        drift = 0.5 * sum(abs(weights.get(c, 0.0) - targets.get(c, 0.0)) for c in set(weights) | set(targets))
        lines.append(f"portfolio_drift={drift:.4f}")
    else:
        lines.append("no fixed targets configured")
    if ctx.history_as_of:
        lines.append(f"features_as_of={ctx.history_as_of}")
    if ctx.strategy != "auto":  # the owner's choice in the settings: the model follows it
        lines.append(f"owner_choice: strategy={safe_name(ctx.strategy)} top_percentile={ctx.top_percentile:g}")
    lines.append("</portfolio_state>")
    lines += render_rejections(ctx.rejections)
    lines.append("Decide now: call read-only tools only if needed, then submit_target.")
    return "\n".join(lines)
