"""Price files in the common shapes load to the same table and the same backtest; anything else is one line, exit 2.

The shape files hold the same real BTC/ETH days (``tests/fixtures/backtest/shapes/README.md``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from clirun import invoke, invoke_json

from agent.adapters.price_files import load_price_history
from agent.core.errors import ValidationError

SHAPES = Path(__file__).parents[1] / "fixtures" / "backtest" / "shapes"
FILES = ["project.csv", "cdd", "long.csv", "wide_colon.csv", "wide_underscore.csv"]


@pytest.fixture
def target(tmp_path: Path) -> Path:
    p = tmp_path / "target.json"
    p.write_text(json.dumps({"BTC": 0.4, "ETH": 0.3, "USDC": 0.3}))
    return p


@pytest.mark.parametrize("name", FILES)
def test_every_shape_reads_the_same_closes(name):
    ref = load_price_history(SHAPES / "project.csv")
    got = load_price_history(SHAPES / name, ["BTC", "ETH"]).select(["BTC", "ETH"])
    assert got.dates == ref.dates and len(got.dates) == 90
    assert np.array_equal(got.close, ref.close)
    # the traded value: the provider's quote volume, or coin units × close (within 15 %: a close is no average price)
    assert np.allclose(got.volume, ref.volume, rtol=0.15)


def test_a_single_cryptodatadownload_file_is_one_coin_named_by_its_file():
    t = load_price_history(SHAPES / "cdd" / "Binance_ETHUSDT_d.csv")
    ref = load_price_history(SHAPES / "project.csv").select(["ETH"])
    assert t.coins == ("ETH",) and np.array_equal(t.close, ref.close) and np.array_equal(t.volume, ref.volume)


@pytest.mark.parametrize("name", FILES)
def test_the_backtest_gives_the_same_path_whatever_the_shape(name, target):
    code, ref = invoke_json("backtest", "--prices", str(SHAPES / "project.csv"), "--target", str(target),
                            "--policy", "never", "--policy", "calendar:weekly")  # fmt: skip
    assert code == 0, ref
    code, out = invoke_json("backtest", "--prices", str(SHAPES / name), "--target", str(target),
                            "--policy", "never", "--policy", "calendar:weekly")  # fmt: skip
    assert code == 0, out
    assert out["window"]["days"] == 90
    for a, b in zip(out["policies"], ref["policies"], strict=True):
        assert [d["equity"] for d in a["path"]] == pytest.approx([d["equity"] for d in b["path"]], rel=1e-6)
        assert a["metrics"]["cagr"] == pytest.approx(b["metrics"]["cagr"], rel=1e-6)


BAD = {
    "unknown header": ("price,when\n1,2\n", "not a price file"),
    "wide column that is no field": (",BTC:close,ETH:price\n2025-01-01,1,2\n", "not COIN:field"),
    "wide coin without a close": ("date,BTC_close,ETH_open\n2025-01-01,1,2\n", "no close column for ETH"),
    "hourly rows": (",BTC:close\n2025-01-01 00:00:00,1\n2025-01-01 01:00:00,2\n", "daily closes only"),
    "long duplicate": ("date,symbol,close\n2025-01-01,BTC,1\n2025-01-01,BTC,2\n", "a second row for BTC"),
    "long not a number": ("date,symbol,close\n2025-01-01,BTC,abc\n", "not a number"),
    "long short row": ("date,symbol,close\n2025-01-01,BTC\n", "has 2 cells"),
    "empty file": ("", "empty file"),
    "header only": ("date,symbol,close\n", "no rows"),
    "cdd without close": (
        "https://www.CryptoDataDownload.com\nUnix,Date,Symbol,Open\n1,2025-01-01,BTCUSDT,1\n",
        "Date and Close",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_malformed_files_are_one_line_and_exit_2(tmp_path, target, case):
    text, needle = BAD[case]
    f = tmp_path / "prices.csv"
    f.write_text(text)
    with pytest.raises(ValidationError, match=needle):
        load_price_history(f)
    p = invoke("backtest", "--prices", str(f), "--target", str(target), "--policy", "never")
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], p.stderr
    assert p.stdout.strip() == ""  # nothing ran
