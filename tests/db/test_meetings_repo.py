"""MeetingRepo and the digest queries on a migrated database on every engine (the shared
``db`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import INTEGRITY_ERRORS, Database
from bot.db.meetings import MeetingRepo, NewMeeting, held_for_digest, upcoming_for_digest
from bot.domain.communities import Discipline, Kind
from bot.domain.meeting_series import validate_series
from bot.domain.meetings import RSVP, MeetingStatus

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)


async def community(db: Database, name: str = "Carers") -> int:
    c = await CommunityRepo(db).create(
        NewCommunity(
            guild_id=1, name=name, slug=name.lower(), kind=Kind.PRACTICE,
            timezone="Europe/London", created_by=100, created_at=T0, category_id=None,
            lounge_id=None, stories_id=None, stories_is_forum=False, voice_id=None,
            meetings_id=None, member_role_id=None, facilitator_role_id=None, sponsor_id=None,
            circles=(), stage_tags=(),
        ),
        Discipline.OTHER,
    )  # fmt: skip
    return c.id


def new(cid: int, start: datetime, title: str = "Meet", **kw: object) -> NewMeeting:
    base: dict[str, object] = dict(
        community_id=cid, title=title, start_utc=start, end_utc=start + timedelta(hours=2),
        timezone="Europe/London", location="Online", channel_id=None, region=None,
        in_series=False, created_by=100, created_at=T0,
    )
    base.update(kw)
    return NewMeeting(**base)  # type: ignore[arg-type]


async def test_create_get_round_trips_utc_and_fields(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    start = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)
    m = await repo.create(new(cid, start, region="North", channel_id=55, location="hall"))
    got = await repo.get(m.id)
    assert got == m
    assert m.start_utc == start and m.start_utc.tzinfo is not None
    assert m.duration_minutes == 120 and m.region == "North" and m.channel_id == 55
    assert m.status is MeetingStatus.SCHEDULED and m.sequence == 0
    await repo.set_event(m.id, 999, None)
    await repo.set_announcement(m.id, 7, 8)
    got = await repo.get(m.id)
    assert got is not None and (got.event_id, got.announcement_id) == (999, 8)
    assert await repo.forget_event(999) == [m.id]
    got = await repo.get(m.id)
    assert got is not None and got.event_id is None and got.event_problem


async def test_end_must_follow_start(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    start = datetime(2027, 3, 10, 18, 30, tzinfo=UTC)
    with pytest.raises(INTEGRITY_ERRORS):
        await repo.create(new(cid, start, end_utc=start))
    assert await db.fetchval("SELECT COUNT(*) FROM meetings") == 0


async def test_cancel_once_and_upcoming_excludes_it(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    a = await repo.create(new(cid, T0 + timedelta(days=3), "A"))
    b = await repo.create(new(cid, T0 + timedelta(days=1), "B"))
    assert [m.title for m in await repo.upcoming(cid, T0)] == ["B", "A"]
    assert await repo.cancel(a.id, 100, T0)
    assert not await repo.cancel(a.id, 100, T0)
    got = await repo.get(a.id)
    assert got is not None and got.cancelled and got.sequence == 1
    assert [m.id for m in await repo.upcoming(cid, T0)] == [b.id]
    await repo.reschedule(b.id, "B2", T0 + timedelta(days=2), T0 + timedelta(days=2, hours=1),
                          "Europe/Paris")
    moved = await repo.get(b.id)
    assert moved is not None and moved.title == "B2" and moved.timezone == "Europe/Paris"
    assert moved.sequence == 1 and moved.duration_minutes == 60


async def test_rsvps_upsert_and_count(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    m = await repo.create(new(cid, T0 + timedelta(days=3)))
    await repo.set_rsvp(m.id, 1, RSVP.GOING, T0)
    await repo.set_rsvp(m.id, 2, RSVP.CANT, T0)
    await repo.set_rsvp(m.id, 1, RSVP.MAYBE, T0)
    assert await repo.rsvps(m.id) == {1: RSVP.MAYBE, 2: RSVP.CANT}
    assert await repo.counts(m.id) == {RSVP.GOING: 0, RSVP.MAYBE: 1, RSVP.CANT: 1}


async def test_reminder_claims_are_exclusive_and_deliveries_recorded(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    m = await repo.create(new(cid, T0 + timedelta(days=3)))
    day = timedelta(days=1)
    assert await repo.claim_reminder(m.id, day, T0)
    assert not await repo.claim_reminder(m.id, day, T0), "a second claim must fail"
    assert await repo.reminder_states(m.id) == {day: "sending"}
    await repo.record_delivery(m.id, day, 1, "dm")
    await repo.record_delivery(m.id, day, 2, "fallback")
    await repo.record_delivery(m.id, day, 3, "pending")  # as written by earlier versions
    assert await repo.reminder_outcomes(m.id, day) == {1: "dm", 2: "fallback"}, (
        "a pending record is not a settled one: that member is sent the reminder again")
    await repo.record_delivery(m.id, day, 3, "dm")
    await repo.finish_reminder(m.id, day, T0)
    assert await repo.reminder_states(m.id) == {day: "sent"}
    assert await repo.deliveries(m.id) == [(day, 1, "dm"), (day, 2, "fallback"), (day, 3, "dm")]
    assert await repo.mark_notes_prompted(m.id, T0)
    assert not await repo.mark_notes_prompted(m.id, T0)


async def test_skipped_reminders_are_recorded_once_and_never_claimed(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    m = await repo.create(new(cid, T0 + timedelta(days=3)))
    week, day = timedelta(days=7), timedelta(days=1)
    assert await repo.skip_reminder(m.id, week, T0)
    assert not await repo.skip_reminder(m.id, week, T0)
    assert not await repo.claim_reminder(m.id, week, T0), "a skipped reminder is never sent"
    # An interrupted reminder overtaken by a later one is closed as skipped, not sent.
    assert await repo.claim_reminder(m.id, day, T0)
    await repo.finish_reminder(m.id, day, T0, state="skipped")
    assert await repo.reminder_states(m.id) == {week: "skipped", day: "skipped"}


async def test_reminder_states_of_many_match_one_by_one(db: Database) -> None:
    """Start-up reads every live meeting's reminder states in one query."""
    repo = MeetingRepo(db)
    cid = await community(db)
    a, b, c = [await repo.create(new(cid, T0 + timedelta(days=d))) for d in (1, 2, 3)]
    day, hour = timedelta(days=1), timedelta(hours=1)
    assert await repo.claim_reminder(a.id, day, T0)
    await repo.finish_reminder(a.id, day, T0)
    assert await repo.claim_reminder(a.id, hour, T0)
    assert await repo.claim_reminder(b.id, hour, T0)
    got = await repo.reminder_states_of([a.id, b.id, c.id])
    assert got == {a.id: {day: "sent", hour: "sending"}, b.id: {hour: "sending"}}
    for m in (a, b, c):
        assert got.get(m.id, {}) == await repo.reminder_states(m.id)
    assert await repo.reminder_states_of([c.id]) == {}
    assert await repo.reminder_states_of([]) == {}


async def test_series_upsert_and_round_trip(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    tz = ZoneInfo("Europe/London")
    rule = validate_series([9, 3], 2, 2, time(18, 30), tz)
    s = await repo.save_series(cid, rule, 120, "Online", 100, T0)
    assert s.rule == rule and s.duration_minutes == 120
    rule2 = validate_series([4, 10], 3, -1, time(19, 0), tz)
    await repo.save_series(cid, rule2, 90, "Hall", 100, T0)
    got = await repo.series(cid)
    assert got is not None and got.rule == rule2 and got.location == "Hall"
    assert [x.community_id for x in await repo.all_series()] == [cid]


async def test_digest_queries(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    other = await community(db, "Other")
    past = await repo.create(new(cid, T0 - timedelta(days=3), "Past"))
    soon = await repo.create(new(cid, T0 + timedelta(days=10), "Soon"))
    await repo.create(new(cid, T0 + timedelta(days=90), "Far"))
    gone = await repo.create(new(cid, T0 + timedelta(days=5), "Cancelled"))
    await repo.cancel(gone.id, 100, T0)
    await repo.create(new(other, T0 + timedelta(days=4), "Elsewhere"))
    for uid, answer in ((1, RSVP.GOING), (2, RSVP.GOING), (3, RSVP.MAYBE), (4, RSVP.CANT)):
        await repo.set_rsvp(soon.id, uid, answer, T0)
    await repo.set_rsvp(past.id, 1, RSVP.GOING, T0)

    upcoming = await upcoming_for_digest(db, cid, T0)
    assert [(u.title, u.going, u.maybe, u.cant) for u in upcoming] == [("Soon", 2, 1, 1)]
    assert upcoming[0].starts_at == T0 + timedelta(days=10)
    assert [u.title for u in await upcoming_for_digest(db, cid, T0, horizon_days=100)] == [
        "Soon", "Far"]

    held = await held_for_digest(db, cid, T0 - timedelta(days=7), T0)
    assert [(h.title, h.notes, h.attended, h.rsvp_going) for h in held] == [
        ("Past", None, None, 1)]
    await repo.save_notes(past.id, "Good talk", 100, T0)
    await repo.set_attendance(past.id, [1, 2, 2], 100, T0)
    held = await held_for_digest(db, cid, T0 - timedelta(days=7), T0)
    assert [(h.notes, h.attended) for h in held] == [("Good talk", 2)]
    await repo.set_attendance(past.id, [], 100, T0)
    held = await held_for_digest(db, cid, T0 - timedelta(days=7), T0)
    assert held[0].attended == 0, "marked, with nobody present, is 0 rather than unknown"


async def test_deleting_a_community_cascades(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    m = await repo.create(new(cid, T0 + timedelta(days=3)))
    await repo.set_rsvp(m.id, 1, RSVP.GOING, T0)
    await repo.claim_reminder(m.id, timedelta(days=1), T0)
    await repo.record_delivery(m.id, timedelta(days=1), 1, "dm")
    await db.execute("DELETE FROM communities WHERE id = :id", {"id": cid})
    for table in ("meetings", "meeting_rsvps", "meeting_reminders",
                  "meeting_reminder_deliveries"):
        assert await db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0, table


async def test_event_links_and_stale_events(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    soon = await repo.create(new(cid, T0 + timedelta(days=2), "Soon"))
    later = await repo.create(new(cid, T0 + timedelta(days=4), "Later"))
    await repo.create(new(cid, T0 - timedelta(days=2), "Past"))
    assert await repo.community_guilds() == [1]
    assert await repo.guild_of(soon.id) == 1 and await repo.guild_of(10**6) is None
    assert await repo.link_event(soon.id, 501)
    assert not await repo.link_event(soon.id, 502), "already points at an event"
    await repo.set_event(later.id, 503, None)
    assert await repo.event_links(1, T0) == [(soon.id, 501), (later.id, 503)]
    assert await repo.event_links(2, T0) == []
    assert not await repo.unlink_event(soon.id, 999, "gone"), "points elsewhere"
    assert await repo.unlink_event(soon.id, 501, "gone")
    got = await repo.get(soon.id)
    assert got is not None and got.event_id is None and got.event_problem == "gone"

    await repo.mark_event_stale(later.id, T0)
    await repo.mark_event_stale(later.id, T0 + timedelta(hours=1))  # the first time stays
    assert await repo.event_stale_since(later.id) == T0
    assert await repo.stale_events() == [later.id]
    await repo.clear_event_stale(later.id)
    assert await repo.stale_events() == [] and await repo.event_stale_since(later.id) is None
    await repo.mark_event_stale(later.id, T0)
    assert await repo.cancel(later.id, 100, T0)
    assert await repo.stale_events() == [], "a cancelled meeting's event waits for nothing"
    assert [m.title for m in await repo.live(T0)] == ["Soon"]
    await repo.delete(soon.id)
    assert await repo.get(soon.id) is None


async def test_visible_to_matches_any_case_and_only_members_communities(db: Database) -> None:
    repo = MeetingRepo(db)
    mine = await community(db, "Carers")
    other = await community(db, "Other")
    await CommunityRepo(db).upsert_member(mine, 5, Discipline.GP, None, T0)
    a = await repo.create(new(mine, T0 + timedelta(days=1), "Monthly CATCH-UP"))
    b = await repo.create(new(other, T0 + timedelta(days=2), "Catch_up elsewhere"))
    await repo.create(new(mine, T0 - timedelta(days=1), "Catch-up gone"))  # over

    def ids(found: list[tuple[object, str]]) -> list[tuple[int, str]]:
        return [(m.id, name) for m, name in found]  # type: ignore[attr-defined]

    assert ids(await repo.visible_to(1, 5, False, "catch", T0)) == [(a.id, "Carers")]
    assert ids(await repo.visible_to(1, 5, True, "catch", T0)) == [
        (a.id, "Carers"), (b.id, "Other")]
    assert ids(await repo.visible_to(1, 5, True, "h_u", T0)) == [(b.id, "Other")]
    assert ids(await repo.visible_to(1, 5, True, "oth", T0)) == [(b.id, "Other")]
    assert ids(await repo.visible_to(1, 6, False, "", T0)) == []
    assert ids(await repo.visible_to(1, 5, True, "", T0, limit=1)) == [(a.id, "Carers")]


async def test_change_attendance_adds_and_removes_in_one_go(db: Database) -> None:
    repo = MeetingRepo(db)
    cid = await community(db)
    m = await repo.create(new(cid, T0 - timedelta(days=1)))
    assert await repo.change_attendance(m.id, [1, 2, 2], [], 100, T0) == 2
    assert await repo.change_attendance(m.id, [2, 3], [1, 3], 100, T0) == 2, (
        "adding wins over removing the same person")
    assert await repo.attendance(m.id) == [2, 3]
    assert await repo.change_attendance(m.id, [], [], 100, T0) == 2
    got = await repo.get(m.id)
    assert got is not None and got.attendance_at == T0
