"""The application every interface holds: one account, one store, one exchange, and the use cases over them.

``Services`` is a thin façade: each method is one use case whose rules live in its own module
(:mod:`~agent.services.trading`: ``targets``, ``planning``, ``execution``, ``orders``, ``records``,
``heartbeat``; :mod:`~agent.services.evidence` for the reports). Nothing
here or there knows whether a person, an MCP client, the chat, the web page or the heartbeat is calling:
they pass only ``source`` (recorded with what they create). Every path to an order goes through
``preview`` (target source, kill switch and risk gate, then a plan id, an inputs hash, a single-use
confirm token and an expiry) and ``execute`` (token, fresh state within tolerance, risk gate, kill switch,
journaled executor, a recorded cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agent.adapters import readscope
from agent.adapters.store.db import Store
from agent.core.domain import Market, PortfolioState, RebalancingPlan, TargetAllocation
from agent.core.limits import Limits
from agent.core.orders import OpenOrder
from agent.core.planner import PortfolioRebalancer
from agent.services import preferences
from agent.services.config import Settings
from agent.services.context import AccountContext, Clock, utcnow
from agent.services.evidence import doctor
from agent.services.evidence.doctor import Kept as DoctorKept
from agent.services.ports import AccountPort, ReadPort, TradePort
from agent.services.trading import execution, orders, planning, rejections, targets
from agent.services.trading import records as history
from agent.services.trading import runs as background
from agent.services.trading.executor import Executor
from agent.services.trading.reports import ExecutionReport
from agent.strategist.base import Decision, Strategist, ToolSpec
from agent.strategist.library import Strategy, load_strategies

__all__ = ["Clock", "Services", "utcnow"]


@dataclass
class Services:
    """Built by :func:`agent.services.runtime.open_runtime`.

    ``exchange`` reads; ``trade`` (None for a snapshot or a dry-run) is the only handle that changes state
    at the exchange outside the executor; ``executor`` is None where nothing may be executed.
    """

    settings: Settings
    store: Store
    exchange: ReadPort
    executor: Executor | None = None
    trade: TradePort | None = None
    strategist_factory: Callable[[], Strategist] | None = None
    clock: Clock = utcnow
    model_tools: Callable[[Services], list[ToolSpec]] | None = None
    configured: Settings | None = None  # the file's settings, before the stored ones (``preferences``)
    #: the services of another ``[[accounts]]`` entry by name (set by ``open_runtime`` when the config has any)
    accounts: Callable[[str], Services] | None = None
    #: a fleet account: the fleet's own kill switch (the configured store's), which pauses every account too
    fleet_paused: Callable[[], bool] | None = None
    #: executions running in the background of this process (a TWAP leg outlives the call that started it)
    runs: background.Runs = field(default_factory=background.Runs, repr=False)
    _tools: list[ToolSpec] | None = field(default=None, init=False, repr=False)

    @property
    def tools(self) -> list[ToolSpec]:
        """The read-only tools the strategist's model may call, built on first use (``model_tools``)."""
        if self._tools is None:
            self._tools = self.model_tools(self) if self.model_tools is not None else []
        return self._tools

    def for_account(self, name: str | None) -> Services:
        """These services (``name`` None: the configured account), or those of the ``[[accounts]]`` entry ``name``."""
        if name is None:
            return self
        from agent.core.errors import ValidationError

        if self.accounts is None:
            raise ValidationError(f"account {name!r}: no [[accounts]] are configured")
        return self.accounts(name)

    # -- observe ----------------------------------------------------------------------------------

    def question(self, *, join: bool = False) -> AbstractContextManager[None]:
        """One question (a command, a request, a tick, a tool call): inside it an identical exchange read is
        made once (:mod:`agent.adapters.readscope`); ``join``: part of the question already open, if any."""
        return readscope.question(join=join)

    def observe(self) -> tuple[PortfolioState, Market]:
        return self.exchange.account_state(), self.exchange.market()

    def exchange_now(self, *, fresh: bool = False) -> datetime:
        """The exchange's clock (token expiry and resend decisions follow it, never the local clock)."""
        return datetime.fromtimestamp(self.exchange.server_time_ms(fresh=fresh) / 1000, UTC)

    def market(self, coins: list[str] | None = None) -> Market:
        """The market with funding and, for ``coins``, their L2 books."""
        return self.exchange.market(books=coins or None, with_ctxs=True)

    @property
    def context(self) -> AccountContext:
        """This account as the use cases that need no more see it."""
        return AccountContext(
            self.settings, self.store, self.exchange, self.trade, self.executor, self.clock, self.account
        )

    @property
    def account(self) -> str:
        """The account this session acts for (the lease's key)."""
        user = self.exchange.user if isinstance(self.exchange, AccountPort) else None
        return str(user or self.settings.account_address or "default").lower()

    def is_paused(self) -> bool:
        return self.store.records.is_paused() or (self.fleet_paused is not None and self.fleet_paused())

    def strategies(self) -> dict[str, Strategy]:
        """The strategy library (``prompts/strategies/*.md``)."""
        return load_strategies()

    # -- targets and the decide step ----------------------------------------------------------------

    def current_target(self) -> TargetAllocation | None:
        """The configured target, else the stored one; None when only the strategist could say."""
        chosen = targets.configured_or_stored(self)
        return chosen.target if chosen else None

    def choose_target(
        self,
        explicit: TargetAllocation | None = None,
        *,
        state: PortfolioState | None = None,
        market: Market | None = None,
        cycle_id: str | None = None,
        fresh: bool = False,
    ) -> targets.ChosenTarget:
        return targets.choose(self, explicit, state=state, market=market, cycle_id=cycle_id, fresh=fresh)

    def set_target(self, weights: dict[str, Any], *, reasoning: str = "") -> targets.StoredTarget:
        return targets.store_target(self, weights, reasoning=reasoning)

    def decide(
        self,
        *,
        cycle_id: str | None = None,
        state: PortfolioState | None = None,
        market: Market | None = None,
        strategist: Strategist | None = None,
    ) -> Decision:
        return targets.decide(self, cycle_id=cycle_id, state=state, market=market, strategist=strategist)

    def compute_target(self, strategy_id: str) -> dict[str, Any]:
        return targets.compute(self, strategy_id)

    # -- plan, preview, execute ---------------------------------------------------------------------

    def planner(self, *, heartbeat: bool = False) -> PortfolioRebalancer:
        return planning.planner(self.settings, heartbeat=heartbeat)

    def limits(self, *, heartbeat: bool = False) -> Limits:
        return planning.limits(self.settings, heartbeat=heartbeat)

    def plan(
        self,
        target: TargetAllocation | None = None,
        *,
        heartbeat: bool = False,
        state: PortfolioState | None = None,
        market: Market | None = None,
        cycle_id: str | None = None,
        fresh: bool = False,
    ) -> RebalancingPlan:
        return planning.plan(
            self, target, heartbeat=heartbeat, state=state, market=market, cycle_id=cycle_id, fresh=fresh
        )

    def preview(
        self,
        target: TargetAllocation | None = None,
        *,
        source: str = "cli",
        cycle_id: str | None = None,
        heartbeat: bool = False,
        ttl: timedelta | None = None,
        state: PortfolioState | None = None,
        market: Market | None = None,
        planned: RebalancingPlan | None = None,
    ) -> RebalancingPlan:
        from agent.services.evidence.sensitivity import preview_line

        return planning.preview(
            self,
            target,
            source=source,
            cycle_id=cycle_id,
            heartbeat=heartbeat,
            ttl=ttl,
            state=state,
            market=market,
            annotate=lambda p, m: preview_line(self, p, m),
            planned=planned,
        )

    def execute(
        self, plan_id: str, confirm_token: str, *, source: str = "cli", heartbeat: bool = False
    ) -> ExecutionReport:
        return execution.execute(self, plan_id, confirm_token, source=source, heartbeat=heartbeat)

    def start_execution(self, plan_id: str, confirm_token: str, **kw: Any) -> ExecutionReport | None:
        """Execute in the background; the report if it ended within ``wait_s``, else None (see ``runs``)."""
        return self.runs.start(self, plan_id, confirm_token, **kw)

    def execution_progress(self, plan_id: str) -> background.Progress:
        return background.progress(self, plan_id)

    def follow_execution(self, plan_id: str, **kw: Any) -> background.Progress:
        """Follow a running execution for a while, reporting its progress (see ``runs.follow``)."""
        return background.follow(self, plan_id, **kw)

    def traded_today_usd(self) -> float:
        return planning.traded_today_usd(self)

    # -- kill switch and orders ---------------------------------------------------------------------

    def pause(self, reason: str = "") -> None:
        self.store.records.set_paused(True, reason)

    def resume(self, reason: str = "") -> None:
        self.store.records.set_paused(False, reason)

    def open_orders(self) -> list[OpenOrder]:
        return self.exchange.open_orders()

    def cancel_open_orders(self) -> orders.CancelResult:
        return orders.cancel_open_orders(self.context)

    # -- stored settings (the web page's settings form) --------------------------------------------------

    def settings_fields(self) -> list[preferences.FieldView]:
        return preferences.effective(self)

    def save_settings(self, form: dict[str, str]) -> preferences.SaveResult:
        return preferences.save(self, form)

    def forget_settings(self) -> None:
        preferences.forget(self)

    # -- records -------------------------------------------------------------------------------------

    def history(self, days: int = 60) -> list[dict[str, Any]]:
        from agent.services.evidence.performance import fill_cycle_returns

        return history.cycles(self.context, days, fill_returns=lambda: fill_cycle_returns(self))

    def plans(self, *, days: int = 60, limit: int = 50) -> list[dict[str, Any]]:
        return history.plans(self.context, days=days, limit=limit)

    def doctor(self, *, cached: bool = False) -> list[doctor.Check]:
        """Every wiring check of the account (role, signer, mode, dexes, orders, dead-man switch, budget);
        ``cached``: what ``status`` shows (see :meth:`doctor_kept`)."""
        return doctor.cached(self) if cached else doctor.run(self)

    def doctor_kept(self) -> DoctorKept:
        """The doctor's verdict as ``status`` shows it: the wiring as ``doctor`` last found it (a day), the other
        checks at most a heartbeat interval old; and the wiring checks not vouched for."""
        return doctor.kept(self)

    def decision_cassette(self) -> list[dict[str, Any]]:
        """The recorded decisions with a target, oldest first, as a backtest cassette (``evidence.cassette``)."""
        from agent.services.evidence.cassette import recorded_cassette

        return recorded_cassette(self.store.records)

    def plan_detail(self, plan_id: str) -> dict[str, Any]:
        return history.plan_detail(self.context, plan_id)

    def reject_plan(self, plan_id: str, reason: str, *, source: str = "cli") -> dict[str, Any]:
        """Reject a previewed plan with a reason (its token is spent; the next decision sees the reason)."""
        return rejections.reject(self.context, plan_id, reason, source=source)

    def rejected_plans(self, days: int = 60, *, limit: int = 50) -> list[rejections.Rejection]:
        """The previews rejected (or left to expire) in the last ``days``, newest first."""
        return rejections.listed(self.context, days=days, limit=limit)

    def cycle_detail(self, cycle_id: str) -> dict[str, Any]:
        return history.cycle_detail(self.context, cycle_id)

    # -- evidence (sensitivity, risk, performance): one call each, for every interface ---------------------------------

    def sensitivity(
        self,
        target: TargetAllocation | None = None,
        days: int = 90,
        *,
        plan: RebalancingPlan | None = None,
        market: Market | None = None,
    ) -> dict[str, Any]:
        """Stay put vs rebalance over the last ``days`` days of real closes (``services.sensitivity``); ``plan``
        and ``market``: the ones this question already has (not made or read again)."""
        from agent.services.evidence.sensitivity import sensitivity

        return sensitivity(self, target, days, plan=plan, market=market)

    def risk(self) -> dict[str, Any]:
        from agent.services.evidence.risk import risk_report

        return risk_report(self)

    def performance(self, days: int = 30) -> dict[str, Any]:
        from agent.services.evidence.performance import performance

        return performance(self, days)
