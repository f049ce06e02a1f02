"""The HIP-3 dex reads: ``perpDexs`` and each used dex's ``meta``, mids, contexts and books.

Only the dexes in use are read (every read costs rate weight): the ones the account holds or a target
names (:meth:`DexReads.use`). A dex's perp assets are numbered 100000 + its index in ``perpDexs`` × 10000
+ its index in the dex's meta (:meth:`DexReads.asset_offsets`), which the signing client is told.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import Any

from agent.adapters.hyperliquid.dexes import DEX_ASSET_STRIDE, HIP3_ASSET_OFFSET, check_dexes, dex_of
from agent.adapters.hyperliquid.info import InfoClient
from agent.adapters.hyperliquid.parsing import add_dex_markets
from agent.core.domain import Market
from agent.core.errors import SnapshotError


class DexReads:
    """``DexReads(info, dexes=("xyz",))``: the HIP-3 dexes read besides the main dex, and their meta."""

    def __init__(self, info: InfoClient, dexes: Collection[str] = ()) -> None:
        self.info = info
        #: HIP-3 dexes read besides the main dex (the ones the account uses or a target names).
        self.dexes: tuple[str, ...] = tuple(dexes)
        self.perp_dexs: Any = None
        self.meta: dict[str, Any] = {}
        self._lock = threading.RLock()

    def _listed(self) -> Any:
        if self.perp_dexs is None:
            self.perp_dexs = self.info.post({"type": "perpDexs"})
        return self.perp_dexs

    def ensure(self) -> None:
        """``perpDexs`` and the ``meta`` of each dex in use, each read once."""
        with self._lock:
            if not self.dexes:
                return
            check_dexes(self.dexes, self._listed())
            for dex in self.dexes:
                if dex not in self.meta:
                    meta = self.info.post({"type": "meta", "dex": dex})
                    if not isinstance(meta, Mapping) or "universe" not in meta:
                        raise SnapshotError(f"meta (dex {dex}): missing 'universe'")
                    self.meta[dex] = meta

    def use(self, dexes: Collection[str]) -> bool:
        """Also read these dexes; one not listed by ``perpDexs`` is refused. True when any was new."""
        with self._lock:
            new = tuple(d for d in dexes if d and d not in self.dexes)
            if not new:
                return False
            check_dexes(new, self._listed())
            self.dexes = (*self.dexes, *new)
            self.ensure()
            return True

    def asset_offsets(self) -> dict[str, tuple[Any, int]]:
        """Each loaded dex's meta and the asset number of its first perp."""
        with self._lock:
            if not self.meta:
                return {}
            index = check_dexes(self.dexes, self.perp_dexs)
            return {dex: (meta, HIP3_ASSET_OFFSET + index[dex] * DEX_ASSET_STRIDE) for dex, meta in self.meta.items()}

    def market(self, main: Market, spot_meta: Any, books: Collection[str] | None, with_ctxs: bool) -> Market:
        """``main`` (the main dex's market) with every used dex's perps added."""
        if not self.dexes:
            return main
        answers_by_dex: dict[str, Any] = {}
        mids: dict[str, Any] = {}
        for dex in self.dexes:
            answers: dict[str, Any] = {"meta": self.meta[dex]}
            if with_ctxs:
                answers["metaAndAssetCtxs"] = self.info.post({"type": "metaAndAssetCtxs", "dex": dex})
            mids.update(self.info.post({"type": "allMids", "dex": dex}) or {})
            answers_by_dex[dex] = answers
        wanted = [c for c in books or () if dex_of(c) in self.dexes and c in mids]
        raw_books = {c: self.info.post({"type": "l2Book", "coin": c}) for c in wanted}
        books_read = {k: v for k, v in raw_books.items() if v}
        return add_dex_markets(main, self.perp_dexs, answers_by_dex, spot_meta, mids, books_read)
