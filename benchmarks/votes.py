# ruff: noqa: ASYNC109  (timeouts are the point of these waits)
"""Benchmark 2: a burst of 2,000 votes within a second, against an ack-only bot.

Why measured this way: the promise is "every acknowledged vote is on disk", so a vote is
acknowledged only after its group-commit batch has been committed with
``synchronous=FULL``. The burst goes through the loopback emulator exactly as people's clicks
do (INTERACTION_CREATE over the gateway websocket, the callback over REST).

Each bot under test runs in a process of its own, as in production: Hearth is the real
``python -m bot`` on a temporary database (as tests/faults/_proc.py runs it), the reference is
``python -m benchmarks._ackbot`` (same client stack, ``on_interaction`` only answers with an
ephemeral message). The emulator and the click driver share this process, so on a 2-core
machine the bot has a core of its own. (An earlier version ran all three in one process and
one event loop; there even the ack-only bot managed only ~800 votes/s, see RESULTS.md.)

Placement (issue 11, fourth pass): by default the harness runs on the first CPU and each bot
under test, with all its threads, on the last (``--no-pin`` leaves placement to the
scheduler). Unpinned, where the scheduler put the bot, the emulator and Hearth's database
thread moved single rounds by up to ±20 %; pinned, rounds agree within a few per cent, and
Hearth's database thread competes for its own bot's core rather than borrowing the
harness's idle time. The harness's own garbage collector is frozen and paused for each
burst (the bots' are untouched), so it cannot stall the gateway mid-burst.

Two references: the ack-only bot as it stands (discord.py's defaults; the issue's targets
are against it), and the same bot with its collector tuned as Hearth tunes its own after
start-up (``bot.app.tune_garbage_collector``). Hearth against the second is what Hearth's
own work per vote (the vote, its sealed ballot, the group commit) costs, that setting aside.

Latency is event → ack, both stamped in the emulator with ``perf_counter``: from the moment
the INTERACTION_CREATE frame is handed to the websocket (the gateway writer, patched here) to
the moment the interaction callback has been received and parsed. The emulator process's and
the bot process's CPU during the burst are reported as shares of wall time, so a reader can
see whether the harness or the bot was the limit.

PostgreSQL (issue 17): with ``--postgres URL`` (default: ``$HEARTH_TEST_POSTGRES`` if set;
``--no-postgres`` ignores it) a third bot runs: Hearth on that server, in a schema made for
the run (reached through the URL's ``search_path``, as tests/engines.py does) and dropped at
the end, with its own key file. Each Hearth has its own community, poll and poll message
(the two databases may give their polls the same id); each is clicked on its own message,
the references on the SQLite Hearth's. Without a server, Hearth on SQLite and the two
references run.

Rounds rotate which bot goes first; each round's Hearth voters
are 2,000 members who have not voted yet in that database (the reference, and the other
Hearth, are shown the same people). Latencies are pooled over rounds, throughput is the
median round; per-round ratios compare each Hearth with the reference of the same round.
For Hearth on PostgreSQL the CPU of every ``postgres`` process on the machine during the
burst is reported too (the server's share; other users of that server count in it).

Correctness: at the end each Hearth's database is reopened through
``bot.db.database.Database`` (either engine, named parameters) and every vote that Hearth
acknowledged must be there exactly once with the option clicked (the ballot is found through
the poll's ballot key, unsealed with the installation secret, as the bot finds it), else the
exit status is 1.

Run: ``.venv/bin/python -m benchmarks.votes [--votes 2000] [--seconds 1.0] [--rounds 5]
[--profile] [--postgres URL | --no-postgres] [--no-pin]`` (``--profile`` runs each Hearth,
PostgreSQL's included, and the reference under cProfile, switched on for the bursts only,
and prints to stderr the top of each Hearth's profile and its own time per click minus the
reference's; the profiled reference has Hearth's GC settings, so the difference is Hearth's
own work; the second reference is left out of a profiled run).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/votes.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, finish, percentile
from tests.engines import postgres_schema

TARGET_RATIO = 0.90
TARGET_P99_MS = 250.0
#: p99 no worse than this multiple of the ack-only bot's at the same offered load (issue 11).
TARGET_P99_RATIO = 1.2
WARMUP = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Stamps:
    """Per-interaction times (perf_counter), keyed by interaction id."""

    created: dict[int, float] = field(default_factory=dict)  # payload built, frame queued
    sent: dict[int, float] = field(default_factory=dict)  # frame handed to the websocket
    acked: dict[int, float] = field(default_factory=dict)  # callback received
    #: thread CPU clock when the payload was set (the driver's synchronous work ends there)
    created_cpu: dict[int, float] = field(default_factory=dict)


class _Stamped:
    """A data descriptor on InteractionRecord: stamps when a field is first set non-empty."""

    def __init__(self, name: str, sink: dict[int, float],
                 cpu_sink: dict[int, float] | None = None) -> None:
        self.slot = "_bench_" + name
        self.sink = sink
        self.cpu_sink = cpu_sink

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return None
        return obj.__dict__.get(self.slot)

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.slot] = value
        if value and obj.id not in self.sink:
            self.sink[obj.id] = time.perf_counter()
            if self.cpu_sink is not None:
                self.cpu_sink[obj.id] = time.thread_time()


def instrument(stamps: Stamps) -> Callable[[], None]:
    """Stamp payload creation, the websocket send of INTERACTION_CREATE, and the callback."""
    from tests.emulator.gateway import Gateway
    from tests.emulator.interactions import InteractionRecord

    saved_rec = {n: InteractionRecord.__dict__.get(n) for n in ("payload", "response")}
    saved_writer = Gateway._writer
    InteractionRecord.payload = _Stamped(  # type: ignore[assignment]
        "payload", stamps.created, stamps.created_cpu)
    InteractionRecord.response = _Stamped("response", stamps.acked)  # type: ignore[assignment]

    async def writer(self: Gateway, session: Any, ws: Any) -> None:
        # Gateway._writer, with a stamp right before each INTERACTION_CREATE goes out.
        while True:
            frame = await session.queue.get()
            if frame is None or ws.closed:
                return
            text = json.dumps(frame)
            if frame.get("t") == "INTERACTION_CREATE":
                stamps.sent[int(frame["d"]["id"])] = time.perf_counter()
            try:
                await ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    Gateway._writer = writer  # type: ignore[method-assign]

    def restore() -> None:
        for n, v in saved_rec.items():
            setattr(InteractionRecord, n, v)
        Gateway._writer = saved_writer  # type: ignore[method-assign]

    return restore


# --------------------------------------------------------------------------- bot processes


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (and its threads), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _main_thread_cpu(pid: int) -> float:
    """CPU seconds of the process's main thread (the event loop): /proc/<pid>/task/<pid>."""
    fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


#: Pinning (the default on two CPUs or more): the harness, i.e. the emulator and the click
#: driver, on the first CPU, the bot under test and all its threads on the last. Each bot
#: then has one core and only its own threads compete for it (Hearth's database thread
#: included), and the scheduler's placement, which moved single rounds by up to ±20 %
#: unpinned, is out of the figures.
CPUS = sorted(os.sched_getaffinity(0))


def _pin_bot() -> None:  # in the bot's process, before it starts
    os.sched_setaffinity(0, {CPUS[-1]})


@dataclass
class BenchBot:
    """One bot under test as a child process (Hearth: ``python -m bot``)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    pin: bool = False  # on CPUS[-1] (see _pin_bot)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def start(self, emu: Any, timeout: float = 60.0) -> None:
        before = self.log_text().count("connected as")
        with self.log_path.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                *self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=out,
                preexec_fn=_pin_bot if self.pin else None)
        proc = self.proc

        def ready() -> bool:
            if proc.returncode is not None:
                raise AssertionError(f"{self.name} exited with {proc.returncode}:\n"
                                     f"{self.log_text()[-4000:]}")
            return self.log_text().count("connected as") > before

        await emu.wait_for(ready, timeout, f"{self.name} to connect")
        await emu.wait_for(lambda: any(s.ws is not None for s in emu.sessions), timeout)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    async def stop(self, emu: Any, timeout: float = 30.0) -> None:
        if not self.running:
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
        # the next bot must get the interactions: wait until the old socket is gone
        await emu.wait_for(lambda: not any(s.ws is not None for s in emu.sessions), 10.0)


# --------------------------------------------------------------------------- the burst


async def burst(emu: Any, bot: BenchBot, people: list[Any], message: Any,
                custom_id: Callable[[int], str], seconds: float,
                stamps: Stamps) -> dict[str, Any]:
    """Click as each person, paced evenly over ``seconds``; wait for every acknowledgement."""
    # The harness's own garbage collector must not pause the gateway mid-burst: everything
    # the emulator has stored so far is frozen, and collection waits until the acks are in
    # (the same for every bot; the bots' own collectors are untouched).
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        return await _burst(emu, bot, people, message, custom_id, seconds, stamps)
    finally:
        gc.enable()


async def _burst(emu: Any, bot: BenchBot, people: list[Any], message: Any,
                 custom_id: Callable[[int], str], seconds: float, stamps: Stamps
                 ) -> dict[str, Any]:
    assert bot.proc is not None
    n = len(people)
    recs: list[Any] = []
    driver_cpu = 0.0
    bot_cpu0 = _proc_cpu(bot.proc.pid)
    main_cpu0 = _main_thread_cpu(bot.proc.pid)
    emu_cpu0 = time.process_time()
    loop_start = time.perf_counter()
    for i, person in enumerate(people):
        delay = loop_start + seconds * i / n - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        c0 = time.thread_time()
        rec = await emu.click(person, message, custom_id(i), wait=False)
        # Only the driver's own synchronous work (building and queueing the interaction),
        # not whatever else ran while click() yielded to the loop.
        driver_cpu += stamps.created_cpu[rec.id] - c0
        recs.append(rec)
    offered_done = time.perf_counter()
    ids = [r.id for r in recs]
    idset = set(ids)
    await emu.wait_for(lambda: idset <= stamps.acked.keys(), timeout=120.0,
                       message=f"not every vote was acknowledged by {bot.name}")
    emu_cpu = time.process_time() - emu_cpu0
    bot_cpu = _proc_cpu(bot.proc.pid) - bot_cpu0
    peak_rss = _peak_rss_mb(bot.proc.pid)
    main_cpu = _main_thread_cpu(bot.proc.pid) - main_cpu0
    first = min(stamps.sent[i] for i in ids)
    last = max(stamps.acked[i] for i in ids)
    wall = last - first
    lat = [(stamps.acked[i] - stamps.sent[i]) * 1000 for i in ids]
    lag = [(stamps.sent[i] - stamps.created[i]) * 1000 for i in ids]
    return {
        "votes": n,
        "offered_seconds": seconds,
        "offer_took_seconds": offered_done - loop_start,
        "wall_seconds": wall,
        "throughput_per_s": n / wall,
        "latencies_ms": lat,
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
        "p99_ms": percentile(lat, 99),
        "max_ms": max(lat),
        "emulator_queue_lag_p99_ms": percentile(lag, 99),
        "bot_cpu_seconds": bot_cpu,
        "bot_cpu_share": bot_cpu / wall,
        # per vote: the event-loop thread, and every other thread (database, executors)
        "bot_loop_cpu_us_per_vote": main_cpu / n * 1e6,
        "bot_other_cpu_us_per_vote": (bot_cpu - main_cpu) / n * 1e6,
        "emulator_cpu_seconds": emu_cpu,
        "emulator_cpu_share": emu_cpu / wall,
        "driver_cpu_us_per_vote": driver_cpu / n * 1e6,
        "bot_peak_rss_mb": peak_rss,
        "records": recs,
    }


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Latencies pooled over rounds; throughput and CPU shares of the median round."""
    lat = [x for r in rounds for x in r["latencies_ms"]]
    by_tp = sorted(rounds, key=lambda r: r["throughput_per_s"])
    mid = by_tp[len(by_tp) // 2]
    return {
        "rounds": len(rounds),
        "votes_per_round": rounds[0]["votes"],
        "throughput_per_s": statistics.median(r["throughput_per_s"] for r in rounds),
        "throughput_per_round": [round(r["throughput_per_s"], 1) for r in rounds],
        "p50_ms": percentile(lat, 50),
        "p95_ms": percentile(lat, 95),
        "p99_ms": percentile(lat, 99),
        "max_ms": max(lat),
        "p99_per_round_ms": [round(r["p99_ms"], 1) for r in rounds],
        "wall_seconds_median_round": mid["wall_seconds"],
        "bot_cpu_share": mid["bot_cpu_share"],
        "emulator_cpu_share": mid["emulator_cpu_share"],
        "emulator_queue_lag_p99_ms": max(r["emulator_queue_lag_p99_ms"] for r in rounds),
        "driver_cpu_us_per_vote": statistics.median(r["driver_cpu_us_per_vote"]
                                                    for r in rounds),
        "bot_loop_cpu_us_per_vote": statistics.median(r["bot_loop_cpu_us_per_vote"]
                                                      for r in rounds),
        "bot_other_cpu_us_per_vote": statistics.median(r["bot_other_cpu_us_per_vote"]
                                                       for r in rounds),
        "bot_peak_rss_mb": max(r["bot_peak_rss_mb"] for r in rounds),
        # per round, to tell a slow round's cause: CPU left unused, or more CPU per vote
        "bot_cpu_share_per_round": [round(r["bot_cpu_share"], 2) for r in rounds],
        "bot_cpu_us_per_vote_per_round": [
            round(r["bot_loop_cpu_us_per_vote"] + r["bot_other_cpu_us_per_vote"])
            for r in rounds
        ],
    }


# --------------------------------------------------------------------------- the run


@dataclass
class HearthSide:
    """One Hearth under test: its database, process, community, poll message, and results."""

    label: str  # "Hearth (SQLite)" or "Hearth (PostgreSQL)"
    target: str  # what HEARTH_DB holds: a SQLite file or a postgresql:// URL
    key_file: Path
    community: str
    bot: BenchBot
    prof_path: Path | None = None
    poll_id: int = 0
    message: Any = None
    rounds: list[dict[str, Any]] = field(default_factory=list)
    acked: dict[int, int] = field(default_factory=dict)  # user id -> option confirmed
    errors: list[str] = field(default_factory=list)
    durable: dict[str, Any] = field(default_factory=dict)

    def vote_id(self, i: int) -> str:
        return f"poll:{self.poll_id}:v:{i % 3}"


def _postgres_processes() -> list[tuple[int, str]]:
    """(pid, /proc/<pid>/stat) of every ``postgres`` process on the machine."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text:
            found.append((int(stat.parent.name), text))
    return found


def _postgres_server_cpu() -> float:
    """CPU seconds of every ``postgres`` process on the machine (server and backends; other
    users of the same server are counted too). /proc/<pid>/stat is world-readable."""
    total = 0.0
    for _pid, text in _postgres_processes():
        fields = text.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def _pin_postgres(cpus: set[int]) -> bool:
    """Pinned runs: the PostgreSQL server (postmaster and backends; backends started later
    inherit it) on the harness's CPU, so the bot's core is the bot's alone, as with a
    database server on another machine (and back on every CPU at the end). False if the
    server's processes cannot be moved (another user's server without the right to): then
    it runs where the scheduler puts it."""
    moved = False
    for pid, _text in _postgres_processes():
        try:
            os.sched_setaffinity(pid, cpus)
            moved = True
        except OSError:
            return False
    return moved


async def _stop_others(bots: list[BenchBot], keep: BenchBot, emu: Any) -> None:
    for other in bots:
        if other is not keep:
            await other.stop(emu)


async def _set_up_side(side: HearthSide, bots: list[BenchBot], emu: Any, guild: Any,
                       owner: Any, people: list[Any]) -> None:
    """Start ``side``'s bot alone, create its community, make everyone a member (straight into
    its database, engine-neutral), open its poll, and find the poll's message."""
    from bot.db.database import Database
    from bot.db.rows import to_db

    await _stop_others(bots, side.bot, emu)
    if not side.bot.running:
        await side.bot.start(emu)
    rec = await emu.slash(guild, owner, "community create", name=side.community,
                          kind="practice", timeout=30)
    assert "Created" in rec.content, rec.content
    now = to_db(datetime.now(UTC))
    async with Database(side.target, key_file=side.key_file) as db:
        row = await db.fetchone("SELECT id, voice_id FROM communities WHERE name = :name",
                                {"name": side.community})
        assert row is not None, f"{side.label}: community not stored"
        community_id, voice_id = int(row["id"]), int(row["voice_id"])
        await db.executemany(
            "INSERT INTO memberships (community_id, user_id, discipline, joined_at)"
            " VALUES (:c, :u, :discipline, :at)",
            [{"c": community_id, "u": p.id, "at": now,
              "discipline": ("gp", "nurse", "patient", "carer")[i % 4]}
             for i, p in enumerate(people)],
        )
    rec = await emu.slash(guild, owner, "poll create", timeout=30, options={
        "community": side.community, "question": "Which evening suits?",
        "options": "Tuesday; Wednesday; Thursday", "kind": "single"})
    async with Database(side.target, key_file=side.key_file) as db:
        side.poll_id = int(await db.fetchval(
            "SELECT MAX(id) FROM polls WHERE community_id = :c", {"c": community_id}))
    voice = emu.get_channel(voice_id)
    side.message = next(m for m in reversed(emu.messages_in(voice)) if m.components)


async def _check_durable(side: HearthSide) -> dict[str, Any]:
    """Reopen ``side``'s database as a stranger would after the bot stopped, through
    ``bot.db.database.Database`` (either engine), and open the sealed ballots with the
    installation secret as the bot does."""
    from bot.db.database import Database
    from bot.db.polls import open_ballot, poll_from_row, voter_key

    poll = {"id": side.poll_id}
    async with Database(side.target, key_file=side.key_file) as db:
        poll_row = await db.fetchone("SELECT * FROM polls WHERE id = :id", poll)
        assert poll_row is not None, f"{side.label}: the poll is gone"
        spec = poll_from_row(poll_row)
        key = db.sealer.unseal_key("poll", side.poll_id, bytes(poll_row["ballot_key"]))
        stored_voters = [int(r[0]) for r in await db.fetchall(
            "SELECT user_id FROM poll_voters WHERE poll_id = :id", poll)]
        ballots = {bytes(k): open_ballot(key, spec, bytes(k), bytes(b))
                   for k, b in await db.fetchall(
                       "SELECT voter_key, sealed FROM poll_sealed_ballots WHERE poll_id = :id",
                       poll)}
        n_ballots = int(await db.fetchval(
            "SELECT COUNT(*) FROM poll_sealed_ballots WHERE poll_id = :id", poll))
    voters = set(stored_voters)
    missing = wrong = 0
    for uid, opt in side.acked.items():
        got = ballots.get(voter_key(key, uid))
        if got is None or uid not in voters:
            missing += 1
        elif got != opt:
            wrong += 1
    return {
        "acknowledged": len(side.acked),
        "stored_voters": len(stored_voters),
        "stored_voters_distinct": len(voters),
        "stored_ballots": n_ballots,
        "acknowledged_missing_from_db": missing,
        "acknowledged_with_wrong_choice": wrong,
    }


async def run(votes: int, seconds: float, rounds: int, profile: bool,
              postgres: str | None = None, pin: bool = False) -> dict[str, Any]:
    from tests.emulator.server import DiscordEmulator
    from tests.faults._proc import bot_env

    stamps = Stamps()
    restore = instrument(stamps)
    per_round = votes + WARMUP
    ref_rounds: list[dict[str, Any]] = []
    gc_ref_rounds: list[dict[str, Any]] = []
    ref_wrong = 0
    try:
        async with AsyncExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hearth-bench-")))
            pg_url = None
            if postgres:
                schema = postgres_schema(postgres, prefix="bench_votes_")
                pg_url = await stack.enter_async_context(schema)
            emu = await stack.enter_async_context(DiscordEmulator())
            postgres_pinned = pin and pg_url is not None and _pin_postgres({CPUS[0]})
            if postgres_pinned:
                stack.callback(_pin_postgres, set(CPUS))
            if os.environ.get("HEARTH_BENCH_LOGS"):  # keep the bots' logs to read after
                stack.callback(shutil.copytree, tmp, os.environ["HEARTH_BENCH_LOGS"],
                               ignore=shutil.ignore_patterns("*.db*", "*.key"),
                               dirs_exist_ok=True)

            def hearth_side(label: str, target: str, key_file: Path, community: str,
                            folder: Path, extra: dict[str, str]) -> HearthSide:
                folder.mkdir(exist_ok=True)
                env = bot_env(emu, target, extra)
                argv = [sys.executable, "-m", "bot"]
                prof = folder / "hearth.prof"
                if profile:
                    env["HEARTH_BENCH_PROFILE"] = str(prof)
                    argv = [sys.executable, "-m", "benchmarks._profiled_bot"]
                bot = BenchBot(label, argv, env, folder / "hearth.log")
                return HearthSide(label, target, key_file, community, bot,
                                  prof if profile else None)

            sides = [hearth_side("Hearth (SQLite)", str(tmp / "hearth.db"), tmp / "hearth.key",
                                 "Bench Circle", tmp, {})]
            if pg_url is not None:
                pg_key = tmp / "pg" / "hearth.key"
                sides.append(hearth_side("Hearth (PostgreSQL)", pg_url, pg_key,
                                         "Bench Circle PG", tmp / "pg",
                                         {"HEARTH_KEY_FILE": str(pg_key)}))
            env = sides[0].bot.env
            ref_argv = [sys.executable, "-m", "benchmarks._ackbot"]
            ref_env = {k: v for k, v in env.items() if k != "HEARTH_BENCH_PROFILE"}
            ack_prof = tmp / "ack.prof"
            if profile:  # the reference under the same profiler, for a side-by-side diff
                ref_env = {**env, "HEARTH_BENCH_PROFILE": str(ack_prof)}
                # with Hearth's GC settings, so the diff is Hearth's own work, not the setting
                ref_argv = [sys.executable, "-m", "benchmarks._profiled_bot", "--ack",
                            "--hearth-gc"]
            ref = BenchBot("ack-only bot", ref_argv, ref_env, tmp / "ackbot.log")
            # The same reference with its collector tuned as Hearth's (bot.app): Hearth minus
            # this one is what Hearth's own work costs, that setting aside.
            gc_ref = BenchBot("ack-only bot, Hearth's GC", [*ref_argv, "--hearth-gc"],
                              ref_env, tmp / "ackbot-gc.log")
            ref_rounds_of = {id(ref): ref_rounds, id(gc_ref): gc_ref_rounds}
            # rotation: each round starts one further along this list
            bots = [sides[0].bot, *(s.bot for s in sides[1:]), ref,
                    *([] if profile else [gc_ref])]
            by_bot = {id(s.bot): s for s in sides}
            for bot in bots:
                bot.pin = pin

            owner = emu.create_user("owner")
            guild = emu.create_guild("Bench Charity", owner=owner, features=("COMMUNITY",))
            people = [emu.create_user(f"voter{i}") for i in range(rounds * per_round)]
            for p in people:
                emu.add_member(guild, p)

            # `python -m bot sync` registers the slash commands, as an operator does once
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "sync", cwd=ROOT, env=sides[0].bot.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            assert await asyncio.wait_for(proc.wait(), 60) == 0, "python -m bot sync failed"
            for side in sides:
                await _set_up_side(side, bots, emu, guild, owner, people)

            for r in range(rounds):
                group = people[r * per_round:(r + 1) * per_round]
                warm, voters = group[:WARMUP], group[WARMUP:]
                shift = r % len(bots)
                for bot in bots[shift:] + bots[:shift]:
                    await _stop_others(bots, bot, emu)
                    if not bot.running:
                        await bot.start(emu)
                    this = by_bot.get(id(bot))
                    if this is not None:
                        pre = await burst(emu, bot, warm, this.message, this.vote_id, 0.2,
                                          stamps)
                        if profile:
                            bot.signal(signal.SIGUSR1)
                        pg0 = _postgres_server_cpu() if this.target == pg_url else 0.0
                        res = await burst(emu, bot, voters, this.message, this.vote_id,
                                          seconds, stamps)
                        if this.target == pg_url:
                            res["db_server_cpu_share"] = (
                                (_postgres_server_cpu() - pg0) / res["wall_seconds"])
                        if profile:
                            bot.signal(signal.SIGUSR2)
                        for records in (pre.pop("records"), res.pop("records")):
                            for i, rec in enumerate(records):
                                data = rec.response.get("data") or {}
                                if "recorded" in data.get("content", ""):
                                    this.acked[rec.user.id] = i % 3
                        this.rounds.append(res)
                    else:
                        message = sides[0].message
                        await burst(emu, bot, people[:WARMUP], message, sides[0].vote_id,
                                    0.2, stamps)
                        if profile:
                            bot.signal(signal.SIGUSR1)
                        res = await burst(emu, bot, voters, message, sides[0].vote_id,
                                          seconds, stamps)
                        if profile:
                            bot.signal(signal.SIGUSR2)
                        ref_wrong += sum(
                            1 for rec in res.pop("records")
                            if (rec.response.get("data") or {}).get("content")
                            != "Thanks, noted.")
                        ref_rounds_of[id(bot)].append(res)
            for bot in bots:
                await bot.stop(emu)
            for side in sides:
                side.errors = [ln for ln in side.bot.log_text().splitlines()
                               if " ERROR " in ln or ln.startswith("Traceback")][:5]

            if profile:
                for side in sides:
                    assert side.prof_path is not None
                    print(f"=== profile: {side.label}", file=sys.stderr)
                    await emu_free_print_profile(side.prof_path)
                    print_profile_diff(side.prof_path, ack_prof, label=side.label)

            # Durability, for each Hearth database (the PostgreSQL schema is still there)
            for side in sides:
                side.durable = await _check_durable(side)
    finally:
        restore()

    rf = summarise(ref_rounds)
    out: dict[str, Any] = {"ack_only": rf, "postgres_pinned": postgres_pinned}
    if gc_ref_rounds:
        out["ack_only_hearth_gc"] = summarise(gc_ref_rounds)
    for side in sides:
        h = summarise(side.rounds)
        if side.target == pg_url:
            h["db_server_cpu_share"] = statistics.median(
                x["db_server_cpu_share"] for x in side.rounds)
        entry = {
            "throughput_ratio": h["throughput_per_s"] / rf["throughput_per_s"],
            "p99_ratio": h["p99_ms"] / rf["p99_ms"] if rf["p99_ms"] else None,
            "target_p99_ratio_met": h["p99_ms"] <= TARGET_P99_RATIO * rf["p99_ms"],
            "target_throughput_met":
                h["throughput_per_s"] >= TARGET_RATIO * rf["throughput_per_s"],
            "target_p99_met": h["p99_ms"] < TARGET_P99_MS,
            "error_log_lines": side.errors,
            **side.durable,
        }
        if side is sides[0]:  # SQLite: the keys this benchmark has always printed
            out["hearth"] = h
            out.update({k: v for k, v in entry.items() if k != "error_log_lines"})
            out["hearth_acknowledged"] = out.pop("acknowledged")
            out["hearth_error_log_lines"] = side.errors
        else:
            out["hearth_postgres"] = {"summary": h, **entry}
    out.update({
        "targets": {"throughput_ratio": TARGET_RATIO, "p99_ms": TARGET_P99_MS,
                    "p99_ratio": TARGET_P99_RATIO},
        "offered": rounds * per_round,
        "ack_only_wrong_answers": ref_wrong,
    })
    return out


async def emu_free_print_profile(path: Path) -> None:
    import pstats

    for _ in range(50):
        if path.exists():  # noqa: ASYNC240 (the bot process writes it; nothing else runs)
            break
        await asyncio.sleep(0.1)
    if not path.exists():  # noqa: ASYNC240
        print("(no profile written)", file=sys.stderr)
        return
    print("--- cProfile of the Hearth process during the bursts (main thread, wall clock)",
          file=sys.stderr)
    st = pstats.Stats(str(path), stream=sys.stderr)
    st.sort_stats("tottime").print_stats(30)
    st.sort_stats("cumulative").print_stats(45)
    # who calls the per-click entry points (a count above one per click means repeats)
    st.print_callers("send_message|schedule_dynamic_item_call|answer_click")
    # Hearth's own code and its database hand-off, by own time
    st.sort_stats("tottime").print_stats(r"/(bot|cogs)/|aiosqlite|group_commit", 40)


def print_profile_diff(hearth: Path, ack: Path, top: int = 30, label: str = "Hearth") -> None:
    """Own time per click, Hearth minus the ack-only bot (same profiler, same clicks; each
    profile is divided by its own number of INTERACTION_CREATE events): where Hearth's extra
    CPU per click goes. Times are inflated by the profiler; compare them with each other."""
    import pstats

    if not (hearth.exists() and ack.exists()):
        print("(no profile of one of the bots)", file=sys.stderr)
        return

    def per_click(path: Path) -> tuple[dict[str, tuple[float, float]], int]:
        raw: Any = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
        # one Interaction built per INTERACTION_CREATE (Hearth's vote clicks no longer go
        # through discord.py's parse_interaction_create: bot/components.py, direct clicks)
        clicks = max(
            (cc for (f, _l, name), (cc, *_rest) in raw.items()
             if name == "parse_interaction_create"
             or (name == "_from_data" and f.endswith("discord/interactions.py"))),
            default=1,
        )
        return {
            f"{f}:{line}({name})": (cc / clicks, tt / clicks * 1e6)
            for (f, line, name), (cc, _nc, tt, _ct, _) in raw.items()
        }, clicks

    for name, path in ((label, hearth), ("ack-only", ack)):
        gc_file = Path(str(path) + ".gc.json")
        if gc_file.exists():
            spent = json.loads(gc_file.read_text())
            print(f"--- garbage collector during the profiled bursts, {name}: "
                  + ", ".join(f"gen {g}: {c} runs {t * 1000:.0f} ms"
                              for g, (c, t) in sorted(spent.items())), file=sys.stderr)
    (h, hn), (a, an) = per_click(hearth), per_click(ack)
    zero = (0.0, 0.0)
    keys = h.keys() | a.keys()
    rows = sorted(((h.get(k, zero)[1] - a.get(k, zero)[1], k) for k in keys), reverse=True)
    print(f"--- own time per click under the profiler, {label} ({hn} clicks) minus ack-only "
          f"({an} clicks): {sum(t for _, t in h.values()):.0f} vs "
          f"{sum(t for _, t in a.values()):.0f} µs", file=sys.stderr)
    for diff, key in rows[:top]:
        print(f"{diff:+8.1f} µs  calls/click {h.get(key, zero)[0]:5.1f} vs "
              f"{a.get(key, zero)[0]:5.1f}  {key[-100:]}", file=sys.stderr)


def _durability_problems(label: str, d: dict[str, Any], expected: int) -> list[str]:
    problems = []
    if d["acknowledged_missing_from_db"]:
        problems.append(f"{label}: {d['acknowledged_missing_from_db']} acknowledged votes are "
                        "not in the database")
    if d["acknowledged_with_wrong_choice"]:
        problems.append(f"{label}: {d['acknowledged_with_wrong_choice']} stored ballots differ "
                        "from the acknowledged choice")
    if d["acknowledged"] != expected:
        problems.append(f"{label} confirmed {d['acknowledged']} of {expected} votes")
    if d["stored_ballots"] != expected:
        problems.append(f"{label}: {d['stored_ballots']} ballots stored, expected {expected}")
    if d["stored_voters"] != d["stored_voters_distinct"] or (
            d["stored_voters"] != d["stored_ballots"]):
        problems.append(f"{label}: voters and ballots do not match one to one")
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--votes", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true",
                        help="profile each Hearth process (and the reference) during the "
                             "bursts (stderr)")
    parser.add_argument("--no-pin", action="store_true",
                        help="let the scheduler place the processes (default: the harness on "
                             "the first CPU, each bot under test on the last)")
    parser.add_argument("--postgres", metavar="URL",
                        default=os.environ.get("HEARTH_TEST_POSTGRES") or None,
                        help="also run Hearth on this PostgreSQL server, in a schema made for "
                             "the run and dropped after (default: $HEARTH_TEST_POSTGRES)")
    parser.add_argument("--no-postgres", action="store_true",
                        help="ignore $HEARTH_TEST_POSTGRES: SQLite Hearth and the reference only")
    args = parser.parse_args()
    postgres = None if args.no_postgres else args.postgres
    pin = not args.no_pin and len(CPUS) > 1
    if pin:
        os.sched_setaffinity(0, {CPUS[0]})
    res = asyncio.run(run(args.votes, args.seconds, args.rounds, args.profile, postgres, pin))
    res["pinned"] = pin
    if pin:  # back to every CPU: the report's machine facts read this process's affinity
        os.sched_setaffinity(0, CPUS)
    h, r = res["hearth"], res["ack_only"]
    pg = res.get("hearth_postgres")
    hearths: list[tuple[str, dict[str, Any], dict[str, Any]]] = [("Hearth (SQLite)", h, res)]
    if pg is not None:
        hearths.append(("Hearth (PostgreSQL)", pg["summary"], pg))
    for _label, summary, entry in hearths:
        entry["throughput_ratio_per_round"] = [
            x / y for x, y in zip(summary["throughput_per_round"], r["throughput_per_round"],
                                  strict=True)
        ]
        entry["throughput_ratio_per_round_median"] = statistics.median(
            entry["throughput_ratio_per_round"]
        )
    rg = res.get("ack_only_hearth_gc")
    for _label, summary, entry in hearths:
        if rg is not None:
            entry["throughput_ratio_hearth_gc"] = (summary["throughput_per_s"]
                                                   / rg["throughput_per_s"])
            entry["p99_ratio_hearth_gc"] = summary["p99_ms"] / rg["p99_ms"]
    for side in (h, r, *([rg] if rg else []), *([pg["summary"]] if pg else [])):
        side.pop("latencies_ms", None)
    expected = args.rounds * (args.votes + WARMUP)  # every Hearth vote, warm-up included
    problems = _durability_problems(
        "Hearth (SQLite)", {**res, "acknowledged": res["hearth_acknowledged"]}, expected)
    if pg is not None:
        problems += _durability_problems("Hearth (PostgreSQL)", pg, expected)
    if res["ack_only_wrong_answers"]:
        problems.append(f"the ack-only bot answered {res['ack_only_wrong_answers']} "
                        "interactions wrongly")

    def row(label: str, s: dict[str, Any]) -> list[Any]:
        return [label, s["throughput_per_s"], s["p50_ms"], s["p95_ms"], s["p99_ms"],
                s["max_ms"], f"{s['bot_cpu_share']:.0%}", f"{s['emulator_cpu_share']:.0%}",
                s["driver_cpu_us_per_vote"]]

    rows = [row("ack-only bot", r)]
    if rg is not None:
        rows.append(row("ack-only bot, Hearth's GC", rg))
    notes = [
        f"{args.rounds} rounds of {args.votes:,} clicks offered over {args.seconds:g} s "
        f"(+20 warm-up each), {len(hearths) + 1 + (rg is not None)} bots in an order rotating "
        "each round; "
        "latencies pooled over rounds, throughput = median round; per round: ack-only "
        f"{r['throughput_per_round']} votes/s",
    ]
    for label, s, e in hearths:
        rows.append(row(label, s))
        rows.append([f"{label} / ack-only", f"{e['throughput_ratio']:.0%}", "", "",
                     f"x{e['p99_ratio'] or 0:.2f}", "", "", "", ""])
        if rg is not None:
            rows.append([f"{label} / ack-only, Hearth's GC",
                         f"{e['throughput_ratio_hearth_gc']:.0%}", "", "",
                         f"x{e['p99_ratio_hearth_gc']:.2f}", "", "", "", ""])
        notes += [
            f"{label}: per round {s['throughput_per_round']} votes/s; per-round ratios to "
            "the ack-only round of the same round (less sensitive to other load): "
            f"{[round(x, 2) for x in e['throughput_ratio_per_round']]}, median "
            f"{e['throughput_ratio_per_round_median']:.0%}",
            f"{label}: throughput >= {TARGET_RATIO:.0%} of ack-only: "
            f"{'met' if e['target_throughput_met'] else 'MISSED'}; p99 <= "
            f"{TARGET_P99_RATIO:g} x ack-only's: "
            f"{'met' if e['target_p99_ratio_met'] else 'MISSED'}; p99 < "
            f"{TARGET_P99_MS:.0f} ms: {'met' if e['target_p99_met'] else 'MISSED'}",
            f"{label}: bot CPU per vote (median of rounds), event-loop thread + other "
            f"threads: {s['bot_loop_cpu_us_per_vote']:.0f} + "
            f"{s['bot_other_cpu_us_per_vote']:.0f} µs; peak memory (VmHWM) "
            f"{s['bot_peak_rss_mb']:.0f} MB; emulator queue lag p99 "
            f"{s['emulator_queue_lag_p99_ms']:.1f} ms"
            + (f"; PostgreSQL server processes' CPU {s['db_server_cpu_share']:.0%} of a core "
               "(median round; anyone else's use of that server counts too)"
               if "db_server_cpu_share" in s else ""),
            f"{label}: durable: {e['stored_voters']:,} voters / {e['stored_ballots']:,} "
            "ballots read back through bot.db.database.Database (warm-up votes included); "
            f"acknowledged but missing: {e['acknowledged_missing_from_db']}, wrong choice: "
            f"{e['acknowledged_with_wrong_choice']}",
        ]
    notes += [
        "CPU = CPU seconds / burst wall time (median round); each bot runs in its own "
        "process, the emulator and click driver share this one (1.0 = one full core); "
        f"ack-only: bot CPU per vote {r['bot_loop_cpu_us_per_vote']:.0f} + "
        f"{r['bot_other_cpu_us_per_vote']:.0f} µs, peak memory {r['bot_peak_rss_mb']:.0f} MB, "
        "emulator queue lag p99 "
        f"{r['emulator_queue_lag_p99_ms']:.1f} ms"
        + (f"; ack-only with Hearth's GC settings (bot.app.GC_THRESHOLDS, gc.freeze): "
           f"{rg['bot_loop_cpu_us_per_vote']:.0f} + {rg['bot_other_cpu_us_per_vote']:.0f} µs, "
           f"peak memory {rg['bot_peak_rss_mb']:.0f} MB, "
           f"per round {rg['throughput_per_round']} votes/s" if rg is not None else ""),
        "targets are against the ack-only bot as it stands (discord.py's defaults); the "
        "\"Hearth's GC\" rows compare with the same bot given Hearth's collector settings, "
        "i.e. what Hearth's own work per vote costs"
        + ("; processes pinned: harness on CPU "
           f"{CPUS[0]}, each bot on CPU {CPUS[-1]}"
           + (", the PostgreSQL server with the harness" if res["postgres_pinned"] else "")
           if pin else "; processes not pinned"),
    ]
    finish(
        "votes",
        res,
        ["", "votes/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "bot CPU", "emu+driver CPU",
         "driver µs/vote"],
        rows,
        problems=problems,
        notes=notes,
    )


if __name__ == "__main__":
    main()
