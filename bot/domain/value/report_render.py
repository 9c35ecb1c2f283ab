"""The value report in words: a short summary, then the matrix as Markdown and as HTML.

Worded once here (:func:`summary`, :func:`story_line`), laid out by the templates
``bot/templates/value_report.html.j2`` (print-ready, readable on a phone, CSS inline for
mail clients) and ``value_report.md.j2``. The matrix arrives already filtered for its
audience (:func:`bot.domain.value.matrix.story_for`); nothing here decides who sees what.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import jinja2

from bot.domain.email_message import inline_css
from bot.domain.value.matrix import Audience, ProductLine, ReportStory, StoryKind, ValueMatrix
from bot.text import escape_markdown, one_line

REFERENCE = (
    "Wenger, E., Trayner, B. and de Laat, M. (2011) Promoting and assessing value creation "
    "in communities and networks: a conceptual framework."
)
MSC_REFERENCE = (
    "Davies, R. and Dart, J. (2005) The \u2018Most Significant Change\u2019 (MSC) technique."
)


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _some(count: int, one: str, many: str | None = None) -> str:
    """``no meetings`` reads better than ``0 meetings`` in a sentence."""
    return f"no {many or one + 's'}" if count == 0 else _n(count, one, many)


def title(matrix: ValueMatrix) -> str:
    return f"What {one_line(matrix.community_name)} created: the value report"


def summary(matrix: ValueMatrix) -> list[str]:
    """Three to five plain sentences, one claim each, for the embed and the top of files."""
    ind = matrix.indicators
    out = [
        f"{ind.members_active} of {_n(ind.members_total, 'member')} took part, with "
        f"{_some(ind.messages, 'message')} and {_some(ind.meetings_held, 'meeting')}.",
    ]
    told = matrix.value_stories + matrix.change_stories
    if told:
        out.append(
            f"Members told {_n(told, 'story', 'stories')} of what the community changed for "
            f"them: {matrix.value_stories} value-creation and "
            f"{matrix.change_stories} significant-change."
        )
        ranked = sorted(matrix.rows[2:], key=lambda r: -r.story_count)
        if ranked and ranked[0].story_count:
            top = ranked[0]
            out.append(
                f"Most of them tell of {top.title.lower()} "
                f"({_n(top.story_count, 'story', 'stories')})."
            )
    else:
        out.append("No member told a story of value in this period yet.")
    if matrix.kept_inside:
        if matrix.audience is Audience.SPONSOR:
            whose = "its teller's" if matrix.kept_inside == 1 else "their tellers'"
            out.append(
                f"{_n(matrix.kept_inside, 'story', 'stories')} stayed inside the community "
                f"at {whose} wish: counted here, never quoted."
            )
        else:
            out.append(
                f"{_n(matrix.kept_inside, 'story', 'stories')} could not be quoted here "
                "(withheld by their tellers or told in a narrower channel)."
            )
    if matrix.audience is Audience.FACILITATOR and any(
        s.stays_inside for r in matrix.rows for s in r.stories
    ):
        out.append(
            "Stories marked \u201cstays inside the community\u201d are for you only: "
            "the sponsor's report never includes them."
        )
    return out


def credit(story: ReportStory) -> str:
    """Who told it, as a report may say: a name only for ``named`` consent."""
    kind = "value-creation story" if story.kind is StoryKind.VALUE else "significant-change story"
    who = story.credit or "a member"
    return f"A {kind} by {who}"


def labels(story: ReportStory) -> list[str]:
    out = []
    if story.domain:
        out.append(f"Domain of change: {one_line(story.domain)}")
    if story.stays_inside:
        out.append("Stays inside the community (not in the sponsor's report)")
    return out


def product_line(item: ProductLine) -> str:
    """``Referral letter template (guideline, adopted): made in this period, used 3 times.``"""
    done = []
    if item.made_in_period:
        done.append("made in this period")
    if item.uses:
        done.append(f"used {_n(item.uses, 'time')}")
    what = f"{one_line(item.title)} ({item.kind}, {item.status})"
    return f"{what}: {', '.join(done)}." if done else f"{what}."


def product_lines(matrix: ValueMatrix) -> list[str]:
    products = matrix.indicators.products
    return [product_line(i) for i in products.items] if products is not None else []


@cache
def _environment(kind: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=(kind == "html"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = lambda text: escape_markdown(one_line(str(text)))
    env.filters["mdblock"] = lambda text: "\n> ".join(
        escape_markdown(line) for line in str(text).splitlines() or [""]
    )
    return env


def _context(matrix: ValueMatrix, period_label: str, **extra: Any) -> dict[str, Any]:
    return {
        "m": matrix,
        "title": title(matrix),
        "period": period_label,
        "summary": summary(matrix),
        "credit": credit,
        "products": product_lines(matrix),
        "labels": labels,
        "sponsor": matrix.audience is Audience.SPONSOR,
        "reference": REFERENCE,
        "msc_reference": MSC_REFERENCE,
        **extra,
    }


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_markdown(matrix: ValueMatrix, period_label: str, *, footer: Sequence[str] = ()) -> str:
    """The report as Markdown: the .md file, and the e-mail's text part (with ``footer``)."""
    page = _environment("md").get_template("value_report.md.j2")
    return _tidy(page.render(_context(matrix, period_label, footer=footer)))


def render_html(
    matrix: ValueMatrix,
    period_label: str,
    *,
    chart_src: str | None = None,
    chart_alt: str = "",
    footer: Sequence[str] = (),
) -> str:
    """A whole HTML page, CSS inlined (mail clients drop ``<style>``; ``@media`` kept)."""
    page = (
        _environment("html")
        .get_template("value_report.html.j2")
        .render(
            _context(matrix, period_label, chart_src=chart_src, chart_alt=chart_alt, footer=footer)
        )
    )
    return inline_css(_tidy(page))
