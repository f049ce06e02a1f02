"""Tax lots through the CLI: open lots and the yearly report from a snapshot's fills, importing a basis."""

from __future__ import annotations

import pytest


def test_lots_from_the_snapshots_fills(cli, tax_config, fills_snapshot):
    code, out = cli("tax", "lots", "--snapshot", str(fills_snapshot), "--config", str(tax_config()), "--json")
    assert code == 0, out
    lots = {(r["asset"], r["lot"].split(":")[1][-1]): r for r in out["lots"]}
    assert set(a for a, _ in lots) == {"UBTC", "UETH", "USOL"}
    old, new = lots[("UBTC", "1")], lots[("UBTC", "4")]
    assert old["quantity"] == pytest.approx(0.01999)  # the buy's fee was paid in UBTC
    assert old["cost_usd"] == pytest.approx(1200.0)  # 0.02 × 60,000: the fee is in the basis
    assert new["cost_usd"] == pytest.approx(1483.0)
    assert sum(r["quantity"] for (a, _), r in lots.items() if a == "UBTC") == pytest.approx(0.03482)
    sol = lots[("USOL", "3")]
    assert sol["quantity"] == pytest.approx(25.111)
    assert sol["cost_usd"] == pytest.approx(25.111 * 200, abs=0.01)


def test_report_lists_the_loss_sale_and_its_term(cli, tax_config, fills_snapshot):
    code, out = cli(
        "tax", "report", "--year", "2026", "--snapshot", str(fills_snapshot), "--config", str(tax_config()), "--json"
    )
    assert code == 0, out
    [d] = out["disposals"]
    assert (d["asset"], d["acquired"], d["sold"], d["term"]) == ("USOL", "2025-06-01", "2026-01-20", "short")
    assert d["proceeds_usd"] == pytest.approx(4.889 * 150 - 0.5, abs=0.01)
    assert d["cost_usd"] == pytest.approx(4.889 * 200, abs=0.01)
    assert out["totals"]["short_gain_usd"] == pytest.approx(-244.95, abs=0.01)


def test_report_csv_has_form_8949_columns(cli, tax_config, fills_snapshot):
    code, out = cli(
        "tax", "report", "--year", "2026", "--csv", "--snapshot", str(fills_snapshot), "--config", str(tax_config())
    )
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines[0].startswith("(a) Description of property,(b) Date acquired,(c) Date sold")
    assert lines[1] == "4.889 USOL,2025-06-01,2026-01-20,732.85,977.80,,,-244.95,I"


def test_de_report_is_taxable_under_a_year(cli, tax_config, fills_snapshot):
    code, out = cli(
        "tax",
        "report",
        "--year",
        "2026",
        "--jurisdiction",
        "de",
        "--snapshot",
        str(fills_snapshot),
        "--config",
        str(tax_config()),
        "--json",
    )
    assert code == 0, out
    assert out["disposals"][0]["term"] == "taxable"
    assert out["de_taxable_usd"] == 0.0  # a loss is under the yearly limit


@pytest.mark.parametrize(
    ("args", "why"),
    [(("--year", "2026", "--jurisdiction", "fr"), "unknown jurisdiction 'fr'"), (("--year", "1900"), "out of range")],
    ids=["jurisdiction", "year"],
)
def test_bad_report_arguments_exit_2(cli, tax_config, fills_snapshot, args, why):
    code, out = cli("tax", "report", *args, "--snapshot", str(fills_snapshot), "--config", str(tax_config()))
    assert code == 2
    assert why in out


def test_an_unknown_lot_selection_in_the_config_exits_2(cli, tax_config, fills_snapshot):
    code, out = cli(
        "tax", "lots", "--snapshot", str(fills_snapshot), "--config", str(tax_config('lot_selection = "fofi"'))
    )
    assert code == 2
    assert "lot_selection" in out


def test_import_adds_a_basis_and_refuses_a_bad_file_whole(cli, tax_config, tmp_path):
    cfg = tax_config()
    good = tmp_path / "basis.csv"
    good.write_text("date,asset,quantity,cost_usd\n2023-03-01,UBTC,0.5,11000\n2023-04-01,UETH,2,3600\n")
    code, out = cli("tax", "import", str(good), "--config", str(cfg), "--json")
    assert (code, out["imported"]) == (0, 2), out
    code, out = cli("tax", "import", str(good), "--config", str(cfg), "--json")
    assert (code, out["imported"], out["already_there"]) == (0, 0, 2)
    code, lots = cli("tax", "lots", "--config", str(cfg), "--json")
    assert code == 0, lots
    imported = [r for r in lots["lots"] if r["source"] == "import"]
    assert {(r["asset"], r["quantity"], r["cost_usd"]) for r in imported} == {
        ("UBTC", 0.5, 11000.0),
        ("UETH", 2.0, 3600.0),
    }


@pytest.mark.parametrize(
    ("row", "why"),
    [
        ("2023-03-01,UBTC,-1,100", ":3: quantity must be positive"),
        ("2999-01-01,UBTC,1,100", ":3: 2999-01-01 is in the future"),
        ("2023-13-01,UBTC,1,100", ":3: '2023-13-01' is not a YYYY-MM-DD date"),
        ("2023-03-01,UBTC,1", ":3: expected 4 columns"),
    ],
    ids=["negative", "future", "bad-date", "short-row"],
)
def test_a_bad_import_row_is_refused_with_its_line_and_nothing_is_stored(cli, tax_config, tmp_path, row, why):
    cfg = tax_config()
    bad = tmp_path / "bad.csv"
    bad.write_text(f"date,asset,quantity,cost_usd\n2023-01-01,UETH,1,1000\n{row}\n")
    code, out = cli("tax", "import", str(bad), "--config", str(cfg))
    assert code == 2
    assert why in out
    code, lots = cli("tax", "lots", "--config", str(cfg), "--json")
    assert not [r for r in lots["lots"] if r["source"] == "import"]
