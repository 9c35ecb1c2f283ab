"""The impact log's pure rules: the timeline's order, the one outside view per consent, the
inside view, input checks, who sees what, and the digest's plain data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.communities import Actor, Community, Discipline, Kind, Membership
from bot.domain.products import (
    CIRCLE_STORY,
    GONE_SOURCE,
    GROUP_STORY,
    WITHDRAWN_STORY,
    Audience,
    Product,
    ProductActivity,
    ProductEvent,
    ProductKind,
    ProductStatus,
    SourceKind,
    SourceRecord,
    StatusChange,
    Use,
    UseSetting,
    audience_for,
    digest_news,
    initial_status,
    inside_source,
    outside_source,
    parse_kind,
    parse_source_token,
    source_title,
    timeline,
    validate_note,
    validate_place,
    validate_title,
)
from bot.domain.stories.consent import Consent
from bot.errors import InvalidInput, NotAllowed

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
PRODUCT = Product(1, 10, "Our principles", ProductKind.GUIDELINE, ProductStatus.PUBLISHED,
                  T0, 100)  # fmt: skip


def story(consent: Consent | None, *, shared: str | None = None, name: str | None = None,
          exists: bool = True, restricted: bool = False,
          kind: SourceKind = SourceKind.STORY) -> SourceRecord:  # fmt: skip
    return SourceRecord(kind, 5, 10 if exists else None, "SECRET TITLE" if exists else None,
                        exists=exists, consent=consent, restricted=restricted,
                        outside_title=shared, teller_name=name)  # fmt: skip


def test_timeline_is_creation_then_events_by_time_ties_in_recorded_order() -> None:
    events: list[ProductEvent] = [
        Use(1, UseSetting.TRAINING, "Leeds", None, 7, T0 + timedelta(days=2)),
        StatusChange(1, ProductStatus.DRAFTING, None, 100, T0 + timedelta(days=1)),
        StatusChange(1, ProductStatus.PUBLISHED, "Out", 100, T0 + timedelta(days=2)),
    ]
    got = timeline(PRODUCT, events)
    assert [(e.kind, e.status, e.place) for e in got] == [
        ("created", None, None),
        ("status", ProductStatus.DRAFTING, None),
        ("use", None, "Leeds"),  # recorded first at the same instant
        ("status", ProductStatus.PUBLISHED, None),
    ]
    assert [e.actor_id for e in got] == [100, 100, 7, 100]


def test_outside_timeline_names_no_one_and_redacts_members_words() -> None:
    events = [Use(1, UseSetting.MEETING, "Ring 07700 900123", "mail a@b.org", 7, T0)]
    got = timeline(PRODUCT, events, outside=True)
    assert all(e.actor_id is None for e in got)
    assert "07700" not in (got[1].place or "") and "a@b.org" not in (got[1].note or "")


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (story(Consent.GROUP), GROUP_STORY),
        # a group story can never carry an outside title, but even if one slipped in
        (story(Consent.GROUP, shared="SECRET TITLE"), GROUP_STORY),
        (story(Consent.ANONYMOUS, shared="Going home"), "Going home"),
        (story(Consent.ANONYMOUS, shared="Going home", name="Jean"), "Going home"),
        (story(Consent.NAMED, shared="Going home", name="Jean"), "Going home (told by Jean)"),
        (story(Consent.NAMED, shared="Going home"), "Going home"),
        (story(Consent.ANONYMOUS, shared="Going home", restricted=True), GROUP_STORY),
        (story(Consent.WITHDRAWN), WITHDRAWN_STORY),
        (story(None, exists=False), WITHDRAWN_STORY),
        (story(Consent.GROUP, kind=SourceKind.CHANGE_SELECTION), GROUP_STORY),
        (story(Consent.NAMED, shared="Back at work", name="Ann",
               kind=SourceKind.CHANGE_SELECTION), "Back at work (told by Ann)"),
        (SourceRecord(SourceKind.POLL, 3, 10, "Which words?"), "Which words?"),
        (SourceRecord(SourceKind.MEETING, 3, 10, "Call 07700 900123"), None),
        (SourceRecord(SourceKind.MEETING, 3, None, None, exists=False), GONE_SOURCE),
    ],
)  # fmt: skip
def test_the_one_outside_view_honours_each_consent(
    record: SourceRecord, expected: str | None
) -> None:
    shown = outside_source(record)
    assert "SECRET TITLE" not in shown.text
    if expected is None:
        assert "07700" not in shown.text  # redacted
    else:
        assert shown.text == expected
    assert shown.titled == (expected not in (GROUP_STORY, WITHDRAWN_STORY, GONE_SOURCE))


def test_inside_view_shows_titles_except_what_the_community_may_not_read() -> None:
    assert inside_source(story(Consent.GROUP)).text == "SECRET TITLE"
    assert inside_source(story(Consent.WITHDRAWN)).text == WITHDRAWN_STORY
    assert inside_source(story(Consent.GROUP, restricted=True)).text == CIRCLE_STORY
    gone = SourceRecord(SourceKind.POLL, 3, None, None, exists=False)
    assert inside_source(gone).text == GONE_SOURCE


def test_source_tokens_and_titles() -> None:
    assert parse_source_token("story:12") == (SourceKind.STORY, 12)
    assert parse_source_token(" statement_round:3 ") == (SourceKind.STATEMENT_ROUND, 3)
    for bad in ("story", "story:", "story:x", "teapot:1", "Going home", "story:-1"):
        with pytest.raises(InvalidInput):
            parse_source_token(bad)
    assert source_title(SourceKind.STATEMENT_ROUND, 3, T0.isoformat()) == "round #3 of 11 Jan 2027"
    assert source_title(SourceKind.POLL, 3, "Which?") == "Which?"


def test_input_checks() -> None:
    assert validate_title("  Our  principles ") == "Our principles"
    for bad in ("", "   ", "x" * 201):
        with pytest.raises(InvalidInput):
            validate_title(bad)
    with pytest.raises(InvalidInput):
        validate_place(" ")
    assert validate_note("   ") is None and validate_note(None) is None
    with pytest.raises(InvalidInput):
        validate_note("x" * 1001)
    assert parse_kind("policy input") is ProductKind.POLICY_INPUT
    with pytest.raises(InvalidInput):
        parse_kind("poem")
    assert initial_status(None) is ProductStatus.IDEA
    assert initial_status("document") is ProductStatus.DRAFTING


def _community(sponsor: int | None = 50) -> Community:
    return Community(
        id=10, guild_id=1, name="Carers", slug="carers", kind=Kind.PRACTICE,
        timezone="Europe/London", category_id=None, lounge_id=None, stories_id=None,
        stories_is_forum=False, voice_id=None, meetings_id=None, member_role_id=None,
        facilitator_role_id=None, sponsor_id=sponsor, sponsor_email=None, serves_id=None,
        created_by=1, created_at=T0, archived_at=None,
    )  # fmt: skip


def test_members_see_inside_the_sponsor_outside_and_no_one_else_anything() -> None:
    c = _community()
    member = Membership(10, 7, Discipline.CARER, None, False, T0, None)
    left = Membership(10, 8, Discipline.CARER, None, False, T0, T0 + timedelta(days=1))
    assert audience_for(Actor(7, 1, False), c, member) is Audience.INSIDE
    assert audience_for(Actor(9, 1, True), c, None) is Audience.INSIDE  # a server manager
    assert audience_for(Actor(50, 1, False), c, None) is Audience.OUTSIDE
    for actor, membership in ((Actor(8, 1, False), left), (Actor(9, 1, False), None),
                              (Actor(7, 2, False), member)):  # fmt: skip
        with pytest.raises(NotAllowed):
            audience_for(actor, c, membership)


def test_digest_news_carries_no_one_and_describes_kept_stories() -> None:
    use = timeline(PRODUCT, [Use(1, UseSetting.PATIENT_FORUM, "March forum", None, 7, T0)],
                   outside=True)[1]  # fmt: skip
    activity = ProductActivity(
        "Our principles", ProductKind.GUIDELINE, ProductStatus.PUBLISHED, True, T0, (), (use,),
        (outside_source(story(Consent.GROUP)),
         outside_source(SourceRecord(SourceKind.POLL, 3, 10, "Which?"))),
    )  # fmt: skip
    news = digest_news(activity)
    assert news.uses == ("patient forum, March forum",)
    assert [(s.kind, s.text, s.titled) for s in news.sources] == [
        ("story", GROUP_STORY, False), ("poll", "Which?", True)
    ]  # fmt: skip
    assert "SECRET" not in repr(news) and "7" not in repr(news.uses)
