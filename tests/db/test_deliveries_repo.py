"""DeliveryRepo (exactly-once scheduled messages) on every engine (the shared ``db`` fixture),
and migration 0012 on an SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import migrations
from bot.db.database import INTEGRITY_ERRORS, Database
from bot.db.deliveries import DeliveryRepo, RunState
from bot.delivery import NONCE_LENGTH, Destination, member_token, nonce_for

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)


async def test_a_run_is_new_then_resumed_until_finished(db: Database) -> None:
    repo = DeliveryRepo(db)
    assert await repo.start("poll:7:nudge", T0) is RunState.NEW
    assert await repo.start("poll:7:nudge", T0) is RunState.RESUMED
    assert await repo.running("poll:") == ["poll:7:nudge"]
    await repo.finish("poll:7:nudge", T0)
    assert await repo.start("poll:7:nudge", T0) is RunState.FINISHED
    assert await repo.running("poll:") == []
    await repo.finish("digest:3:dm", T0)  # finishing a run never started records it finished
    assert await repo.state("digest:3:dm") == "finished"


async def test_running_prefix_is_literal(db: Database) -> None:
    repo = DeliveryRepo(db)
    for run in ("meeting:1:notes", "meetingX1:notes", "meeting:12:remind:3600"):
        await repo.start(run, T0)
    assert await repo.running("meeting:1:") == ["meeting:1:notes"]
    assert await repo.running("meeting_") == []


async def test_a_message_is_pending_before_and_sent_after(db: Database) -> None:
    repo = DeliveryRepo(db)
    key = "digest:3:dm/0@m0123"
    await repo.intend(key, "digest:3:dm", nonce_for(key), T0)
    assert await repo.running("digest:") == ["digest:3:dm"], "a message never outside a run"
    row = await repo.get(key)
    assert row is not None and (row.state, row.attempts, row.message_id) == ("pending", 1, None)
    await repo.failed(key, T0)
    await repo.intend(key, "digest:3:dm", nonce_for(key), T0 + timedelta(minutes=1))
    await repo.sent(key, 555, T0 + timedelta(minutes=1))
    row = await repo.get(key)
    assert row is not None and (row.state, row.attempts, row.message_id) == ("sent", 2, 555)
    await repo.failed(key, T0)
    assert (await repo.get(key)).state == "sent", "a sent message never becomes failed"  # type: ignore[union-attr]
    await repo.finish("digest:3:dm", T0)
    assert await repo.get(key) is None, "a finished run keeps no message rows"


async def test_forget_drops_a_run_and_its_messages(db: Database) -> None:
    repo = DeliveryRepo(db)
    await repo.intend("prompt:2:9/@c1", "prompt:2:9", "n" * 25, T0)
    await repo.forget("prompt:2:9")
    assert await repo.get("prompt:2:9/@c1") is None and await repo.state("prompt:2:9") is None


async def test_nonce_is_deterministic_and_fits_discord(db: Database) -> None:
    assert nonce_for("a") == nonce_for("a") != nonce_for("b")
    assert len(nonce_for("x" * 500)) == NONCE_LENGTH == 25
    with pytest.raises(INTEGRITY_ERRORS):
        await DeliveryRepo(db).intend("k", "r", "n" * 26, T0)


def test_member_keys_never_hold_the_member_id() -> None:
    user = 1578087663913664515
    part = Destination.member(user).key_part("poll:7:nudge")
    assert str(user) not in part and part == f"m{member_token('poll:7:nudge', user)}"
    assert member_token("poll:7:nudge", user) != member_token("poll:8:nudge", user)
    assert Destination.channel(42).key_part("prompt:1:2") == "c42"


async def test_migration_12_keeps_reminder_records_and_allows_skipped(tmp_path: Path) -> None:
    """Upgrading a database that has reminder rows keeps every row and its link.

    SQLite only: 0012 rebuilt SQLite tables whose rows had to survive (an old file's upgrade
    path, applied statement by statement with migrations._split); a PostgreSQL database is
    created at the current schema, and PRAGMA foreign_key_check is SQLite's.
    """
    async with Database(tmp_path / "old.db") as db:
        await migrations.applied_versions(db)  # creates schema_migrations
        for mig in migrations.available_migrations():
            if mig.version >= 12:
                continue
            async with db.transaction() as conn:
                for statement in migrations._split(mig.sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations(version, name, applied_at)"
                    " VALUES (:version, :name, :applied_at)",
                    {"version": mig.version, "name": mig.name, "applied_at": T0.isoformat()},
                )
        await db.execute(
            "INSERT INTO communities (guild_id, name, slug, kind, created_by, created_at)"
            " VALUES (1, 'C', 'c', 'practice', 9, :t0)", {"t0": T0.isoformat()})
        await db.execute(
            "INSERT INTO meetings (community_id, title, start_at, end_at, timezone, location,"
            " created_by, created_at) VALUES (1, 'M', :start, :end, 'UTC', 'Online', 9, :t0)",
            {"start": (T0 + timedelta(days=3)).isoformat(),
             "end": (T0 + timedelta(days=3, hours=1)).isoformat(), "t0": T0.isoformat()})
        await db.execute("INSERT INTO meeting_reminders VALUES (1, 86400, 'sending', :t0, NULL)",
                         {"t0": T0.isoformat()})
        await db.execute("INSERT INTO meeting_reminder_deliveries VALUES (1, 86400, 5, 'dm')")
        await migrations.upgrade(db)
        assert [tuple(r) for r in await db.fetchall("SELECT * FROM meeting_reminders")] == [
            (1, 86400, "sending", T0.isoformat(), None)]
        assert [tuple(r) for r in await db.fetchall(
            "SELECT * FROM meeting_reminder_deliveries")] == [(1, 86400, 5, "dm")]
        await db.execute("INSERT INTO meeting_reminders VALUES (1, 604800, 'skipped', :t0, :t0)",
                         {"t0": T0.isoformat()})
        assert await db.fetchall("PRAGMA foreign_key_check") == []
        await db.execute("DELETE FROM meeting_reminders WHERE offset_seconds = 86400")
        assert await db.fetchall("SELECT * FROM meeting_reminder_deliveries") == [], (
            "deliveries still follow their reminder")
