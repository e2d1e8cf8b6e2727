"""Charts drawn on the server as SVG geometry: no script, no library, nothing from a CDN.

The templates turn these shapes into inline <svg> (the portal's CSP allows no script at all);
labels go through Jinja's escaping like every other text.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.board.models import Count, SeriesPoint

WIDTH, HEIGHT = 720, 220
LEFT, BOTTOM, TOP = 40, 40, 10
FLAGGED_COLOUR, CONFIRMED_COLOUR = "#d9822b", "#b42318"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[Label]
    ticks: list[Label]
    empty: bool


def _scale(top: int) -> int:
    # A round top for the axis, so the tick labels read as whole numbers.
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000, 1_000_000):
        if top <= step * 4:
            return step * 4
    return top


def paired_bars(items: list[tuple[str, int, int]], every: int = 1) -> Chart:
    """Two bars (flagged, confirmed) per item; every `every`-th label drawn so long series stay legible."""
    top = _scale(max([max(a, b) for _, a, b in items] or [0]) or 1)
    plot_w, plot_h = WIDTH - LEFT - 10, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(1, len(items))
    bar_w = max(1.0, slot * 0.4)
    bars: list[Bar] = []
    labels: list[Label] = []
    for i, (label, flagged, confirmed) in enumerate(items):
        x = LEFT + i * slot + slot * 0.1
        for j, (value, colour, what) in enumerate(
            ((flagged, FLAGGED_COLOUR, "flagged"), (confirmed, CONFIRMED_COLOUR, "confirmed"))
        ):
            h = plot_h * value / top
            bars.append(
                Bar(
                    round(x + j * bar_w, 1),
                    round(TOP + plot_h - h, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    colour,
                    f"{label}: {value} {what}",
                )
            )
        if i % every == 0:
            labels.append(Label(round(x + bar_w, 1), HEIGHT - BOTTOM + 14, label[-12:]))
    ticks = [Label(LEFT - 4, round(TOP + plot_h - plot_h * k / 4, 1) + 4, str(top * k // 4)) for k in range(5)]
    return Chart(WIDTH, HEIGHT, bars, labels, ticks, empty=not items)


def series_chart(series: list[SeriesPoint]) -> Chart:
    return paired_bars([(p.period, p.flagged, p.confirmed) for p in series], every=max(1, len(series) // 12))


def counts_chart(counts: list[Count], most: int = 12) -> Chart:
    return paired_bars([(c.key, c.flagged, c.confirmed) for c in counts[:most]])
