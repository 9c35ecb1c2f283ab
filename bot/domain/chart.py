"""The digest's activity chart: weekly messages and active members as a PNG, and its alt text.

Two small panels over the same weeks, each with its own plain scale written on the bars
(no second y-axis to misread): messages per week on top, active members below with a line
at the community's total membership. Only the weeks since the community began are drawn,
and this week is highlighted twice over (its colour, and "This week" in bold under it), so
the highlight never rests on colour alone. Every colour has at least 4.5:1 contrast against
the chart's background (WCAG AA for text; :func:`contrast_ratio`, checked in the tests).

The picture is drawn for a 600 px e-mail column at 2x (1200 px wide) with type large
enough to stay readable when a phone shrinks it to about 340 px, and the same PNG goes to
Discord. :func:`chart_alt_text` carries the numbers for readers who cannot see it (the
e-mail's ``alt`` and the Discord attachment's description).

Rendering uses :class:`matplotlib.figure.Figure` with the Agg canvas directly and never
touches ``pyplot``: pyplot keeps global state, and the chart is drawn in a worker thread
(``asyncio.to_thread``) so that matplotlib's slow first render never blocks the event loop.
"""

from __future__ import annotations

import io
import logging
import textwrap
from collections.abc import Sequence
from datetime import date

log = logging.getLogger(__name__)

#: Pixel size of every chart (width, height): fixed so e-mail layouts and tests can rely on it.
CHART_SIZE = (1200, 960)
CHART_DPI = 240
#: How many weeks the chart shows at most; older weeks passed in are dropped.
CHART_WEEKS = 12
#: Discord's limit on an attachment's description (its alt text).
ALT_TEXT_LIMIT = 1024

BACKGROUND = "#ffffff"
TEXT = "#1f2933"
#: Earlier weeks (slate) and this week (deep orange): both >= 4.5:1 on BACKGROUND.
EARLIER = "#52606d"
THIS_WEEK = "#a3480b"
#: The members' total line and the panels' captions.
MUTED = "#616e7c"
#: Every colour drawn on the background, for the contrast test.
COLOURS = {"text": TEXT, "earlier weeks": EARLIER, "this week": THIS_WEEK, "total": MUTED}

Week = tuple[date, int, int]  # (week_start, messages, active_members)


# --------------------------------------------------------------------------- contrast


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of ``#rrggbb``."""
    h = colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# --------------------------------------------------------------------------- words


def _day(d: date) -> str:
    return f"{d.day} {d:%b}"


def _shown(weeks: Sequence[Week]) -> list[Week]:
    return sorted(weeks, key=lambda w: w[0])[-CHART_WEEKS:]


def chart_alt_text(weeks: Sequence[Week], total_members: int | None, community: str) -> str:
    """The chart in words, with its numbers: this week first, then every earlier week."""
    name = textwrap.shorten(" ".join(community.split()), width=100, placeholder="…")
    shown = _shown(weeks)
    if not shown:
        return f"Chart of weekly activity in {name}: no activity recorded yet."
    of = f" of {total_members}" if total_members is not None else ""
    span = "in its first week" if len(shown) == 1 else f"over the {len(shown)} weeks since it began"
    if len(weeks) > len(shown):
        span = f"over the last {len(shown)} weeks"
    start, messages, active = shown[-1]
    parts = [
        f"Chart of weekly activity in {name} {span}.",
        f"This week (from {_day(start)}): {messages} messages; {active}{of} members active.",
    ]
    if len(shown) > 1:
        earlier = "; ".join(f"{_day(d)}: {m} messages, {a} active" for d, m, a in shown[:-1])
        parts.append(f"Earlier weeks, oldest first: {earlier}.")
    text = " ".join(parts)
    return text if len(text) <= ALT_TEXT_LIMIT else text[: ALT_TEXT_LIMIT - 1] + "…"


# --------------------------------------------------------------------------- the picture


def activity_chart_png(
    weeks: Sequence[Week], title: str, *, total_members: int | None = None
) -> bytes:
    """Two panels (messages; active members of ``total_members``), oldest week on the left.

    ``weeks`` holds ``(week_start, messages, active_members)``, one per week since the
    community began (the caller leaves out weeks before it existed); only the last
    :data:`CHART_WEEKS` are drawn and the newest is this week. An empty history still yields
    a chart of the same size saying so, so the digest never has a missing attachment.
    """
    # Imported here, not at module level: matplotlib takes ~0.5-0.9 s to import, which was
    # a third of the bot's start-up (benchmarks/startup.py); the first chart pays it, in
    # its worker thread, off the event loop.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = _shown(weeks)
    width, height = CHART_SIZE
    fig = Figure(figsize=(width / CHART_DPI, height / CHART_DPI), dpi=CHART_DPI)
    fig.patch.set_facecolor(BACKGROUND)
    FigureCanvasAgg(fig)
    heading = textwrap.shorten(" ".join(title.split()), width=44, placeholder="…")
    fig.text(0.03, 0.975, heading, ha="left", va="top", fontsize=13, fontweight="bold", color=TEXT)

    if not shown:
        ax = fig.add_subplot()
        ax.set_facecolor(BACKGROUND)
        ax.text(0.5, 0.5, "No activity recorded yet", ha="center", va="center",
                transform=ax.transAxes, fontsize=12, color=TEXT)  # fmt: skip
        ax.set_axis_off()
    else:
        top, bottom = fig.subplots(2, 1, sharex=True)
        n = len(shown)
        positions = list(range(n))
        colours = [EARLIER] * (n - 1) + [THIS_WEEK]
        messages = [w[1] for w in shown]
        active = [w[2] for w in shown]
        # Few weeks keep a normal bar width, centred, instead of one bar across the chart.
        span = max(n, 6)
        pad = (span - n) / 2
        for ax, values, caption in (
            (top, messages, "Messages each week"),
            (bottom, active, "Members who took part"
             + (f" (of {total_members})" if total_members is not None else "")),
        ):  # fmt: skip
            ax.set_facecolor(BACKGROUND)
            bars = ax.bar(positions, values, color=colours, width=0.7)
            ax.bar_label(bars, labels=[str(v) for v in values], padding=2, fontsize=11,
                         color=TEXT)  # fmt: skip
            ax.set_title(caption, loc="left", fontsize=11, color=TEXT, pad=4)
            ax.set_xlim(-0.5 - pad, n - 0.5 + pad)
            ax.set_yticks([])
            for side in ("top", "right", "left"):
                ax.spines[side].set_visible(False)
            ax.spines["bottom"].set_color(MUTED)
        top.set_ylim(0, max(*messages, 1) * 1.3)
        ceiling = max(*active, total_members or 0, 1)
        bottom.set_ylim(0, ceiling * 1.3)
        if total_members is not None:
            bottom.axhline(total_members, color=MUTED, linestyle=(0, (4, 3)), linewidth=1)
            bottom.text(
                -0.5 - pad, total_members, f" {total_members} members", va="bottom",
                ha="left", fontsize=10, color=MUTED,
            )  # fmt: skip
        labels = [_day(w[0]) for w in shown[:-1]] + ["This week"]
        bottom.set_xticks(positions, labels, fontsize=10, color=TEXT)
        if n > 8:  # twelve dates do not fit side by side on a phone: every other one
            for i, tick in enumerate(bottom.get_xticklabels()):
                tick.set_visible(i == n - 1 or (n - 1 - i) % 2 == 0)
        bottom.get_xticklabels()[-1].set_fontweight("bold")
        bottom.get_xticklabels()[-1].set_color(THIS_WEEK)
        bottom.tick_params(axis="x", length=0, pad=4)
        top.tick_params(axis="x", length=0)

    fig.tight_layout(rect=(0, 0, 1, 0.93), h_pad=1.2)
    buffer = io.BytesIO()
    # No bbox_inches="tight": it would change the pixel size.
    fig.savefig(buffer, format="png", dpi=CHART_DPI, facecolor=BACKGROUND)
    return buffer.getvalue()
