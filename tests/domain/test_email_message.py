from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

from bot.domain.chart import activity_chart_png
from bot.domain.digest import (
    Digest,
    MemberActivity,
    Period,
    ShareableStory,
    compile_digest,
)
from bot.domain.email_message import build_digest_email

PERIOD = Period(datetime(2025, 5, 5, 8, tzinfo=UTC), datetime(2025, 5, 12, 8, tzinfo=UTC))


def digest(*, late: bool = False, name: str = "GP Advisors") -> Digest:
    member = MemberActivity(
        1, "Ann", "gp", datetime(2024, 1, 1, tzinfo=UTC), None,
        {PERIOD.start + timedelta(hours=30): 4},
    )  # fmt: skip
    return compile_digest(
        name,
        PERIOD,
        [member],
        stories=[ShareableStory("@everyone <b>bold</b>", "It helped.", "Diagnosis", "Ann")],
        kept_story_count=2,
        late=late,
    )


@pytest.fixture(scope="module")
def chart() -> bytes:
    return activity_chart_png([(PERIOD.start.date(), 4, 1)], "GP Advisors")


def parse(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_email_round_trips_with_text_html_and_inline_chart(chart: bytes) -> None:
    sent_at = datetime(2025, 5, 12, 8, 1, tzinfo=UTC)
    msg = build_digest_email(
        digest(), sender="hearth@example.org", recipient="sponsor@example.org",
        chart_png=chart, sent_at=sent_at,
    )  # fmt: skip
    parsed = parse(msg)
    assert parsed["Subject"] == "Hearth digest: GP Advisors — week of 5 May 2025"
    assert parsed["From"] == "hearth@example.org"
    assert parsed["To"] == "sponsor@example.org"
    assert parsed["Date"] is not None
    assert parsed.get_content_type() == "multipart/alternative"

    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    text_body, html_body = text.get_content(), html.get_content()
    assert "Active members: 1 of 1" in text_body
    assert "@everyone <b>bold</b>" in text_body
    assert "&lt;b&gt;bold&lt;/b&gt;" in html_body and "<b>bold</b>" not in html_body

    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    image = images[0]
    assert image.get_content() == chart
    assert image.get_content_disposition() == "inline"
    cid = image["Content-ID"].strip("<>")
    assert re.search(rf'<img src="cid:{re.escape(cid)}"', html_body)
    # The HTML and its image travel together in multipart/related.
    related = [p for p in parsed.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1
    assert [p.get_content_type() for p in related[0].iter_parts()] == ["text/html", "image/png"]


def test_late_subject(chart: bytes) -> None:
    msg = build_digest_email(
        digest(late=True), sender="h@example.org", recipient="s@example.org", chart_png=chart
    )
    assert parse(msg)["Subject"].endswith("week of 5 May 2025 (late)")


def test_community_name_cannot_inject_headers(chart: bytes) -> None:
    msg = build_digest_email(
        digest(name="Evil\r\nBcc: victim@example.org"),
        sender="h@example.org", recipient="s@example.org", chart_png=chart,
    )  # fmt: skip
    parsed = parse(msg)
    assert parsed["Bcc"] is None
    assert parsed["Subject"].startswith("Hearth digest: Evil Bcc: victim@example.org —")
