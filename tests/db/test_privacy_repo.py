"""PrivacyRepo on a real SQLite file: coverage of every person column, the erasure rules,
atomicity, and retention."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import migrations
from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import Database
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


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with Database(tmp_path / "privacy.db") as database:
        await migrations.upgrade(database)
        yield database


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


async def scan(db: Database, value: int) -> list[str]:
    hits = []
    for table in await db.table_names():
        for col in await db.fetchall(f"PRAGMA table_info({table})"):
            n = await db.fetchval(
                f'SELECT COUNT(*) FROM "{table}" WHERE "{col["name"]}" = ?'
                f' OR CAST("{col["name"]}" AS TEXT) LIKE ?',
                (value, f"%{value}%"),
            )
            if n:
                hits.append(f"{table}.{col['name']}")
    return hits


async def test_every_column_that_names_a_person_is_covered(db: Database) -> None:
    """A new table or column holding a member's id must be handled by export and erasure."""
    covered = {(c.table, c.column) for c in ACTOR_COLUMNS} | set(MEMBER_ROWS)
    found = set()
    for table in await db.table_names():
        for col in await db.fetchall(f"PRAGMA table_info({table})"):
            name = col["name"]
            if PERSONISH.search(name) and not NOT_PEOPLE.search(name):
                found.add((table, name))
    assert found, "the pattern found nothing: the schema changed shape"
    assert found - covered == set(), f"not handled by bot/db/privacy.py: {found - covered}"
    assert covered - found == set(), f"stale entries: {covered - found}"


async def fill(db: Database, cid: int) -> dict[str, int]:
    """ME did a bit of everything, including facilitator actions recorded on shared rows."""
    now = to_db(T0)
    ids: dict[str, int] = {}
    async with db.transaction() as conn:
        for uid in (ME, OTHER):
            await conn.execute(
                "INSERT OR REPLACE INTO memberships (community_id, user_id, discipline,"
                " is_facilitator,"
                " joined_at) VALUES (?,?,?,?,?)", (cid, uid, "carer", int(uid == ME), now))
        await conn.execute("UPDATE communities SET sponsor_id = ?, sponsor_email = ? WHERE id = ?",
                           (ME, "me@example.org", cid))
        cur = await conn.execute(
            "INSERT INTO stories (community_id, teller_id, title, text, consent, created_at,"
            " captured_by, consent_request) VALUES (?,?,?,?,?,?,?,?)",
            (cid, OTHER, "Other's story", "t", "group", now, ME, "dm"))
        ids["captured_story"] = int(cur.lastrowid or 0)
        await conn.execute(
            "INSERT INTO stories (community_id, teller_id, title, text, consent, created_at)"
            " VALUES (?,?,?,?,?,?)", (cid, ME, "Mine", "my text", "named", now))
        cur = await conn.execute(
            "INSERT INTO polls (community_id, kind, question, options, anonymous, created_by,"
            " created_at, closed_at, closed_by, voters, eligible) VALUES"
            " (?,?,?,?,?,?,?,?,?,?,?)",
            (cid, "single", "Q?", '["a","b"]', 0, ME, now, now, ME, 2, 2))
        ids["poll"] = int(cur.lastrowid or 0)
        for seq, (uid, ballot) in enumerate(((ME, "0"), (OTHER, "1")), start=1):
            await conn.execute(
                "INSERT INTO poll_final_ballots (poll_id, seq, user_id, ballot) VALUES (?,?,?,?)",
                (ids["poll"], seq, uid, ballot))
            await conn.execute("INSERT INTO poll_voters (poll_id, user_id) VALUES (?,?)",
                               (ids["poll"], uid))
        rounds = []
        for closed in (True, False):
            cur = await conn.execute(
                "INSERT INTO statement_rounds (community_id, opened_by, opened_at, closes_at,"
                " closed_at) VALUES (?,?,?,?,?)", (cid, ME, now, now, now if closed else None))
            rounds.append(int(cur.lastrowid or 0))
        for rid in rounds:
            cur = await conn.execute(
                "INSERT INTO statements (community_id, round_id, author_id, text, created_at)"
                " VALUES (?,?,?,?,?)", (cid, rid, OTHER, f"s{rid}", now))
            sid = int(cur.lastrowid or 0)
        # The open round's vote is sealed under its key, as the repository stores it.
        key, sealed_key = db.sealer.new_key("round", rounds[1])
        await conn.execute("UPDATE statement_rounds SET ballot_key = ? WHERE id = ?",
                           (sealed_key, rounds[1]))
        voter = Sealer.voter_key(key, ME)
        await conn.execute(
            "INSERT INTO statement_sealed_votes (round_id, statement_id, voter_key, sealed)"
            " VALUES (?,?,?,?)",
            (rounds[1], sid, voter, seal_vote(key, rounds[1], sid, voter, Vote.AGREE)))
        ids["round"] = rounds[0]
        await conn.execute(
            "INSERT INTO meeting_series (community_id, months, weekday, nth, local_time,"
            " timezone, duration_minutes, location, created_by, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (cid, "3,9", 2, 2, "18:30", "Europe/London", 120, "Leeds", ME, now))
        cur = await conn.execute(
            "INSERT INTO meetings (community_id, title, start_at, end_at, timezone, location,"
            " created_by, created_at, notes, notes_by, cancelled_by) VALUES"
            " (?,?,?,?,?,?,?,?,?,?,?)",
            (cid, "M", now, to_db(T0 + timedelta(hours=2)), "Europe/London", "Leeds", ME, now,
             "good", ME, ME))
        mid = int(cur.lastrowid or 0)
        ids["meeting"] = mid
        await conn.execute("INSERT INTO meeting_rsvps VALUES (?,?,?,?)", (mid, ME, "going", now))
        await conn.execute("INSERT INTO meeting_attendance VALUES (?,?,?,?)", (mid, OTHER, ME, now))
        await conn.execute("INSERT INTO meeting_attendance VALUES (?,?,?,?)", (mid, ME, ME, now))
        await conn.execute("INSERT INTO meeting_reminders VALUES (?,?,?,?,?)",
                           (mid, 3600, "sent", now, now))
        await conn.execute("INSERT INTO meeting_reminder_deliveries VALUES (?,?,?,?)",
                           (mid, 3600, ME, "dm"))
        await conn.execute("INSERT INTO message_activity VALUES (?,?,?,?,?)",
                           (cid, ME, "2027-01-10", 9, 4))
        await conn.execute(
            "INSERT INTO digest_schedules VALUES (?,?,?,?,?,?)",
            (cid, 0, "09:00", "Europe/London", ME, now))
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
    assert await db.fetchval("SELECT created_by FROM communities WHERE id = ?", (cid,)) == (
        ERASED_MEMBER)
    row = await db.fetchone("SELECT created_by, closed_by FROM polls WHERE id = ?", (ids["poll"],))
    assert row is not None and tuple(row) == (ERASED_MEMBER, None)
    row = await db.fetchone("SELECT created_by, notes_by, cancelled_by, notes FROM meetings")
    assert row is not None and tuple(row) == (ERASED_MEMBER, None, None, "good")
    assert await db.fetchval("SELECT marked_by FROM meeting_attendance") == ERASED_MEMBER
    story = await db.fetchone("SELECT * FROM stories WHERE id = ?", (ids["captured_story"],))
    assert story is not None and story["teller_id"] == OTHER and story["captured_by"] is None
    # the closed non-anonymous poll keeps both ballots, one detached
    ballots = await db.fetchall(
        "SELECT user_id, ballot FROM poll_final_ballots ORDER BY ballot")
    assert [tuple(b) for b in ballots] == [(None, "0"), (OTHER, "1")]
    # the open round's vote is dropped
    assert await db.fetchval("SELECT COUNT(*) FROM statement_sealed_votes") == 0
    assert await db.fetchval("SELECT COUNT(*) FROM memberships WHERE user_id = ?", (OTHER,)) == 1
    # a second erasure finds nothing
    again = await repo.erase(ME)
    assert not again.anything


async def test_erase_is_one_transaction(db: Database) -> None:
    """A failure between statements (injected by a trigger on the writer) leaves no trace."""
    cid = await community(db, "Carers")
    await fill(db, cid)
    before = await scan(db, ME)
    async with db.writer.execute(
        "CREATE TEMP TRIGGER boom BEFORE DELETE ON memberships"
        " BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
    ):
        pass
    with pytest.raises(Exception, match="injected failure"):
        await PrivacyRepo(db).erase(ME)
    assert await scan(db, ME) == before
    assert await db.fetchval("SELECT COUNT(*) FROM stories WHERE teller_id = ?", (ME,)) == 1
    async with db.writer.execute("DROP TRIGGER boom"):
        pass
    await PrivacyRepo(db).erase(ME)
    assert await scan(db, ME) == []


async def test_retention_deletes_only_days_before_the_cutoff(db: Database) -> None:
    cid = await community(db, "Carers")
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO message_activity VALUES (?,?,?,?,?)",
            [(cid, OTHER, day, 10, 1) for day in ("2026-01-10", "2026-01-11", "2026-01-12")],
        )
    cutoff = retention_cutoff_day(T0, 365)
    assert cutoff == "2026-01-11"
    assert await PrivacyRepo(db).delete_activity_before(cutoff) == 1
    assert await PrivacyRepo(db).oldest_activity_day() == "2026-01-11"
    plan = " ".join(
        str(r[3]) for r in await db.fetchall(
            "EXPLAIN QUERY PLAN DELETE FROM message_activity WHERE day < ?", (cutoff,))
    )
    assert "message_activity_day" in plan, plan
