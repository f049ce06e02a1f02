"""One planning run's inputs as columns: an array per field, one entry per asset, in coin order.

The planner (:mod:`agent.core.planner`), its legs (:mod:`agent.core.legs`), its capital sizing
(:mod:`agent.core.sizing`) and its report (:mod:`agent.core.plan_report`) all read these arrays, so each
model object of the state and the market is read once per plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import repeat
from operator import is_not, itemgetter

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
    max_lev: np.ndarray  # the asset's max leverage (inf: none)
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
    infos = list(map(market.assets.__getitem__, coins))
    mid, szd, kind, dex, collateral, fee_scale, books, max_lev = _columns(_INFO, infos, 8)
    size, hold, lev, held_kind = _columns(_HELD, [pos.get(c, _FLAT) for c in coins], 4)
    n = len(coins)
    # the pool that pays for a buy depends on the market, the dex and its collateral only
    keys = kind if len(set(dex)) < 2 and len(set(collateral)) < 2 else list(zip(kind, dex, collateral, strict=True))
    first = dict(zip(keys, infos, strict=True))
    pool_by_key = {k: pool_of(info, current.abstraction) for k, info in first.items()}
    names = list(dict.fromkeys(pool_by_key.values()))
    if len(names) == 1:
        pool = np.zeros(n, dtype=int)
    else:
        index = {k: names.index(name) for k, name in pool_by_key.items()}
        pool = np.array([index[k] for k in keys], dtype=int)
    s = np.array(size, dtype=float)
    return Assets(
        coins=coins,
        infos=infos,
        mid=np.array(mid, dtype=float),
        szd=np.array(szd, dtype=int),
        perp=np.array([k == "perp" for k in kind], dtype=bool),
        size=s,
        free=_free(s, hold, held_kind),
        target=np.array([alloc.get(c, 0.0) for c in coins], dtype=float),
        lev=np.maximum(1.0, np.array([x or 1.0 for x in lev], dtype=float)),
        fee_scale=np.array(fee_scale, dtype=float),
        max_lev=np.array([math.inf if x is None else x for x in max_lev], dtype=float),
        books=list(books),
        has_book=np.fromiter(map(is_not, books, repeat(None)), bool, n),
        pool=pool,
        pool_names=names,
        pools=free_cash(current),
        spot_usdc=current.usdc_spot_total,
        abstraction=current.abstraction,
    )


def _free(size: np.ndarray, hold: tuple, held_kind: tuple) -> np.ndarray:
    """As ``Position.free``: spot total − hold, a perp's whole size."""
    if "spot" not in held_kind:
        return size
    return np.where(np.array([k == "spot" for k in held_kind], dtype=bool), size - np.array(hold, dtype=float), size)


def _columns(fields: itemgetter, models: list, k: int) -> list[tuple]:
    """``k`` fields of every model, as ``k`` columns, read in one pass from the models' field dicts."""
    return list(zip(*map(fields, map(vars, models)), strict=True)) if models else [()] * k


_INFO = itemgetter("mid", "sz_decimals", "market", "dex", "collateral", "fee_scale", "book", "max_leverage")
_HELD = itemgetter("size", "hold", "leverage", "market")
_FLAT = Position(coin="-", market="perp", size=0.0)  # what an asset not held holds
