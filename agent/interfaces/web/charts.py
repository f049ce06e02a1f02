"""Server-side SVG charts: pure functions from numbers to markup, every label escaped, no script, no CDN.

``weight_bars`` draws current, target and planned weight per asset (the advisor page); ``line_chart``
draws one or more series over time (the history's value, the sensitivity's current against rebalanced).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape

from markupsafe import Markup

#: one colour per series, in order (current, target, planned / current path, rebalanced path)
COLOURS = ("#6b7280", "#2563eb", "#059669", "#d97706")


def _num(x: float) -> str:
    return f"{x:.1f}"


def weight_bars(rows: Sequence[tuple[str, float, float, float]], *, width: int = 520) -> Markup:
    """Grouped horizontal bars: ``(asset, current, target, planned)`` weights as fractions of equity."""
    if not rows:
        return Markup("")
    label_w, bar_h, gap, top = 110, 7, 9, 22
    span = max(max(abs(c), abs(t), abs(p)) for _, c, t, p in rows) or 1.0
    scale = (width - label_w - 60) / span
    height = top + len(rows) * (3 * bar_h + gap) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>Current, target and planned weight per asset</title>'
    ]
    for i, name in enumerate(("current", "target", "planned")):
        x = label_w + i * 90
        parts.append(f'<rect x="{x}" y="4" width="10" height="10" fill="{COLOURS[i]}"/>')
        parts.append(f'<text x="{x + 14}" y="13" class="legend">{name}</text>')
    for n, (asset, *weights) in enumerate(rows):
        y0 = top + n * (3 * bar_h + gap)
        parts.append(f'<text x="{label_w - 6}" y="{_num(y0 + 1.8 * bar_h)}" text-anchor="end">{escape(asset)}</text>')
        for k, w in enumerate(weights):
            y = y0 + k * bar_h
            length = abs(w) * scale
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{_num(length)}" height="{bar_h - 1}" fill="{COLOURS[k]}">'
                f"<title>{escape(asset)} {('current', 'target', 'planned')[k]} {w:.1%}</title></rect>"
            )
        top_w = weights[0]
        parts.append(
            f'<text x="{_num(label_w + abs(top_w) * scale + 4)}" y="{y0 + bar_h - 1}" class="small">{top_w:.1%}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped labels and formatted numbers only


def line_chart(
    series: Mapping[str, Sequence[tuple[datetime, float]]],
    *,
    title: str,
    width: int = 640,
    height: int = 220,
    money: bool = True,
) -> Markup:
    """Lines over time, one per named series, with the first and last date and the value range on the axes."""
    points = [p for s in series.values() for p in s]
    if not points:
        return Markup("")
    left, right, top, bottom = 70, 12, 24, 28
    t0 = min(t for t, _ in points).timestamp()
    t1 = max(t for t, _ in points).timestamp()
    v0 = min(v for _, v in points)
    v1 = max(v for _, v in points)
    pad = max(abs(v1) * 0.002, 1e-6) if v1 - v0 < abs(v1) * 0.002 else (v1 - v0) * 0.05
    v0, v1 = v0 - pad, v1 + pad
    tspan = (t1 - t0) or 1.0

    def xy(t: datetime, v: float) -> str:
        x = left + (t.timestamp() - t0) / tspan * (width - left - right)
        y = top + (v1 - v) / (v1 - v0) * (height - top - bottom)
        return f"{x:.1f},{y:.1f}"

    def label(v: float) -> str:
        return f"${v:,.0f}" if money else f"{v:,.2f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" class="axis"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" class="axis"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="small">{label(v1)}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" class="small">{label(v0)}</text>',
        f'<text x="{left}" y="{height - 8}" class="small">'
        f"{datetime.fromtimestamp(t0, UTC).strftime('%Y-%m-%d')}</text>",
        f'<text x="{width - right}" y="{height - 8}" text-anchor="end" class="small">'
        f"{datetime.fromtimestamp(t1, UTC).strftime('%Y-%m-%d')}</text>",
    ]
    for i, (name, s) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        pts = sorted(s)
        if len(pts) > 1:
            path = " ".join(xy(t, v) for t, v in pts)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for t, v in pts:
            x, y = xy(t, v).split(",")
            parts.append(
                f'<circle cx="{x}" cy="{y}" r="3" fill="{colour}"><title>{escape(name)} '
                f"{t.strftime('%Y-%m-%d %H:%M')} {label(v)}</title></circle>"
            )
        lx = left + 8 + i * 150
        parts.append(f'<rect x="{lx}" y="6" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="15" class="legend">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built from escaped labels and formatted numbers only
