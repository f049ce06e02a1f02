"""Where a target comes from, and the decide step.

One rule for every way in: a target given with the request (a CLI ``--target`` file, MCP ``weights``),
else the config's ``[targets]``, else the target stored by ``set_target_allocation``, else the
strategist's. Every plan says which source it used (``target_source``).

The strategist's target is recorded with its decision (raw replies included). Reads (``status``,
``get_drift``) reuse its latest valid answer while it is younger than the heartbeat interval rather than
asking a model on every read; the heartbeat asks afresh (``fresh=True``). A strategist that fails closed
raises :class:`~agent.core.errors.StrategistFailedClosed`: never a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Literal

from agent.core.domain import Market, PortfolioState, TargetAllocation
from agent.core.errors import ConfigError, NoTargetYet, StrategistError, StrategistFailedClosed
from agent.core.targets import parse_target, validate_target
from agent.services.config import Settings
from agent.services.market_history import SHIPPED, History, daily_history, history_name, trailing_closes
from agent.services.ports import HistoryPort
from agent.services.trading import rejections
from agent.strategist import tool_names, trend
from agent.strategist.base import Decision, DecisionContext, Strategist
from agent.strategist.conversation import inside_model_tool

if TYPE_CHECKING:
    from agent.services.app import Services

TargetSource = Literal["argument", "config", "stored", "signals", "strategist"]

#: Days of daily closes behind a decision's features (90-day figures, the 50-day mean, a half-year high).
FEATURE_DAYS = 200

#: Tools the strategist's model is never offered: they change state or issue tokens.
NOT_FOR_THE_MODEL = tool_names.NOT_FOR_THE_MODEL


@dataclass(frozen=True)
class ChosenTarget:
    target: TargetAllocation
    source: TargetSource
    decision: Decision | None = None
    #: rules that held a trade back while making the target (the signal rules' guards)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class StoredTarget:
    target: TargetAllocation
    active: bool
    note: str


def configured_or_stored(svc: Services) -> ChosenTarget | None:
    if svc.settings.targets:
        return ChosenTarget(TargetAllocation.from_json({**svc.settings.targets}), "config")
    stored = svc.store.records.get("target")
    if stored:
        return ChosenTarget(TargetAllocation.model_validate(stored), "stored")
    return None


def choose(
    svc: Services,
    explicit: TargetAllocation | None = None,
    *,
    state: PortfolioState | None = None,
    market: Market | None = None,
    cycle_id: str | None = None,
    fresh: bool = False,
) -> ChosenTarget:
    """The target by the one rule above (the strategist is asked only when nothing else says).

    Inside a tool that a model called, the strategist is never asked: its latest answer (of any age) is
    the current target, and with none :class:`~agent.core.errors.NoTargetYet` is raised.
    """
    if explicit is not None:
        return ChosenTarget(explicit, "argument")
    found = configured_or_stored(svc)
    if found is not None:
        return found
    if svc.settings.signals.enabled:  # the signal rules stand in for the strategist
        from agent.services.trading.signals import signal_target

        if state is None or market is None:
            state, market = svc.observe()
        target, held_back = signal_target(svc.context, state, market)
        return ChosenTarget(target, "signals", notes=tuple(held_back))
    if inside_model_tool():
        latest = _recent_strategist_target(svc, any_age=True)
        if latest is None:
            raise NoTargetYet(
                "no target yet: none configured or stored, and the strategist has not answered "
                "(`rebalancer decide`, or set one with set_target_allocation)"
            )
        return latest
    if not fresh:
        reused = _recent_strategist_target(svc)
        if reused is not None:
            return reused
    decision = decide(svc, state=state, market=market, cycle_id=cycle_id)
    if not decision.ok or decision.target is None:
        raise StrategistFailedClosed(
            f"no target configured or stored, and the strategist failed closed ({decision.status}): "
            f"{decision.error or 'no valid target'}",
            status=decision.status,
        )
    return ChosenTarget(decision.target, "strategist", decision)


def _recent_strategist_target(svc: Services, *, any_age: bool = False) -> ChosenTarget | None:
    value, at = svc.store.records.get_with_time("strategist_target")
    if not value or at is None:
        return None
    if not any_age and svc.clock() - datetime.fromisoformat(at) >= svc.settings.heartbeat.interval:
        return None
    return ChosenTarget(TargetAllocation.model_validate(value), "strategist")


def store_target(svc: Services, weights: dict[str, Any], *, reasoning: str = "") -> StoredTarget:
    """Validate against the market and the limits, then store. Bad input changes nothing."""
    target = parse_target(weights, reasoning=reasoning)
    _, market = svc.observe()
    validate(svc.settings, target, market)
    svc.store.records.set("target", target.model_dump(mode="json"))
    if svc.settings.targets:
        return StoredTarget(target, False, "stored, but the config's [targets] come first; remove them to use it")
    return StoredTarget(target, True, "stored: previews and the heartbeat now use it")


def validate(settings: Settings, target: TargetAllocation, market: Market) -> TargetAllocation:
    lim = settings.limits
    return validate_target(target, market, max_gross_leverage=lim.max_gross_leverage, allowed_assets=lim.allowed_assets)


# -- the decide step ------------------------------------------------------------------------------


def decide(
    svc: Services,
    *,
    cycle_id: str | None = None,
    state: PortfolioState | None = None,
    market: Market | None = None,
    strategist: Strategist | None = None,
) -> Decision:
    """Run the strategist once and record the decision (raw replies included), whatever its status.

    Refused inside a tool that a model called: a model never gets a tool that calls a model.
    """
    if inside_model_tool():
        raise StrategistError("a tool called by a model cannot ask the strategist")
    if state is None or market is None:
        state, market = svc.observe()
    strat = strategist or make_strategist(svc)
    rejections.record_expired(svc.context)  # a preview left to expire is a rejection the decision should see
    ctx = context(svc, state, market)
    stale = stale_history(svc, ctx)
    if stale is not None:
        decision = Decision(status="failed_stale_data", provider=getattr(strat, "name", "strategist"), error=stale)
    else:
        decision = strat.decide(ctx)
    decision = decision.model_copy(update={"history_as_of": ctx.history_as_of, "history_source": ctx.history_source})
    svc.store.records.add_decision(decision, cycle_id=cycle_id)
    if decision.ok and decision.target is not None:
        svc.store.records.set("strategist_target", decision.target.model_dump(mode="json"))
    return decision


def context(svc: Services, state: PortfolioState, market: Market) -> DecisionContext:
    """What the decide step (and ``compute_target``) looks at: state, features, limits, read-only tools.

    Features come from the daily history of the assets held, targeted or allowed and of the majors the
    project ships history for: the exchange's candles when it keeps them, else the shipped closes.
    """
    from agent.strategist.features import market_features

    found = configured_or_stored(svc)
    hist = decision_history(svc, state, market, found.target if found else None)
    closes = {c: hist.table.close[:, k] for k, c in enumerate(hist.table.coins)}
    if hist.source != SHIPPED and closes:  # live: the trend rule fits on as many days as it does in a backtest
        longer = trailing_closes(svc.context, list(closes), trend.HISTORY_DAYS, market)
        closes |= {c: v for c, v in longer.items() if len(v) > len(closes[c]) and v[-1] == closes[c][-1]}
    latest = {c: i.funding for c, i in market.assets.items() if i.market == "perp" and i.funding is not None}
    return DecisionContext(
        state=state,
        market=market,
        features=market_features(closes, None, latest),
        limits=svc.settings.limits,
        tools=[t for t in svc.tools if t.name not in NOT_FOR_THE_MODEL],
        current_targets=found.target.allocations if found else None,
        strategy=svc.settings.strategist.strategy,
        top_percentile=svc.settings.strategist.top_percentile,
        score_weights=svc.settings.strategist.score_weights.model_dump(),
        closes=closes,
        history_as_of=hist.as_of.isoformat() if hist.as_of else None,
        history_source=hist.source,
        rejections=[{"date": r.day, "plan": r.plan, "reason": r.reason} for r in rejections.recent(svc.context)],
    )


def decision_history(svc: Services, state: PortfolioState, market: Market, target: TargetAllocation | None) -> History:
    """The daily closes a decision's features come from (``FEATURE_DAYS`` days)."""
    from agent.strategist.features import load_daily_closes

    shipped = set(load_daily_closes())
    coins = {c for c, p in state.positions.items() if p.size != 0 and c in market.assets}
    coins |= {c for c in (target.weights if target else {}) if c in market.assets}
    coins |= {c for c in (svc.settings.limits.allowed_assets or ()) if c in market.assets}
    coins |= {c for c in market.assets if history_name(c, market) in shipped}
    return daily_history(svc.context, sorted(coins), FEATURE_DAYS, market)


def stale_history(svc: Services, ctx: DecisionContext) -> str | None:
    """Why a live decision may not be made on this history (older than ``[strategist] max_data_age``), or None.

    Offline planning on a snapshot has no live market to be late against: never stale.
    """
    if not isinstance(svc.exchange, HistoryPort):
        return None
    limit = svc.settings.strategist.max_data_age
    if ctx.history_as_of is None:
        return f"no market history for the decision ({ctx.history_source}); a live decision needs it"
    age = svc.clock().astimezone(UTC).date() - date.fromisoformat(ctx.history_as_of)
    if age <= limit:
        return None
    return (
        f"market history ends {ctx.history_as_of} ({age.days} days old, {ctx.history_source}); "
        f"[strategist] max_data_age is {limit.days if limit.days else limit} days: no live decision on stale data"
    )


def compute(svc: Services, strategy_id: str) -> dict[str, Any]:
    """The target a strategy's own rules compute for the current market (read-only)."""
    from agent.strategist.offline import OfflineStrategist

    state, market = svc.observe()
    return OfflineStrategist().compute(strategy_id, context(svc, state, market))


def make_strategist(svc: Services) -> Strategist:
    if svc.strategist_factory is not None:
        return svc.strategist_factory()
    return build_strategist(svc.settings)


def build_strategist(settings: Settings) -> Strategist:
    """The configured strategist; offline when nothing else is configured."""
    cfg = settings.strategist
    if cfg.provider == "offline":
        from agent.strategist.offline import OfflineStrategist

        return OfflineStrategist()
    from agent.strategist.loop import LLMStrategist

    return LLMStrategist(
        build_model_client(settings),
        model=model_name(settings),
        max_attempts=cfg.max_attempts,
        max_tool_calls=cfg.max_tool_calls,
        max_model_calls=cfg.max_model_calls,
    )


def model_name(settings: Settings) -> str:
    cfg = settings.strategist
    defaults = {"openai": "gpt-4.1-mini", "anthropic": "claude-sonnet-4-5", "openai-compatible": "local"}
    return cfg.model or defaults.get(cfg.provider, "offline")


def build_model_client(settings: Settings) -> Any:
    """The configured model client (for the strategist and the chat); ``ConfigError`` when none can be built."""
    cfg = settings.strategist
    if cfg.provider == "openai":
        from agent.strategist.openai_provider import OpenAIClient

        return OpenAIClient(base_url=cfg.base_url, timeout_s=cfg.timeout_s)
    if cfg.provider == "anthropic":
        from agent.strategist.anthropic_provider import AnthropicClient

        return AnthropicClient(base_url=cfg.base_url, timeout_s=cfg.timeout_s)
    if cfg.provider == "openai-compatible":
        from agent.strategist.compat import OpenAICompatClient

        if not cfg.base_url:
            raise ConfigError("strategist.base_url: required for the openai-compatible provider")
        return OpenAICompatClient(base_url=cfg.base_url, timeout_s=cfg.timeout_s)
    raise ConfigError("strategist.provider: offline has no model client")
