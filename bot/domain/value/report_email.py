"""The sponsor's quarterly value report as an e-mail: text and HTML, the chart inline.

The same structure as the digest e-mail (:mod:`bot.domain.email_message`, whose CSS
inlining and header hygiene this reuses): ``multipart/alternative`` with the Markdown as the
plain-text part and the HTML (``multipart/related`` with the chart by ``cid:``).
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.domain.email_message import header_safe, sponsor_report_footer
from bot.domain.value.matrix import ValueMatrix
from bot.domain.value.report_chart import CHART_FILENAME
from bot.domain.value.report_render import render_html, render_markdown


def report_footer(community_name: str) -> tuple[str, ...]:
    return sponsor_report_footer(
        community_name,
        "The same report reaches you as a direct message from Hearth in Discord, with the "
        "page to print and a Markdown copy attached.",
    )


def as_plain_text(markdown: str) -> str:
    """The Markdown as a mail client shows plain text: no bold marks, no escapes (the
    escapes :func:`bot.text.escape_markdown` adds are undone by dropping one backslash)."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("**", ""))


def report_subject(matrix: ValueMatrix, period_label: str) -> str:
    return f"Hearth value report: {header_safe(matrix.community_name)} — {period_label}"


def build_report_email(
    matrix: ValueMatrix,
    period_label: str,
    *,
    sender: str,
    recipient: str,
    chart_png: bytes,
    chart_alt: str,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """Assemble the e-mail; sending it is the caller's business."""
    footer = report_footer(matrix.community_name)
    msg = EmailMessage()
    msg["Subject"] = report_subject(matrix, period_label)
    msg["From"] = header_safe(sender)
    msg["To"] = header_safe(recipient)
    domain = sender.rpartition("@")[2].strip(" >") or "hearth.invalid"
    msg["Message-ID"] = make_msgid("hearth-value", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    if sent_at is not None:
        msg["Date"] = format_datetime(sent_at)
    cid = make_msgid("chart", domain=domain)
    msg.set_content(as_plain_text(render_markdown(matrix, period_label, footer=footer)))
    msg.add_alternative(
        render_html(
            matrix,
            period_label,
            chart_src=f"cid:{cid[1:-1]}",
            chart_alt=chart_alt,
            footer=footer,
        ),
        subtype="html",
    )
    html_part = next(p for p in msg.iter_parts() if p.get_content_type() == "text/html")
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        chart_png,
        maintype="image",
        subtype="png",
        cid=cid,
        disposition="inline",
        filename=CHART_FILENAME,
    )
    return msg
