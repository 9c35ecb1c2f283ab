"""The value report in Discord: the summary embed, the attached files, and the reply's words.

The files are the report in full (HTML to open on a phone or print, Markdown to paste
elsewhere, the chart with its alt text as the attachment's description); the embed is its
summary, one field per cycle. Every word of a file comes from
:mod:`bot.domain.value.report_render`; nothing here decides who may read a story.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import discord

from bot.domain.value.matrix import Audience, ValueMatrix
from bot.domain.value.periods import Cadence, ReportPeriod
from bot.domain.value.report_chart import CHART_FILENAME, value_chart_alt, value_chart_png
from bot.domain.value.report_render import render_html, render_markdown, summary, title
from bot.interactions import mention
from bot.services.value_report import Schedule
from bot.text import escape_markdown, truncate

COLOUR = discord.Colour(0xA3480B)
FIELD_LIMIT = 1024


@dataclass(frozen=True)
class ReportPackage:
    matrix: ValueMatrix
    period_label: str
    html: bytes
    markdown: bytes
    chart_png: bytes
    chart_alt: str
    stem: str

    def files(self) -> list[discord.File]:
        """Fresh files per send (a ``discord.File`` can be read only once)."""
        return [
            discord.File(
                io.BytesIO(self.html),
                filename=f"{self.stem}.html",
                description="The report to open in a browser or print",
            ),
            discord.File(
                io.BytesIO(self.markdown),
                filename=f"{self.stem}.md",
                description="The report as Markdown, to paste into other documents",
            ),
            discord.File(
                io.BytesIO(self.chart_png), filename=CHART_FILENAME, description=self.chart_alt
            ),
        ]

    def embed(self) -> discord.Embed:
        return summary_embed(self.matrix, self.period_label)


def file_stem(matrix: ValueMatrix, slug: str, period: ReportPeriod) -> str:
    first, last = period.local_days()
    who = "sponsor" if matrix.audience is Audience.SPONSOR else "facilitator"
    return f"hearth-value-{slug}-{first.isoformat()}-to-{last.isoformat()}-{who}"


def package(matrix: ValueMatrix, period: ReportPeriod, slug: str) -> ReportPackage:
    """Render every format (call in a worker thread: the chart is matplotlib)."""
    label = period.label
    alt = value_chart_alt(matrix, label)
    chart = value_chart_png(matrix, label)
    # The chart inside the page itself: the .html file opens on its own, on a phone or to
    # print, without the .png beside it.
    inline = "data:image/png;base64," + base64.b64encode(chart).decode("ascii")
    return ReportPackage(
        matrix=matrix,
        period_label=label,
        html=render_html(matrix, label, chart_src=inline, chart_alt=alt).encode(),
        markdown=render_markdown(matrix, label).encode(),
        chart_png=chart,
        chart_alt=alt,
        stem=file_stem(matrix, slug, period),
    )


def summary_embed(matrix: ValueMatrix, period_label: str) -> discord.Embed:
    embed = discord.Embed(
        title=truncate(title(matrix), 256),
        description=truncate(
            escape_markdown(period_label) + "\n\n" + "\n".join(f"• {s}" for s in summary(matrix)),
            4000,
        ),
        colour=COLOUR,
    )
    for number, row in enumerate(matrix.rows, 1):
        lines = [row.definition]
        lines += [f"{ind.label}: **{ind.value}**" for ind in row.indicators]
        quoted = len(row.stories) + row.more
        if quoted:
            lines.append(f"{quoted} {'story' if quoted == 1 else 'stories'} quoted in the files.")
        embed.add_field(
            name=f"{number}. {row.title}",
            value=truncate("\n".join(lines), FIELD_LIMIT),
            inline=False,
        )
    embed.set_image(url=f"attachment://{CHART_FILENAME}")
    who = "sponsor" if matrix.audience is Audience.SPONSOR else "facilitator (private)"
    embed.set_footer(
        text=f"The full report is attached as a web page and as Markdown · for the {who}"
    )
    return embed


def report_noun(cadence: Cadence) -> str:
    """``quarterly value report``: how the sponsor's DM and the facilitators' notices name it."""
    return "value report" if cadence is Cadence.OFF else f"{cadence.value} value report"


def _next(schedule: Schedule) -> str:
    """``<t:…:F>, covering April 2027 (…)``."""
    if schedule.next_at is None:
        return ""
    text = discord.utils.format_dt(schedule.next_at, "F")
    if schedule.next_period is not None:
        text += f", covering {escape_markdown(schedule.next_period.label)}"
    return text


def schedule_line(name: str, schedule: Schedule) -> str:
    """The sponsor's scheduled report, as the facilitator's ``/value report`` reply tells it."""
    if schedule.cadence is Cadence.OFF:
        return (
            f"The sponsor's scheduled value report of **{name}** is off; "
            f"{mention('value schedule')} turns it back on." + last_line(schedule)
        )
    when = _next(schedule)
    if not schedule.has_sponsor:
        return (
            f"**{name}** has no sponsor yet, so no {report_noun(schedule.cadence)} goes out. "
            f"Set one with {mention('community sponsor')}; the next would be due {when}."
        )
    how = "by direct message and e-mail" if schedule.emails else "by direct message"
    return (
        f"The sponsor gets their own report {schedule.cadence.every} {how}, quoting only the "
        f"stories whose tellers agreed to share them. Next: {when}." + last_line(schedule)
    )


def schedule_reply(name: str, schedule: Schedule, *, changed: bool) -> str:
    """``/value schedule``'s private confirmation: the cadence, when the next report goes,
    what it covers and to whom (or why nothing goes)."""
    change = "/value schedule"
    if schedule.cadence is Cadence.OFF:
        head = (
            f"The sponsor's scheduled value report of **{name}** is now off: nothing more is "
            "sent on a schedule."
            if changed
            else f"The sponsor's scheduled value report of **{name}** was already off."
        )
        return (
            f"{head} You can still make one for any period with {mention('value report')}. "
            f"Turn it back on with {mention(change.lstrip('/'))}: it resumes with the current "
            "period, without a flood of catch-up reports."
        )
    every = schedule.cadence.every
    head = (
        f"The sponsor's value report of **{name}** now goes out {every}"
        if changed
        else f"The sponsor's value report of **{name}** already goes out {every}"
    )
    head += ", on the first day after each period at 09:00 local time."
    if not schedule.has_sponsor:
        return (
            f"{head} But **{name}** has no sponsor yet, so nothing is sent: set one with "
            f"{mention('community sponsor')}. The next report would go {_next(schedule)}; "
            "and the latest report due goes once, as soon as a sponsor is set."
        )
    how = "by direct message and e-mail" if schedule.emails else "by direct message"
    who = f"<@{schedule.sponsor_id}>" if schedule.sponsor_id is not None else "the sponsor"
    tail = (
        " Nothing is sent twice and nothing is skipped: it starts where the last report ended."
        if changed
        else ""
    )
    return f"{head} Next: {_next(schedule)}, to {who} {how}.{tail}"


def last_line(schedule: Schedule) -> str:
    """What became of the last scheduled report, so the facilitator can follow it up."""
    last = schedule.last
    if last is None:
        return ""
    period = ReportPeriod(last.start, last.end, schedule.timezone).label.split(" (", maxsplit=1)[0]
    if last.state == "sent" and last.sent_at is not None:
        return (
            f" The report for {period} was delivered {discord.utils.format_dt(last.sent_at, 'D')}."
        )
    if last.state == "pending":
        return f" The report for {period} is still being delivered (retrying)."
    if last.state == "skipped":
        return f" The report for {period} was not sent: there was no sponsor then."
    return f" The report for {period} could not be delivered."


def reply_text(name: str, period_label: str, schedule: Schedule) -> str:
    return (
        f"Your private value report for **{name}**, {escape_markdown(period_label)}. "
        "Open the .html file to read it on any screen or print it.\n"
        + schedule_line(name, schedule)
    )
