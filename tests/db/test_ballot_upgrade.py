"""Upgrading a database written by the previous version (plaintext ballots, votes by user id).

The database is built with migrations 0001-0008 only and filled the way the old code stored
votes; then the full upgrade runs (migration 0009 and the sealing step) and every member's
ballot must be where the new code looks for it, sealed, with nothing left in the clear.

Runs on every engine: PostgreSQL's migrations are twins of SQLite's, number for number, so an
"older" PostgreSQL database is built the same way (no PostgreSQL installation ever held such
data, but the upgrade code is the same for both and must stay portable).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db import migrations
from bot.db.communities import CommunityRepo
from bot.db.database import Conn, Database
from bot.db.polls import PollRepo
from bot.db.rows import to_db
from bot.db.statements import StatementRepo
from bot.domain.communities import Discipline
from tests.db.test_polls_repo import community
from tests.engines import database_target

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
MEMBERS = [101, 102, 103, 104]


def _old_key(secret: bytes, user: int) -> bytes:
    return hmac.new(secret, str(user).encode(), hashlib.sha256).digest()


async def _insert(conn: Conn, sql: str, params: dict[str, Any]) -> int:
    """Run an INSERT ... RETURNING id; the new row's id."""
    cur = await conn.execute(sql + " RETURNING id", params)
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def _old_database(
    target: str, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, int]:
    available = migrations.available_migrations

    def old_migrations(dialect: str = "sqlite") -> list[migrations.Migration]:
        return [m for m in available(dialect) if m.version <= 8]

    monkeypatch.setattr(migrations, "available_migrations", old_migrations)
    ids: dict[str, int] = {}
    async with Database(target, key_file=key_file) as db:
        await migrations.upgrade(db)
        cid = await community(db, members=1)
        for uid in MEMBERS:
            await CommunityRepo(db).upsert_member(cid, uid, Discipline.CARER, None, T0)
        now = to_db(T0)
        raw = secrets.token_bytes(32)
        async with db.transaction() as conn:
            ids["open_poll"] = await _insert(
                conn,
                "INSERT INTO polls (community_id, kind, question, options, anonymous,"
                " created_by, created_at, ballot_key) VALUES (:cid, 'single', 'Open?',"
                " :options, 1, 9, :now, :raw)",
                {"cid": cid, "options": json.dumps(["A", "B"]), "now": now, "raw": raw})
            for uid, choice in zip(MEMBERS[:3], ("0", "1", "1"), strict=True):
                await conn.execute(
                    "INSERT INTO poll_ballots (poll_id, voter_key, user_id, ballot)"
                    " VALUES (:poll_id, :voter_key, NULL, :ballot)",
                    {"poll_id": ids["open_poll"], "voter_key": _old_key(raw, uid),
                     "ballot": choice})
                await conn.execute(
                    "INSERT INTO poll_voters (poll_id, user_id) VALUES (:poll_id, :user_id)",
                    {"poll_id": ids["open_poll"], "user_id": uid})
            ids["closed_poll"] = await _insert(
                conn,
                "INSERT INTO polls (community_id, kind, question, options, anonymous,"
                " created_by, created_at, closed_at, voters, eligible, collective_statement)"
                " VALUES (:cid, 'single', 'Closed?', :options, 1, 9, :now, :now, 2, 4, 's')",
                {"cid": cid, "options": json.dumps(["A", "B"]), "now": now})
            for i, choice in enumerate(("1", "0")):
                await conn.execute(
                    "INSERT INTO poll_ballots (poll_id, voter_key, user_id, ballot)"
                    " VALUES (:poll_id, :voter_key, NULL, :ballot)",
                    {"poll_id": ids["closed_poll"], "voter_key": bytes([i]) * 32,
                     "ballot": choice})
            for name, closed in (("closed_round", now), ("open_round", None)):
                ids[name] = await _insert(
                    conn,
                    "INSERT INTO statement_rounds (community_id, opened_by, opened_at,"
                    " closes_at, closed_at, voters, eligible, collective_statement)"
                    " VALUES (:cid, 9, :now, :closes_at, :closed_at, :voters, :eligible,"
                    " :statement)",
                    {"cid": cid, "now": now, "closes_at": to_db(T0 + timedelta(days=1)),
                     "closed_at": closed, "voters": 2 if closed else None,
                     "eligible": 4 if closed else None,
                     "statement": "kept as published" if closed else None})
                ids[f"{name}_statement"] = await _insert(
                    conn,
                    "INSERT INTO statements (community_id, round_id, author_id, text,"
                    " created_at) VALUES (:cid, :round_id, 104, :text, :now)",
                    {"cid": cid, "round_id": ids[name], "text": f"s {name}", "now": now})
                for uid, vote in ((101, "agree"), (102, "disagree")):
                    await conn.execute(
                        "INSERT INTO statement_votes (statement_id, user_id, vote)"
                        " VALUES (:statement_id, :user_id, :vote)",
                        {"statement_id": ids[f"{name}_statement"], "user_id": uid,
                         "vote": vote})
    monkeypatch.undo()
    return ids


async def test_an_old_database_is_sealed_on_upgrade(
    engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "hearth.key"
    async with database_target(engine, tmp_path, "old.db") as target:
        ids = await _old_database(target, key_file, monkeypatch)
        async with Database(target, key_file=key_file) as db:
            await _check_upgrade(db, ids)


async def _check_upgrade(db: Database, ids: dict[str, int]) -> None:
    await migrations.upgrade(db)
    tables = set(await db.table_names())
    assert not {"legacy_poll_ballots", "legacy_statement_votes", "poll_ballots",
                "statement_votes"} & tables
    polls = PollRepo(db)
    # the open poll: every member finds their own ballot, sealed under a new key
    assert [await polls.own_ballot(ids["open_poll"], u) for u in MEMBERS] == [0, 1, 1, None]
    sealed = await db.fetchall("SELECT sealed FROM poll_sealed_ballots")
    assert len(sealed) == 3 and len({len(r[0]) for r in sealed}) == 1
    # the closed poll's ballots moved as they were, in canonical order, without keys
    closed = await polls.get(ids["closed_poll"])
    assert closed is not None and await polls.ballots(closed) == [0, 1]
    # the open round: votes sealed, found by member; the closed one: report frozen
    srepo = StatementRepo(db)
    assert await srepo.voted_by(ids["open_round"], 101) == {ids["open_round_statement"]}
    assert await srepo.turnout(ids["open_round"]) == 2
    rnd = await srepo.get_round(ids["closed_round"])
    assert rnd is not None and rnd.collective_statement == "kept as published"
    report = await srepo.frozen_report(rnd.id)
    assert report is not None
    [tally] = report.statements
    assert (tally.counts.agree, tally.counts.disagree) == (1, 1)
    assert await db.fetchval("SELECT COUNT(*) FROM statement_sealed_votes") == 1 * 2
    # and nothing in the clear: no user id on the anonymous poll's sealed ballots
    assert await db.fetchval(
        "SELECT COUNT(*) FROM poll_sealed_ballots WHERE user_id IS NOT NULL") == 0
    # a second upgrade finds nothing to do
    assert await migrations.upgrade(db) == []
