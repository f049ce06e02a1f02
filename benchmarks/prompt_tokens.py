"""Prompt size per LLM decision at 5, 20 and 100 assets, and the share of it that is static (cacheable).

Run: ``python benchmarks/prompt_tokens.py [--json]``.

What is measured: the opening request of one decision as the OpenAI provider sends it: the system message
(system prompt + strategy catalogue), the tool definitions (the MCP registry's read-only tools,
plus the two strict submit tools), and the state summary (the only dynamic part). Features come from
``agent.strategist.features.market_features`` over the shipped daily closes (16 coins) and deterministic
synthetic closes for the rest, so the columns are the real ones.

Token counting: ``tiktoken`` is not a dependency of this project, so tokens are estimated as chars / 4 (the
usual rule of thumb for English and JSON with OpenAI/Anthropic tokenizers; tables of short numbers tokenize
somewhat worse, so read the figures as ±20 %). Characters are reported too. If ``tiktoken`` happens to be
installed, its ``o200k_base`` count is printed alongside.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, cast

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the scripted model double

from doubles import ScriptedClient

from agent.core.domain import Market, MarketInfo, PortfolioState, Position
from agent.core.limits import Limits
from agent.strategist.base import DecisionContext, ToolSpec
from agent.strategist.features import load_daily_closes, market_features
from agent.strategist.library import load_strategies
from agent.strategist.loop import LLMStrategist, estimate_tokens
from agent.strategist.openai_provider import openai_tools
from agent.strategist.providers import ChatRequest, UserText
from tools.registry import llm_tools

SIZES = (5, 20, 100)

#: Three rejected previews as the decide step passes them (``agent.services.trading.rejections``): typical
#: plan lines and reasons of a person's length, and the longest the prompt keeps of each field.
REJECTIONS = [
    {"date": "2026-12-04", "plan": "ETH 30→20%, SOL 10→0%, BTC 20→35% ($16,000, strategist)",
     "reason": "not selling SOL before the staking unlock next week; keep at least 10%"},
    {"date": "2026-12-02", "plan": "BTC 40→25%, ETH 20→30% ($15,000, strategist)",
     "reason": "too much turnover for a 3 pp drift; wait for the band"},
    {"date": "2026-11-28", "plan": "DOGE 0→8% ($8,000, strategist)", "reason": "no memecoins, ever"},
]  # fmt: skip
LONGEST = [{"date": "2026-12-04", "plan": "x" * 200, "reason": "y" * 500}] * 3


# The read-only tools exactly as the registry offers them to the strategist (the handlers are not called here).
READ_ONLY_TOOLS: list[ToolSpec] = llm_tools(cast(Any, None))


def build_context(n: int, rejections: list[dict[str, str]] | None = None) -> DecisionContext:
    """A market of ``n`` perps (real names and history first), 5 held positions, real feature columns."""
    real = load_daily_closes()
    rng = np.random.default_rng(7)
    closes: dict[str, np.ndarray] = {}
    for coin in sorted(real)[:n]:
        closes[coin] = np.asarray(real[coin], dtype=float)
    i = 0
    while len(closes) < n:
        i += 1
        steps = rng.normal(0.0, 0.04, 400)
        closes[f"ALT{i:03d}"] = 10.0 * np.exp(np.cumsum(steps))
    coins = sorted(closes)
    funding = {c: float(rng.normal(1e-5, 2e-5)) for c in coins}
    assets = {
        c: MarketInfo(
            coin=c,
            market="perp",
            asset=k,
            wire_name=c,
            sz_decimals=2,
            max_leverage=int(rng.choice([3, 5, 10, 20, 40])),
            mid=round(float(closes[c][-1]), 6),
            funding=round(funding[c], 8),
        )
        for k, c in enumerate(coins)
    }
    market = Market(assets=assets)
    held = coins[:5]
    equity = 100_000.0
    positions = {c: Position(coin=c, market="perp", size=0.1 * equity / assets[c].mid) for c in held}
    state = PortfolioState(perp_account_value=equity, positions=positions)
    features = market_features(closes, latest_funding=funding)
    return DecisionContext(
        state=state,
        market=market,
        features=features,
        limits=Limits(max_gross_leverage=1.0, max_weight=0.4),
        tools=list(READ_ONLY_TOOLS),
        current_targets={c: 0.1 for c in held},
        rejections=rejections or (),
    )


def measure(request: ChatRequest) -> dict[str, Any]:
    tools_text = json.dumps(openai_tools(request.tools, strict=True), separators=(",", ":"))
    static_text = "\n\n".join(request.system) + tools_text
    dynamic_text = "".join(m.text for m in request.messages if isinstance(m, UserText))
    out: dict[str, Any] = {
        "static_chars": len(static_text),
        "dynamic_chars": len(dynamic_text),
        "static_tokens": estimate_tokens(static_text),
        "dynamic_tokens": estimate_tokens(dynamic_text),
    }
    out["total_tokens"] = out["static_tokens"] + out["dynamic_tokens"]
    out["static_share"] = round(out["static_tokens"] / out["total_tokens"], 3)
    try:
        import tiktoken

        enc = tiktoken.get_encoding("o200k_base")
        out["tiktoken_total"] = len(enc.encode(static_text)) + len(enc.encode(dynamic_text))
    except ImportError:
        pass
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    strategist = LLMStrategist(ScriptedClient([]), model="gpt-4.1-mini", strategies=load_strategies())
    rows = {n: measure(strategist.first_request(build_context(n))) for n in SIZES}
    rejected = {
        "3 typical": measure(strategist.first_request(build_context(20, REJECTIONS))),
        "3 longest": measure(strategist.first_request(build_context(20, LONGEST))),
    }
    if args.json:
        print(json.dumps({**{str(n): r for n, r in rows.items()}, "20 with rejections": rejected}, indent=2))
        return 0
    print("prompt size of one decision's opening request (tokens ≈ chars/4)")
    heads = ("static ch", "dyn ch", "static tk", "dyn tk", "total tk", "static %")
    print(f"{'assets':>6} " + " ".join(f"{h:>10}" for h in heads))
    for n, r in rows.items():
        print(
            f"{n:>6} {r['static_chars']:>10} {r['dynamic_chars']:>10} {r['static_tokens']:>10} "
            f"{r['dynamic_tokens']:>10} {r['total_tokens']:>10} {100 * r['static_share']:>9.1f}%"
        )
    print("20 assets with the owner's last rejected previews in the prompt (limit: 3,000 tokens)")
    for what, r in rejected.items():
        print(f"{what:>10}: {r['total_tokens']} tokens ({r['dynamic_tokens']} dynamic, {r['dynamic_chars']} chars)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
