"""Lay the digest out as HTML and plain text (the e-mail, the file attached to the DM).

The words come from one place, :func:`bot.domain.digest_view.view`; the templates
(``digest.html.j2``, ``digest.txt.j2``) only lay that view out, and
:mod:`bot.domain.digest_embeds` lays the same view out as Discord embeds. Members' words are
untrusted everywhere: HTML output is autoescaped, and the text file is only ever shown as
plain text.

This module also re-exports the digest's small wording helpers and the embed renderer for
callers that import them from here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import jinja2

from bot.domain.digest import Digest
from bot.domain.digest_embeds import (  # noqa: F401  (re-exported)
    DESCRIPTION_LIMIT,
    EMBEDS_PER_MESSAGE,
    FIELD_COUNT_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_CAP,
    FOOTER_LIMIT,
    MESSAGE_TOTAL_LIMIT,
    TITLE_LIMIT,
    TRUNCATION_NOTE,
    EmbedSection,
    embed_sections,
    embed_size,
    fit_item,
    md_line,
    md_quote,
    render_embeds,
)
from bot.domain.digest_view import view
from bot.domain.digest_words import (  # noqa: F401  (re-exported)
    digest_title,
    local_time,
    long_date,
    period_label,
    plural,
)
from bot.text import (  # noqa: F401  (ZWSP, escape_markdown: re-exported for old callers)
    ZWSP,
    escape_markdown,
    one_line,
)

#: An old name: a title, name or question in running Markdown.
md_inline = md_line


@cache
def _environment(kind: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("bot", "templates"),
        autoescape=(kind == "html"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _render(kind: str, template: str, digest: Digest, **extra: Any) -> str:
    text = _environment(kind).get_template(template).render(v=view(digest), **extra)
    # Collapse the blank-line runs that conditional blocks leave behind.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(
    digest: Digest,
    *,
    chart_src: str | None = None,
    chart_alt: str = "",
    footer: Sequence[str] = (),
) -> str:
    """The full digest as an HTML page; ``chart_src`` (e.g. ``cid:...``) adds the chart,
    described by ``chart_alt``; ``footer`` lines close the e-mail (see
    :mod:`bot.domain.email_message`)."""
    return _render(
        "html", "digest.html.j2", digest,
        title=digest_title(digest), chart_src=chart_src, chart_alt=chart_alt, footer=footer,
    )  # fmt: skip


def render_text(digest: Digest) -> str:
    """The full digest as plain text: the e-mail's text/plain part and the file attached to
    the DM (Discord shows a text file inline, and it reads as it is, with no Markdown)."""
    return _render("txt", "digest.txt.j2", digest)
