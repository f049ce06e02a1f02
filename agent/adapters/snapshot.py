"""Snapshot files: one JSON object of Hyperliquid ``/info`` answers, exactly as Hyperliquid returns them.

:class:`SnapshotExchange` reads one as a read-only exchange (``status`` / ``decide`` / ``preview
--snapshot``); :func:`dump_snapshot` writes the configured account and market as one.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

from agent.adapters.hyperliquid.parsing import load_snapshot
from agent.core.domain import Market, PortfolioState
from agent.core.errors import SnapshotError
from agent.core.orders import Fill, OpenOrder, OrderResult


class SnapshotExchange:
    """A read-only exchange over a snapshot file: no orders and no open orders; its ``userFills``, if any."""

    order_ttl_s: float | None = None

    def __init__(self, path: str | Path | dict[str, Any]) -> None:
        self._state, self._market = load_snapshot(path)
        if isinstance(path, dict):
            self.raw: dict[str, Any] = path
        else:
            import json

            self.raw = json.loads(Path(path).read_text())

    def server_time_ms(self, *, fresh: bool = False) -> int:
        """A snapshot has no live clock: the local one (nothing is ever executed against a snapshot)."""
        return int(time.time() * 1000)

    clock_offset_s: float | None = None

    def account_state(self) -> PortfolioState:
        return self._state

    def market(self, books: Collection[str] | None = None, *, with_ctxs: bool = False) -> Market:
        return self._market

    def open_orders(self) -> list[OpenOrder]:
        return []

    def order_status(self, cloid: str) -> OrderResult | None:
        return None

    def fills_since(self, ms: int, end_ms: int | None = None) -> list[Fill]:
        """The snapshot's ``userFills`` (Hyperliquid's answer, unchanged) in the window."""
        from agent.adapters.hyperliquid.answers import parse_fill

        raw = self.raw.get("userFills") or []
        if not isinstance(raw, list):
            raise SnapshotError("userFills: expected a list")
        fills = [parse_fill(f) for f in raw]
        return [f for f in fills if f.time >= ms and (end_ms is None or f.time <= end_ms)]


def dump_snapshot(exchange: Any, *, book_coins: list[str] | None = None) -> dict[str, Any]:
    """The account and market as a snapshot: Hyperliquid ``/info`` responses, unchanged (design.md)."""
    ask = exchange._info  # the adapter's rate-budgeted, retried /info call
    user = exchange.user
    snap: dict[str, Any] = {
        "user": user,
        "meta": ask({"type": "meta"}),
        "spotMeta": ask({"type": "spotMeta"}),
        "clearinghouseState": ask({"type": "clearinghouseState", "user": user}),
        "spotClearinghouseState": ask({"type": "spotClearinghouseState", "user": user}),
        "allMids": ask({"type": "allMids"}),
        "metaAndAssetCtxs": ask({"type": "metaAndAssetCtxs"}),
        "userAbstraction": ask({"type": "userAbstraction", "user": user}),
    }
    dexes = tuple(getattr(exchange, "dexes", ()))
    if dexes:  # only the HIP-3 dexes the account uses (each read costs rate weight)
        snap["perpDexs"] = ask({"type": "perpDexs"})
        snap["dexes"] = {
            dex: {
                "meta": ask({"type": "meta", "dex": dex}),
                "metaAndAssetCtxs": ask({"type": "metaAndAssetCtxs", "dex": dex}),
                "clearinghouseState": ask({"type": "clearinghouseState", "user": user, "dex": dex}),
            }
            for dex in dexes
        }
    if book_coins is None:
        state, market = load_snapshot(snap)
        book_coins = [market.assets[c].wire_name for c in state.positions]
    snap["l2Books"] = {c: ask({"type": "l2Book", "coin": c}) for c in book_coins}
    return snap
