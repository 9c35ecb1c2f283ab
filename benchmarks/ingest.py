"""Benchmark 1: what counting participation adds to each gateway MESSAGE_CREATE.

Why measured this way: the cost that matters is per message on the gateway hot path, in
the same process as discord.py. The real HearthBot (every cog loaded) runs against the
loopback emulator, so its caches hold a real guild and the community's real channels; then
pre-serialised gateway frames are fed straight to the shard's ``received_message`` (JSON
decode, sequence bookkeeping, ``parse_message_create``, ``Message`` construction, dispatch
and the tasks discord.py creates for every listener), and the loop is drained so each
listener has run to completion. The reference is the same bot, same frames, with Hearth's
message (``Bot.remove_listener``); rounds alternate between the
two so drift on a shared machine hits both alike.

Correctness: the counts flushed to the database must equal the community-channel messages
fed while the listener was on (messages in other channels must not be counted).

Run: ``.venv/bin/python -m benchmarks.ingest [--messages 20000] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/ingest.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import finish, open_database, settings_for

TARGET_ADDED = 0.15
CHUNK = 500


async def _drain() -> None:
    """Let every task discord.py created for the fed events run to completion.

    Only discord.py's event tasks (named ``discord.py: on_...``) are waited for: waiting for
    "no more tasks than before" would also wait for unrelated work that happens to start
    meanwhile (a heartbeat, the periodic flush), spinning and charging it to one side.
    """
    events = [t for t in asyncio.all_tasks() if t.get_name().startswith("discord.py: ")]
    # Spinning is the point: each sleep(0) runs every ready task one step.
    while any(not t.done() for t in events):  # noqa: ASYNC110
        await asyncio.sleep(0)


async def run(messages: int, rounds: int, authors: int, profile: bool = False,
              as_listener: bool = False) -> dict[str, Any]:
    from bot.app import HearthBot
    from bot.clock import SystemClock
    from bot.scheduling import Scheduler
    from bot.settings import load_config
    from tests.emulator.harness import run_client
    from tests.emulator.server import DiscordEmulator
    from tests.emulator.state import MessageState, snowflake

    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        settings = settings_for(Path(tmp) / "hearth.db")
        config = load_config(settings.hearth_config)
        db = await open_database(Path(tmp) / "hearth.db")
        clock = SystemClock()
        async with DiscordEmulator() as emu:
            owner = emu.create_user("owner")
            guild = emu.create_guild("Bench Charity", owner=owner, features=("COMMUNITY",))
            people = [emu.create_user(f"member{i}") for i in range(authors)]
            for p in people:
                emu.add_member(guild, p)
            bot = HearthBot(
                settings=settings, config=config, db=db, clock=clock,
                scheduler=Scheduler(clock, run_in_real_time=False), guild_ready_timeout=0.05,
            )
            async with run_client(emu, bot):
                await bot.tree.sync()
                rec = await emu.slash(guild, owner, "community create", name="Bench Circle",
                                      kind="practice")
                assert "Created" in rec.content, rec.content
                community = await bot.communities.by_name(guild.id, "Bench Circle")
                assert community is not None and community.lounge_id is not None
                other = emu.create_channel(guild, "off-topic")
                await emu.wait_for(lambda: bot.get_channel(other.id) is not None)

                # Pre-serialised frames: 90% in the community lounge, 10% elsewhere.
                frames: list[str] = []
                in_community = 0
                seq = 10_000_000
                lounge = emu.get_channel(community.lounge_id)
                for i in range(messages):
                    channel = other if i % 10 == 9 else lounge
                    in_community += channel is lounge
                    msg = MessageState(id=snowflake(), channel_id=channel.id, guild_id=guild.id,
                                       author=people[i % authors], content="")
                    seq += 1
                    payload = emu.message_payload(msg, redact=True)
                    frames.append(json.dumps({"op": 0, "t": "MESSAGE_CREATE", "s": seq,
                                              "d": payload}))

                ws = bot.shards[0]._parent.ws  # the live shard's DiscordWebSocket
                cog = bot.get_cog("DigestsCog")
                assert cog is not None
                counter = cog.counter  # type: ignore[attr-defined]
                hook = counter.on_message

                async def feed(lo: int, hi: int) -> float:
                    """CPU seconds of the event-loop thread to take frames[lo:hi] through."""
                    start = time.thread_time()
                    for text in frames[lo:hi]:
                        await ws.received_message(text)
                    await _drain()
                    return time.thread_time() - start

                def listener_on(on: bool) -> None:
                    if as_listener:  # the shape before the fix: a task per message
                        present = hook in bot.extra_events.get("on_message", [])
                        if on and not present:
                            bot.add_listener(hook, "on_message")
                        elif not on and present:
                            bot.remove_listener(hook, "on_message")
                        return
                    present = hook in bot.message_hooks
                    if on and not present:
                        bot.message_hooks.append(hook)
                    elif not on and present:
                        bot.message_hooks.remove(hook)

                if as_listener:
                    bot.message_hooks.remove(hook)

                # Warm-up (caches, channel -> community lookup), then the counted runs.
                listener_on(True)
                await feed(0, len(frames))
                await counter.flush()
                before = await db.fetchval("SELECT COALESCE(SUM(messages), 0) FROM"
                                           " message_activity")
                seen_before = counter.total_seen
                ref: list[float] = []
                hearth: list[float] = []
                for r in range(rounds):
                    # Both variants take every chunk, alternating which goes first, so a
                    # busy neighbour on a shared machine slows both alike.
                    spent = {False: 0.0, True: 0.0}
                    for k, lo in enumerate(range(0, len(frames), CHUNK)):
                        order = (False, True) if (k + r) % 2 == 0 else (True, False)
                        for on in order:
                            listener_on(on)
                            spent[on] += await feed(lo, lo + CHUNK)
                    ref.append(spent[False] / messages * 1e6)
                    hearth.append(spent[True] / messages * 1e6)
                counted_passes = rounds
                if profile:
                    import cProfile
                    import pstats

                    for on in (False, True):
                        listener_on(on)
                        prof = cProfile.Profile(time.thread_time)
                        prof.enable()
                        await feed(0, len(frames))
                        prof.disable()
                        print(f"--- cProfile, Hearth listener {'on' if on else 'off'}, "
                              f"{messages} messages", file=sys.stderr)
                        pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(14)
                    counted_passes += 1  # the profiled listener-on pass was counted too
                listener_on(True)
                # The counting function alone, on messages discord.py already built.
                cached = list(bot.cached_messages)
                in_lounge = [m for m in cached if m.channel.id == community.lounge_id]
                reps = max(1, 20_000 // max(1, len(cached)))
                start = time.perf_counter()
                for _ in range(reps):
                    for m in cached:
                        await counter.on_message(m)
                on_message_us = (time.perf_counter() - start) / (reps * len(cached)) * 1e6
                extra_counted = reps * len(in_lounge)
                await counter.flush()
                after = await db.fetchval("SELECT COALESCE(SUM(messages), 0) FROM"
                                          " message_activity")
                counted = int(after) - int(before) - extra_counted
                expected = in_community * counted_passes
                seen = counter.total_seen - seen_before - extra_counted
        await db.close()

    ref_med, hearth_med = statistics.median(ref), statistics.median(hearth)
    paired = statistics.median(h / r - 1 for h, r in zip(hearth, ref, strict=True)) * 100
    return {
        "counting_via": "listener (task per message)" if as_listener else "message hook",
        "messages_per_round": messages,
        "rounds": rounds,
        "authors": authors,
        "discordpy_us_per_msg": ref_med,
        "hearth_us_per_msg": hearth_med,
        "added_pct": (hearth_med / ref_med - 1) * 100,
        "added_pct_paired": paired,
        "counter_on_message_us": on_message_us,
        "discordpy_us_rounds": ref,
        "hearth_us_rounds": hearth,
        "target_added_pct": TARGET_ADDED * 100,
        "target_met": hearth_med <= ref_med * (1 + TARGET_ADDED)
        and paired <= TARGET_ADDED * 100,
        "counted_in_db": counted,
        "expected_count": expected,
        "listener_saw": seen,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--authors", type=int, default=200)
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of one pass with and without the listener")
    parser.add_argument("--as-listener", action="store_true",
                        help="count through a Cog-style listener (a task per message), the "
                             "shape before the fix, for comparison")
    args = parser.parse_args()
    res = asyncio.run(run(args.messages, args.rounds, args.authors, args.profile,
                          args.as_listener))
    problems = []
    if res["counted_in_db"] != res["expected_count"]:
        problems.append(f"counted {res['counted_in_db']} messages in the database, fed "
                        f"{res['expected_count']} in community channels")
    if res["listener_saw"] != res["expected_count"]:
        problems.append(f"listener counted {res['listener_saw']}, expected "
                        f"{res['expected_count']}")
    finish(
        "ingest",
        res,
        ["", "µs/message (median)", "rounds (µs/message)"],
        [
            ["discord.py alone", res["discordpy_us_per_msg"],
             " ".join(f"{x:.1f}" for x in res["discordpy_us_rounds"])],
            ["with Hearth counting", res["hearth_us_per_msg"],
             " ".join(f"{x:.1f}" for x in res["hearth_us_rounds"])],
            ["added by Hearth", f"{res['added_pct']:+.1f}%",
             f"target <= +{TARGET_ADDED * 100:.0f}%: "
             f"{'met' if res['target_met'] else 'MISSED'}"],
            ["added, median of per-round ratios", f"{res['added_pct_paired']:+.1f}%", ""],
            ["MessageCounter.on_message alone", res["counter_on_message_us"],
             "(inside discord.py's own on_message task)"],
            ["counted / expected", f"{res['counted_in_db']:,} / {res['expected_count']:,}", ""],
        ],
        problems=problems,
    )


if __name__ == "__main__":
    main()
