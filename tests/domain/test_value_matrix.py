"""The value-creation matrix from known data: every cycle, both audiences, an empty period,
the periods a report covers, and the words and files it is rendered into."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.chart import BACKGROUND, contrast_ratio
from bot.domain.stories.consent import Consent
from bot.domain.value.matrix import (
    CYCLES,
    Audience,
    Cycle,
    CycleStory,
    Indicators,
    ProductFigures,
    ProductLine,
    StoryKind,
    ValueMatrix,
    build_matrix,
    story_for,
)
from bot.domain.value.periods import (
    ReportPeriod,
    default_period,
    due_quarter,
    next_send,
    parse_day,
    parse_range,
    quarter_of,
)
from bot.domain.value.report_chart import BAR, CHART_SIZE, value_chart_alt, value_chart_png
from bot.domain.value.report_email import build_report_email
from bot.domain.value.report_render import render_html, render_markdown, summary
from bot.errors import InvalidInput

T0 = datetime(2027, 1, 1, tzinfo=UTC)
T1 = datetime(2027, 4, 1, tzinfo=UTC)
LONDON = "Europe/London"

FIGURES = Indicators(
    members_total=12, members_active=9, messages=340, meetings_held=2,
    meeting_attendance=15, meetings_with_attendance=2, stories_told=5,
    statements_agreed=3, rounds_closed=1, polls_closed=2,
)  # fmt: skip


def value_story(consent: Consent, day: int, name: str | None = None, **texts: str) -> CycleStory:
    return CycleStory(
        kind=StoryKind.VALUE,
        consent=consent,
        told_at=T0 + timedelta(days=day),
        texts={Cycle(k): v for k, v in texts.items()},
        title=f"Story {day}",
        teller_name=name,
    )


STORIES = [
    value_story(
        Consent.NAMED,
        3,
        "Dr Ann Lee",
        immediate="The March meeting.",
        potential="A referral template.",
        applied="I changed my referral letters.",
        realized="Patients were seen two weeks sooner.",
    ),
    value_story(
        Consent.ANONYMOUS,
        5,
        "Secret Sam",
        immediate="The forum.",
        applied="I call carers back the same day. Ring me on 07700 900123.",
        reframing="I now see carers as part of the team.",
    ),
    value_story(
        Consent.GROUP,
        7,
        "Grace Group",
        immediate="Coffee chats.",
        applied="Private group words about my ward.",
    ),
    value_story(Consent.WITHDRAWN, 8, None, applied="Withdrawn words."),
    CycleStory(
        kind=StoryKind.CHANGE,
        consent=Consent.ANONYMOUS,
        told_at=T0 + timedelta(days=9),
        texts={Cycle.REALIZED: "Fewer emergency admissions on our ward."},
        title="Fewer admissions",
        teller_name="Hidden Hal",
        selected=True,
        selected_reason="It shows care moving closer to home.",
        domain="my own practice",
    ),
]


def matrix(audience: Audience) -> ValueMatrix:
    return build_matrix(
        community_name="Carers Voice", start=T0, end=T1, timezone=LONDON,
        audience=audience, indicators=FIGURES, stories=STORIES,
    )  # fmt: skip


# ---------------------------------------------------------------------------- the matrix


def test_every_cycle_in_order_with_its_meaning_and_indicators() -> None:
    m = matrix(Audience.FACILITATOR)
    assert [r.cycle for r in m.rows] == list(CYCLES)
    assert m.row(Cycle.APPLIED).meaning == (
        "Applied value: what members did differently because of the community."
    )
    immediate = {i.label: i.value for i in m.row(Cycle.IMMEDIATE).indicators}
    assert immediate == {
        "Members who took part": "9 of 12 (75%)",
        "Messages": "340",
        "Meetings held": "2",
        "Attendance (at meetings where it was taken)": "15 people at 2 meetings",
    }
    potential = {i.label: i.value for i in m.row(Cycle.POTENTIAL).indicators}
    assert potential == {
        "Stories told": "5", "Statements agreed": "3 (in 1 round)", "Polls closed": "2",
    }  # fmt: skip
    applied = {i.label: i.value for i in m.row(Cycle.APPLIED).indicators}
    # withdrawn stories are not counted; group ones are (a count reveals no words)
    assert applied == {
        "Value-creation stories reporting it": "3",
        "Significant-change stories reporting it": "0",
    }
    realized = m.row(Cycle.REALIZED)
    assert (realized.value_count, realized.change_count, realized.story_count) == (1, 1, 2)
    assert m.row(Cycle.REFRAMING).story_count == 1
    assert (m.value_stories, m.change_stories) == (3, 1)


def test_the_facilitator_sees_group_stories_marked_and_never_anonymous_names() -> None:
    m = matrix(Audience.FACILITATOR)
    applied = m.row(Cycle.APPLIED).stories
    assert [s.excerpt for s in applied] == [
        "Private group words about my ward.",
        "I call carers back the same day. Ring me on [redacted].",
        "I changed my referral letters.",
    ]  # newest first
    assert [s.stays_inside for s in applied] == [True, False, False]
    assert [s.credit for s in applied] == [None, None, "Dr Ann Lee"]
    assert m.kept_inside == 0
    # the selected significant-change story comes first in its cycle, with its reason
    top = m.row(Cycle.REALIZED).stories[0]
    assert top.kind is StoryKind.CHANGE and top.selected_reason == (
        "It shows care moving closer to home."
    )
    assert top.domain == "my own practice" and top.credit is None


def test_the_sponsor_sees_only_stories_that_may_leave_redacted_and_anonymous() -> None:
    m = matrix(Audience.SPONSOR)
    everything = [s for r in m.rows for s in r.stories]
    assert everything and not any(s.stays_inside for s in everything)
    texts = " ".join(s.excerpt + s.title + (s.credit or "") for s in everything)
    assert "Private group words" not in texts and "Coffee chats" not in texts
    assert "Withdrawn words" not in texts
    assert "07700" not in texts and "[redacted]" in texts
    assert "Secret Sam" not in texts and "Hidden Hal" not in texts and "Grace" not in texts
    assert "Dr Ann Lee" in texts
    assert m.kept_inside == 1  # the group story: counted, never quoted
    assert m.row(Cycle.APPLIED).story_count == 3


def test_one_function_decides_the_audience() -> None:
    group = STORIES[2]
    assert story_for(Audience.SPONSOR, group, Cycle.APPLIED) is None
    inside = story_for(Audience.FACILITATOR, group, Cycle.APPLIED)
    assert inside is not None and inside.stays_inside and inside.credit is None
    assert story_for(Audience.FACILITATOR, STORIES[3], Cycle.APPLIED) is None  # withdrawn
    assert story_for(Audience.SPONSOR, STORIES[0], Cycle.REFRAMING) is None  # no text there
    restricted = CycleStory(
        kind=StoryKind.VALUE, consent=Consent.NAMED, told_at=T0,
        texts={Cycle.APPLIED: "Circle words"}, teller_name="Cy", restricted=True,
    )  # fmt: skip
    assert story_for(Audience.SPONSOR, restricted, Cycle.APPLIED) is None
    mine = story_for(Audience.FACILITATOR, restricted, Cycle.APPLIED)
    assert mine is not None and mine.stays_inside and mine.credit is None


def test_an_empty_period_still_has_every_cycle() -> None:
    m = build_matrix(
        community_name="Quiet", start=T0, end=T1, timezone=LONDON,
        audience=Audience.SPONSOR, indicators=Indicators(members_total=3), stories=[],
    )  # fmt: skip
    assert m.is_empty and [r.cycle for r in m.rows] == list(CYCLES)
    assert all(r.story_count == 0 and not r.stories for r in m.rows)
    assert summary(m)[1] == "No member told a story of value in this period yet."
    md = render_markdown(m, "January to March 2027")
    assert md.count("No story reports this yet.") == 5
    assert "no story reported any cycle" in value_chart_alt(m, "Q")


def test_products_appear_only_when_the_impact_log_exists() -> None:
    assert "Products made" not in render_markdown(matrix(Audience.SPONSOR), "p")
    with_products = build_matrix(
        community_name="C", start=T0, end=T1, timezone=LONDON, audience=Audience.SPONSOR,
        indicators=Indicators(products=ProductFigures(made=2, uses=5, status_changes=1)),
        stories=[],
    )  # fmt: skip
    labels = {i.label: i.value for r in with_products.rows for i in r.indicators}
    assert labels["Products made"] == "2" and labels["Times products were used"] == "5"
    assert labels["Products whose status moved on"] == "1"
    assert not with_products.is_empty
    listed = build_matrix(
        community_name="C", start=T0, end=T1, timezone=LONDON, audience=Audience.SPONSOR,
        indicators=Indicators(products=ProductFigures(made=1, uses=3, items=(
            ProductLine("Referral letter template", "guideline", "adopted", 3, True),
            ProductLine("Carers' leaflet", "document", "published", 0, False),
        ))),
        stories=[],
    )  # fmt: skip
    md = render_markdown(listed, "p")
    assert "### What the group made" in md
    assert "Referral letter template (guideline, adopted): made in this period, used 3 times." in md
    assert "Carers' leaflet (document, published)." in md


def test_many_stories_are_quoted_up_to_a_limit_and_the_rest_counted() -> None:
    many = [value_story(Consent.NAMED, d, "N", applied=f"Did {d}") for d in range(7)]
    m = build_matrix(
        community_name="C", start=T0, end=T1, timezone=LONDON, audience=Audience.SPONSOR,
        indicators=FIGURES, stories=many,
    )  # fmt: skip
    row = m.row(Cycle.APPLIED)
    assert len(row.stories) == 4 and row.more == 3 and row.story_count == 7


# ---------------------------------------------------------------------------- rendering


def test_sponsor_files_hold_no_group_text_and_no_anonymous_name() -> None:
    m = matrix(Audience.SPONSOR)
    files = [
        render_markdown(m, "January to March 2027"),
        render_html(m, "January to March 2027", chart_src="cid:x", chart_alt="alt"),
        value_chart_alt(m, "January to March 2027"),
    ]
    for text in files:
        for secret in ("Private group words", "Coffee chats", "Secret Sam", "Hidden Hal",
                       "Grace Group", "Withdrawn words", "07700 900123"):  # fmt: skip
            assert secret not in text
        assert "Dr Ann Lee" in text or text is files[2]
    html = files[1]
    assert 'style="' in html and "<blockquote" in html
    assert "1. Immediate value" in html and "3. Applied value" in html
    assert "What members did differently because of the community." in html


def test_facilitator_files_mark_group_stories() -> None:
    md = render_markdown(matrix(Audience.FACILITATOR), "p")
    assert "Private group words about my ward." in md
    assert "Stays inside the community (not in the sponsor's report)" in md


def test_chart_is_drawn_at_its_size_with_accessible_colour() -> None:
    png = value_chart_png(matrix(Audience.SPONSOR), "January to March 2027")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == CHART_SIZE
    assert contrast_ratio(BAR, BACKGROUND) >= 4.5
    alt = value_chart_alt(matrix(Audience.SPONSOR), "January to March 2027")
    assert "Applied value: 3 stories" in alt and "Realized value: 2 stories" in alt


# ---------------------------------------------------------------------------- periods


def test_quarters_and_the_default_period() -> None:
    assert quarter_of(date(2027, 11, 5)) == (date(2027, 10, 1), date(2028, 1, 1))
    now = datetime(2027, 5, 10, 12, tzinfo=UTC)
    began = datetime(2026, 6, 1, tzinfo=UTC)
    p = default_period(now, LONDON, began)
    # April-June is British Summer Time: the quarter starts at midnight London time
    assert (p.start, p.end) == (
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2027, 3, 31, 23, tzinfo=UTC),
    )
    assert p.label == "January to March 2027 (1 January 2027 to 31 March 2027)"
    young = default_period(now, LONDON, datetime(2027, 4, 20, tzinfo=UTC))
    assert (young.start, young.end) == (datetime(2027, 4, 20, tzinfo=UTC), now)
    partial = default_period(now, LONDON, datetime(2027, 2, 1, tzinfo=UTC))
    assert partial.start == datetime(2027, 2, 1, tzinfo=UTC)


def test_the_quarter_due_and_the_next_send() -> None:
    began = datetime(2026, 6, 1, tzinfo=UTC)
    before_nine = datetime(2027, 4, 1, 7, 30, tzinfo=UTC)  # 08:30 BST
    due = due_quarter(before_nine, LONDON, began)
    assert due is not None and due.start == datetime(2026, 9, 30, 23, tzinfo=UTC)  # BST
    after_nine = datetime(2027, 4, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
    due = due_quarter(after_nine, LONDON, began)
    assert due is not None and due.start == datetime(2027, 1, 1, tzinfo=UTC)
    assert next_send(before_nine, LONDON, began) == after_nine
    assert next_send(after_nine, LONDON, began) == datetime(2027, 7, 1, 8, tzinfo=UTC)
    # a community born this quarter: nothing due; the first report after its first quarter
    young = datetime(2027, 5, 1, tzinfo=UTC)
    assert due_quarter(datetime(2027, 5, 2, tzinfo=UTC), LONDON, young) is None
    assert next_send(datetime(2027, 5, 2, tzinfo=UTC), LONDON, young) == datetime(
        2027, 7, 1, 8, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2027-02-03", date(2027, 2, 3)), ("3/2/2027", date(2027, 2, 3)),
     ("3 February 2027", date(2027, 2, 3)), ("3 feb 2027", date(2027, 2, 3)),
     ("Q1 2027", date(2027, 1, 1)), ("2027 q2", date(2027, 4, 1))],
)  # fmt: skip
def test_dates_people_write(text: str, expected: date) -> None:
    assert parse_day(text, ending=False) == expected


def test_a_range_is_whole_days_and_bad_ranges_are_refused() -> None:
    now = datetime(2027, 5, 10, 12, tzinfo=UTC)
    began = datetime(2026, 6, 1, tzinfo=UTC)
    p = parse_range("1 Feb 2027", "Q1 2027", now=now, tz=LONDON, began=began)
    assert p == ReportPeriod(
        datetime(2027, 2, 1, tzinfo=UTC),
        datetime(2027, 4, 1, tzinfo=UTC) - timedelta(hours=1),
        LONDON,
    )
    assert parse_range(None, "2099-01-01", now=now, tz=LONDON, began=began).end == now
    assert parse_range("2020-01-01", None, now=now, tz=LONDON, began=began).start == began
    for start, end, words in [
        ("2027-03-01", "2027-02-01", "ends (1 February 2027) before it starts"),
        ("2027-06-01", None, "starts in the future"),
        (None, "2026-01-01", "before the community began"),
        ("31 June 2027", None, "not a real date"),
        ("next tuesday", None, "could not read"),
    ]:
        with pytest.raises(InvalidInput, match=re.escape(words)):
            parse_range(start, end, now=now, tz=LONDON, began=began)


def test_the_email_text_part_reads_as_plain_text() -> None:
    m = matrix(Audience.SPONSOR)
    msg = build_report_email(
        m, "January to March 2027", sender="hearth@example.org", recipient="s@example.org",
        chart_png=value_chart_png(m, "q"), chart_alt="alt",
    )  # fmt: skip
    text = msg.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    assert "Ring me on [redacted]." in body and "**" not in body and "\\[" not in body
    assert "Stop e-mails" in body and "Private group words" not in body
