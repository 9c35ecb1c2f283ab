"""Process crash: SIGKILL the real bot process in the middle of a burst of votes.

The promise under test (issue 7, "Faults survived"): every vote whose interaction the bot
acknowledged is counted after a restart, none twice, and whoever was not acknowledged can
simply vote again. The emulator lives in the test process, so its record of interaction
callbacks is exactly what members saw on their screens when the process died.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.db.database import Database
from bot.db.polls import PollRepo
from tests.emulator.interactions import InteractionRecord
from tests.emulator.server import DiscordEmulator, RequestLog
from tests.emulator.state import GuildState, MessageState, UserState
from tests.engines import ENGINES, database_target
from tests.faults._proc import BotProcess

COMMUNITY = "Carers Voice"
OPTIONS = ("Tea", "Coffee", "Water")


@dataclass
class CrashWorld:
    emu: DiscordEmulator
    guild: GuildState
    owner: UserState
    bot: BotProcess
    db_path: Path | str
    key_file: Path

    def open(self) -> Database:
        return Database(self.db_path, key_file=self.key_file)

    async def query(
        self, sql: str, params: dict[str, object] | None = None
    ) -> list[tuple[object, ...]]:
        """Read the database directly, as an operator would after a crash."""
        async with self.open() as db:
            return [tuple(r) for r in await db.fetchall(sql, params or {})]


@pytest.fixture(params=ENGINES)
async def crash_world(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[CrashWorld]:
    async with (
        database_target(str(request.param), tmp_path) as db_path,
        DiscordEmulator() as emu,
    ):
        owner = emu.create_user("owner")
        guild = emu.create_guild("Health Charity", owner=owner, features=("COMMUNITY",))
        key_file = tmp_path / "hearth.key"
        bot = BotProcess(emu, db_path, tmp_path / "bot.log", {"HEARTH_KEY_FILE": str(key_file)})
        # `python -m bot sync` registers the slash commands, as an operator does once
        assert await bot.run_once("sync") == 0, bot.log_text()
        assert emu.command("poll") is not None and emu.command("community") is not None
        await bot.start()
        try:
            yield CrashWorld(emu, guild, owner, bot, db_path, key_file)
        finally:
            if bot.proc is not None and bot.proc.returncode is None:
                await bot.stop()


async def add_members(w: CrashWorld, n: int) -> list[UserState]:
    people = []
    for i in range(n):
        user = w.emu.create_user(f"member{i}")
        w.emu.add_member(w.guild, user)
        people.append(user)
    pending = [
        await w.emu.slash(
            w.guild, w.owner, "community add", community=COMMUNITY, member=p,
            discipline="carer", wait=False, timeout=30,
        )
        for p in people
    ]
    for rec in pending:
        await rec.wait_final(30)
        assert "Added" in rec.content, rec.content
    return people


def poll_message(w: CrashWorld) -> MessageState:
    voice = w.emu.channel_by_name(w.guild, "carers-voice-voice")
    assert voice is not None
    [msg] = [m for m in w.emu.messages_in(voice) if m.components]
    return msg


def acknowledged(rec: InteractionRecord) -> bool:
    return rec.response is not None


def choice(i: int, cycle: int) -> int:
    """The option member i picks in a given cycle (changes every cycle)."""
    return (i + cycle) % len(OPTIONS)


async def stored_voters(w: CrashWorld, poll_id: int) -> set[int]:
    return {int(r[0]) for r in await w.query(  # type: ignore[call-overload]
        "SELECT user_id FROM poll_voters WHERE poll_id = :p", {"p": poll_id})}


async def ballot_count(w: CrashWorld, poll_id: int) -> int:
    return int(
        (await w.query(  # type: ignore[call-overload]
            "SELECT COUNT(*) FROM poll_sealed_ballots WHERE poll_id = :p", {"p": poll_id}
        ))[0][0]
    )


def is_vote_ack(entry: RequestLog) -> bool:
    return entry.method == "POST" and bool(
        re.fullmatch(r"/interactions/\d+/[^/]+/callback", entry.path)
    ) and entry.status < 300


async def crash_cycle(
    w: CrashWorld, people: list[UserState], poll_id: int, cycle: int, kill_after: int,
    window: int = 12,
) -> dict[int, InteractionRecord]:
    """Members keep clicking (at most `window` clicks unanswered at any moment, as a room
    of people voting together), and the process is SIGKILLed the instant the emulator has
    recorded the `kill_after`-th acknowledgement, from inside the request hook. At that
    moment other votes are at every stage: read, queued for the group commit, committed
    but not yet acknowledged. Members who had not clicked yet find the bot gone.

    Returns every interaction sent, by member index.
    """
    msg = poll_message(w)
    acks = 0

    def kill_on_ack(entry: RequestLog) -> None:
        nonlocal acks
        if is_vote_ack(entry):
            acks += 1
            if acks == kill_after:
                w.bot.kill()

    w.emu.request_hooks.append(kill_on_ack)
    sent: dict[int, InteractionRecord] = {}
    try:
        for i, person in enumerate(people):
            await w.emu.wait_for(
                lambda: acks >= kill_after
                or sum(not acknowledged(r) for r in sent.values()) < window,
                30, "room for another click",
            )
            if acks >= kill_after:
                break
            custom_id = f"poll:{poll_id}:v:{choice(i, cycle)}"
            sent[i] = await w.emu.click(person, msg, custom_id, wait=False)
        await w.bot.wait_dead()
    finally:
        w.emu.request_hooks.remove(kill_on_ack)
    # Whatever the emulator recorded as answered is what people saw; nothing more can come.
    for r in sent.values():
        if acknowledged(r):
            assert re.search(r"recorded|changed to|already your vote", r.content), r.content
    return sent


async def own_ballots(w: CrashWorld, poll_id: int, people: list[UserState]) -> list[object]:
    """Each member's stored ballot, found as the bot finds it (HMAC of the open poll's key)."""
    async with w.open() as db:
        repo = PollRepo(db)
        return [await repo.own_ballot(poll_id, p.id) for p in people]


async def check_crash_outcome(
    w: CrashWorld, people: list[UserState], poll_id: int, cycle: int,
    sent: dict[int, InteractionRecord], before: list[object],
) -> list[int]:
    """After the kill: acknowledged votes are stored exactly as acknowledged, nothing is
    counted twice, and a vote that was not acknowledged is either absent or exactly what
    the member clicked. Returns the indexes of members who must vote again."""
    acked = {i for i, r in sent.items() if acknowledged(r)}
    if isinstance(w.db_path, Path) or not str(w.db_path).startswith("postgresql"):
        assert await w.query("PRAGMA integrity_check") == [("ok",)]
    stored = await stored_voters(w, poll_id)
    assert {people[i].id for i in acked} <= stored, "an acknowledged vote was lost"
    assert await ballot_count(w, poll_id) == len(stored), "one ballot per voter, none twice"
    now = await own_ballots(w, poll_id, people)
    for i, ballot in enumerate(now):
        if i in acked:
            assert ballot == choice(i, cycle), f"member {i}: acknowledged vote not stored"
        elif i in sent:
            # killed between COMMIT and the answer, or before the write: either is fine
            assert ballot in (before[i], choice(i, cycle)), f"member {i}: {ballot!r}"
        else:
            assert ballot == before[i], f"member {i} did not click, yet their vote moved"
    return [i for i in range(len(people)) if i not in acked]


async def vote_again(
    w: CrashWorld, people: list[UserState], poll_id: int, cycle: int, who: list[int]
) -> None:
    """Those not acknowledged click again after the restart; each gets a clear answer."""
    msg = poll_message(w)
    recs = list(await asyncio.gather(*(
        w.emu.click(people[i], msg, f"poll:{poll_id}:v:{choice(i, cycle)}", wait=False)
        for i in who
    )))
    for r in recs:
        await r.wait_final(30)
        assert re.search(r"recorded|changed to|already your vote", r.content), r.content
    assert await own_ballots(w, poll_id, people) == [
        choice(i, cycle) for i in range(len(people))
    ]


async def start_poll(w: CrashWorld, n: int) -> tuple[list[UserState], int]:
    rec = await w.emu.slash(w.guild, w.owner, "community create", name=COMMUNITY,
                            kind="practice", timeout=30)
    assert "Created" in rec.content, rec.content
    people = await add_members(w, n)
    rec = await w.emu.slash(w.guild, w.owner, "poll create", timeout=30, options={
        "community": COMMUNITY, "question": "What should we drink?", "kind": "single",
        "options": "; ".join(OPTIONS)})
    assert "Posted" in rec.content, rec.content
    [(poll_id,)] = await w.query("SELECT max(id) FROM polls")  # this guild's: the newest
    assert isinstance(poll_id, int)
    return people, poll_id


async def close_and_check(w: CrashWorld, people: list[UserState], poll_id: int, cycle: int
                          ) -> None:
    """The result everyone sees counts each member exactly once, with their last vote."""
    n = len(people)
    rec = await w.emu.slash(w.guild, w.owner, "poll close", poll=str(poll_id), timeout=30)
    assert "Closed poll" in rec.content, rec.content
    voice = w.emu.channel_by_name(w.guild, "carers-voice-voice")
    assert voice is not None
    [results] = [m for m in w.emu.messages_in(voice)
                 if m.embeds and str(m.embeds[0].get("title", "")).startswith("Results")]
    turnout = [f["value"] for f in results.embeds[0]["fields"] if f["name"] == "Turnout"]
    assert len(turnout) == 1 and turnout[0].startswith(f"{n} of {n + 1} members "), turnout
    [(voters, eligible)] = await w.query(
        "SELECT voters, eligible FROM polls WHERE id = :p", {"p": poll_id}
    )
    assert (voters, eligible) == (n, n + 1)
    tally = Counter(choice(i, cycle) for i in range(n))
    rows = await w.query(
        "SELECT ballot FROM poll_final_ballots WHERE poll_id = :p", {"p": poll_id}
    )
    assert Counter(int(str(r[0])) for r in rows) == tally


async def test_sigkill_mid_burst_loses_no_acknowledged_vote_and_counts_none_twice(
    crash_world: CrashWorld,
) -> None:
    w = crash_world
    n = 200
    people, poll_id = await start_poll(w, n)
    before: list[object] = [None] * n

    sent = await crash_cycle(w, people, poll_id, cycle=0, kill_after=n // 3)
    acked = [i for i, r in sent.items() if acknowledged(r)]
    assert n // 3 <= len(acked) < n // 2, "the kill must land in the middle of the burst"
    again = await check_crash_outcome(w, people, poll_id, 0, sent, before)

    # restart on the same database: the buttons still work; whoever was not acknowledged
    # votes again, and a vote stored without its answer is not counted a second time
    await w.bot.start()
    await vote_again(w, people, poll_id, 0, again)
    assert await stored_voters(w, poll_id) == {p.id for p in people}
    assert await ballot_count(w, poll_id) == n

    await close_and_check(w, people, poll_id, 0)
    await w.bot.stop()
    assert not w.bot.error_lines(), w.bot.error_lines()


@pytest.mark.slow
async def test_soak_repeated_sigkills_while_members_change_their_votes(
    crash_world: CrashWorld,
) -> None:
    """Several crash cycles; in each, every member changes their vote (soak, not in CI)."""
    w = crash_world
    n = 200
    people, poll_id = await start_poll(w, n)
    before: list[object] = [None] * n
    for cycle, kill_after in enumerate((20, 90, 150, 55, 199)):
        sent = await crash_cycle(w, people, poll_id, cycle, kill_after)
        again = await check_crash_outcome(w, people, poll_id, cycle, sent, before)
        await w.bot.start()
        await vote_again(w, people, poll_id, cycle, again)
        before = await own_ballots(w, poll_id, people)
        assert await ballot_count(w, poll_id) == n
        assert len(await stored_voters(w, poll_id)) == n
    await close_and_check(w, people, poll_id, cycle)
    await w.bot.stop()
    assert not w.bot.error_lines(), w.bot.error_lines()
