"""The installation secret through the real CLI: created once beside the database with mode
0600, or taken from HEARTH_SECRET / HEARTH_KEY_FILE; a malformed one, or one that cannot open
the ballots of polls still open, stops Hearth with one line saying what to restore."""

from __future__ import annotations

import asyncio
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

from bot.db import migrations
from bot.db.database import Database
from bot.db.polls import PollRepo
from bot.db.sealing import parse_secret
from bot.domain.polls import parse_poll
from tests.db.test_polls_repo import community
from tests.test_cli_dotenv import bot

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)


def test_first_start_creates_a_private_key_file_beside_the_database(tmp_path: Path) -> None:
    db = tmp_path / "data" / "hearth.db"
    proc = bot(["db", "upgrade"], tmp_path, HEARTH_DB=str(db))
    assert proc.returncode == 0, proc.stderr
    key = tmp_path / "data" / "hearth.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    secret = parse_secret(key.read_text())
    # never written into the database
    assert secret not in db.read_bytes() and secret.hex().encode() not in db.read_bytes()
    # a second run keeps it
    assert bot(["db", "upgrade"], tmp_path, HEARTH_DB=str(db)).returncode == 0
    assert parse_secret(key.read_text()) == secret


def test_hearth_secret_and_key_file_settings(tmp_path: Path) -> None:
    db = tmp_path / "data" / "hearth.db"
    proc = bot(["db", "upgrade"], tmp_path, HEARTH_DB=str(db),
               HEARTH_SECRET=secrets.token_hex(32))
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "data" / "hearth.key").exists()

    elsewhere = tmp_path / "secrets" / "hearth.key"
    proc = bot(["db", "upgrade"], tmp_path, HEARTH_DB=str(tmp_path / "b.db"),
               HEARTH_KEY_FILE=str(elsewhere))
    assert proc.returncode == 0, proc.stderr
    assert elsewhere.exists() and not (tmp_path / "hearth.key").exists()

    proc = bot(["db", "upgrade"], tmp_path, HEARTH_DB=str(db), HEARTH_SECRET="not-a-key")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "HEARTH_SECRET" in proc.stderr, proc.stderr
    assert "64 hex digits" in proc.stderr


async def _open_poll(db_path: Path) -> None:
    async with Database(db_path) as db:
        await migrations.upgrade(db)
        cid = await community(db)
        await PollRepo(db).create(cid, parse_poll("single", "Day?", "Mon; Tue"),
                                  anonymous=True, created_by=9, created_at=T0, closes_at=None)


def test_a_different_secret_is_refused_while_a_poll_needs_the_old_one(tmp_path: Path) -> None:
    db = tmp_path / "data" / "hearth.db"
    asyncio.run(_open_poll(db))
    key = tmp_path / "data" / "hearth.key"
    original = key.read_text()
    key.unlink()  # a restore that forgot the key file

    proc = bot(["db", "upgrade"], tmp_path, HEARTH_DB=str(db))
    assert proc.returncode == 1
    [line] = [ln for ln in proc.stderr.splitlines() if ln.startswith("hearth:")]
    assert "not the one this database was used with" in line
    assert "1 open poll" in line and "restore" in line
    assert not key.exists(), "the wrong secret it generated must not be left to be kept"

    key.write_text(original)
    proc = bot(["db", "upgrade"], tmp_path, HEARTH_DB=str(db))
    assert proc.returncode == 0, proc.stderr
