"""The services every interface shares (CLI, MCP, chat, heartbeat): observe, decide, preview, execute.

Nothing here knows whether a person, an MCP client or the heartbeat is calling. Every path to an order
goes through ``preview`` (a plan with an id, an inputs hash, a single-use confirm token and an expiry)
and ``execute`` (token check, fresh state within tolerance, risk gate, kill switch, journaled executor).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.services.config import Settings
from agent.core.domain import CASH, Market, PortfolioState, RebalancingPlan, TargetAllocation
from agent.core.errors import ConfigError, ConfirmationError, RiskLimitError, TradingPaused, ValidationError
from agent.core.planner import CashReserve, PortfolioRebalancer
from agent.core.risk import RiskLimits, check_plan
from agent.adapters.store.db import Store, dumps, now_iso
from agent.strategist.base import Decision, DecisionContext, Limits, Strategist, ToolSpec
from agent.core.targets import parse_target, validate_target

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Services:
    """One account, one store, one exchange; built by ``agent.services.runtime.open_runtime``."""

    settings: Settings
    store: Store
    exchange: Any  # agent.core.orders.Exchange
    executor: Any  # agent.services.executor.Executor
    strategist_factory: Callable[[], Strategist] | None = None
    clock: Clock = utcnow
    tools: list[ToolSpec] = field(default_factory=list)

    # -- observe --------------------------------------------------------------------------------

    def observe(self) -> tuple[PortfolioState, Market]:
        return self.exchange.account_state(), self.exchange.market()

    def with_books(self, market: Market, coins: set[str]) -> Market:
        """The market with L2 books for ``coins`` (the cost estimate walks them), read once per plan."""
        wanted = sorted(c for c in coins if c in market.assets)
        if not wanted or all(market.assets[c].book is not None for c in wanted):
            return market
        return self.exchange.market(books=wanted)

    def rebalancer(self, *, heartbeat: bool = False) -> PortfolioRebalancer:
        s, lim = self.settings.rebalance, self.settings.limits
        cr = self.settings.cash_reserve
        return PortfolioRebalancer(
            min_trade_value=s.min_trade_value,
            max_slippage_pct=s.max_slippage,
            rebalance_threshold=s.position_threshold,
            portfolio_threshold=s.portfolio_threshold,
            mode=s.mode,
            band=s.band,
            band_kind=s.band_kind,
            calendar_interval=timedelta(days=s.calendar_days),
            max_trades=self.settings.heartbeat.max_trades_per_tick if heartbeat else s.max_trades,
            cash_reserve=CashReserve(min=cr.min, target=cr.target, max=cr.max, floor=cr.floor) if cr else None,
            cash_floor=lim.cash_floor,
            max_weight=lim.max_weight,
            min_weight=lim.min_weight,
            max_gross_leverage=lim.max_gross_leverage,
        )

    def risk_limits(self, *, heartbeat: bool = False) -> RiskLimits:
        lim, hb = self.settings.limits, self.settings.heartbeat
        per_cycle = lim.max_notional_per_cycle_usd
        per_day = lim.max_notional_per_day_usd
        if heartbeat:  # the heartbeat acts alone: its own, tighter caps
            per_cycle = min(per_cycle, hb.max_notional_per_tick_usd)
            per_day = min(per_day, hb.max_notional_per_day_usd)
        return RiskLimits(
            max_weight=lim.max_weight,
            max_gross_leverage=lim.max_gross_leverage,
            cash_floor=max(lim.cash_floor, self.settings.cash_reserve.floor if self.settings.cash_reserve else 0.0),
            max_turnover_per_cycle=lim.max_turnover_per_cycle,
            max_notional_per_cycle_usd=per_cycle,
            max_notional_per_day_usd=per_day,
            max_trades=hb.max_trades_per_tick if heartbeat else None,
            allowed_assets=frozenset(lim.allowed_assets) if lim.allowed_assets else None,
        )

    # -- targets --------------------------------------------------------------------------------

    def current_target(self) -> TargetAllocation | None:
        """The stored target (``set_target_allocation``), else the config's ``[targets]``, else none."""
        stored = self.store.get_setting("target")
        if stored:
            return TargetAllocation.model_validate(stored)
        if self.settings.targets:
            return TargetAllocation.from_json({**self.settings.targets})
        return None

    def set_target(
        self, weights: dict[str, Any], *, reasoning: str = "", strategy_id: str | None = None
    ) -> TargetAllocation:
        """Validate against the market and the limits, then store. Bad input changes nothing."""
        target = parse_target(weights, reasoning=reasoning, strategy_id=strategy_id)
        _, market = self.observe()
        self.validate(target, market)
        self.store.set_setting("target", target.model_dump(mode="json"))
        return target

    def validate(self, target: TargetAllocation, market: Market) -> TargetAllocation:
        lim = self.settings.limits
        return validate_target(
            target,
            market,
            max_gross_leverage=lim.max_gross_leverage,
            allowed_assets=lim.allowed_assets,
        )

    # -- decide ---------------------------------------------------------------------------------

    def decide(
        self,
        *,
        cycle_id: str | None = None,
        state: PortfolioState | None = None,
        market: Market | None = None,
        strategist: Strategist | None = None,
    ) -> Decision:
        """Run the strategist once and record the decision (raw replies included), whatever its status."""
        if state is None or market is None:
            state, market = self.observe()
        strat = strategist or self.make_strategist()
        decision = strat.decide(self.context(state, market))
        self.store.add_decision(decision, cycle_id=cycle_id)
        return decision

    def context(self, state: PortfolioState, market: Market) -> DecisionContext:
        """What the decide step (and ``compute_target``) looks at: state, features, limits, read-only tools."""
        target = self.current_target()
        lim = self.settings.limits
        return DecisionContext(
            state=state,
            market=market,
            features=self.features(market),
            limits=Limits(
                max_gross_leverage=lim.max_gross_leverage,
                max_weight=lim.max_weight,
                allowed_assets=frozenset(lim.allowed_assets) if lim.allowed_assets else None,
            ),
            tools=[t for t in self.tools if t.name not in _NOT_FOR_THE_MODEL],
            current_targets=target.allocations if target else None,
        )

    def compute_target(self, strategy_id: str) -> dict[str, Any]:
        """The target a strategy's own rules compute for the current market (read-only)."""
        from agent.strategist.offline import OfflineStrategist

        state, market = self.observe()
        return OfflineStrategist().compute(strategy_id, self.context(state, market))

    def features(self, market: Market) -> dict[str, dict[str, float]]:
        from agent.strategist.offline import build_features

        return build_features(market)

    def make_strategist(self) -> Strategist:
        if self.strategist_factory is not None:
            return self.strategist_factory()
        return build_strategist(self.settings)

    # -- preview / execute ----------------------------------------------------------------------

    def plan(
        self,
        target: TargetAllocation | None = None,
        *,
        heartbeat: bool = False,
        state: PortfolioState | None = None,
        market: Market | None = None,
    ) -> RebalancingPlan:
        """A plan toward ``target`` (default: the current target). No token, nothing stored."""
        target = target or self.current_target()
        if target is None:
            raise ValidationError("no target: set one (set_target_allocation / [targets] in the config) or pass one")
        if state is None or market is None:  # one read of the market, with the books the plan walks
            state = self.exchange.account_state()
            market = self.exchange.market(books=sorted(set(state.positions) | set(target.weights)))
        self.validate(target, market)
        market = self.with_books(market, set(state.positions) | set(target.weights))
        last = self.store.get_setting("last_rebalance_at")
        return self.rebalancer(heartbeat=heartbeat).create_rebalancing_plan(
            state,
            target,
            market,
            now=self.clock(),
            last_rebalance=datetime.fromisoformat(last) if last else None,
        )

    def preview(
        self,
        target: TargetAllocation | None = None,
        *,
        source: str = "cli",
        cycle_id: str | None = None,
        heartbeat: bool = False,
    ) -> RebalancingPlan:
        """Plan and store it with a single-use confirm token (returned once, stored only as a hash)."""
        plan = self.plan(target, heartbeat=heartbeat)
        token = secrets.token_urlsafe(18)
        expires = self.clock() + self.settings.mcp.confirm_ttl
        # The planner's id is a pure function of its inputs; a stored preview needs a unique one.
        plan_id = f"{plan.plan_id}-{secrets.token_hex(3)}"
        plan = plan.model_copy(update={"plan_id": plan_id, "confirm_token": token, "expires_at": expires})
        stored = plan.model_dump(mode="json", exclude={"confirm_token"})
        with self.store.tx() as c:
            c.execute(
                "INSERT INTO plans (plan_id, cycle_id, created_at, inputs_hash, equity, plan, token_hash, expires_at, "
                "status, status_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'previewed', ?, ?)",
                (
                    plan.plan_id,
                    cycle_id,
                    now_iso(),
                    plan.inputs_hash,
                    plan.summary.equity_usd,
                    dumps(stored),
                    _hash_token(token),
                    expires.isoformat(),
                    now_iso(),
                    source,
                ),
            )
        return plan

    def stored_plan(self, plan_id: str) -> tuple[RebalancingPlan, dict[str, Any]]:
        rows = self.store.query("SELECT * FROM plans WHERE plan_id = ?", (plan_id,))
        if not rows:
            raise ConfirmationError(f"unknown plan id {plan_id!r}")
        return RebalancingPlan.model_validate(json.loads(rows[0]["plan"])), rows[0]

    def execute(self, plan_id: str, confirm_token: str, *, heartbeat: bool = False) -> Any:
        """Execute a previewed plan. Refuses a wrong, used or expired token, a moved state or a risk breach."""
        if not isinstance(plan_id, str) or not isinstance(confirm_token, str) or not confirm_token:
            raise ConfirmationError("plan_id and confirm_token are required strings")
        plan, row = self.stored_plan(plan_id)
        if row["token_hash"] is None or not hmac.compare_digest(row["token_hash"], _hash_token(confirm_token)):
            raise ConfirmationError("wrong confirm token for this plan")
        if row["status"] != "previewed":
            raise ConfirmationError(f"this plan's token was already used (plan is {row['status']})")
        if self.clock() > datetime.fromisoformat(row["expires_at"]):
            self._set_plan_status(plan_id, "expired", expect="previewed")
            raise ConfirmationError("the confirm token has expired; preview again")
        if self.store.is_paused():
            raise TradingPaused("trading is paused (resume with `rebalancer resume` or resume_trading)")
        # Single use: only one caller can move the plan out of 'previewed'.
        if not self._set_plan_status(plan_id, "confirmed", expect="previewed"):
            raise ConfirmationError("this plan's token was already used")
        try:
            state, market = self.observe()
            self._check_unmoved(plan, state, market)
            check_plan(plan, self.risk_limits(heartbeat=heartbeat), traded_today_usd=self.traded_today_usd())
        except (ConfirmationError, RiskLimitError) as e:
            self._set_plan_status(plan_id, "refused")
            self.store.add_alert("refused", f"plan {plan_id} refused: {e}")
            raise
        self._set_plan_status(plan_id, "executing")
        report = self.executor.execute(plan)
        self._set_plan_status(plan_id, f"executed:{report.status}")
        self.store.set_setting("last_rebalance_at", self.clock().isoformat())
        return report

    def _check_unmoved(self, plan: RebalancingPlan, state: PortfolioState, market: Market) -> None:
        tol = self.settings.mcp.state_tolerance
        equity = state.equity(market)
        before = plan.summary.equity_usd
        if before > 0 and abs(equity - before) / before > tol:
            raise ConfirmationError(
                f"the account moved since the preview: equity ${before:,.2f} → ${equity:,.2f} "
                f"(over {tol:.1%}); preview again"
            )
        weights = state.weights(market)
        for r in plan.rows:
            now = weights.get(r.coin, 0.0) if r.coin != CASH else weights.get(CASH, 0.0)
            if abs(now - r.current_weight) > tol:
                raise ConfirmationError(
                    f"{r.coin} moved since the preview: {r.current_weight:.2%} → {now:.2%}; preview again"
                )

    def _set_plan_status(self, plan_id: str, status: str, *, expect: str | None = None) -> bool:
        with self.store.tx() as c:
            if expect is None:
                cur = c.execute(
                    "UPDATE plans SET status = ?, status_at = ? WHERE plan_id = ?", (status, now_iso(), plan_id)
                )
            else:
                cur = c.execute(
                    "UPDATE plans SET status = ?, status_at = ? WHERE plan_id = ? AND status = ?",
                    (status, now_iso(), plan_id, expect),
                )
            return cur.rowcount == 1

    def traded_today_usd(self) -> float:
        start = self.clock().replace(hour=0, minute=0, second=0, microsecond=0).isoformat()
        rows = self.store.query(
            "SELECT COALESCE(SUM(filled_sz * COALESCE(avg_px, limit_px)), 0) AS n FROM orders "
            "WHERE created_at >= ? AND mode != 'dry-run'",
            (start,),
        )
        return float(rows[0]["n"] or 0.0)

    # -- kill switch and orders -----------------------------------------------------------------

    def pause(self, reason: str = "") -> None:
        self.store.set_paused(True, reason)

    def resume(self, reason: str = "") -> None:
        self.store.set_paused(False, reason)

    def cancel_open_orders(self) -> list[dict[str, Any]]:
        """Cancel every open order on the account; returns what was cancelled."""
        cancelled = []
        for o in self.exchange.open_orders():
            if self.exchange.cancel(o.coin, o.oid):
                cancelled.append({"coin": o.coin, "oid": o.oid, "side": o.side, "size": o.sz, "limit_px": o.limit_px})
        self.store.add_alert("cancel", f"cancelled {len(cancelled)} open orders")
        return cancelled

    # -- history --------------------------------------------------------------------------------

    def history(self, days: int = 60) -> list[dict[str, Any]]:
        """Seed 000's view: cycles of the last ``days`` with value before/after and the 7-day return."""
        if not 1 <= days <= 3650:
            raise ValidationError("days must be between 1 and 3650")
        since = (self.clock() - timedelta(days=days)).isoformat()
        return self.store.query(
            "SELECT id, started_at, finished_at, trigger, autonomy, status, reason, plan_id, value_before, "
            "value_after, return_7d FROM cycles WHERE started_at >= ? ORDER BY started_at DESC",
            (since,),
        )


_NOT_FOR_THE_MODEL = {
    "execute_rebalance",
    "cancel_open_orders",
    "pause_trading",
    "resume_trading",
    "set_target_allocation",
    "preview_rebalance",
}


def build_strategist(settings: Settings) -> Strategist:
    """The configured strategist; offline when nothing else is configured."""
    cfg = settings.strategist
    if cfg.provider == "offline":
        from agent.strategist.offline import OfflineStrategist

        return OfflineStrategist()
    from agent.strategist.loop import LLMStrategist

    client: Any
    if cfg.provider == "openai":
        from agent.strategist.openai_provider import OpenAIClient

        client = OpenAIClient(base_url=cfg.base_url, timeout_s=cfg.timeout_s)
        model = cfg.model or "gpt-4.1-mini"
    elif cfg.provider == "anthropic":
        from agent.strategist.anthropic_provider import AnthropicClient

        client = AnthropicClient(base_url=cfg.base_url, timeout_s=cfg.timeout_s)
        model = cfg.model or "claude-sonnet-4-5"
    else:
        from agent.strategist.compat import OpenAICompatClient

        if not cfg.base_url:
            raise ConfigError("strategist.base_url: required for the openai-compatible provider")
        client = OpenAICompatClient(base_url=cfg.base_url, timeout_s=cfg.timeout_s)
        model = cfg.model or "local"
    return LLMStrategist(client, model=model, max_attempts=cfg.max_attempts, max_tool_calls=cfg.max_tool_calls)
