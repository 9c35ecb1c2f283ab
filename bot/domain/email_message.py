"""The digest as an e-mail: plain text and HTML alternatives, with the chart inline.

Structure (what mail clients render best)::

    multipart/alternative
    ├── text/plain
    └── multipart/related
        ├── text/html          (<img src="cid:...">)
        └── image/png          (Content-ID: <...>, inline)

The HTML's layout and CSS come from ``bot/templates/email_base.html.j2``; the CSS is inlined
here by ``css_inline`` (Outlook and several webmail clients drop ``<style>``), which keeps
only the ``@media`` blocks (phones, dark mode) in a ``<style>`` for the clients that read it.
Every e-mail ends by saying how the sponsor stops (or restarts) them: :func:`email_footer`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import css_inline

from bot.domain.digest import Digest
from bot.domain.digest_render import period_label, render_html, render_text

log = logging.getLogger(__name__)

CHART_FILENAME = "hearth-activity.png"

#: The labels of the button under each digest DM that stops or restarts the e-mails
#: (cogs/digests/_views.py); the e-mail's footer names them, so they are defined once here.
STOP_EMAILS = "Stop e-mails"
START_EMAILS = "Start e-mails"

_INLINER = css_inline.CSSInliner(keep_at_rules=True)


def email_footer(community_name: str) -> tuple[str, ...]:
    """Why the sponsor gets this e-mail and exactly how to stop (and restart) it."""
    name = header_safe(community_name)
    return (
        f"You get this e-mail because you are the sponsor of {name} in Hearth. "
        "The same digest also reaches you as a direct message from Hearth in Discord.",
        f"To stop these e-mails, press \u201c{STOP_EMAILS}\u201d under that direct message "
        "(under any digest Hearth has sent you). The digests keep coming in Discord, and "
        f"\u201c{START_EMAILS}\u201d there starts the e-mails again.",
    )


def inline_css(html: str) -> str:
    """Move the ``<style>`` rules into ``style=""`` attributes; keep ``@media`` blocks."""
    return _INLINER.inline(html)


def digest_html(digest: Digest, *, chart_src: str, chart_alt: str = "") -> str:
    """The digest e-mail's HTML, CSS inlined, as it is sent."""
    footer = email_footer(digest.community_name)
    return inline_css(render_html(digest, chart_src=chart_src, chart_alt=chart_alt, footer=footer))


def digest_text(digest: Digest) -> str:
    """The digest e-mail's plain text, with the same footer as the HTML."""
    return (
        render_text(digest).rstrip("\n")
        + "\n\n"
        + "\n\n".join(email_footer(digest.community_name))
        + "\n"
    )


def header_safe(text: str) -> str:
    # A community name is user-chosen; a line break in a header would be an injection.
    return " ".join(text.split())


def sponsor_report_footer(community_name: str, also_by_dm: str) -> tuple[str, ...]:
    """Why a sponsor gets a report e-mail (``also_by_dm``: how the same report reached them
    in Discord) and how to stop Hearth's e-mails; for the value and annual reports."""
    return (
        f"You get this e-mail because you are the sponsor of {header_safe(community_name)} in "
        f"Hearth. {also_by_dm}",
        f"To stop Hearth's e-mails, press \u201c{STOP_EMAILS}\u201d under any digest Hearth "
        "has sent you in Discord. The reports keep coming there.",
    )


def digest_subject(digest: Digest) -> str:
    subject = (
        f"Hearth digest: {header_safe(digest.community_name)} — "
        f"{period_label(digest.period, digest.timezone)}"
    )
    return subject + " (late)" if digest.late else subject


def build_digest_email(
    digest: Digest,
    *,
    sender: str,
    recipient: str,
    chart_png: bytes,
    chart_alt: str = "",
    sent_at: datetime | None = None,
) -> EmailMessage:
    """Assemble the digest e-mail; sending it (aiosmtplib) is the caller's business."""
    msg = EmailMessage()
    msg["Subject"] = digest_subject(digest)
    msg["From"] = header_safe(sender)
    msg["To"] = header_safe(recipient)
    domain = sender.rpartition("@")[2].strip(" >") or "hearth.invalid"
    msg["Message-ID"] = make_msgid("hearth-digest", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    if sent_at is not None:
        msg["Date"] = format_datetime(sent_at)

    cid = make_msgid("chart", domain=domain)  # "<...@domain>"
    msg.set_content(digest_text(digest))
    msg.add_alternative(
        digest_html(digest, chart_src=f"cid:{cid[1:-1]}", chart_alt=chart_alt), subtype="html"
    )
    html_part = next(part for part in msg.iter_parts() if part.get_content_type() == "text/html")
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
