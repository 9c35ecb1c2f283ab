"""A curious admin copies the data directory: what can they learn about anonymous votes?

Real votes go through the bot (clicks on the poll and the statement round), then the whole
data directory is copied as ``cp -r`` would copy it, and attacked:

* while the poll is open, without the installation secret: the WAL is replayed commit by
  commit (each vote commit adds a voter and a ballot together) and every byte of every
  file is searched for the poll's key: nothing links a voter to a choice;
* while open, with the secret too (the operator): the same replay links every voter, which
  is the limit the README states, and shows the attack itself works;
* after close, with the secret and everything else: the replay finds nothing, and no byte of
  any file holds a poll or round key (raw or sealed) or any voter's ballot key;
* after a crash between the close and the WAL truncation: the next start truncates it
  before anything else, with the same result.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.db import migrations
from bot.db.database import Database
from bot.db.sealing import Sealer
from bot.services.polls import PollService
from tests.e2e.hearth import HearthWorld
from tests.e2e.test_polls import create_poll, poll_message
from tests.e2e.test_privacy import vote_statements
from tests.forensics import copy_data_dir, find_bytes, replay_attack

pytestmark = pytest.mark.sqlite_only("copies and replays the SQLite files of the data directory")

COMMUNITY = "Carers Voice"
OPTIONS = ["Monday", "Tuesday", "Wednesday", "Thursday"]
DB = "hearth.db"


async def _votes(world: HearthWorld) -> tuple[dict[int, int], dict[int, str]]:
    """Six members vote in a poll (each changes their mind once) and a statement round."""
    voters = [world.person(f"voter{i}") for i in range(6)]
    await world.create_community(COMMUNITY, members={p: "carer" for p in voters})
    await create_poll(world, question="Which evening suits?", choices="; ".join(OPTIONS),
                      kind="single", closes="in 3 days")
    msg = poll_message(world)
    poll_truth: dict[int, int] = {}
    for i, v in enumerate(voters):
        await world.emu.click(v, msg, f"poll:1:v:{(i + 1) % 4}")
        await world.emu.click(v, msg, f"poll:1:v:{i % 4}")
        poll_truth[v.id] = i % 4
    for text in ("Carers need respite", "Letters are unclear", "Parking costs too much"):
        r = await world.slash(world.owner, "statement add", community=COMMUNITY, text=text)
        assert "Added" in r.content, r.content
    r = await world.slash(world.owner, "statement round", community=COMMUNITY, closes="in 1 day")
    assert "Opened statement round #1" in r.content, r.content
    round_truth: dict[int, str] = {}
    for i, v in enumerate(voters):
        code = "a" if i % 2 == 0 else "d"
        await vote_statements(world, v, 1, code)
        round_truth[v.id] = "agree" if code == "a" else "disagree"
    return poll_truth, round_truth


async def _secrets(world: HearthWorld, voters: list[int]) -> dict[str, bytes]:
    """Every key of the open poll and round, raw and sealed, and every voter's ballot key."""
    assert world.db is not None
    out: dict[str, bytes] = {}
    for scope, table in (("poll", "polls"), ("round", "statement_rounds")):
        sealed = bytes(await world.db.fetchval(f"SELECT ballot_key FROM {table} WHERE id = 1"))
        raw = world.db.sealer.unseal_key(scope, 1, sealed)
        out[f"sealed {scope} key"] = sealed
        out[f"raw {scope} key"] = raw
        for v in voters:
            out[f"{scope} voter key of {v}"] = Sealer.voter_key(raw, v)
    return out


def _poll_links(links: set[tuple[str, int, int, str]]) -> dict[int, set[str]]:
    """Every choice the replay tied to each member (their first vote and their change)."""
    out: dict[int, set[str]] = {}
    for scope, _, member, choice in links:
        if scope == "poll":
            out.setdefault(member, set()).add(choice)
    return out


async def test_a_copy_of_the_data_directory_links_no_voter_to_a_choice(
    world: HearthWorld, tmp_path_factory: pytest.TempPathFactory
) -> None:
    poll_truth, round_truth = await _votes(world)
    data_dir = world.db_path.parent
    known = await _secrets(world, list(poll_truth))
    scratch = tmp_path_factory.mktemp("scratch")

    # While open, without the secret: the WAL pairs voters with sealed bytes, nothing more.
    open_copy = copy_data_dir(data_dir, tmp_path_factory.mktemp("open") / "data")
    (open_copy / "hearth.key").unlink()
    assert (open_copy / f"{DB}-wal").stat().st_size > 0, "the votes should still be in the WAL"
    assert replay_attack(open_copy, DB, scratch, with_secret=False) == set()
    raw_keys = {k: v for k, v in known.items() if k.startswith("raw ")}
    assert find_bytes(open_copy, raw_keys) == []

    # While open, the operator (database and secret) can link, as the README says; this is
    # also what shows the attack below would find a link if one were left.
    operator_copy = copy_data_dir(data_dir, tmp_path_factory.mktemp("operator") / "data")
    links = replay_attack(operator_copy, DB, scratch, with_secret=True)
    linked = _poll_links(links)
    assert set(linked) == set(poll_truth)
    assert all(repr(choice) in linked[m] for m, choice in poll_truth.items())
    assert {m for scope, _, m, _ in links if scope == "round"} == set(round_truth)

    # Close both (the round after a day, the poll after three).
    await world.advance(timedelta(days=3, minutes=1))
    assert world.db is not None
    assert await world.db.fetchval("SELECT closed_at FROM polls WHERE id = 1") is not None
    assert await world.db.fetchval("SELECT closed_at FROM statement_rounds WHERE id = 1")

    after = copy_data_dir(data_dir, tmp_path_factory.mktemp("after") / "data")
    # (The WAL was truncated at close; what the bot wrote since, e.g. the results post's
    # delivery record, starts a new history that holds no key: the scans below prove it.)
    assert replay_attack(after, DB, scratch, with_secret=True) == set()
    assert find_bytes(after, known) == []
    # ...and the published results are intact.
    service = world.bot.services.get(PollService)  # type: ignore[union-attr]
    poll = await service.get(1)
    assert poll is not None
    result = await service.current_result(poll)
    assert [o.count for o in result.option_results] == [2, 2, 1, 1]


async def test_a_crash_before_the_wal_is_truncated_is_scrubbed_at_the_next_start(
    world: HearthWorld, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    poll_truth, _ = await _votes(world)
    known = await _secrets(world, list(poll_truth))

    async def crashed_before_scrub(self: Database, *, attempts: int = 20) -> bool:
        return False

    # The close commits, then the process dies before the WAL truncation.
    monkeypatch.setattr(Database, "scrub", crashed_before_scrub)
    await world.advance(timedelta(days=3, minutes=1))
    crashed = copy_data_dir(world.db_path.parent, tmp_path_factory.mktemp("crash") / "data")
    monkeypatch.undo()
    scratch = tmp_path_factory.mktemp("scratch")
    # The threat is real: the WAL's older commits still hold the keys.
    assert _poll_links(replay_attack(crashed, DB, scratch, with_secret=True))
    # The next start (database opened and upgraded, as `python -m bot` does) scrubs first.
    db = Database(crashed / DB)
    await db.connect()
    try:
        await migrations.upgrade(db)
        assert replay_attack(crashed, DB, scratch, with_secret=True) == set()
        assert find_bytes(crashed, known) == []
    finally:
        await db.close()


def test_forensics_reads_a_wal_it_did_not_write(tmp_path: Path) -> None:
    """The replay tool itself: each commit of a plain sqlite3 WAL is one state."""
    import sqlite3

    path = tmp_path / "t.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t (x)")
    for i in range(3):
        conn.execute("INSERT INTO t VALUES (:x)", {"x": i})
    from tests.forensics import commit_states, open_image

    counts = []
    for n, image in enumerate(commit_states(path)):
        probe = open_image(image, tmp_path / f"s{n}.db")
        try:
            counts.append(probe.execute("SELECT COUNT(*) FROM t").fetchone()[0])
        except sqlite3.DatabaseError:
            counts.append(None)  # before the table existed
        probe.close()
    conn.close()
    assert counts[-4:] == [0, 1, 2, 3]
