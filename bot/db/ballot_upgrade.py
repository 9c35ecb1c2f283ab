"""After the SQL migrations: seal what an older Hearth stored in the clear, check the secret.

Migration 0009 moves closed polls' ballots by SQL; what needs code happens here, once, in one
transaction:

* open polls of an older version kept a raw 32-byte key and plaintext ballots
  (``legacy_poll_ballots``): each gets a sealed key and its ballots are sealed under it;
* statement votes (``legacy_statement_votes``) were stored by user id: an open round's are
  sealed under a new round key, a closed round's report is frozen and its votes dropped.

Then the WAL is truncated, so the plaintext pages are gone from every file.

The installation secret's check value (never the secret) is kept in ``app_state``. A start
with a different secret is refused while open polls or rounds depend on the old one, with a
message saying what to restore; with nothing open, the new secret simply takes over.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.db.database import Conn, Database, Row
from bot.db.polls import decode_ballot, poll_from_row, seal_ballot, voter_key
from bot.db.sealing import CHECK_KEY, Sealer, SealingError
from bot.db.statements import report_to_json, seal_vote
from bot.domain.statements import Vote, statement_report

log = logging.getLogger(__name__)


async def _rows(conn: Conn, sql: str, params: dict[str, Any] | None = None) -> list[Row]:
    return list(await conn.execute_fetchall(sql, params or {}))


async def check_secret(db: Database) -> None:
    """Refuse a secret that cannot open the ballots of polls and rounds still open."""
    if not {"app_state", "polls", "statement_rounds"} <= set(await db.table_names()):
        return  # a schema without ballots (only in migration tests)
    stored = await db.fetchval(
        "SELECT value FROM app_state WHERE key = :key", {"key": CHECK_KEY}
    )
    if stored == db.sealer.check_value:
        return
    if stored is not None:
        open_items = await db.fetchval(
            "SELECT (SELECT COUNT(*) FROM polls WHERE ballot_key IS NOT NULL)"
            " + (SELECT COUNT(*) FROM statement_rounds WHERE ballot_key IS NOT NULL)"
        )
        if open_items:
            if db.created_key_file:
                db.key_file.unlink(missing_ok=True)  # not the secret to keep: do not leave it
            raise SealingError(
                f"the installation secret ({db.key_file} or HEARTH_SECRET) is not the one this "
                f"database was used with, and {open_items} open poll(s) or statement round(s) "
                "need it to count their votes; restore the original secret"
            )
        log.warning("a new installation secret is in use (no open poll depended on the old one)")
    await db.execute(
        "INSERT INTO app_state (key, value) VALUES (:key, :value)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"key": CHECK_KEY, "value": db.sealer.check_value},
    )


async def seal_legacy(db: Database, report_params: dict[str, Any] | None = None) -> bool:
    """Convert an older version's plaintext ballots; True if anything was converted."""
    params = report_params or {}
    sealer = db.sealer
    # Which legacy tables exist, asked through the engine's own catalogue (``table_names``
    # on both engines), before the transaction: this runs once at start, before any other
    # writer, and only this function drops them. (A PostgreSQL database never had an older
    # version's tables; its migrations may still create the empty legacy pair.)
    tables = set(await db.table_names())
    legacy_polls = "legacy_poll_ballots" in tables
    legacy_votes = "legacy_statement_votes" in tables
    if not (legacy_polls or legacy_votes):
        return False
    async with db.transaction() as conn:
        # A new database has the legacy tables too (0009 renames what 0003 made): empty.
        held = 0
        for table, present in (
            ("legacy_poll_ballots", legacy_polls),
            ("legacy_statement_votes", legacy_votes),
        ):
            if present:
                held += int((await _rows(conn, f"SELECT COUNT(*) FROM {table}"))[0][0])
        if legacy_polls:
            for row in await _rows(
                conn, "SELECT * FROM polls WHERE closed_at IS NULL ORDER BY id"
            ):
                poll = poll_from_row(row)
                new_key, sealed_key = sealer.new_key("poll", poll.id)
                # An anonymous voter is known only by the old HMAC key: recover them among
                # the community's members (the old raw key is still here, by definition).
                old_key = row["ballot_key"]
                members = [
                    r[0] for r in await _rows(
                        conn, "SELECT user_id FROM memberships WHERE community_id = :community_id",
                        {"community_id": poll.community_id},
                    )
                ]
                by_old = {voter_key(bytes(old_key), m): m for m in members} if old_key else {}
                for b in await _rows(
                    conn,
                    "SELECT voter_key, user_id, ballot FROM legacy_poll_ballots"
                    " WHERE poll_id = :poll_id",
                    {"poll_id": poll.id},
                ):
                    user = b["user_id"] if b["user_id"] is not None else by_old.get(
                        bytes(b["voter_key"])
                    )
                    if user is None:
                        continue  # a voter who has since been erased: their vote goes too
                    key = voter_key(new_key, user)
                    ballot = decode_ballot(poll.kind, b["ballot"])
                    await conn.execute(
                        "INSERT INTO poll_sealed_ballots (poll_id, voter_key, user_id, sealed)"
                        " VALUES (:poll_id, :voter_key, :user_id, :sealed)",
                        {"poll_id": poll.id, "voter_key": key,
                         "user_id": None if poll.anonymous else user,
                         "sealed": seal_ballot(new_key, poll, key, ballot)},
                    )
                await conn.execute(
                    "UPDATE polls SET ballot_key = :key WHERE id = :id",
                    {"key": sealed_key, "id": poll.id},
                )
            await conn.execute("DROP TABLE legacy_poll_ballots")
        if legacy_votes:
            for rnd in await _rows(conn, "SELECT * FROM statement_rounds ORDER BY id"):
                votes = await _rows(
                    conn,
                    "SELECT v.user_id, v.statement_id, v.vote FROM legacy_statement_votes v"
                    " JOIN statements s ON s.id = v.statement_id WHERE s.round_id = :round_id"
                    " ORDER BY v.statement_id, v.user_id",
                    {"round_id": rnd["id"]},
                )
                if rnd["closed_at"] is None:
                    new_key, sealed_key = sealer.new_key("round", rnd["id"])
                    for v in votes:
                        if v["user_id"] <= 0:
                            continue
                        voter = Sealer.voter_key(new_key, v["user_id"])
                        await conn.execute(
                            "INSERT INTO statement_sealed_votes"
                            " (round_id, statement_id, voter_key, sealed)"
                            " VALUES (:round_id, :statement_id, :voter_key, :sealed)",
                            {"round_id": rnd["id"], "statement_id": v["statement_id"],
                             "voter_key": voter,
                             "sealed": seal_vote(new_key, rnd["id"], v["statement_id"], voter,
                                                 Vote(v["vote"]))},
                        )
                    await conn.execute(
                        "UPDATE statement_rounds SET ballot_key = :key WHERE id = :id",
                        {"key": sealed_key, "id": rnd["id"]},
                    )
                elif rnd["report"] is None:
                    statements = await _rows(
                        conn,
                        "SELECT id, text FROM statements WHERE round_id = :round_id ORDER BY id",
                        {"round_id": rnd["id"]},
                    )
                    disciplines = {
                        r[0]: r[1] for r in await _rows(
                            conn, "SELECT user_id, discipline FROM memberships"
                            " WHERE community_id = :community_id",
                            {"community_id": rnd["community_id"]},
                        )
                    }
                    report = statement_report(
                        [(s[0], s[1]) for s in statements],
                        [(v[0], v[1], Vote(v[2])) for v in votes],
                        disciplines,
                        **params,
                    )
                    # Its collective statement was written when it closed; only the report
                    # (aggregates) is frozen now, before the votes go.
                    await conn.execute(
                        "UPDATE statement_rounds SET report = :report WHERE id = :id",
                        {"report": report_to_json(report), "id": rnd["id"]},
                    )
            await conn.execute("DROP TABLE legacy_statement_votes")
    await db.scrub()
    if held:
        log.info("sealed %d ballot(s) and statement vote(s) stored by an older version", held)
    return held > 0


async def after_migrations(db: Database, report_params: dict[str, Any] | None = None) -> None:
    await seal_legacy(db, report_params)
    await check_secret(db)
    # A crash between a close and its WAL truncation leaves old frames behind: scrub now.
    await db.scrub()

