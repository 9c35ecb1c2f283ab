"""The digest's activity chart: weekly messages and active members as a PNG.

Rendering uses :class:`matplotlib.figure.Figure` with the Agg canvas directly and never
touches ``pyplot``: pyplot keeps global state, and the chart is drawn in a worker thread
(``asyncio.to_thread``) so that matplotlib's slow first render never blocks the event loop.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import date

log = logging.getLogger(__name__)

#: Pixel size of every chart (width, height): fixed so e-mail layouts and tests can rely on it.
CHART_SIZE = (800, 400)
CHART_DPI = 100
#: How many weeks the chart shows; older weeks passed in are dropped.
CHART_WEEKS = 12

_BAR_COLOUR = "#d9822b"
_LINE_COLOUR = "#2b6cb0"


def activity_chart_png(weeks: Sequence[tuple[date, int, int]], title: str) -> bytes:
    """Bars of weekly messages with a line of active members, oldest week on the left.

    ``weeks`` holds ``(week_start, messages, active_members)``; only the last
    :data:`CHART_WEEKS` are drawn. An empty history still yields a chart of the same size
    saying so, so the digest never has a missing attachment.
    """
    # Imported here, not at module level: matplotlib takes ~0.5-0.9 s to import, which was
    # a third of the bot's start-up (benchmarks/startup.py); the first chart pays it, in
    # its worker thread, off the event loop.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    shown = sorted(weeks, key=lambda w: w[0])[-CHART_WEEKS:]
    width, height = CHART_SIZE
    fig = Figure(figsize=(width / CHART_DPI, height / CHART_DPI), dpi=CHART_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=12, loc="left")

    if not shown:
        ax.text(
            0.5,
            0.5,
            "No activity recorded yet",
            ha="center",
            va="center",
            transform=ax.transAxes,
            fontsize=12,
            color="#666666",
        )
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        # A fixed 12-week axis, newest week on the right: a young community's few weeks keep
        # their normal width instead of one bar stretched across the whole chart.
        positions = list(range(CHART_WEEKS - len(shown), CHART_WEEKS))
        labels = [f"{w[0].day} {w[0]:%b}" for w in shown]
        messages = [w[1] for w in shown]
        active = [w[2] for w in shown]
        ax.bar(positions, messages, color=_BAR_COLOUR, label="Messages")
        ax.set_ylabel("Messages", color=_BAR_COLOUR)
        ax.set_xticks(positions, labels, rotation=45, ha="right", fontsize=9)
        ax.set_xlim(-0.6, CHART_WEEKS - 0.4)
        ax.set_ylim(bottom=0, top=max(*messages, 1) * 1.15)
        ax.spines[["top"]].set_visible(False)

        ax2 = ax.twinx()
        ax2.plot(
            positions, active, color=_LINE_COLOUR, marker="o", linewidth=2, label="Active members"
        )
        ax2.set_ylabel("Active members", color=_LINE_COLOUR)
        ax2.set_ylim(bottom=0, top=max(*active, 1) * 1.15)
        ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax2.spines[["top"]].set_visible(False)

        handles = [*ax.get_legend_handles_labels()[0], *ax2.get_legend_handles_labels()[0]]
        # Above the plot, so it never covers a bar or a point.
        ax.legend(
            handles=handles,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=2,
            fontsize=9,
            frameon=False,
        )
        ax.set_xlabel("Week starting", fontsize=9)

    fig.tight_layout()
    buffer = io.BytesIO()
    # No bbox_inches="tight": it would change the pixel size.
    fig.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()
