"""Capabilities are typed ports checked with ``isinstance``: each exchange declares what it can do, and the
services never probe it with ``getattr``/``hasattr``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent.adapters.hyperliquid.client import HyperliquidExchange
from agent.adapters.paper import PaperExchange
from agent.adapters.snapshot import SnapshotExchange
from agent.core.errors import ExchangeError
from agent.services.ports import (
    AccountPort,
    DexPort,
    EndpointPort,
    HistoryPort,
    InfoPort,
    ReadPort,
    SimulatedPort,
    TradePort,
    TwapPort,
)
from agent.services.runtime import NoExchange
from agent.standin import DEMO_ACCOUNT_ADDRESS, load_demo_snapshot

SERVICES = Path(__file__).resolve().parents[2] / "agent" / "services"
ALL = (ReadPort, TradePort, AccountPort, DexPort, TwapPort, HistoryPort, EndpointPort, InfoPort, SimulatedPort)


def ports_of(exchange: object) -> set[str]:
    return {p.__name__ for p in ALL if isinstance(exchange, p)}


def test_hyperliquid_offers_every_port_but_simulation():
    ex = HyperliquidExchange("http://127.0.0.1:9", account_address=DEMO_ACCOUNT_ADDRESS)  # nothing is read
    assert ports_of(ex) == {p.__name__ for p in ALL} - {"SimulatedPort"}


def test_a_snapshot_only_reads():
    assert ports_of(SnapshotExchange(load_demo_snapshot())) == {"ReadPort"}


def test_paper_trades_simulated_and_reads_dexes_only_through_a_source_that_has_them():
    paper = PaperExchange(SnapshotExchange(load_demo_snapshot()))
    assert ports_of(paper) == {"ReadPort", "TradePort", "AccountPort", "DexPort", "SimulatedPort"}
    assert paper.dexes == ()
    paper.use_dexes(["xyz"])  # the snapshot source reads no dex: nothing to do, nothing raised
    assert paper.supports_schedule_cancel is False


@pytest.mark.parametrize(
    ("read", "name"),
    [
        (lambda ex: ex.account_state(), "account_state"),
        (lambda ex: ex.market(), "market"),
        (lambda ex: ex.server_time_ms(), "server_time_ms"),
        (lambda ex: ex.open_orders(), "open_orders"),
        (lambda ex: ex.order_status("0x" + "0" * 32), "order_status"),
        (lambda ex: ex.fills_since(0), "fills_since"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_store_only_exchange_implements_the_read_port_and_every_read_is_one_clear_error(read, name):
    ex = NoExchange()
    assert ports_of(ex) == {"ReadPort"}
    with pytest.raises(ExchangeError, match=rf"^this command does not read the exchange \({name}\)$"):
        read(ex)


def test_the_store_only_exchange_has_nothing_else():
    with pytest.raises(AttributeError):
        NoExchange().place_orders


PROBE = re.compile(r"\b(getattr|hasattr)\(\s*(\w+\.)*(ex|exchange|source|candidate)\b")


def test_the_services_never_probe_an_exchange():
    probes = [
        f"{p.relative_to(SERVICES)}:{n}"
        for p in sorted(SERVICES.rglob("*.py"))
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if PROBE.search(line)
    ]
    assert probes == []


def test_the_probe_pattern_sees_a_probe():
    assert PROBE.search('user = getattr(self.exchange, "user", None)')
    assert PROBE.search('if hasattr(candidate, "ask"):')
    assert not PROBE.search('getattr(settings, "mcp", None)')
