"""PrivacyRepo on a real database (each engine): coverage of every person column, the erasure
rules, atomicity, and retention."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import Conn, Database
from bot.db.privacy import ACTOR_COLUMNS, MEMBER_ROWS, PrivacyRepo
from bot.db.rows import to_db
from bot.db.sealing import Sealer
from bot.db.statements import seal_vote
from bot.domain.communities import Discipline, Kind
from bot.domain.privacy import ERASED_MEMBER, retention_cutoff_day
from bot.domain.statements import Vote

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
ME = 555_000_000_000_000_001  # a realistic snowflake
OTHER = 555_000_000_000_000_002
FAC = 555_000_000_000_000_003

#: Columns that hold Discord ids of things, not people (checked by name below).
NOT_PEOPLE = re.compile(
    r"(^id$|community_id|channel_id|message_id|role_id|category_id|lounge_id|stories_id|"
    r"voice_id|meetings_id|guild_id|tag_id|event_id|serves_id|meeting_id|poll_id|round_id|"
    r"statement_id|announcement_id|announcement_channel_id)$"
)
PERSONISH = re.compile(r"(user_id|_by$|teller_id|author_id|sponsor_id)")


async def community(db: Database, name: str, created_by: int = FAC) -> int:
    c = await CommunityRepo(db).create(
        NewCommunity(
            guild_id=1, name=name, slug=name.lower(), kind=Kind.PRACTICE,
            timezone="Europe/London", created_by=created_by, created_at=T0, category_id=None,
            lounge_id=None, stories_id=None, stories_is_forum=False, voice_id=None,
            meetings_id=None, member_role_id=None, facilitator_role_id=None, sponsor_id=None,
            circles=(), stage_tags=(),
        ),
        Discipline.OTHER,
    )  # fmt: skip
    return c.id


async def columns(db: Database, table: str) -> list[str]:
    """The table's column names, from each engine's own catalogue."""
    if db.dialect == "postgresql":
        sql = (
            "SELECT column_name FROM information_schema.columns WHERE table_name = :table"
            " AND table_schema = current_schema() ORDER BY ordinal_position"
        )
    else:
        sql = "SELECT name FROM pragma_table_info(:table) ORDER BY cid"
    return [str(r[0]) for r in await db.fetchall(sql, {"table": table})]


async def scan(db: Database, value: int) -> list[str]:
    """Every column holding ``value`` (or text containing it). One text comparison covers
    integer columns too, and works on every column type on both engines (PostgreSQL refuses
    comparing a text or bytea column with an integer)."""
    hits = []
    for table in await db.table_names():
        for name in await columns(db, table):
            n = await db.fetchval(
                f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{name}" AS TEXT) LIKE :pattern',
                {"pattern": f"%{value}%"},
            )
            if n:
                hits.append(f"{table}.{name}")
    return hits


async def test_every_column_that_names_a_person_is_covered(db: Database) -> None:
    """A new table or column holding a member's id must be handled by export and erasure."""
    covered = {(c.table, c.column) for c in ACTOR_COLUMNS} | set(MEMBER_ROWS)
    found = set()
    for table in await db.table_names():
        for name in await columns(db, table):
            if PERSONISH.search(name) and not NOT_PEOPLE.search(name):
                found.add((table, name))
    assert found, "the pattern found nothing: the schema changed shape"
    assert found - covered == set(), f"not handled by bot/db/privacy.py: {found - covered}"
    assert covered - found == set(), f"stale entries: {covered - found}"


async def fill(db: Database, cid: int) -> dict[str, int]:
    """ME did a bit of everything, including facilitator actions recorded on shared rows."""
    now = to_db(T0)
    ids: dict[str, int] = {}

    async def new_id(conn: Conn, sql: str, params: dict[str, object]) -> int:
        cur = await conn.execute(sql + " RETURNING id", params)
        return int((await cur.fetchone())[0])

    async with db.transaction() as conn:
        for uid in (ME, OTHER):
            await conn.execute(
                "INSERT INTO memberships (community_id, user_id, discipline, is_facilitator,"
                " joined_at) VALUES (:cid, :uid, 'carer', :fac, :now)"
                " ON CONFLICT (community_id, user_id) DO UPDATE SET"
                " discipline = excluded.discipline, region = excluded.region,"
                " is_facilitator = excluded.is_facilitator, joined_at = excluded.joined_at,"
                " left_at = excluded.left_at",
                {"cid": cid, "uid": uid, "fac": int(uid == ME), "now": now})
        await conn.execute(
            "UPDATE communities SET sponsor_id = :me, sponsor_email = :email WHERE id = :cid",
            {"me": ME, "email": "me@example.org", "cid": cid})
        ids["captured_story"] = await new_id(
            conn,
            "INSERT INTO stories (community_id, teller_id, title, text, consent, created_at,"
            " captured_by, consent_request) VALUES (:cid, :other, 'Other''s story', 't',"
            " 'group', :now, :me, 'dm')",
            {"cid": cid, "other": OTHER, "now": now, "me": ME})
        await conn.execute(
            "INSERT INTO stories (community_id, teller_id, title, text, consent, created_at)"
            " VALUES (:cid, :me, 'Mine', 'my text', 'named', :now)",
            {"cid": cid, "me": ME, "now": now})
        ids["poll"] = await new_id(
            conn,
            "INSERT INTO polls (community_id, kind, question, options, anonymous, created_by,"
            " created_at, closed_at, closed_by, voters, eligible) VALUES (:cid, 'single',"
            " 'Q?', :options, 0, :me, :now, :now, :me, 2, 2)",
            {"cid": cid, "options": '["a","b"]', "me": ME, "now": now})
        for seq, (uid, ballot) in enumerate(((ME, "0"), (OTHER, "1")), start=1):
            await conn.execute(
                "INSERT INTO poll_final_ballots (poll_id, seq, user_id, ballot)"
                " VALUES (:poll, :seq, :uid, :ballot)",
                {"poll": ids["poll"], "seq": seq, "uid": uid, "ballot": ballot})
            await conn.execute(
                "INSERT INTO poll_voters (poll_id, user_id) VALUES (:poll, :uid)",
                {"poll": ids["poll"], "uid": uid})
        rounds = []
        for closed in (True, False):
            rounds.append(await new_id(
                conn,
                "INSERT INTO statement_rounds (community_id, opened_by, opened_at, closes_at,"
                " closed_at) VALUES (:cid, :me, :now, :now, :closed)",
                {"cid": cid, "me": ME, "now": now, "closed": now if closed else None}))
        for rid in rounds:
            sid = await new_id(
                conn,
                "INSERT INTO statements (community_id, round_id, author_id, text, created_at)"
                " VALUES (:cid, :rid, :other, :text, :now)",
                {"cid": cid, "rid": rid, "other": OTHER, "text": f"s{rid}", "now": now})
        # The open round's vote is sealed under its key, as the repository stores it.
        key, sealed_key = db.sealer.new_key("round", rounds[1])
        await conn.execute("UPDATE statement_rounds SET ballot_key = :key WHERE id = :rid",
                           {"key": sealed_key, "rid": rounds[1]})
        voter = Sealer.voter_key(key, ME)
        await conn.execute(
            "INSERT INTO statement_sealed_votes (round_id, statement_id, voter_key, sealed)"
            " VALUES (:rid, :sid, :voter, :sealed)",
            {"rid": rounds[1], "sid": sid, "voter": voter,
             "sealed": seal_vote(key, rounds[1], sid, voter, Vote.AGREE)})
        ids["round"] = rounds[0]
        await conn.execute(
            "INSERT INTO meeting_series (community_id, months, weekday, nth, local_time,"
            " timezone, duration_minutes, location, created_by, updated_at)"
            " VALUES (:cid, '3,9', 2, 2, '18:30', 'Europe/London', 120, 'Leeds', :me, :now)",
            {"cid": cid, "me": ME, "now": now})
        mid = await new_id(
            conn,
            "INSERT INTO meetings (community_id, title, start_at, end_at, timezone, location,"
            " created_by, created_at, notes, notes_by, cancelled_by) VALUES (:cid, 'M', :now,"
            " :end, 'Europe/London', 'Leeds', :me, :now, 'good', :me, :me)",
            {"cid": cid, "now": now, "end": to_db(T0 + timedelta(hours=2)), "me": ME})
        ids["meeting"] = mid
        await conn.execute(
            "INSERT INTO meeting_rsvps (meeting_id, user_id, answer, answered_at)"
            " VALUES (:mid, :me, 'going', :now)", {"mid": mid, "me": ME, "now": now})
        for uid in (OTHER, ME):
            await conn.execute(
                "INSERT INTO meeting_attendance (meeting_id, user_id, marked_by, marked_at)"
                " VALUES (:mid, :uid, :me, :now)", {"mid": mid, "uid": uid, "me": ME, "now": now})
        await conn.execute(
            "INSERT INTO meeting_reminders (meeting_id, offset_seconds, state, claimed_at,"
            " finished_at) VALUES (:mid, 3600, 'sent', :now, :now)", {"mid": mid, "now": now})
        await conn.execute(
            "INSERT INTO meeting_reminder_deliveries (meeting_id, offset_seconds, user_id,"
            " outcome) VALUES (:mid, 3600, :me, 'dm')", {"mid": mid, "me": ME})
        await conn.execute(
            "INSERT INTO message_activity (community_id, user_id, day, hour, messages)"
            " VALUES (:cid, :me, '2027-01-10', 9, 4)", {"cid": cid, "me": ME})
        await conn.execute(
            "INSERT INTO digest_schedules (community_id, weekday, at_time, timezone,"
            " updated_by, updated_at) VALUES (:cid, 0, '09:00', 'Europe/London', :me, :now)",
            {"cid": cid, "me": ME, "now": now})
    return ids


async def test_erase_covers_shared_records_and_keeps_them(db: Database) -> None:
    cid = await community(db, "Carers", created_by=ME)
    ids = await fill(db, cid)
    repo = PrivacyRepo(db)
    exported = await repo.export_data(ME)
    assert exported.created["polls.created_by"] == 1
    assert [v.exported().ballot for v in exported.poll_ballots] == ["a"]
    # Only the open round's vote can be linked to the member; a closed round keeps none.
    assert [(v.vote, v.round_closed) for v in exported.statement_votes] == [("agree", False)]
    assert len(exported.stories) == 1

    result = await repo.erase(ME)
    assert [c.community_id for c in result.communities] == [cid]
    assert result.sponsor_of == [cid]
    assert await scan(db, ME) == []
    # shared records kept, the person replaced
    assert await db.fetchval(
        "SELECT created_by FROM communities WHERE id = :id", {"id": cid}
    ) == ERASED_MEMBER
    row = await db.fetchone(
        "SELECT created_by, closed_by FROM polls WHERE id = :id", {"id": ids["poll"]}
    )
    assert row is not None and tuple(row) == (ERASED_MEMBER, None)
    row = await db.fetchone("SELECT created_by, notes_by, cancelled_by, notes FROM meetings")
    assert row is not None and tuple(row) == (ERASED_MEMBER, None, None, "good")
    assert await db.fetchval("SELECT marked_by FROM meeting_attendance") == ERASED_MEMBER
    story = await db.fetchone(
        "SELECT * FROM stories WHERE id = :id", {"id": ids["captured_story"]}
    )
    assert story is not None and story["teller_id"] == OTHER and story["captured_by"] is None
    # the closed non-anonymous poll keeps both ballots, one detached
    ballots = await db.fetchall(
        "SELECT user_id, ballot FROM poll_final_ballots ORDER BY ballot")
    assert [tuple(b) for b in ballots] == [(None, "0"), (OTHER, "1")]
    # the open round's vote is dropped
    assert await db.fetchval("SELECT COUNT(*) FROM statement_sealed_votes") == 0
    assert await db.fetchval(
        "SELECT COUNT(*) FROM memberships WHERE user_id = :uid", {"uid": OTHER}
    ) == 1
    # a second erasure finds nothing
    again = await repo.erase(ME)
    assert not again.anything


#: A trigger that makes the erasure fail half-way, in each engine's dialect.
BOOM = {
    "sqlite": (
        "CREATE TEMP TRIGGER boom BEFORE DELETE ON memberships"
        " BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    ),
    "postgresql": (
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
        "CREATE TRIGGER boom BEFORE DELETE ON memberships FOR EACH ROW EXECUTE FUNCTION boom()",
    ),
}
UNBOOM = {"sqlite": ("DROP TRIGGER boom",), "postgresql": ("DROP TRIGGER boom ON memberships",)}


async def test_erase_is_one_transaction(db: Database) -> None:
    """A failure between statements (injected by a trigger) leaves no trace."""
    cid = await community(db, "Carers")
    await fill(db, cid)
    before = await scan(db, ME)
    async with db.transaction() as conn:
        for sql in BOOM[db.dialect]:
            await conn.execute(sql)
    with pytest.raises(Exception, match="injected failure"):
        await PrivacyRepo(db).erase(ME)
    assert await scan(db, ME) == before
    assert await db.fetchval(
        "SELECT COUNT(*) FROM stories WHERE teller_id = :me", {"me": ME}
    ) == 1
    async with db.transaction() as conn:
        for sql in UNBOOM[db.dialect]:
            await conn.execute(sql)
    await PrivacyRepo(db).erase(ME)
    assert await scan(db, ME) == []


async def test_retention_deletes_only_days_before_the_cutoff(db: Database) -> None:
    cid = await community(db, "Carers")
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO message_activity (community_id, user_id, day, hour, messages)"
            " VALUES (:cid, :uid, :day, 10, 1)",
            [{"cid": cid, "uid": OTHER, "day": day}
             for day in ("2026-01-10", "2026-01-11", "2026-01-12")],
        )  # fmt: skip
    cutoff = retention_cutoff_day(T0, 365)
    assert cutoff == "2026-01-11"
    assert await PrivacyRepo(db).delete_activity_before(cutoff) == 1
    assert await PrivacyRepo(db).oldest_activity_day() == "2026-01-11"
    if db.dialect == "sqlite":
        # SQLite's plan says whether the index is used; PostgreSQL plans a three-row table
        # with a sequential scan whatever its indexes, so there the index must just exist.
        plan = " ".join(
            str(r[3]) for r in await db.fetchall(
                "EXPLAIN QUERY PLAN DELETE FROM message_activity WHERE day < :day",
                {"day": cutoff})
        )
        assert "message_activity_day" in plan, plan
    else:
        indexes = await db.fetchall(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND tablename = 'message_activity'")
        assert "message_activity_day" in {r[0] for r in indexes}, indexes
