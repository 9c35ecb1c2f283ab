"""The value report's chart: how many stories report each cycle of value, and its alt text.

One horizontal bar per cycle, in the cycles' order from top to bottom, each labelled in
words on the left and with its number (and how many were value-creation and how many
significant-change stories) written at the bar's end, so nothing rests on colour or on
reading a scale. The colours and sizes follow the digest's chart (:mod:`bot.domain.chart`):
every colour has at least 4.5:1 contrast on white, the picture is 1200 px wide for a
600 px e-mail column at 2x, and the type stays readable when a phone shrinks it. Drawn with
:class:`matplotlib.figure.Figure` and the Agg canvas (no pyplot global state), in a worker
thread by the caller.
"""

from __future__ import annotations

import io
import textwrap

from bot.domain.chart import ALT_TEXT_LIMIT, BACKGROUND, EARLIER, MUTED, TEXT
from bot.domain.value.matrix import ValueMatrix

CHART_FILENAME = "hearth-value.png"
CHART_SIZE = (1200, 900)
CHART_DPI = 240
#: Bars: the digest's slate (>= 4.5:1 on white).
BAR = EARLIER


def _split(row_value: int, row_change: int) -> str:
    parts = []
    if row_value:
        parts.append(f"{row_value} value-creation")
    if row_change:
        parts.append(f"{row_change} significant-change")
    return f" ({', '.join(parts)})" if parts and row_value and row_change else ""


def _counts(matrix: ValueMatrix) -> list[tuple[str, int, int, int]]:
    return [(r.title, r.story_count, r.value_count, r.change_count) for r in matrix.rows]


def value_chart_alt(matrix: ValueMatrix, period_label: str) -> str:
    """The chart in words: every cycle's number of stories."""
    name = textwrap.shorten(" ".join(matrix.community_name.split()), width=100, placeholder="…")
    counts = _counts(matrix)
    if not any(n for _, n, _, _ in counts):
        return (
            f"Chart of stories of value in {name}, {period_label}: "
            "no story reported any cycle of value in this period."
        )
    parts = "; ".join(
        f"{title}: {n} {'story' if n == 1 else 'stories'}{_split(v, c)}"
        for title, n, v, c in counts
    )
    text = (
        f"Chart of how many stories report each cycle of value in {name}, {period_label}. {parts}."
    )
    return text if len(text) <= ALT_TEXT_LIMIT else text[: ALT_TEXT_LIMIT - 1] + "…"


def value_chart_png(matrix: ValueMatrix, period_label: str) -> bytes:
    """The chart as PNG bytes (same size whatever the data; an empty period says so)."""
    # Imported here: matplotlib is slow to import (see bot.domain.chart).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = CHART_SIZE
    fig = Figure(figsize=(width / CHART_DPI, height / CHART_DPI), dpi=CHART_DPI)
    fig.patch.set_facecolor(BACKGROUND)
    FigureCanvasAgg(fig)
    heading = textwrap.shorten(
        "Stories of value: " + " ".join(matrix.community_name.split()), width=34, placeholder="…"
    )
    fig.text(0.03, 0.975, heading, ha="left", va="top", fontsize=16, fontweight="bold", color=TEXT)
    # The quarter's name only ("January to March 2027"): the dates are in the report.
    subtitle = textwrap.shorten(period_label.split(" (", maxsplit=1)[0], width=44, placeholder="…")
    fig.text(0.03, 0.88, subtitle, ha="left", va="top", fontsize=13, color=MUTED)
    counts = _counts(matrix)
    ax = fig.add_axes((0.40, 0.04, 0.50, 0.74))
    ax.set_facecolor(BACKGROUND)
    n = len(counts)
    positions = list(range(n))[::-1]  # the first cycle on top
    values = [c[1] for c in counts]
    bars = ax.barh(positions, values, color=BAR, height=0.6)
    ax.bar_label(
        bars, labels=[str(v) for v in values], padding=6, fontsize=16, fontweight="bold", color=TEXT
    )
    ax.set_yticks(positions, [c[0] for c in counts], fontsize=15, color=TEXT)
    ax.set_xlim(0, max(*values, 1) * 1.3)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(MUTED)
    ax.tick_params(axis="y", length=0, pad=6)
    if not any(values):
        ax.text(0.5, 0.5, "No stories in this period yet", transform=ax.transAxes,
                ha="center", va="center", fontsize=14, color=TEXT)  # fmt: skip
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=CHART_DPI, facecolor=BACKGROUND)
    return buffer.getvalue()
