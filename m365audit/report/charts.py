"""Charts as inline SVG: horizontal bars and lines, drawn by hand so the report loads nothing.

Every piece of text (department names come from the tenant) goes through
``html_text``, so a hostile label is shown, never run. Colours are the
Okabe-Ito palette, distinguishable with the common colour-vision deficiencies,
and each chart carries a <title> and <desc> for screen readers.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence

from m365audit.report.model import Chart
from m365audit.report.safety import html_text

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#6E6E6E", "#000000")
WIDTH = 760
Series = Sequence[tuple[str, Sequence[float | None]]]


def count_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _chart_id(title: str) -> str:
    return "chart-" + hashlib.sha256(title.encode()).hexdigest()[:10]


LABEL_CHARS = 34  # per line of a bar's label; longer labels wrap, never cut
LINE_HEIGHT = 13.0


def label_lines(text: str, limit: int = LABEL_CHARS) -> list[str]:
    """A label wrapped onto lines of at most ``limit`` characters (a longer word stays whole)."""
    import textwrap

    return textwrap.wrap(text, width=limit, break_long_words=False, break_on_hyphens=False) or [""]


def _svg(title: str, description: str, height: float, body: list[str]) -> Chart:
    cid = _chart_id(title)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="{WIDTH}" height="{height:.0f}" aria-labelledby="{cid}-t {cid}-d">'
            f'<title id="{cid}-t">{html_text(title)}</title><desc id="{cid}-d">{html_text(description)}</desc>')
    return Chart(title, head + "".join(body) + "</svg>")


def _legend(names: Sequence[str], y: float) -> list[str]:
    parts, x = [], 10.0
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="12" height="12" fill="{colour}"/>'
                     f'<text x="{x + 17:.0f}" y="{y:.0f}" class="legend">{html_text(name)}</text>')
        x += 30 + 7.2 * len(name)
    return parts


def bar_chart(title: str, labels: Sequence[str], series: Series, *,
              value_text: Callable[[float], str] = count_text) -> Chart:
    """Horizontal bars, one group per label and one bar per series."""
    values = [v for _, vs in series for v in vs if v is not None]
    top = max([*values, 0.0]) or 1.0
    bar, gap, left, right = 14.0, 10.0, 230.0, 90.0
    legend = len(series) > 1
    y = 30.0 if legend else 8.0
    body = _legend([name for name, _ in series], 18) if legend else []
    for row, label in enumerate(labels):
        lines = label_lines(label)
        group_top = y
        y += max(0.0, (len(lines) * LINE_HEIGHT - len(series) * bar) / 2)
        for i, (_, vs) in enumerate(series):
            value = vs[row]
            if value is not None:
                width = max((WIDTH - left - right) * value / top, 0.0)
                body.append(f'<rect x="{left:.0f}" y="{y:.1f}" width="{width:.1f}" height="{bar - 2:.0f}" '
                            f'fill="{PALETTE[i % len(PALETTE)]}"><title>{html_text(label)}: '
                            f'{html_text(value_text(value))}</title></rect>'
                            f'<text x="{left + width + 5:.1f}" y="{y + bar - 4:.1f}" class="value">'
                            f'{html_text(value_text(value))}</text>')
            y += bar
        y = max(y, group_top + len(lines) * LINE_HEIGHT)
        first = (group_top + y) / 2 + 4 - (len(lines) - 1) * LINE_HEIGHT / 2
        spans = "".join(f'<tspan x="{left - 8:.0f}" y="{first + n * LINE_HEIGHT:.1f}">{html_text(line)}</tspan>'
                        for n, line in enumerate(lines))
        body.append(f'<text text-anchor="end" class="label"><title>{html_text(label)}</title>{spans}</text>')
        y += gap
    description = f"Bar chart with {len(labels)} rows" + (f" and {len(series)} series" if legend else "")
    return _svg(title, description, y + 4, body)


def _ticks(top: float) -> list[float]:
    """Four or five round gridline values from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [step * i for i in range(math.ceil(top / step) + 1)]


def line_chart(title: str, x_labels: Sequence[str], series: Series) -> Chart:
    """Lines over evenly spaced points; a missing value breaks the line."""
    values = [v for _, vs in series for v in vs if v is not None]
    ticks = _ticks(max([*values, 0.0]))
    left, right, top_y, bottom = 60.0, 20.0, 40.0, 250.0
    n = len(x_labels)

    def px(i: int) -> float:
        return left + (WIDTH - left - right) * (i / (n - 1) if n > 1 else 0.5)

    def py(v: float) -> float:
        return bottom - (bottom - top_y) * v / ticks[-1]

    body = _legend([name for name, _ in series], 18)
    for t in ticks:
        body.append(f'<line x1="{left:.0f}" x2="{WIDTH - right:.0f}" y1="{py(t):.1f}" y2="{py(t):.1f}" class="grid"/>'
                    f'<text x="{left - 6:.0f}" y="{py(t) + 4:.1f}" text-anchor="end" class="value">'
                    f'{html_text(count_text(t))}</text>')
    every = max(1, math.ceil(n / 8))
    for i, label in enumerate(x_labels):
        if (i % every == 0 and n - 1 - i >= every // 2 + 1) or i == n - 1:  # the last label never overlaps
            anchor = "end" if i == n - 1 and n > 1 else "start" if i == 0 and n > 1 else "middle"
            body.append(f'<text x="{px(i):.1f}" y="{bottom + 18:.0f}" text-anchor="{anchor}" class="label">'
                        f'{html_text(label)}</text>')
    for s, (name, vs) in enumerate(series):
        colour = PALETTE[s % len(PALETTE)]
        run: list[str] = []
        for i, v in enumerate([*vs, None]):
            if v is not None:
                run.append(f"{px(i):.1f},{py(v):.1f}")
                body.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}">'
                            f'<title>{html_text(name)}, {html_text(x_labels[i])}: {html_text(count_text(v))}</title>'
                            f'</circle>')
            elif run:
                body.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"/>')
                run = []
    description = f"Line chart of {len(series)} series over {n} points"
    return _svg(title, description, bottom + 30, body)
