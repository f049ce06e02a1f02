"""Odd exchange answers are exchange errors: a price of 0, NaN or below, a negative balance, a missing field.

Through the real SDK against the stand-in, whose answer to one /info type is rewritten: each read raises
``ExchangeAnswerError`` (exit 4 at the CLI) naming the request and the field, never a pydantic dump.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agent.core.errors import ExchangeAnswerError, ExchangeError


def _mid(value: str) -> Callable[[Any], Any]:
    return lambda mids: {**mids, "BTC": value}


def _balance(field: str, value: str) -> Callable[[Any], Any]:
    def rewrite(state: Any) -> Any:
        balances = [dict(b) for b in state["balances"]]
        ubtc = next(b for b in balances if b["coin"] == "UBTC")
        ubtc[field] = value
        return {**state, "balances": balances}

    return rewrite


def _without(*keys: str) -> Callable[[Any], Any]:
    return lambda answer: {k: v for k, v in answer.items() if k not in keys}


def _book_px(value: str) -> Callable[[Any], Any]:
    def rewrite(book: Any) -> Any:
        bids, asks = book["levels"]
        return {**book, "levels": [[{**bids[0], "px": value}, *bids[1:]], asks]}

    return rewrite


CASES = [
    pytest.param(
        "allMids", _mid("0"), "market", "/info allMids, l2Book: allMids.BTC: '0' is not a positive price", id="mid-0"
    ),
    pytest.param("allMids", _mid("-3"), "market", "allMids.BTC: '-3' is not a positive price", id="mid-negative"),
    pytest.param("allMids", _mid("NaN"), "market", "allMids.BTC: 'NaN' is not finite", id="mid-nan"),
    pytest.param("allMids", _mid("inf"), "market", "allMids.BTC: 'inf' is not finite", id="mid-inf"),
    pytest.param("allMids", _mid("abc"), "market", "allMids.BTC: 'abc' is not a number", id="mid-text"),
    pytest.param(
        "spotClearinghouseState",
        _balance("total", "-1.5"),
        "account_state",
        "spotClearinghouseState: spotClearinghouseState.balances[UBTC].total: '-1.5' is negative",
        id="negative-balance",
    ),
    pytest.param(
        "spotClearinghouseState",
        _balance("hold", "-0.1"),
        "account_state",
        "spotClearinghouseState.balances[UBTC].hold: '-0.1' is negative",
        id="negative-hold",
    ),
    pytest.param(
        "clearinghouseState",
        _without("marginSummary", "crossMarginSummary"),
        "account_state",
        "clearinghouseState: missing 'marginSummary'",
        id="missing-margin-summary",
    ),
    pytest.param(
        "spotClearinghouseState",
        _without("balances"),
        "account_state",
        "spotClearinghouseState: missing 'balances'",
        id="missing-balances",
    ),
    pytest.param("l2Book", _book_px("0"), "books", "/info allMids, l2Book: l2Books.BTC.bids.px: '0'", id="book-px-0"),
]


@pytest.mark.parametrize(("kind", "rewrite", "read", "message"), CASES)
def test_an_odd_answer_is_an_exchange_error_naming_the_request_and_the_field(
    adapter, server, kind, rewrite, read, message
):
    server.faults.rewrite[kind] = rewrite
    calls = {
        "market": lambda: adapter.market(),
        "account_state": lambda: adapter.account_state(),
        "books": lambda: adapter.market(books=["BTC"]),
    }
    with pytest.raises(ExchangeAnswerError) as caught:
        calls[read]()
    assert isinstance(caught.value, ExchangeError)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text and "pydantic" not in text


def test_a_sane_answer_reads_as_before(adapter, server):
    state, market = adapter.account_state(), adapter.market(books=["BTC"])
    assert market.mid("BTC") > 0 and state.positions
