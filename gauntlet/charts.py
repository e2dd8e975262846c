"""Charts for the report page: inline SVG made here, so the page needs no script and no network.

A timeline file in a run folder (``timeline*.json``) holds what a load run or a chaos
experiment measured over time::

    {"title": "...", "series": [{"name": "p95", "unit": "ms", "points": [[t_s, value], ...]}],
     "markers": [{"t": 12.5, "label": "fault injected"}, {"t": 31.0, "label": "recovered"}]}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from html import escape
from pathlib import Path

WIDTH, HEIGHT, PAD = 760, 220, 44
COLOURS = ("#0969da", "#cf222e", "#1a7f37", "#9a6700", "#8250df")


def _scale(values: Sequence[float], lo_px: float, hi_px: float) -> tuple[float, float, Callable[[float], float]]:
    lo, hi = min(values), max(values)
    if hi == lo:
        hi = lo + 1
    return lo, hi, lambda v: lo_px + (v - lo) / (hi - lo) * (hi_px - lo_px)


def line_chart(title: str, series: Sequence[dict], markers: Iterable[dict] = (), x_label: str = "s") -> str:
    """One SVG chart: each series a polyline against its own unit's axis (the first series' unit on the left)."""
    points = [p for s in series for p in s["points"]]
    if not points:
        return f'<figure class="chart"><figcaption>{escape(title)}: no data</figcaption></figure>'
    markers = list(markers)
    xs = [p[0] for p in points] + [m["t"] for m in markers]
    x_lo, x_hi, x = _scale(xs, PAD, WIDTH - 10)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - 10}" y2="{HEIGHT - PAD}" stroke="#8c959f"/>',
             f'<text x="{WIDTH - 10}" y="{HEIGHT - 8}" text-anchor="end" font-size="11">{x_hi:g} {escape(x_label)}</text>',
             f'<text x="{PAD}" y="{HEIGHT - 8}" font-size="11">{x_lo:g}</text>']
    legend = []
    for i, s in enumerate(series):
        if not s["points"]:
            continue
        colour = COLOURS[i % len(COLOURS)]
        y_lo, y_hi, y = _scale([p[1] for p in s["points"]] + [0], HEIGHT - PAD, 12)
        path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in s["points"])
        parts.append(f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="1.6" points="{path}"/>')
        if i == 0:
            parts.append(f'<text x="{PAD - 4}" y="16" text-anchor="end" font-size="11">{y_hi:g}</text>')
        legend.append(f'<span style="color:{colour}">■ {escape(s["name"])} ({escape(s.get("unit", ""))}, max {y_hi:g})</span>')
    for m in markers:
        px = x(m["t"])
        parts.append(f'<line class="marker" x1="{px:.1f}" y1="12" x2="{px:.1f}" y2="{HEIGHT - PAD}" '
                     'stroke="#9a6700" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{px + 3:.1f}" y="24" font-size="11" fill="#9a6700">{escape(m["label"])}</text>')
    parts.append("</svg>")
    return (f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{"".join(parts)}'
            f'<div class="legend">{" ".join(legend)}</div></figure>')


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str) -> str:
    """Horizontal bars, e.g. time to recovery per experiment."""
    if not bars:
        return ""
    top = max(v for _, v in bars) or 1
    row = 22
    height = row * len(bars) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">']
    for i, (label, value) in enumerate(bars):
        width = (WIDTH - 260) * value / top
        parts.append(f'<text x="190" y="{i * row + 16}" text-anchor="end" font-size="12">{escape(label)}</text>')
        parts.append(f'<rect class="bar" x="196" y="{i * row + 4}" width="{width:.1f}" height="{row - 8}" fill="#0969da"/>')
        parts.append(f'<text x="{200 + width:.1f}" y="{i * row + 16}" font-size="12">{value:g} {escape(unit)}</text>')
    parts.append("</svg>")
    return f'<figure class="chart"><figcaption>{escape(title)}</figcaption>{"".join(parts)}</figure>'


def run_charts(run_dir: Path, trend: dict[str, list[float | None]] | None = None) -> list[str]:
    """Every chart of a run: its timelines, time to recovery per experiment, and the trend of its figures."""
    charts = []
    recoveries = []
    for path in sorted(run_dir.glob("timeline*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        charts.append(line_chart(data.get("title", path.stem), data.get("series", []), data.get("markers", [])))
        if data.get("time_to_recovery_s") is not None:
            recoveries.append((data.get("title", path.stem), float(data["time_to_recovery_s"])))
    if recoveries:
        charts.append(bar_chart("time to recovery per experiment", recoveries, "s"))
    for name, values in (trend or {}).items():
        points = [[i, v] for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            charts.append(line_chart(f"trend: {name}", [{"name": name.rsplit(":", 1)[-1], "unit": "", "points": points}], x_label="runs"))
    return charts
