"""The members' annual report in words: summary sentences, Markdown, HTML and the e-mail.

Worded once here; what is in the report (counts, themes, consented quotes) is decided by
:func:`bot.domain.value.annual.aggregate`. The HTML's layout is
``bot/templates/annual_report.html.j2`` on the e-mail layout (CSS inlined by
:func:`bot.domain.email_message.inline_css`, like the digest's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from zoneinfo import ZoneInfo

import jinja2

from bot.domain.email_message import (
    header_safe,
    inline_css,
    sponsor_report_footer,
)
from bot.domain.value.annual import AnnualSummary, QuestionCount, Quote, ThemeCount
from bot.text import escape_markdown, one_line, percent


def theme_note(s: AnnualSummary) -> str:
    note = (
        "A theme counts a member once when any of their answers uses one of the words in "
        "brackets (at the start of a word); the themes and their words are set in Hearth's "
        "configuration, not taken from the answers."
    )
    if s.min_theme_members > 1:
        note += (
            f" Themes mentioned by fewer than {s.min_theme_members} members are left out, so "
            "no one is singled out."
        )
    return note


def theme_line(t: ThemeCount) -> str:
    return f"{t.label}: {_n(t.members, 'member')} ({', '.join(t.words)})"


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def title(s: AnnualSummary) -> str:
    return f"{one_line(s.community_name)}: members' annual report {s.year}"


def period(s: AnnualSummary, timezone: str = "UTC") -> str:
    zone = ZoneInfo(timezone)
    start, end = (t.astimezone(zone) for t in (s.opened_at, s.closed_at))
    return f"Answers collected from {start:%-d %B %Y} to {end:%-d %B %Y}."


def question_line(q: QuestionCount) -> str:
    line = f"{q.label.rstrip('?')}: {_n(q.members, 'member')}"
    if q.items is not None and q.item_words is not None and q.items:
        one, many = q.item_words
        line += f", {q.items} {one if q.items == 1 else many} listed"
    return line + "."


def summary(s: AnnualSummary) -> list[str]:
    """A few plain sentences, one claim each: the embed and the top of the files."""
    out = [
        f"{s.answered} of {_n(s.members, 'member')} answered ({percent(s.answered, s.members)}%)."
    ]
    if not s.answered:
        out.append("Nobody answered this year, so there is nothing more to report.")
        return out
    by_key = {q.key: q for q in s.questions}
    contacts, education, skills = by_key["contacts"], by_key["education"], by_key["skills"]
    if contacts.items:
        out.append(
            f"{_n(contacts.members, 'member')} listed {_n(contacts.items, 'contact')} with "
            "practices and professionals."
        )
    if education.items:
        out.append(
            f"{_n(education.members, 'member')} ran {_n(education.items, 'educational activity', 'educational activities')}."  # noqa: E501
        )
    if skills.items:
        out.append(
            f"{_n(skills.members, 'member')} gained "
            f"{_n(skills.items, 'skill or qualification', 'skills or qualifications')}."
        )
    if s.themes:
        top = s.themes[0]
        out.append(f"The theme mentioned most: {top.label} ({_n(top.members, 'member')}).")
    quoted = s.answered - s.not_quoted
    if quoted:
        out.append(f"{_n(quoted, 'member')} agreed to be quoted; their words are below.")
    if s.not_quoted:
        out.append(
            f"{_n(s.not_quoted, 'member')} chose not to be quoted: counted here, never quoted."
        )
    return out


def credit(q: Quote) -> str:
    return f"— {q.name}" if q.name else "— a member (anonymous)"


def about(s: AnnualSummary) -> list[str]:
    return [
        "Only the words of members who agreed to be quoted appear here, with personal "
        "details (e-mail addresses, phone and NHS numbers, postcodes, dates) removed; a "
        "name appears only where its member asked to be named. Lists of contacts are "
        "counted, never quoted: they name people who were not asked.",
        "Items are counted from lists: each line, or each part between semicolons, is one; "
        "answers such as \u201cnone\u201d count as nothing.",
    ]


def render_markdown(s: AnnualSummary, *, timezone: str = "UTC", footer: Sequence[str] = ()) -> str:
    lines = [f"# {escape_markdown(title(s))}", "", period(s, timezone), ""]
    lines += [f"- {escape_markdown(x)}" for x in summary(s)]
    lines += ["", "## What members reported", ""]
    lines += [f"- {escape_markdown(question_line(q))}" for q in s.questions]
    lines += ["", "## Themes", ""]
    lines += [f"- {escape_markdown(theme_line(t))}" for t in s.themes] or [
        "No answer mentioned any of the themes."
    ]
    lines += ["", theme_note(s), "", "## In members' words", ""]
    if s.quotes:
        for q in s.quotes:
            lines.append(f"### {escape_markdown(q.question)}")
            lines.append("")
            lines += [f"> {escape_markdown(line)}" if line else ">" for line in q.text.split("\n")]
            lines += ["", escape_markdown(credit(q)), ""]
    else:
        lines += ["No member chose to be quoted.", ""]
    lines += ["## About this report", ""]
    for line in [*about(s), *footer]:
        lines += [line, ""]
    return "\n".join(lines).rstrip() + "\n"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(s: AnnualSummary, *, timezone: str = "UTC", footer: Sequence[str] = ()) -> str:
    html = _environment().get_template("annual_report.html.j2").render(
        title=title(s), period=period(s, timezone), summary=summary(s),
        questions=s.questions, themes=s.themes, theme_note=theme_note(s), quotes=s.quotes,
        credit=credit, about=about(s), footer=footer,
    )  # fmt: skip
    return inline_css(html)


def filename(s: AnnualSummary, slug: str, ext: str) -> str:
    return f"hearth-annual-report-{slug}-{s.year}.{ext}"


# --------------------------------------------------------------------------- e-mail


def email_footer(community_name: str) -> tuple[str, ...]:
    return sponsor_report_footer(
        community_name, "The same report reached you as a direct message from Hearth in Discord."
    )


def build_annual_email(
    s: AnnualSummary,
    *,
    sender: str,
    recipient: str,
    timezone: str = "UTC",
    sent_at: datetime | None = None,
) -> EmailMessage:
    """The report as an e-mail (text and HTML alternatives); sending is the caller's."""
    footer = email_footer(s.community_name)
    msg = EmailMessage()
    msg["Subject"] = f"Hearth annual report: {header_safe(s.community_name)} — {s.year}"
    msg["From"] = header_safe(sender)
    msg["To"] = header_safe(recipient)
    domain = sender.rpartition("@")[2].strip(" >") or "hearth.invalid"
    msg["Message-ID"] = make_msgid("hearth-annual", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    if sent_at is not None:
        msg["Date"] = format_datetime(sent_at)
    msg.set_content(render_markdown(s, timezone=timezone, footer=footer))
    msg.add_alternative(render_html(s, timezone=timezone, footer=footer), subtype="html")
    return msg
