"""A listing's price over time as a small inline SVG: no script, no external library, nothing to load.

Presentation attributes only (fill, stroke): the portal's CSP forbids inline style attributes.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from kcnguard.records.listing import Observation

WIDTH, HEIGHT, PAD = 480, 140, 24


def price_chart(history: Sequence[Observation], lang: str) -> Markup:
    """A polyline of the prices seen, oldest left; empty when fewer than two sightings have a price."""
    points = [(o.captured_at, o.price) for o in history if o.price is not None]
    if len(points) < 2:
        return Markup("")
    times = [at.timestamp() for at, _ in points]
    prices = [float(p) for _, p in points]
    t0, t1 = min(times), max(times)
    lo, hi = min(prices), max(prices)
    span_t = (t1 - t0) or 1.0
    span_p = (hi - lo) or max(hi, 1.0)

    def xy(t: float, p: float) -> tuple[float, float]:
        x = PAD + (t - t0) / span_t * (WIDTH - 2 * PAD)
        y = HEIGHT - PAD - (p - lo) / span_p * (HEIGHT - 2 * PAD)
        return round(x, 1), round(y, 1)

    coords = [xy(t, p) for t, p in zip(times, prices, strict=True)]
    line = " ".join(f"{x},{y}" for x, y in coords)
    dots = "".join(f'<circle cx="{x}" cy="{y}" r="3" fill="#0b5cad"/>' for x, y in coords)
    label = "Biểu đồ giá theo thời gian" if lang == "vi" else "Price over time"
    low = f"{round(lo):,}".replace(",", "." if lang == "vi" else ",")
    high = f"{round(hi):,}".replace(",", "." if lang == "vi" else ",")
    first = points[0][0].date().isoformat()
    last = points[-1][0].date().isoformat()
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(label)}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff" stroke="#d9dee5"/>'
        f'<polyline points="{line}" fill="none" stroke="#0b5cad" stroke-width="2"/>{dots}'
        f'<text x="4" y="14" font-size="11" fill="#5d6775">{escape(high)}</text>'
        f'<text x="4" y="{HEIGHT - 6}" font-size="11" fill="#5d6775">{escape(low)}</text>'
        f'<text x="{WIDTH - 4}" y="{HEIGHT - 6}" font-size="11" fill="#5d6775" text-anchor="end">'
        f"{escape(first)} → {escape(last)}</text></svg>"
    )
