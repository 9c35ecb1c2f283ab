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
from bot.domain.email_message import START_EMAILS, STOP_EMAILS, build_digest_email

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
    assert "1 of 1 member posted this week." in text_body
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


# ---------------------------------------------------------------------------- any screen


def html_of(msg: EmailMessage) -> str:
    part = parse(msg).get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def text_of(msg: EmailMessage) -> str:
    part = parse(msg).get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def sent(chart: bytes, **kw: str) -> EmailMessage:
    return build_digest_email(
        digest(), sender="h@example.org", recipient="s@example.org", chart_png=chart, **kw
    )


def test_html_is_for_phones_dark_mode_and_outlook(chart: bytes) -> None:
    html = html_of(sent(chart))
    # phones: a viewport, one fluid column of at most 600 px
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(r'class="container"[^>]*style="width: 100%;max-width: 600px;"', html)
    # dark mode: explicit colours, color-scheme, and a dark block that beats inline styles
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    assert "color-scheme: light dark;supported-color-schemes: light dark;" in html
    assert re.search(r'<body[^>]*style="[^"]*background-color: #f3efe9;color: #1f2933;', html)
    dark = html[html.index("@media (prefers-color-scheme: dark)") :]
    assert "background-color: #1f2328 !important" in dark and "!important" in dark
    # Outlook: tables for layout, a fixed-width ghost table for the Word engine
    assert html.count('role="presentation"') >= 3
    assert '<!--[if mso]><table role="presentation" width="600"' in html


def test_css_is_inlined_by_the_library_and_only_media_queries_stay_in_style(chart: bytes) -> None:
    html = html_of(sent(chart))
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1
    # Nothing but @media blocks is left to clients that drop <style> (Outlook, some webmail).
    assert re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", styles[0]).strip() == ""
    assert "@media (max-width: 480px)" in styles[0]
    outside_comments = re.sub(r"<!--.*?-->", "", html, flags=re.S)  # [if mso] ghost table
    for tag in ("h1", "h2", "h3", "p", "li", "blockquote", "td"):
        for match in re.finditer(rf"<{tag}\b[^>]*>", outside_comments):
            assert "style=" in match.group(0), match.group(0)


def test_the_chart_scales_and_its_alt_text_carries_the_numbers(chart: bytes) -> None:
    alt = "Chart of weekly activity in GP Advisors. This week (from 5 May): 4 messages; 1 of 1"
    html = html_of(sent(chart, chart_alt=alt))
    img = re.search(r"<img\b[^>]*>", html)
    assert img is not None
    tag = img.group(0)
    assert f'alt="{alt}"' in tag
    assert 'width="552"' in tag  # Outlook ignores CSS widths
    assert "width: 100%;" in tag and "height: auto;" in tag


def test_every_email_says_how_to_stop_and_restart_it(chart: bytes) -> None:
    msg = sent(chart)
    for body in (text_of(msg), html_of(msg)):
        flat = " ".join(body.split())
        assert "you are the sponsor of GP Advisors" in flat
        assert f"To stop these e-mails, press “{STOP_EMAILS}” under that direct message" in flat
        assert f"“{START_EMAILS}” there starts the e-mails again" in flat
