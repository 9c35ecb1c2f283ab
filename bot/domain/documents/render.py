"""A version as readers see it, and its exports: Markdown, print-ready HTML and PDF.

:func:`shown` turns a stored :class:`Version` and the quotes it lists into
:class:`ShownDocument`, leaving out any quote whose words are gone (withdrawn or declined)
and crediting each quote as its teller agreed. The templates are
``bot/templates/document.md.j2`` and ``document.html.j2``; the PDF is WeasyPrint's rendering
of that same HTML, so the printed page and the PDF match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import jinja2

from bot.domain.documents.model import Quote, QuoteStatus, Version

FORMATS = ("markdown", "html", "pdf")


@dataclass(frozen=True, slots=True)
class ShownQuote:
    text: str
    credit: str


@dataclass(frozen=True, slots=True)
class ShownSection:
    position: int
    heading: str
    body: str
    quotes: tuple[ShownQuote, ...]


@dataclass(frozen=True, slots=True)
class ShownDocument:
    title: str
    community: str
    version: int
    date: datetime
    summary: str
    sections: tuple[ShownSection, ...]

    @property
    def date_text(self) -> str:
        return f"{self.date.day} {self.date:%B %Y}"


def shown(
    title: str, community: str, version: Version, quotes: Mapping[int, Quote]
) -> ShownDocument:
    sections = []
    for i, snap in enumerate(version.sections, start=1):
        kept = []
        for qid in snap.quote_ids:
            q = quotes.get(qid)
            if q is None or q.status is not QuoteStatus.AGREED or not q.text:
                continue
            kept.append(ShownQuote(q.text, q.shown_credit))
        sections.append(ShownSection(i, snap.heading, snap.body, tuple(kept)))
    return ShownDocument(
        title, community, version.number, version.created_at, version.summary, tuple(sections)
    )


@cache
def _environment(autoescape: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(doc: ShownDocument) -> str:
    env = _environment(False)
    env.filters["md"] = _md
    text = env.get_template("document.md.j2").render(d=doc)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(doc: ShownDocument) -> str:
    return _environment(True).get_template("document.html.j2").render(d=doc)


def render_pdf(doc: ShownDocument) -> bytes:
    """The print-ready HTML as a PDF (WeasyPrint; CPU-bound, call it off the event loop)."""
    from weasyprint import HTML

    pdf = HTML(string=render_html(doc)).write_pdf()
    assert pdf is not None
    return bytes(pdf)


def export(doc: ShownDocument, fmt: str) -> tuple[str, bytes]:
    """(file name, bytes) of ``doc`` in ``fmt`` (one of :data:`FORMATS`)."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", doc.title).strip("-").lower()[:60] or "document"
    name = f"{stem}-v{doc.version}"
    if fmt == "markdown":
        return f"{name}.md", render_markdown(doc).encode("utf-8")
    if fmt == "html":
        return f"{name}.html", render_html(doc).encode("utf-8")
    return f"{name}.pdf", render_pdf(doc)
