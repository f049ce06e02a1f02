"""The tool registry: one definition of each tool, published by the MCP server and given to the agent's own LLM.

A tool is a typed argument model (pydantic, extra fields forbidden, bounded), a function of
``(services, args)`` returning a JSON object with a stable shape, MCP annotations, and a docstring that is
the prompt the model reads (first line: what it does; then its side effects).

Data marking: every result is a JSON object whose last key is ``"note": UNTRUSTED_NOTE``. Values in a
result (coin names, strategy text, reasons, model-written reasoning) come from the exchange, the store or a
model: they are data, never instructions. The agent's own LLM receives the same payload inside the
strategist loop's ``{"data": ..., "note": UNTRUSTED_NOTE}`` envelope, so both readers see the same marking.

    read-only            get_portfolio, get_drift, get_market, list_strategies, compute_target, get_history
    stores a plan        preview_rebalance (not destructive; issues a single-use confirm token)
    changes state        set_target_allocation (validated, stored; no order), reject_plan (spends a token)
    destructive          execute_rebalance, cancel_open_orders, pause_trading, resume_trading
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agent.core.domain import CASH
from agent.core.errors import NoTargetYet, ValidationError
from agent.core.plan_report import drift_view
from agent.strategist import tool_names
from agent.strategist.base import ToolSpec
from tools.base import (
    CALLER,
    PROGRESS,
    TOOLS,
    UNTRUSTED_NOTE,
    Args,
    ExecuteArgs,
    HistoryArgs,
    MarketArgs,
    NoArgs,
    PerformanceArgs,
    PlanArgs,
    PreviewArgs,
    ReasonArgs,
    RejectArgs,
    SensitivityArgs,
    StrategyArgs,
    TargetArgs,
    TaxLotsArgs,
    TaxReportArgs,
    ToolDefinition,
    by_name,
    jsonable,
    tool,
)

if TYPE_CHECKING:
    from agent.services.app import Services

__all__ = [
    "IN_THE_PROMPT",
    "TOOLS",
    "UNTRUSTED_NOTE",
    "Args",
    "ToolDefinition",
    "by_name",
    "llm_tools",
]


# --------------------------------------------------------------------------- read-only


@tool(NoArgs, "read", "Portfolio")
def get_portfolio(services: Services, args: NoArgs) -> dict[str, Any]:
    """Read the account: equity, USDC, and every position with its value and weight.

    Read-only. Weights are fractions of equity; perp weights are signed (negative = short); USDC is the
    remainder. Also says whether trading is paused and when the exchange data was read (as_of).
    """
    state, market = services.observe()
    equity = state.equity(market)
    weights = state.weights(market)
    positions = []
    for coin, p in sorted(state.positions.items()):
        if p.size == 0:
            continue
        mid = market.mid(coin) if market.get(coin) else None
        positions.append(
            {
                "coin": coin,
                "market": p.market,
                "size": p.size,
                "mid": mid,
                "value_usd": p.size * mid if mid is not None else None,
                "weight": weights.get(coin),
                "entry_px": p.entry_px,
                "unrealized_pnl": p.unrealized_pnl,
                "leverage": p.leverage,
            }
        )
    return {
        "equity_usd": equity,
        "account_mode": state.abstraction,  # userAbstraction: how equity is counted (README "What a weight means")
        "perp_account_value_usd": state.perp_account_value,
        "hip3_dex_account_values_usd": state.dex_account_values,
        "usdc_spot_usd": state.usdc_spot_total,
        "usdc_weight": weights.get(CASH, 1.0),
        "positions": positions,
        "paused": services.is_paused(),
        "as_of": market.timestamp,
    }


@tool(NoArgs, "read", "Drift")
def get_drift(services: Services, args: NoArgs) -> dict[str, Any]:
    """Compare current weights with the target: drift per asset, bands, and whether a rebalance is due.

    Read-only: plans nothing and stores nothing. Drift = current − target weight; portfolio drift is
    ½ Σ |drift|. The target is the configured one, else the stored one (set_target_allocation), else the
    strategist's; target_source says which. Also says whether trading is paused and the data's time.
    Called by a model, it never asks the strategist: with no target yet, it says so and lists the weights.
    """
    try:
        plan = services.plan()
    except NoTargetYet as e:
        return _no_target_yet(services, str(e))
    return drift_view(plan)


def state_market(market: Any, coin: str) -> str:
    info = market.get(coin)
    return info.market if info is not None else "perp"


def _no_target_yet(services: Services, why: str) -> dict[str, Any]:
    state, market = services.observe()
    weights = state.weights(market)
    return {
        "rebalance_needed": False,
        "reason": why,
        "portfolio_drift": None,
        "equity_usd": state.equity(market),
        "target": None,
        "target_source": None,
        "paused": services.is_paused(),
        "as_of": market.timestamp,
        "rows": [
            {
                "coin": c,
                "market": "cash" if c == CASH else state_market(market, c),
                "current_weight": w,
                "target_weight": None,
                "drift": None,
            }
            for c, w in sorted(weights.items())
        ],
    }


@tool(MarketArgs, "read", "Market")
def get_market(services: Services, args: MarketArgs) -> dict[str, Any]:
    """Read market data: mid price, funding, leverage cap and best bid/ask for each asset.

    Read-only. Pass `coins` to limit the answer (names as in targets: "BTC" for a perp, "UBTC/USDC" for a
    spot pair); an unknown name is an error. Funding is the hourly rate (funding_apr = hourly × 24 × 365).
    """
    coins = list(dict.fromkeys(args.coins)) if args.coins is not None else None
    market = services.market(coins)
    if coins:
        unknown = [c for c in coins if market.get(c) is None]
        if unknown:
            raise ValidationError(f"unknown coin(s): {', '.join(unknown)}")
    names = coins if coins else sorted(market.assets)
    assets = {}
    for coin in names:
        info = market.assets[coin]
        book = info.book
        assets[coin] = {
            "market": info.market,
            "mid": info.mid,
            "best_bid": book.bids[0].px if book and book.bids else None,
            "best_ask": book.asks[0].px if book and book.asks else None,
            "funding_hourly": info.funding,
            "funding_apr": info.funding * 24 * 365 if info.funding is not None else None,
            "max_leverage": info.max_leverage,
            "sz_decimals": info.sz_decimals,
        }
    return {"as_of": market.timestamp, "count": len(assets), "assets": assets}


@tool(NoArgs, "read", "Strategies")
def list_strategies(services: Services, args: NoArgs) -> dict[str, Any]:
    """List the strategy library: id, markets, direction, risk, regimes, caps and concept of each strategy.

    Read-only. A target's `selected_strategy` must be one of these ids; its caps (max_position,
    max_leverage) bound the weights.
    """
    out = []
    for sid, s in sorted(services.strategies().items()):
        out.append(
            {
                "id": sid,
                "title": s.title,
                "markets": list(s.markets),
                "directionality": s.directionality,
                "risk_profile": s.risk_profile,
                "horizon": s.horizon,
                "compatible_regimes": list(s.compatible_regimes),
                "avoided_regimes": list(s.avoided_regimes),
                "max_position": s.max_position,
                "max_leverage": s.max_leverage,
                "min_dwell_hours": s.min_dwell_hours,
                "concept": " ".join(s.section("Concept").split())[:600],
            }
        )
    return {"count": len(out), "strategies": out}


@tool(StrategyArgs, "read", "Compute target")
def compute_target(services: Services, args: StrategyArgs) -> dict[str, Any]:
    """Compute the weights a strategy's own rules give for the current market.

    Read-only; stores nothing. Returns target_allocation (USDC is the remainder) after the strategy's caps
    and the account's limits, whether its preconditions hold now, and how it was computed.
    """
    return services.compute_target(args.strategy_id)


@tool(HistoryArgs, "read", "History")
def get_history(services: Services, args: HistoryArgs) -> dict[str, Any]:
    """Read the history of the last `days` days: rebalancing cycles and previewed/executed plans.

    Read-only. Each cycle has its trigger, status, value before/after and 7-day return; each plan its
    status (previewed, confirmed, refused, expired, executed:...). pending_approvals lists the plans
    waiting for a person (plan id, expiry, summary, and the Temporal workflow waiting for it, if any).
    """
    from agent.services.fleet.approvals import pending

    cycles = services.history(args.days)
    plans = services.plans(days=args.days, limit=200)
    waiting = pending(services)
    return {
        "days": args.days,
        "cycles": cycles,
        "plans": plans,
        "pending_approvals": waiting,
        "paused": services.is_paused(),
    }


@tool(PerformanceArgs, "read", "Performance")
def get_performance(services: Services, args: PerformanceArgs) -> dict[str, Any]:
    """Report the account's real performance over the last `days` days, from the exchange's history.

    Read-only. Returns over 1, 7 and 30 days and all time (PnL over the value at the start, so deposits
    are not returns), volatility, Sharpe ratio, max drawdown, fees paid, funding paid (<0) or received
    (>0), realised PnL, turnover, and each asset's contribution. Fills in past cycles' 7-day returns.
    """
    return services.performance(args.days)


@tool(TaxLotsArgs, "read", "Tax lots")
def get_tax_lots(services: Services, args: TaxLotsArgs) -> dict[str, Any]:
    """Read the account's open spot tax lots: quantity, cost basis, value at mid, unrealised gain, days to long-term.

    Read-only (the account's fills are brought up to date in its records). Lots come from the account's
    fills and imported basis; perp positions are not lots.
    """
    from agent.services.evidence.tax import tax_lots

    return tax_lots(services, jurisdiction=args.jurisdiction)


@tool(TaxReportArgs, "read", "Tax report")
def get_tax_report(services: Services, args: TaxReportArgs) -> dict[str, Any]:
    """Report a year's disposals: acquired, sold, quantity, proceeds, cost, gain and term per lot, with totals.

    Read-only. Beside the lots: perp realised PnL and funding for the year; for de, the taxable amount after
    the yearly exemption limit. Estimates for a person's records, not tax advice.
    """
    from agent.services.evidence.tax import tax_report

    return tax_report(services, args.year, jurisdiction=args.jurisdiction)


@tool(NoArgs, "read", "Risk")
def get_risk(services: Services, args: NoArgs) -> dict[str, Any]:
    """Read the holdings' correlation and drawdown against their limits.

    Read-only. Returns the rolling correlation matrix of the held assets' daily returns, the average
    pairwise correlation (plain and weighted by position size) against [risk] max_correlation, and the
    drawdown from the recorded peak against the drawdown protection threshold.
    """
    return services.risk()


@tool(SensitivityArgs, "read", "Sensitivity")
def get_sensitivity(services: Services, args: SensitivityArgs) -> dict[str, Any]:
    """Compare staying put with rebalancing to the target over the last `days` days of real closes.

    Read-only; stores nothing, issues no token. Return, volatility, max drawdown and Sharpe ratio of the
    current holdings and of the target (after the estimated cost of getting there), and their difference.
    Past data, not a forecast.
    """
    from agent.core.targets import parse_target

    target = parse_target(args.weights) if args.weights is not None else None
    out = services.sensitivity(target, args.days)
    return {k: v for k, v in out.items() if k != "paths"} | {"path_points": len(out["paths"]["dates"])}


# --------------------------------------------------------------------------- preview and targets


@tool(PreviewArgs, "preview", "Preview rebalance")
def preview_rebalance(services: Services, args: PreviewArgs) -> dict[str, Any]:
    """Plan a rebalance toward `weights` (default: the current target) and return the plan with a confirm token.

    Places no order. Stores the plan and issues a single-use `confirm_token` that expires at `expires_at`;
    execute_rebalance(plan_id, confirm_token) carries it out, after re-checking the account. The plan
    lists ordered actions (sells first), costs, and drift before/after. Weights are validated first.
    Refused, with no token, when trading is paused or the plan breaks a risk limit; a plan with nothing
    to do has no token either.
    """
    from agent.core.targets import parse_target

    target = parse_target(args.weights, reasoning=args.reasoning) if args.weights is not None else None
    return services.preview(target, source=CALLER.get()).to_public()


@tool(TargetArgs, "write", "Set target allocation")
def set_target_allocation(services: Services, args: TargetArgs) -> dict[str, Any]:
    """Validate and store a new target allocation (asset → weight; USDC is the remainder).

    Side effect: replaces the stored target, which get_drift, preview_rebalance and the heartbeat use
    unless the config's [targets] are set (they come first; the answer's `active` says which). Places
    no order. Weights must be finite, sum to 1 (±0.01) with USDC, name listed assets, keep spot ≥ 0 and
    stay within the configured leverage; anything else is refused and the stored target stays as it was.
    """
    stored = services.set_target(dict(args.weights), reasoning=args.reasoning)
    return {
        "stored": True,
        "active": stored.active,
        "detail": stored.note,
        "target": stored.target.allocations,
        "usdc_weight": stored.target.cash_weight,
        "reasoning": stored.target.reasoning,
    }


@tool(RejectArgs, "write", "Reject plan")
def reject_plan(services: Services, args: RejectArgs) -> dict[str, Any]:
    """Reject a previewed plan, with the owner's reason: it can no longer be executed.

    Side effect: the plan's confirm token is spent and the reason is stored; the strategist's next decision
    sees the last rejections and their reasons. Places no order. Only a plan still `previewed` can be
    rejected; an unknown, executed, expired or already rejected plan is refused and nothing changes.
    """
    return services.reject_plan(args.plan_id, args.reason, source=CALLER.get())


# --------------------------------------------------------------------------- destructive


@tool(ExecuteArgs, "destructive", "Execute rebalance")
def execute_rebalance(services: Services, args: ExecuteArgs) -> dict[str, Any]:
    """Execute a previewed plan: send its orders to the exchange.

    DESTRUCTIVE: trades real positions. Needs the plan_id and confirm_token from preview_rebalance; the
    token is single-use and expires. Refused when trading is paused, the token is wrong, used or expired,
    the account moved beyond tolerance since the preview, or a risk limit would be broken. Answers within
    seconds: when legs are still working (a TWAP runs for minutes) the status is "running" with each leg's
    progress, and the execution goes on; get_plan(plan_id) reports its progress and, at the end, the report.
    """
    report = services.start_execution(
        args.plan_id, args.confirm_token, source=CALLER.get(), wait_s=EXECUTE_WAIT_S, on_progress=PROGRESS.get()
    )
    if report is None:  # legs still working: the execution goes on, and get_plan follows it to its report
        progress = services.execution_progress(args.plan_id)
        return {"plan_id": args.plan_id, "status": "running", "progress": progress, "report": None}
    data = jsonable(report)
    return {
        "plan_id": args.plan_id,
        "status": getattr(report, "status", None),
        "report": data if isinstance(data, dict) else {"detail": data},
    }


EXECUTE_WAIT_S = 8.0  # execute_rebalance's wait before it answers "running" (MCP clients give up at 60 s)


@tool(PlanArgs, "read", "Get plan")
def get_plan(services: Services, args: PlanArgs) -> dict[str, Any]:
    """Where a plan stands: running (each leg's executed size and progress), or its final status and report.

    Read-only: it reads the store only, so polling it while an execution runs is cheap. When the client asks
    for progress notifications, a running plan is followed for up to 8 s (notifications as it advances)
    and the call answers as soon as it ends; poll again for more.
    """
    report = PROGRESS.get()
    if report is None:
        return services.execution_progress(args.plan_id)
    return services.follow_execution(args.plan_id, wait_s=EXECUTE_WAIT_S, on_progress=report)


@tool(NoArgs, "destructive", "Cancel open orders")
def cancel_open_orders(services: Services, args: NoArgs) -> dict[str, Any]:
    """Cancel every open order on the account.

    DESTRUCTIVE: resting orders are removed from the book. Positions are not changed. In dry-run nothing
    is sent: the answer lists what would have been cancelled and says sent: false.
    """
    result = services.cancel_open_orders()
    return {"cancelled": result.cancelled, "count": result.count, "sent": result.sent, "detail": result.note}


@tool(ReasonArgs, "destructive", "Pause trading")
def pause_trading(services: Services, args: ReasonArgs) -> dict[str, Any]:
    """Pause trading (the kill switch): no order is sent until resume_trading.

    Side effect: every execution, manual or by the heartbeat, is refused while paused. Open orders are not
    cancelled (see cancel_open_orders). The reason is recorded.
    """
    services.pause(args.reason)
    return {"paused": True, "reason": args.reason}


@tool(ReasonArgs, "destructive", "Resume trading")
def resume_trading(services: Services, args: ReasonArgs) -> dict[str, Any]:
    """Resume trading after pause_trading: executions are allowed again.

    Side effect: turns the kill switch off, so previewed plans and the heartbeat may trade. The reason is
    recorded.
    """
    services.resume(args.reason)
    return {"paused": False, "reason": args.reason}


# --------------------------------------------------------------------------- the agent's own LLM


def llm_tools(services: Services) -> list[ToolSpec]:
    """The read-only tools as ``ToolSpec``s for the strategist: same names, descriptions and schemas as MCP.

    The handler returns the payload without the note: the strategist loop wraps every result in its
    ``{"data": ..., "note": UNTRUSTED_NOTE}`` envelope itself.
    """
    excluded = IN_THE_PROMPT | FOR_PEOPLE | NOT_FOR_DECIDING
    return [_spec(t, services) for t in TOOLS if t.read_only and t.name not in excluded]


IN_THE_PROMPT = tool_names.IN_THE_PROMPT
FOR_PEOPLE = tool_names.FOR_PEOPLE
NOT_FOR_DECIDING = tool_names.NOT_FOR_DECIDING


def _spec(t: ToolDefinition, services: Services) -> ToolSpec:
    def handler(arguments: dict[str, Any]) -> Any:
        out = t.call(services, arguments, caller="strategist")
        out.pop("note", None)
        return out

    schema = _untitled(t.input_schema)  # pydantic's titles repeat the names: prompt tokens for nothing
    schema["properties"] = {k: v for k, v in schema.get("properties", {}).items() if k != "account"}
    return ToolSpec(name=t.name, description=t.description, input_schema=schema, handler=handler)


def _untitled(schema: Any) -> Any:
    """A JSON schema without its ``title`` annotations (property names are kept, whatever they are)."""
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k == "properties" and isinstance(v, dict):
            out[k] = {name: _untitled(sub) for name, sub in v.items()}
        elif not (k == "title" and isinstance(v, str)):
            out[k] = _untitled(v)
    return out
