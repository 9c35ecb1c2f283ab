"""Tools of a curious admin with a copy of the data directory.

:func:`copy_data_dir` copies every file, as ``cp -r`` would while the bot runs.
:func:`commit_states` replays a WAL commit by commit: it applies the frames of the WAL
(with the salts of its header, in order) to the database file's pages and yields a database
image after each commit, which :func:`open_image` opens read-only. :func:`operator_links`
is the attack on one image by someone who also holds the installation secret: unseal every
ballot key present, compute every member's voter key, open their ballots.
:func:`find_bytes` scans every byte of every file for known secrets.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from bot.db.polls import open_ballot, poll_from_row
from bot.db.sealing import Sealer, SealingError, parse_secret
from bot.db.statements import open_vote

WAL_HEADER = 32
FRAME_HEADER = 24


def copy_data_dir(src: Path, dst: Path) -> Path:
    """Copy every file under ``src`` (database, WAL, shared memory, key file, ...)."""
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


def commit_states(db_file: Path) -> Iterator[bytes]:
    """The database image before the WAL and after each commit in it, in order."""
    main = bytearray(db_file.read_bytes())
    yield bytes(main)
    wal_file = db_file.with_name(db_file.name + "-wal")
    wal = wal_file.read_bytes() if wal_file.exists() else b""
    if len(wal) < WAL_HEADER:
        return
    page_size = struct.unpack(">I", wal[8:12])[0]
    salt = wal[16:24]
    pending: list[tuple[int, bytes]] = []
    image = bytearray(main)
    offset = WAL_HEADER
    while offset + FRAME_HEADER + page_size <= len(wal):
        header = wal[offset : offset + FRAME_HEADER]
        page_no, commit_size = struct.unpack(">II", header[:8])
        if header[8:16] != salt:
            break  # frames of an older generation of the WAL: not part of this history
        pending.append((page_no, wal[offset + FRAME_HEADER : offset + FRAME_HEADER + page_size]))
        offset += FRAME_HEADER + page_size
        if commit_size:
            for number, data in pending:
                start = (number - 1) * page_size
                if len(image) < start + page_size:
                    image.extend(b"\0" * (start + page_size - len(image)))
                image[start : start + page_size] = data
            del image[commit_size * page_size :]
            pending.clear()
            yield bytes(image)


def open_image(image: bytes, where: Path) -> sqlite3.Connection:
    where.write_bytes(image)
    conn = sqlite3.connect(f"file:{where}?mode=ro&immutable=1", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


Link = tuple[str, int, int, str]


def operator_links(conn: sqlite3.Connection, secret: bytes | None) -> set[Link]:
    """Every (scope, item, member, choice) one database image reveals to this attacker.

    Without the secret nothing can be unsealed; with it, every poll or round whose key is
    still in the image gives up every member's ballot.
    """
    found: set[Link] = set()
    if secret is None:
        return found
    sealer = Sealer(secret)
    tables = _tables(conn)
    if "poll_sealed_ballots" in tables:
        for row in conn.execute("SELECT * FROM polls WHERE ballot_key IS NOT NULL"):
            try:
                key = sealer.unseal_key("poll", row["id"], bytes(row["ballot_key"]))
            except SealingError:
                continue
            poll = poll_from_row(row)
            members = [r[0] for r in conn.execute(
                "SELECT user_id FROM memberships WHERE community_id = :c",
                {"c": poll.community_id})]
            for member in members:
                voter = Sealer.voter_key(key, member)
                for (sealed,) in conn.execute(
                    "SELECT sealed FROM poll_sealed_ballots"
                    " WHERE poll_id = :poll AND voter_key = :voter",
                    {"poll": poll.id, "voter": voter},
                ):
                    found.add(("poll", poll.id, member,
                               repr(open_ballot(key, poll, voter, bytes(sealed)))))
    if "statement_sealed_votes" in tables:
        for row in conn.execute("SELECT * FROM statement_rounds WHERE ballot_key IS NOT NULL"):
            try:
                key = sealer.unseal_key("round", row["id"], bytes(row["ballot_key"]))
            except SealingError:
                continue
            members = [r[0] for r in conn.execute(
                "SELECT user_id FROM memberships WHERE community_id = :c",
                {"c": row["community_id"]})]
            for member in members:
                voter = Sealer.voter_key(key, member)
                for statement_id, sealed in conn.execute(
                    "SELECT statement_id, sealed FROM statement_sealed_votes"
                    " WHERE round_id = :round AND voter_key = :voter",
                    {"round": row["id"], "voter": voter},
                ):
                    vote = open_vote(key, row["id"], statement_id, voter, bytes(sealed))
                    found.add(("round", row["id"], member, f"{statement_id}:{vote.value}"))
    return found


def replay_attack(data_dir: Path, db_name: str, scratch: Path, *, with_secret: bool
                  ) -> set[Link]:
    """Replay the copy's WAL commit by commit; every link any state reveals."""
    secret = None
    key_file = data_dir / "hearth.key"
    if with_secret and key_file.exists():
        secret = parse_secret(key_file.read_text())
    links: set[Link] = set()
    for n, image in enumerate(commit_states(data_dir / db_name)):
        with closing(open_image(image, scratch / f"state-{n}.db")) as conn:
            links |= operator_links(conn, secret)
    return links


def find_bytes(data_dir: Path, needles: dict[str, bytes]) -> list[tuple[str, str]]:
    """(file, needle name) for every needle found anywhere in any file under ``data_dir``."""
    hits = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        blob = path.read_bytes()
        for name, needle in needles.items():
            if needle and needle in blob:
                hits.append((path.name, name))
    return hits
