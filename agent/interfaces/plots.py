"""Pictures where people would rather look than read (matplotlib, PNG), and one self-contained HTML report.

Each function takes what a service returned and writes files; nothing here computes a figure of its own.
"""

from __future__ import annotations

import base64
import html as html_lib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from agent.services.evidence.backtest import BacktestResult

Figure = Any


def save(fig: Figure, path: Path | None) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = buf.getvalue()
    if path is not None:
        path.write_bytes(data)
    return data


def _variant(png: Path | None, suffix: str) -> Path | None:
    return None if png is None else png.with_name(f"{png.stem}-{suffix}{png.suffix or '.png'}")


def featured(result: BacktestResult, most: int = 6) -> list[Any]:
    """The runs worth a line of their own: never, calendar-monthly, the cost-aware ones, then the rest in order."""

    def rank(r: Any) -> int:
        return 0 if r.spec.startswith("cost-aware") else 1 if r.spec in ("never", "calendar:monthly") else 2

    return sorted(result.runs, key=rank)[:most]


def _rolling(x: np.ndarray, n: int = 30) -> np.ndarray:
    c = np.cumsum(np.insert(x, 0, 0.0))
    out = np.empty_like(x)
    for i in range(len(x)):
        lo = max(0, i - n + 1)
        out[i] = (c[i + 1] - c[lo]) / (i + 1 - lo)
    return out


def equity_and_drift(result: BacktestResult) -> Figure:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for r in featured(result):
        days = np.array(r.dates, dtype="datetime64[D]")
        top.plot(days, r.equity, lw=1.1, label=r.spec)
        bottom.plot(days, _rolling(r.drift) * 100, lw=1.0, label=r.spec)
    top.set_ylabel("equity (USD)")
    top.set_title("Equity after each day's trades (every policy's figures are in the frontier and the table)")
    top.legend(fontsize=7)
    top.grid(alpha=0.3)
    bottom.set_ylabel("drift ½Σ|w − w*|, pp (30-day mean)")
    bottom.set_title("Drift from target at each close after trades")
    bottom.grid(alpha=0.3)
    return fig


def frontier(result: BacktestResult) -> Figure:
    fig, ax = plt.subplots(figsize=(8, 6))
    bands = []
    for r in result.runs:
        m = r.metrics()
        if r.spec == "never":
            continue
        x, y = m["mean_drift"] * 100, m["cost_bp_pa"]
        cost_aware = r.spec.startswith("cost-aware")
        if (r.spec.startswith("band:") and r.spec.count(":") == 1) or r.spec.endswith(":edge"):  # the usual band
            bands.append((x, y))
        ax.scatter(
            x,
            y,
            s=90 if cost_aware else 30,
            marker="*" if cost_aware else "o",
            color="tab:red" if cost_aware else "tab:blue",
            zorder=3,
        )
        label = r.spec.split(" (")[0] if cost_aware else r.spec
        ax.annotate(
            label,
            (x, y),
            fontsize=7,
            xytext=(4, -9 if cost_aware else 3),
            textcoords="offset points",
            color="tab:red" if cost_aware else "black",
        )
    if len(bands) > 1:
        bx, by = zip(*sorted(bands), strict=True)
        ax.plot(bx, by, color="tab:blue", alpha=0.35, lw=1, label="usual bands (band:X, to the edge)")
        ax.legend(fontsize=8)
    ax.set_xlabel("mean drift (pp)")
    ax.set_ylabel("cost (bp of each day's equity, a year)")
    ax.set_title("Cost–drift frontier: every policy is a point (lower left is better)")
    ax.grid(alpha=0.3)
    return fig


def allocation(result: BacktestResult, spec: str | None = None) -> Figure:
    run = next((r for r in result.runs if spec and r.spec == spec), None) or next(
        (r for r in result.runs if r.spec.startswith("cost-aware")), result.runs[-1]
    )
    w = np.clip(run.weights, 0, None)
    cash = np.clip(1 - np.abs(run.weights).sum(axis=1), 0, None)
    fig, ax = plt.subplots(figsize=(11, 5))
    ax.stackplot(np.array(run.dates, dtype="datetime64[D]"), *w.T, cash, labels=[*result.coins, "USDC"], alpha=0.85)
    ax.set_ylim(0, 1)
    ax.set_ylabel("weight")
    ax.set_title(f"Allocation over time: {run.spec}")
    ax.legend(fontsize=7, loc="upper left", ncol=6)
    return fig


def correlation_heatmap(coins: Sequence[str], corr: np.ndarray, title: str) -> Figure:
    n = len(coins)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * n, 0.8 + 0.55 * n))
    im = ax.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(n), coins, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), coins, fontsize=8)
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                f"{corr[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if abs(corr[i, j]) > 0.6 else "black",
            )
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title, fontsize=10)
    return fig


def sensitivity_chart(report: dict[str, Any]) -> Figure:
    from datetime import date

    fig, ax = plt.subplots(figsize=(10, 5))
    dates = np.array([date.fromisoformat(d) for d in report["paths"]["dates"]], dtype="datetime64[D]")
    for key, label in (("current", "stay put (current holdings)"), ("rebalanced", "rebalance to target")):
        m = report[key]
        ax.plot(
            dates,
            report["paths"][key],
            lw=1.3,
            label=f"{label}: {m['total_return']:+.1%}, vol {m['vol_pa']:.0%}, max DD {m['max_drawdown']:.0%}",
        )
    ax.set_ylabel("value of $1")
    ax.set_title(f"Sensitivity over the last {report['days']} days of real closes (past data, not a forecast)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return fig


def write_html(path: Path, title: str, images: Sequence[tuple[str, bytes]], tables: Sequence[str] = ()) -> None:
    """One file, the PNGs inlined as data URIs: it opens anywhere with nothing beside it."""
    parts = [
        f"<!doctype html><meta charset='utf-8'><title>{html_lib.escape(title)}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}img{max-width:100%}</style>",
        f"<h1>{html_lib.escape(title)}</h1>",
        *tables,
    ]
    for caption, data in images:
        parts.append(f"<h2>{html_lib.escape(caption)}</h2>")
        parts.append(
            f"<img alt='{html_lib.escape(caption)}' src='data:image/png;base64,{base64.b64encode(data).decode()}'>"
        )
    parts.append("<p>Past prices, not a forecast.</p>")
    path.write_text("\n".join(parts), encoding="utf-8")


def metrics_table(rows: Sequence[dict[str, Any]], cols: Sequence[tuple[str, str, str]]) -> str:
    head = "".join(f"<th>{html_lib.escape(h)}</th>" for _, h, _ in cols)
    body = []
    for r in rows:
        cells = "".join(
            f"<td>{html_lib.escape(fmt.format(r.get(k)) if r.get(k) is not None else '')}</td>" for k, _, fmt in cols
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def backtest_pictures(result: BacktestResult, png: Path | None, html: Path | None) -> list[str]:
    """Equity + drift, the frontier and the allocation as PNGs (``png`` and two siblings) and/or HTML."""
    figs = [
        ("Equity and drift over time", equity_and_drift(result), png),
        ("Cost–drift frontier", frontier(result), _variant(png, "frontier")),
        ("Allocation over time", allocation(result), _variant(png, "allocation")),
    ]
    images, written = [], []
    for caption, fig, path in figs:
        images.append((caption, save(fig, path)))
        if path is not None:
            written.append(str(path))
    if html is not None:
        rows: list[dict[str, Any]] = [{"spec": r.spec, **r.metrics()} for r in result.runs]
        base = next((float(r["cost_bp_pa"]) for r in rows if r["spec"] == "calendar:monthly"), None)
        for r in rows:
            r["ratio"] = float(r["cost_bp_pa"]) / base if base else None
            r["mean_drift"] = float(r["mean_drift"]) * 100
        table = metrics_table(
            rows,
            [
                ("spec", "policy", "{}"),
                ("mean_drift", "mean drift pp", "{:.2f}"),
                ("cost_bp_pa", "cost bp/yr", "{:.2f}"),
                ("ratio", "× monthly", "{:.2f}"),
                ("trades", "trades", "{}"),
                ("cagr", "CAGR", "{:+.1%}"),
                ("sharpe", "Sharpe", "{:.2f}"),
                ("max_drawdown", "max DD", "{:.1%}"),
            ],
        )
        d = result.runs[0].dates
        write_html(html, f"Backtest {d[0]} .. {d[-1]}: {', '.join(result.coins)}", images, [table])
        written.append(str(html))
    return written
