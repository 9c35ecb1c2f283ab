"""``db copy``: a real SQLite database moves to PostgreSQL whole, verified, or not at all.

The source is built through the repositories (communities, one serving another, members,
stories whose trigger fills ``story_offers``, an open poll with sealed ballots and a closed one
with final ballots, a meeting with RSVPs, delivery rows with text keys), so the copy meets
what a running Hearth stores. Cases needing a server skip without ``HEARTH_TEST_POSTGRES``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.db import migrations
from bot.db.app_state import installation_id
from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.copy import CopyError, CopyReport, TableCheck, checksum, copy_database, render_report
from bot.db.database import Database
from bot.db.group_commit import GroupCommitter
from bot.db.meetings import MeetingRepo, NewMeeting
from bot.db.polls import PollRepo
from bot.db.stories import StoryRepo
from bot.domain.communities import Discipline, Kind
from bot.domain.meetings import RSVP
from bot.domain.polls import parse_poll, poll_outcome
from bot.domain.stories.consent import Consent
from tests.engines import SKIP_NO_POSTGRES, postgres_schema

T0 = datetime(2027, 3, 1, 9, tzinfo=UTC)
SECRET = bytes(range(32))
ROOT = Path(__file__).resolve().parents[2]


def pick(choice: int, _poll: object) -> int:
    return choice


async def _community(repo: CommunityRepo, name: str, kind: Kind) -> int:
    c = await repo.create(
        NewCommunity(
            guild_id=900000000000000001, name=name, slug=name.lower(), kind=kind,
            timezone="Europe/London", created_by=100, created_at=T0, category_id=None,
            lounge_id=None, stories_id=None, stories_is_forum=False, voice_id=None,
            meetings_id=None, member_role_id=None, facilitator_role_id=None, sponsor_id=None,
            circles=(), stage_tags=(),
        ),
        Discipline.OTHER,
    )  # fmt: skip
    return c.id


async def populate(db: Database) -> dict[str, Any]:
    """Rows in many tables, written the way Hearth writes them."""
    communities = CommunityRepo(db)
    carers = await _community(communities, "Carers", Kind.PRACTICE)
    distil = await _community(communities, "Distil", Kind.DISTILLING)
    await communities.set_serves(distil, carers)
    for uid in range(1, 6):
        await communities.upsert_member(carers, 10**17 + uid, Discipline.CARER, "Nørth", T0)
    stories = StoryRepo(db)
    told = await stories.add(
        community_id=carers, teller_id=10**17 + 1, title="Ünïcode “quotes”", text="line\nnext",
        stage=None, stage_label=None, consent=Consent.NAMED, now=T0,
    )  # fmt: skip
    await stories.add(
        community_id=carers, teller_id=10**17 + 2, title="Kept", text="in the group",
        stage=None, stage_label=None, consent=Consent.GROUP, now=T0 + timedelta(minutes=1),
    )  # fmt: skip
    polls, gc = PollRepo(db), GroupCommitter(db)
    open_poll = await polls.create(
        carers, parse_poll("single", "Day?", "Mon; Tue; Wed"), anonymous=True, created_by=100,
        created_at=T0, closes_at=T0 + timedelta(days=3),
    )  # fmt: skip
    closed_poll = await polls.create(
        carers, parse_poll("single", "Time?", "Am; Pm"), anonymous=False, created_by=100,
        created_at=T0, closes_at=T0 + timedelta(days=1),
    )  # fmt: skip
    for uid, choice in ((1, 2), (2, 0), (3, 2)):
        await gc.submit(polls.vote_op(open_poll.id, 10**17 + uid, partial(pick, choice), T0))
        await gc.submit(polls.vote_op(closed_poll.id, 10**17 + uid, lambda _p: 1, T0))
    await polls.close(closed_poll.id, T0 + timedelta(hours=2), closed_by=100, decide=poll_outcome)
    meetings = MeetingRepo(db)
    meeting = await meetings.create(
        NewMeeting(
            community_id=carers, title="Spring", start_utc=T0 + timedelta(days=7),
            end_utc=T0 + timedelta(days=7, hours=1), timezone="Europe/London",
            location="Room 1", channel_id=None, region=None, in_series=False, created_by=100,
            created_at=T0,
        )
    )  # fmt: skip
    await meetings.set_rsvp(meeting.id, 10**17 + 1, RSVP.GOING, T0)
    await meetings.set_rsvp(meeting.id, 10**17 + 2, RSVP.CANT, T0)
    await db.execute(
        "INSERT INTO delivery_runs (run, state, started_at) VALUES ('poll:1:nudge', 'running', :t)",
        {"t": T0.isoformat()},
    )
    await db.execute(
        "INSERT INTO deliveries (key, run, nonce, state, attempts, updated_at)"
        " VALUES ('prompt:1:2', 'poll:1:nudge', 'n0nce', 'pending', 1, :t)",
        {"t": T0.isoformat()},
    )
    await db.execute(
        "INSERT INTO message_activity (community_id, user_id, day, hour, messages)"
        " VALUES (:c, :u, '2027-03-01', 9, 4)",
        {"c": carers, "u": 10**17 + 1},
    )
    return {
        "carers": carers,
        "distil": distil,
        "story": told.id,
        "open_poll": open_poll.id,
        "installation": await installation_id(db),
    }


async def _source(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "hearth.db"
    async with Database(path, secret=SECRET) as db:
        await migrations.upgrade(db)
        made = await populate(db)
    return path, made


@SKIP_NO_POSTGRES
async def test_copy_moves_every_row_and_verifies(tmp_path: Path) -> None:
    source, made = await _source(tmp_path)
    async with postgres_schema() as url:
        report = await copy_database(source, url)
        assert report.ok, "\n".join(render_report(report))
        by_table = {c.table: c for c in report.checks}
        for table in ("communities", "memberships", "stories", "story_offers", "polls",
                      "poll_sealed_ballots", "poll_final_ballots", "meetings", "meeting_rsvps",
                      "deliveries", "delivery_runs", "message_activity", "app_state"):  # fmt: skip
            assert by_table[table].target_rows > 0, table
        assert "schema_migrations" not in by_table
        assert report.open_sealed == 1
        shipped = [m.version for m in migrations.available_migrations("postgresql")]
        assert report.source_versions == report.target_versions == shipped
        async with Database(url, secret=SECRET) as pg:
            # The copy is usable by the bot: the secret check passes, the open poll's sealed
            # ballot opens with the same secret, ids continue after the copied ones, and the
            # installation (calendar UIDs) is the same one.
            await migrations.upgrade(pg)
            assert await PollRepo(pg).own_ballot(made["open_poll"], 10**17 + 1) == 2
            assert await installation_id(pg) == made["installation"]
            serves = await pg.fetchval(
                "SELECT serves_id FROM communities WHERE id = :id", {"id": made["distil"]}
            )
            assert serves == made["carers"]
            newer = await _community(CommunityRepo(pg), "Later", Kind.PRACTICE)
            assert newer == made["distil"] + 1
            # story_offers came as they were, not re-derived by the trigger during the copy,
            # and the trigger works again afterwards.
            offers = await pg.fetchall("SELECT recipient_id, story_id FROM story_offers")
            assert {(r[0], r[1]) for r in offers} == {
                (made["carers"], made["story"]),
                (made["distil"], made["story"]),
            }
            triggers = await pg.fetchval(
                "SELECT COUNT(*) FROM pg_trigger WHERE tgenabled = 'D' AND NOT tgisinternal"
            )
            assert triggers == 0


@SKIP_NO_POSTGRES
async def test_a_target_holding_hearth_rows_is_refused_and_left_alone(tmp_path: Path) -> None:
    source, _ = await _source(tmp_path)
    async with postgres_schema() as url:
        assert (await copy_database(source, url)).ok
        async with Database(url, secret=SECRET) as pg:
            before = await pg.fetchval("SELECT COUNT(*) FROM stories")
            await pg.execute("DELETE FROM app_state")
        with pytest.raises(CopyError, match=r"already holds Hearth data: .*communities \(2\)"):
            await copy_database(source, url)
        async with Database(url, secret=SECRET) as pg:
            assert await pg.fetchval("SELECT COUNT(*) FROM stories") == before
            assert await pg.fetchval("SELECT COUNT(*) FROM app_state") == 0


@SKIP_NO_POSTGRES
async def test_a_failed_copy_leaves_the_target_empty_and_can_be_run_again(
    tmp_path: Path,
) -> None:
    """One transaction: a row PostgreSQL refuses (a NUL in text) undoes every table copied
    before it, the triggers are on again, and once the row is fixed the same command works."""
    source, _ = await _source(tmp_path)
    async with Database(source, secret=SECRET) as db:
        await db.execute("UPDATE memberships SET region = :r", {"r": "a\x00b"})
    async with postgres_schema() as url:
        with pytest.raises(CopyError, match="copying memberships failed"):
            await copy_database(source, url)
        async with Database(url, secret=SECRET) as pg:
            assert await pg.fetchval("SELECT COUNT(*) FROM communities") == 0
            assert (
                await pg.fetchval(
                    "SELECT COUNT(*) FROM pg_trigger WHERE tgenabled = 'D' AND NOT tgisinternal"
                )
                == 0
            )
        async with Database(source, secret=SECRET) as db:
            await db.execute("UPDATE memberships SET region = 'North'")
        assert (await copy_database(source, url)).ok


@SKIP_NO_POSTGRES
async def test_a_target_only_upgraded_before_is_accepted(tmp_path: Path) -> None:
    """`db upgrade` against the new server first (it writes app_state) does not block."""
    source, made = await _source(tmp_path)
    async with postgres_schema() as url:
        async with Database(url, secret=b"\x01" * 32) as pg:
            await migrations.upgrade(pg)
            await installation_id(pg)
        report = await copy_database(source, url)
        assert report.ok
        async with Database(url, secret=SECRET) as pg:
            assert await installation_id(pg) == made["installation"]


async def test_an_unmigrated_source_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    async with Database(empty, secret=SECRET):
        pass
    # Nothing is connected to or written: the URL need not even answer.
    url = "postgresql://nobody@127.0.0.1:1/none"
    with pytest.raises(CopyError, match=r"not fully migrated.*db upgrade"):
        await copy_database(empty, url)
    source, _ = await _source(tmp_path)
    async with Database(source, secret=SECRET) as db:
        await db.execute("DELETE FROM schema_migrations WHERE version = 13")
    with pytest.raises(CopyError, match=r"not fully migrated \(pending: 0013\)"):
        await copy_database(source, url)


async def test_what_is_not_a_copy_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CopyError, match="no SQLite database at"):
        await copy_database(tmp_path / "missing.db", "postgresql://x@127.0.0.1:1/x")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(CopyError, match="must be a postgresql:// URL"):
        await copy_database(tmp_path / "a.db", str(tmp_path / "b.db"))


async def test_an_unreachable_target_is_one_clear_line(tmp_path: Path) -> None:
    source, _ = await _source(tmp_path)
    with pytest.raises(CopyError, match=r"could not connect to postgresql://h:\*\*\*@127"):
        await copy_database(source, "postgresql://h:pw@127.0.0.1:1/none")


def test_checksum_sees_type_order_and_bytes() -> None:
    rows = [(2, "b", b"\x00"), (1, "a", None)]
    n, sha = checksum(rows, [0])
    assert n == 2 and checksum(list(reversed(rows)), [0]) == (n, sha)
    assert checksum([(2, "b", b"\x00"), (1, "a", "")], [0])[1] != sha
    assert checksum([("2", "b", b"\x00"), (1, "a", None)], [0])[1] != sha
    assert checksum([(2, "b", b"\x00\x00"), (1, "a", None)], [0])[1] != sha
    assert checksum([(2, "b", memoryview(b"\x00")), (1, "a", None)], [0])[1] == sha


def test_a_mismatch_fails_the_report() -> None:
    good = TableCheck("polls", 3, 3, "ab" * 32, "ab" * 32)
    bad = TableCheck("stories", 3, 3, "ab" * 32, "cd" * 32)
    report = CopyReport("h.db", "postgresql://h@x/db", [good, bad], [1, 2], [1, 2], open_sealed=2)
    assert not report.ok
    text = "\n".join(render_report(report))
    assert "CHECKSUM DIFFERS" in text and "MISMATCH" in text
    assert "HEARTH_SECRET" in text and "hearth.key" in text and "2 open vote(s)" in text
    assert CopyReport("h.db", "u", [good], [1, 2], [1]).ok is False


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "DISCORD_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "db", "copy", *args],
        check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@SKIP_NO_POSTGRES
async def test_cli_copies_and_reminds_of_the_secret(tmp_path: Path) -> None:
    source, _ = await _source(tmp_path)
    async with postgres_schema() as url:
        done = _cli(str(source), url)
        assert done.returncode == 0, done.stderr
        assert "all verified" in done.stdout
        assert "HEARTH_SECRET" in done.stdout and "hearth.key" in done.stdout
        assert "1 open vote(s)" in done.stdout
        again = _cli(str(source), url)
        assert again.returncode == 2
        assert "already holds Hearth data" in again.stderr


def test_cli_refuses_an_unmigrated_source(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    done = _cli(str(empty), "postgresql://nobody@127.0.0.1:1/none")
    assert done.returncode == 2
    assert "db upgrade" in done.stderr
    usage = subprocess.run(
        [sys.executable, "-m", "bot", "db", "copy", str(empty)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert usage.returncode == 2 and "SQLITE_FILE and POSTGRES_URL" in usage.stderr
