"""Line charts drawn on the server as inline SVG: no script, no CDN, readable without CSS.

A chart is a picture of a table the page shows beside it (the text alternative), so the SVG
is `role="img"` with a title naming the table; each point carries a `<title>` with its value
for a pointer. Lines differ by colour and by dash pattern, so they stay apart in grey print
and for colour-blind readers. Labels come in already formatted for the UI language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 52, 12, 12, 28
# colour (contrast >= 3:1 on white) and dash pattern for the n-th line; the first is the total
STYLES = (("#1f2430", ""), ("#2f54eb", "6 3"), ("#c2410c", "2 3"), ("#067647", "9 3 2 3"), ("#9333ea", "4 4"),
          ("#b42318", "1 2"), ("#0e7490", "12 4"))
MAX_X_LABELS = 7


@dataclass
class Line:
    label: str
    values: list[float | None]


def style(index: int) -> tuple[str, str]:
    return STYLES[index % len(STYLES)]


def line_chart(x_labels: list[str], lines: list[Line], fmt: Callable[[float], str], title: str,
               y_max: float | None = None, partial: frozenset[int] = frozenset()) -> Markup:
    """An SVG of `lines` over `x_labels`; `fmt` writes a y value, `y_max` fixes the top (1.0 for rates).

    Points at the `partial` indexes (buckets the period covers only in part) are hollow and joined by a dotted
    line, so a short first or last week does not read as a drop."""
    values = [v for line in lines for v in line.values if v is not None]
    top = y_max if y_max is not None else 4 * _nice_step(max(values, default=0) / 4)
    n = len(x_labels)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(i):
        return PAD_LEFT + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y(v):
        return PAD_TOP + inner_h * (1 - v / top)

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}"'
             f' xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">']
    for k in range(5):  # gridlines and y labels
        v = top * k / 4
        parts.append(f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>')
        parts.append(f'<text class="ylab" x="{PAD_LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{escape(fmt(v))}</text>')
    step = max(1, -(-n // MAX_X_LABELS))
    for i in range(0, n, step):
        parts.append(f'<text class="xlab" x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                     f'{escape(x_labels[i])}</text>')
    for index, line in reversed(list(enumerate(lines))):  # the total drawn last, on top
        colour, dash = style(index)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        width = 2.6 if index == 0 else 1.8
        whole = [None if i in partial else v for i, v in enumerate(line.values)]
        for segment in _segments(whole):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="{width}"{dashed}'
                         f' stroke-linejoin="round" points="{points}"/>')
        parts += _partial_links(line.values, partial, x, y, colour)
        for i, v in enumerate(line.values):
            if v is not None:
                tip = escape(f"{line.label} · {x_labels[i]}: {fmt(v)}")
                fill = f'fill="#fff" stroke="{colour}" stroke-width="1.6" class="partial"' if i in partial \
                    else f'fill="{colour}"'
                parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="{3 if index == 0 else 2.4}"'
                             f' {fill}><title>{tip}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _partial_links(values: list[float | None], partial: frozenset[int], x, y, colour: str) -> list[str]:
    """Dotted lines from each partial bucket's point to its known neighbours."""
    out = []
    for i in sorted(partial):
        for j in (i - 1, i + 1):
            if 0 <= j < len(values) and values[i] is not None and values[j] is not None:
                out.append(f'<line class="partial" x1="{x(j):.1f}" y1="{y(values[j]):.1f}" x2="{x(i):.1f}" '
                           f'y2="{y(values[i]):.1f}" stroke="{colour}" stroke-width="1.4" stroke-dasharray="1 4" '
                           f'stroke-linecap="round"/>')
    return out


def _segments(values: list[float | None]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive known values: a bucket without data breaks the line instead of faking a zero."""
    out, run = [], []
    for i, v in enumerate(values):
        if v is None:
            if run:
                out.append(run)
            run = []
        else:
            run.append((i, v))
    if run:
        out.append(run)
    return out


def _nice_step(v: float) -> float:
    """A round gridline step at or above v: 1, 2 or 5 times a power of ten, at least 1 (counts are whole)."""
    power = 1.0
    while power * 10 < v:
        power *= 10
    for m in (1, 2, 5, 10):
        if v <= m * power:
            return m * power
    return 10 * power
