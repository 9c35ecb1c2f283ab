"""The digest as an e-mail: plain text and HTML alternatives, with the chart inline.

Structure (what mail clients render best)::

    multipart/alternative
    ├── text/plain
    └── multipart/related
        ├── text/html          (<img src="cid:...">)
        └── image/png          (Content-ID: <...>, inline)
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.domain.digest import Digest
from bot.domain.digest_render import period_label, render_html, render_text

log = logging.getLogger(__name__)

CHART_FILENAME = "hearth-activity.png"


def _header_safe(text: str) -> str:
    # A community name is user-chosen; a line break in a header would be an injection.
    return " ".join(text.split())


def digest_subject(digest: Digest) -> str:
    subject = (
        f"Hearth digest: {_header_safe(digest.community_name)} — "
        f"{period_label(digest.period, digest.timezone)}"
    )
    return subject + " (late)" if digest.late else subject


def build_digest_email(
    digest: Digest,
    *,
    sender: str,
    recipient: str,
    chart_png: bytes,
    sent_at: datetime | None = None,
) -> EmailMessage:
    """Assemble the digest e-mail; sending it (aiosmtplib) is the caller's business."""
    msg = EmailMessage()
    msg["Subject"] = digest_subject(digest)
    msg["From"] = _header_safe(sender)
    msg["To"] = _header_safe(recipient)
    domain = sender.rpartition("@")[2].strip(" >") or "hearth.invalid"
    msg["Message-ID"] = make_msgid("hearth-digest", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    if sent_at is not None:
        msg["Date"] = format_datetime(sent_at)

    cid = make_msgid("chart", domain=domain)  # "<...@domain>"
    msg.set_content(render_text(digest))
    msg.add_alternative(render_html(digest, chart_src=f"cid:{cid[1:-1]}"), subtype="html")
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
