"""One planning run's inputs as columns: an array per field, one entry per asset, in coin order.

The planner (:mod:`agent.core.planner`), its legs (:mod:`agent.core.legs`), its capital sizing
(:mod:`agent.core.sizing`) and its report (:mod:`agent.core.plan_report`) all read these arrays, so each
model object of the state and the market is read once per plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agent.core.capital import free_cash, pool_of
from agent.core.domain import CASH, L2Book, Market, MarketInfo, PortfolioState, Position, TargetAllocation


@dataclass
class Assets:
    """Per-asset arrays for one planning run (index ``i`` is ``coins[i]``; coins are sorted)."""

    coins: list[str]
    infos: list[MarketInfo]
    mid: np.ndarray
    szd: np.ndarray  # sizes' decimals (int)
    perp: np.ndarray  # bool: a perp (else spot)
    size: np.ndarray  # signed current size
    free: np.ndarray  # sellable now (spot: total − hold)
    target: np.ndarray  # target weights (after the planner's limits)
    lev: np.ndarray  # perp position leverage (≥ 1): closing frees notional / lev of margin
    fee_scale: np.ndarray  # taker fee multiplier of the asset's dex (HIP-3)
    books: list[L2Book | None]
    has_book: np.ndarray  # bool: the market carries the asset's book
    pool: np.ndarray  # int: index into ``pool_names`` of the pool that pays for the asset's buys
    pool_names: list[str]
    pools: dict[str, float]  # free cash per pool (agent.core.capital)
    spot_usdc: float  # spot USDC held, on hold included
    abstraction: str  # the account mode (agent.core.accounts)
    clamps: list[str] = field(default_factory=list)  # limits that changed the target


def assets_of(current: PortfolioState, target: TargetAllocation, market: Market) -> Assets:
    """The columns of every asset held or targeted."""
    pos, alloc = current.positions, target.allocations
    coins = sorted(pos.keys() | (alloc.keys() - {CASH}))
    infos = [market.assets[c] for c in coins]
    held = [pos.get(c, _FLAT) for c in coins]
    kind, books = [i.market for i in infos], [i.book for i in infos]
    # the pool that pays for a buy depends on the market, the dex and its collateral only
    keys = list(zip(kind, [i.dex for i in infos], [i.collateral for i in infos], strict=True))
    pool_by_key = {k: pool_of(infos[j], current.abstraction) for k, j in {k: j for j, k in enumerate(keys)}.items()}
    names = list(dict.fromkeys(pool_by_key.values()))
    index = {k: names.index(name) for k, name in pool_by_key.items()}
    perp = np.array([k == "perp" for k in kind], dtype=bool)
    size = np.array([p.size for p in held], dtype=float)
    return Assets(
        coins=coins,
        infos=infos,
        mid=np.array([i.mid for i in infos], dtype=float),
        szd=np.array([i.sz_decimals for i in infos], dtype=int),
        perp=perp,
        size=size,
        free=np.where(  # as Position.free: spot total − hold, a perp's whole size
            [p.market == "spot" for p in held], size - np.array([p.hold for p in held], dtype=float), size
        ),
        target=np.array([alloc.get(c, 0.0) for c in coins], dtype=float),
        lev=np.maximum(1.0, np.array([p.leverage or 1.0 for p in held], dtype=float)),
        fee_scale=np.array([i.fee_scale for i in infos], dtype=float),
        books=books,
        has_book=np.array([b is not None for b in books], dtype=bool),
        pool=np.array([index[k] for k in keys], dtype=int),
        pool_names=names,
        pools=free_cash(current),
        spot_usdc=current.usdc_spot_total,
        abstraction=current.abstraction,
    )


_FLAT = Position(coin="-", market="perp", size=0.0)  # what an asset not held holds
