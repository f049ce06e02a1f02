"""Tax lots where trading needs them: the account's fills made into lot events, the lots each spot sell of a
plan would consume (and its estimated gain), wash-sale blocking, and harvesting proposals.

Lots live in the store, per account (each subaccount has its own history database and so its own lots). They
are updated from the account's fills (``userFillsByTime``, paged: Hyperliquid answers at most 2,000 fills per
request and keeps only recent history) each time they are read, incrementally (each fill once, by its trade
id). Assets that arrived by transfer or before the available history get their basis from ``rebalancer tax
import``. Fees go into the basis of a buy (a spot buy pays its fee in the base token: fewer coins, same cost)
and out of the proceeds of a sell.

A sell names its lots before it is sent: the executor records them with the order intent, and when its
fills arrive they consume exactly those lots (specific identification).
With ``[tax] jurisdiction = "none"`` nothing here runs and plans are unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from agent.adapters.store.tax import TaxEvent
from agent.core import lots as core
from agent.core.domain import Market, RebalancingPlan

if TYPE_CHECKING:
    from agent.services.config import TaxConfig
    from agent.services.context import AccountContext

#: Hyperliquid's page size for ``userFillsByTime``
FILLS_PAGE = 2000
#: where fills are read from on a first sync (Hyperliquid keeps about this much)
FIRST_SYNC = timedelta(days=3 * 365)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _spot_names(market: Market) -> dict[str, str]:
    """Wire name or pair name → base token ('@142' and 'UBTC/USDC' → 'UBTC')."""
    out: dict[str, str] = {}
    for info in market.assets.values():
        if info.market == "spot" and info.base_token:
            out[info.wire_name] = info.base_token
            out[info.coin] = info.base_token
    return out


def fill_events(account: str, fills: list[Any], market: Market) -> list[TaxEvent]:
    """Spot fills → acquisitions and disposals; perp fills → realised PnL lines (``closedPnl``)."""
    names = _spot_names(market)
    out: list[TaxEvent] = []
    for f in fills:
        raw = f.raw or {}
        # a fill's trade id is unique; without one, its hash, time, coin, price and size name it
        fid = f"fill:{f.tid}" if f.tid else f"fill:{raw.get('hash', '')[:18]}:{f.time}:{f.coin}:{f.px}:{f.sz}"
        when = iso(f.time)
        base = names.get(f.coin)
        if base is None:  # a perp
            if f.closed_pnl:
                out.append(
                    TaxEvent(
                        account, fid, "perp_pnl", f.coin, when, f.sz, f.closed_pnl - f.fee_usd, "fill", f.cloid, raw
                    )
                )
            continue
        fee_in_base = f.fee_token == base
        if f.side == "B":
            qty = f.sz - (f.fee if fee_in_base else 0.0)
            cost = f.px * f.sz + (0.0 if fee_in_base else f.fee_usd)
            if qty > 0:
                out.append(TaxEvent(account, fid, "acquisition", base, when, qty, cost, "fill", f.cloid, raw))
        else:
            proceeds = f.px * f.sz - f.fee_usd
            out.append(TaxEvent(account, fid, "disposal", base, when, f.sz, max(0.0, proceeds), "fill", f.cloid, raw))
    return out


def read_fills(acct: AccountContext, start_ms: int, end_ms: int) -> list[Any]:
    """Every fill in [start, end], paging by time around Hyperliquid's 2,000-fill answers."""
    page = acct.exchange.fills_since(start_ms, end_ms)
    if len(page) < FILLS_PAGE:
        return list(page)
    times = [f.time for f in page]
    older = read_fills(acct, start_ms, min(times) - 1) if min(times) > start_ms else []
    newer = read_fills(acct, max(times) + 1, end_ms) if max(times) < end_ms else []
    return [*older, *page, *newer]


def sync(acct: AccountContext, market: Market | None = None) -> int:
    """Bring the account's lot events up to date with its fills; returns how many were new."""
    now_ms = acct.exchange.server_time_ms()
    last = acct.store.tax.latest_fill_ms(acct.account)
    start = last if last is not None else now_ms - int(FIRST_SYNC.total_seconds() * 1000)
    fills = read_fills(acct, max(0, start), now_ms)  # from the last one kept: each fill is stored once (by id)
    if not fills:
        return 0
    return acct.store.tax.add_events(fill_events(acct.account, fills, market or acct.exchange.market()))


def lot_events(acct: AccountContext) -> list[core.Event]:
    """The stored events as the lot engine's, each sale with the lots its order named (when it named any)."""
    choices = acct.store.tax.choices()
    left: dict[str, list[list[Any]]] = {c: [[lot, q] for lot, q in picks] for c, picks in choices.items()}
    out: list[core.Event] = []
    for e in acct.store.tax.events(acct.account, ("acquisition", "disposal")):
        when = datetime.fromisoformat(e.time)
        if e.kind == "acquisition":
            out.append(core.Acquisition(e.id, e.asset, when, e.quantity, e.usd, e.source))
            continue
        picks = None
        if e.cloid and e.cloid in left:  # the order's chosen lots, consumed fill by fill
            need, chosen = e.quantity, []
            for item in left[e.cloid]:
                if need <= 1e-12:
                    break
                q = min(item[1], need)
                if q > 0:
                    chosen.append((item[0], q))
                    item[1] -= q
                    need -= q
            picks = tuple(chosen) if need <= core.TOL * max(1.0, e.quantity) else None
        out.append(core.Disposal(e.id, e.asset, when, e.quantity, e.usd, picks))
    return out


def book(acct: AccountContext, *, synced: bool = False) -> core.Book:
    """The account's lots now (fills synced first unless the caller just did)."""
    cfg = acct.settings.tax
    if not synced:
        sync(acct)
    jurisdiction = cfg.jurisdiction if cfg.on else "us"
    return core.run(
        lot_events(acct),
        method="fifo" if cfg.method == "spec" else cfg.method,
        jurisdiction=jurisdiction,
        long_term_preference=cfg.long_term_preference,
    )


# -- plans ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SellTax:
    coin: str
    asset: str
    quantity: float
    gain_usd: float
    by_term: dict[str, float]
    picks: tuple[tuple[str, float], ...]


def estimate_sells(
    acct: AccountContext, plan: RebalancingPlan, market: Market, the_book: core.Book, now: datetime
) -> list[SellTax]:
    cfg = acct.settings.tax
    out = []
    for a in plan.actions:
        if a.market != "spot" or a.side != "sell":
            continue
        base = market.assets[a.coin].base_token or a.coin
        proceeds = a.size * market.mid(a.coin)
        try:
            est = core.estimate_sale(
                the_book,
                base,
                a.size,
                proceeds,
                now=now,
                method=cfg.method,
                jurisdiction=cfg.jurisdiction,
                long_term_preference=cfg.long_term_preference,
            )
        except core.LotError as e:
            raise core.LotError(
                f"{a.coin}: {e}; import the basis of coins that arrived by transfer (rebalancer tax import)"
            ) from None
        out.append(SellTax(a.coin, base, a.size, est.gain_usd, est.by_term(), est.picks))
    return out


def rate_for(cfg: TaxConfig, term: str) -> float:
    if cfg.jurisdiction == "uk":
        return cfg.uk_rate
    if term in ("long", "exempt"):
        return cfg.long_term_rate if term == "long" else 0.0
    return cfg.short_term_rate


def harvest_candidates(
    acct: AccountContext, market: Market, the_book: core.Book, now: datetime, held: dict[str, float]
) -> list[dict[str, Any]]:
    """Open lots whose unrealised loss passes ``harvest_min_loss_usd``, and what selling them would save."""
    cfg = acct.settings.tax
    by_base = {i.base_token: i for i in market.assets.values() if i.market == "spot" and i.base_token}
    out = []
    for lot in the_book.open_lots():
        info = by_base.get(lot.asset)
        if info is None:
            continue
        sellable = min(lot.remaining, held.get(info.coin, 0.0))
        if sellable <= 0:
            continue
        loss = lot.unit_cost * sellable - info.mid * sellable
        if loss < cfg.harvest_min_loss_usd:
            continue
        term = core.term_of(lot.acquired, now, cfg.jurisdiction) if cfg.jurisdiction != "uk" else "pool"
        out.append(
            {
                "coin": info.coin,
                "lot": lot.id,
                "quantity": sellable,
                "unrealised_loss_usd": round(loss, 2),
                "term": term,
                "saves_usd": round(loss * rate_for(cfg, term), 2),
            }
        )
    return sorted(out, key=lambda c: -c["unrealised_loss_usd"])


def wash_sale_blocks(acct: AccountContext, now: datetime, the_book: core.Book) -> dict[str, str]:
    """Assets sold at a loss within ``wash_sale_days``: base token → the rule's one line."""
    days = acct.settings.tax.wash_sale_days
    if days <= 0:
        return {}
    since = now - timedelta(days=days)
    loss: dict[str, tuple[float, datetime]] = {}
    per_disposal: dict[str, list[core.Match]] = defaultdict(list)
    for m in the_book.matches:
        per_disposal[m.disposal_id].append(m)
    for ms in per_disposal.values():
        gain, sold = sum(m.gain_usd for m in ms), ms[0].sold
        if gain < 0 and sold >= since:
            prev = loss.get(ms[0].asset)
            if prev is None or sold > prev[1]:
                loss[ms[0].asset] = (gain, sold)
    return {
        asset: (
            f"wash sale: {asset} sold at a ${-g:,.2f} loss on {sold.date()}; no buy until "
            f"{(sold + timedelta(days=days)).date()} ([tax] wash_sale_days = {days})"
        )
        for asset, (g, sold) in loss.items()
    }


def hold_back(
    target: Any, state: Any, market: Market, blocks: dict[str, str], substitutes: dict[str, str]
) -> tuple[Any, list[str]]:
    """``target`` with no buy of a wash-sale-blocked asset: its weight stays where it is now, the rest waits in
    USDC or goes to the configured substitute (e.g. the perp of the same coin)."""
    from agent.core.domain import CASH, TargetAllocation

    if not blocks:
        return target, []
    now_w = state.weights(market)
    weights = dict(target.weights)
    notes = []
    for coin, w in list(weights.items()):
        info = market.assets.get(coin)
        if info is None or info.market != "spot" or info.base_token not in blocks:
            continue
        keep = min(w, max(0.0, now_w.get(coin, 0.0)))
        if w - keep <= 1e-9:
            continue
        weights[coin] = keep
        sub = substitutes.get(coin)
        where = "USDC"
        if sub and sub in market.assets:
            weights[sub] = weights.get(sub, 0.0) + (w - keep)
            where = sub
        notes.append(f"{blocks[info.base_token]}: {coin} held at {keep:.2%} instead of {w:.2%}, the rest in {where}")
    if not notes:
        return target, []
    weights[CASH] = max(0.0, 1.0 - sum(abs(x) for x in weights.values()))
    return TargetAllocation(allocations=weights, strategy_id=target.strategy_id, reasoning=target.reasoning), notes


def annotate(
    acct: AccountContext,
    plan: RebalancingPlan,
    market: Market,
    the_book: core.Book,
    now: datetime,
    held: dict[str, float],
) -> RebalancingPlan:
    """Each spot sell names its lots and estimated gain; the plan carries the totals and harvest proposals."""
    cfg = acct.settings.tax
    sells = {s.coin: s for s in estimate_sells(acct, plan, market, the_book, now)}
    actions = [
        a.model_copy(
            update={
                "lots": sells[a.coin].picks,
                "lots_asset": sells[a.coin].asset,
                "est_gain_usd": round(sells[a.coin].gain_usd, 2),
            }
        )
        if a.coin in sells and a.market == "spot" and a.side == "sell"
        else a
        for a in plan.actions
    ]
    by_term: dict[str, float] = defaultdict(float)
    for s in sells.values():
        for k, v in s.by_term.items():
            by_term[k] += v
    tax: dict[str, Any] = {
        "jurisdiction": cfg.jurisdiction,
        "method": "matching rules" if cfg.jurisdiction == "uk" else cfg.method,
        "long_term_preference": cfg.long_term_preference,
        "gain_usd": round(sum(s.gain_usd for s in sells.values()), 2),
        "by_term": {k: round(v, 2) for k, v in by_term.items()},
        "sells": [
            {
                "coin": s.coin,
                "asset": s.asset,
                "quantity": s.quantity,
                "gain_usd": round(s.gain_usd, 2),
                "by_term": {k: round(v, 2) for k, v in s.by_term.items()},
                "lots": [list(p) for p in s.picks],
            }
            for s in sells.values()
        ],
    }
    if cfg.harvest:
        sold = {a.coin for a in plan.actions if a.side == "sell"}
        tax["harvest"] = [c for c in harvest_candidates(acct, market, the_book, now, held) if c["coin"] not in sold]
        tax["harvest_saves_usd"] = round(sum(c["saves_usd"] for c in tax["harvest"]), 2)
    return plan.model_copy(update={"actions": actions, "tax": tax})


def sell_tax_rates(
    acct: AccountContext, state: Any, market: Market, the_book: core.Book, now: datetime
) -> dict[str, float]:
    """Each held spot pair's estimated tax per USD sold now (a loss sale is negative: it saves tax), for the
    planner's tie-break between equally large drifts."""
    cfg = acct.settings.tax
    out: dict[str, float] = {}
    for coin, pos in state.positions.items():
        info = market.assets.get(coin)
        qty = pos.size - pos.hold
        if info is None or info.market != "spot" or qty <= 0 or not info.base_token:
            continue
        try:
            est = core.estimate_sale(
                the_book,
                info.base_token,
                qty,
                qty * info.mid,
                now=now,
                method=cfg.method,
                jurisdiction=cfg.jurisdiction,
                long_term_preference=cfg.long_term_preference,
            )
        except core.LotError:
            continue  # lots do not cover it (no basis imported): no tie-break for it
        tax = sum(g * rate_for(cfg, term) for term, g in est.by_term().items())
        out[coin] = tax / (qty * info.mid) if qty * info.mid > 0 else 0.0
    return out
