"""Benchmark 3: compiling 1,000 weekly digests with one year of history, then ten.

Why measured this way: a digest must cost the same in a community's tenth year as in its
first, because every query reads a bounded period through an index. So one database gets
1,000 communities with a year of synthetic history (members, hourly message aggregates,
stories, polls, meetings with attendance, past digest records), inserted directly with SQL;
all 1,000 digests of the latest week are compiled through the real path
(``DigestService.compile``: the same repository queries and
``bot.domain.digest.compile_digest``, no Discord); then nine more years of history are
added *before* that year and the same digests are compiled again. The one-year run is the
reference for the ten-year run. Compilation is timed both one community after another and
all at once (as the scheduler fires them when every community shares the default time).

Correctness: each of the 1,000 digests must be identical with one and ten years of history
(the older years are outside every window), and its message total must equal a direct
SQL sum over the period.

Run: ``.venv/bin/python -m benchmarks.digest [--communities 1000] [--members 10]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import statistics
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python benchmarks/digest.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import Stopwatch, finish, open_database, settings_for

END = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)  # Monday 09:00 London: the digest is due
WEEK = timedelta(days=7)
TARGET_SECONDS = 5.0
TARGET_RATIO = 1.3
ISO = "%Y-%m-%dT%H:%M:%S+00:00"  # what bot.db.rows.to_db writes for UTC instants


def _jd(dt: datetime) -> float:
    """Julian day number of an aware instant (SQLite's date functions accept it)."""
    return dt.timestamp() / 86400.0 + 2440587.5


def seed_base(path: Path, communities: int, members: int, years: int) -> None:
    """Communities, members, open polls and upcoming meetings (independent of history)."""
    created = (END - timedelta(weeks=52 * years) - timedelta(days=1)).strftime(ISO)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        conn.executemany(
            "INSERT INTO communities (id, guild_id, name, slug, kind, sponsor_id, created_by,"
            " created_at) VALUES (:c, 1, :name, :slug, 'practice', 1, 1, :at)",
            [{"c": c, "name": f"Community {c}", "slug": f"community-{c}", "at": created}
             for c in range(1, communities + 1)],
        )
        disciplines = ("gp", "nurse", "patient", "carer", "other")
        conn.executemany(
            "INSERT INTO memberships (community_id, user_id, discipline, is_facilitator,"
            " joined_at) VALUES (:c, :u, :discipline, :fac, :at)",
            [{"c": c, "u": c * 1000 + k, "discipline": disciplines[k % 5], "fac": int(k == 0),
              "at": created}
             for c in range(1, communities + 1) for k in range(members)],
        )
        # One open poll each, closing after the period; one upcoming meeting each.
        conn.executemany(
            "INSERT INTO polls (community_id, kind, question, options, created_by, created_at,"
            " closes_at, ballot_key) VALUES (:c, 'single', 'Which evening suits?',"
            " '[\"Tue\",\"Wed\"]', :by, :at, :closes, randomblob(32))",
            [{"c": c, "by": c * 1000, "at": (END - timedelta(days=2)).strftime(ISO),
              "closes": (END + timedelta(days=5)).strftime(ISO)}
             for c in range(1, communities + 1)],
        )
        conn.executemany(
            "INSERT INTO meetings (community_id, title, start_at, end_at, timezone, location,"
            " in_series, created_by, created_at) VALUES (:c, 'Spring gathering', :start, :end,"
            " 'Europe/London', 'Village hall', 1, :by, :at)",
            [{"c": c, "start": (END + timedelta(days=20)).strftime(ISO),
              "end": (END + timedelta(days=20, hours=2)).strftime(ISO), "by": c * 1000,
              "at": (END - timedelta(days=30)).strftime(ISO)} for c in range(1, communities + 1)],
        )


def seed_history(path: Path, first_week: int, last_week: int, hours_per_week: int) -> int:
    """History for weeks ``first_week..last_week-1`` before END (week 0 = the digest's).

    Activity: each member posts in ``hours_per_week`` distinct hours every week. Stories:
    one a week per community. Polls: one closed every fourth week. Meetings: two a year,
    held, with attendance. Digest records: one sent per past week.
    """
    end_jd = _jd(END)
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        # Seeding only (nothing else has the file open): no journal, no fsync.
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-200000")
        before = conn.execute("SELECT COUNT(*) FROM message_activity").fetchone()[0]
        weeks_cte = ("WITH RECURSIVE w(n) AS (SELECT :first UNION ALL SELECT n + 1 FROM w"
                     " WHERE n < :last) ")
        weeks = {"first": first_week, "last": last_week - 1, "end": end_jd}
        # week n starts at END - (n+1)*7 days; rows in PK order for cheap inserts
        conn.execute(
            weeks_cte + ", r(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM r WHERE k < :hours) "
            "INSERT OR IGNORE INTO message_activity (community_id, user_id, day, hour,"
            " messages) "
            "SELECT m.community_id, m.user_id,"
            " date(:end - (w.n + 1) * 7 + (m.community_id * 7 + m.user_id * 3 + w.n + r.k * 3)"
            " % 7),"
            " (m.community_id + m.user_id * 5 + w.n * 11 + r.k * 7) % 24,"
            " 1 + (m.community_id + m.user_id + w.n + r.k) % 9 "
            "FROM memberships m CROSS JOIN w CROSS JOIN r",
            {**weeks, "hours": hours_per_week - 1},
        )
        conn.execute(
            weeks_cte
            + "INSERT INTO stories (community_id, teller_id, title, text, stage, stage_label,"
            " consent, created_at) "
            "SELECT c.id, c.id * 1000 + w.n % 7, 'Week ' || w.n || ' story',"
            " 'What happened and what helped.', NULL, NULL,"
            " CASE w.n % 3 WHEN 0 THEN 'group' WHEN 1 THEN 'anonymous' ELSE 'named' END,"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7 + 2.5) "
            "FROM communities c CROSS JOIN w",
            weeks,
        )
        conn.execute(
            weeks_cte
            + "INSERT INTO polls (community_id, kind, question, options, created_by,"
            " created_at, closes_at, closed_at, voters, eligible, collective_statement) "
            "SELECT c.id, 'single', 'Question of week ' || w.n, '[\"Yes\",\"No\"]',"
            " c.id * 1000, strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7 + 0.5),"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7 + 4.5),"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7 + 4.5), 6, 10,"
            " 'Most of us prefer Tuesday evenings.' "
            "FROM communities c CROSS JOIN w WHERE w.n % 4 = 0",
            weeks,
        )
        conn.execute(
            weeks_cte
            + "INSERT INTO meetings (community_id, title, start_at, end_at, timezone,"
            " location, in_series, created_by, created_at, notes, attendance_at) "
            "SELECT c.id, 'Gathering', strftime('%Y-%m-%dT%H:%M:%S+00:00',"
            " :end - (w.n + 1) * 7 + 3.75), strftime('%Y-%m-%dT%H:%M:%S+00:00',"
            " :end - (w.n + 1) * 7 + 3.85), 'Europe/London', 'Village hall', 1, c.id * 1000,"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7 - 30),"
            " 'We agreed three things.',"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7 + 4) "
            "FROM communities c CROSS JOIN w WHERE w.n % 26 = 0",
            weeks,
        )
        conn.execute(
            "INSERT OR IGNORE INTO meeting_attendance (meeting_id, user_id, marked_by,"
            " marked_at) SELECT mt.id, ms.user_id, mt.created_by, mt.end_at FROM meetings mt"
            " JOIN memberships ms ON ms.community_id = mt.community_id"
            " WHERE mt.attendance_at IS NOT NULL AND ms.user_id % 2 = 0"
        )
        conn.execute(
            weeks_cte
            + "INSERT INTO digests (community_id, period_start, period_end, state, dm_done,"
            " attempts, created_at, sent_at) "
            "SELECT c.id, strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 2) * 7),"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7), 'sent', 1, 1,"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7),"
            " strftime('%Y-%m-%dT%H:%M:%S+00:00', :end - (w.n + 1) * 7) "
            "FROM communities c CROSS JOIN w WHERE w.n >= 1",  # week 0 is being compiled
            weeks,
        )
        # Steady state: past digests offered the stories of their weeks (digest_stories, as
        # stories_offered_by_digest records them), so only the stories of the week being
        # compiled are still waiting in story_offers (the triggers queued every story).
        conn.execute(
            "INSERT OR IGNORE INTO digest_stories (digest_id, story_id) SELECT d.id, s.id"
            " FROM digests d JOIN stories s ON s.community_id = d.community_id"
            " AND s.created_at >= d.period_start AND s.created_at < d.period_end"
            " WHERE s.consent IN ('anonymous', 'named')"
        )
        conn.execute(
            "DELETE FROM story_offers WHERE story_id IN"
            " (SELECT id FROM stories WHERE created_at < :created_at)",
            {"created_at": (END - WEEK).strftime(ISO)},
        )
        conn.execute("ANALYZE")
        after = conn.execute("SELECT COUNT(*) FROM message_activity").fetchone()[0]
        conn.commit()
        conn.execute("PRAGMA journal_mode=WAL")  # as Hearth runs it
    return int(after - before)


def table_counts(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as conn, conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("communities", "memberships", "message_activity", "stories", "polls",
                          "meetings", "meeting_attendance", "digests")}


async def compile_all(path: Path, communities: int, repeats: int) -> dict[str, Any]:
    """Compile every community's digest for the week ending at END, timed two ways."""
    from bot.app import HearthBot
    from bot.clock import FakeClock
    from bot.domain.digest import Period
    from bot.scheduling import Scheduler
    from bot.services.digests import DigestService
    from bot.settings import load_config
    from cogs.digests._counter import MessageCounter
    from cogs.digests._delivery import DigestDelivery

    settings = settings_for(path)
    config = load_config(settings.hearth_config)
    db = await open_database(path)
    clock = FakeClock(END)
    bot = HearthBot(settings=settings, config=config, db=db, clock=clock,
                    scheduler=Scheduler(clock, run_in_real_time=False))
    service = DigestService(db, bot.communities, config, clock)
    counter = MessageCounter(bot, service)
    service.flush = counter.flush
    counter.names_limit = max(counter.names_limit, communities * 1000)
    # Names from the gateway cache, as in production after a day of messages (no REST).
    for c in range(1, communities + 1):
        for k in range(1000):
            counter.remember_name(c * 1000 + k, f"Member {c}-{k}")
    delivery = DigestDelivery(bot, service, counter)
    period = Period(END - WEEK, END)
    comms = [await bot.communities.get(c) for c in range(1, communities + 1)]
    assert all(c is not None for c in comms)

    async def one(c: Any) -> Any:
        return await service.compile(c, period, await delivery.names(c), late=False)

    await one(comms[0])  # warm caches, imports
    sequential, concurrent = [], []
    digests: list[Any] = []
    for _ in range(repeats):
        with Stopwatch() as sw:
            digests = [await one(c) for c in comms]
        sequential.append(sw.seconds)
        with Stopwatch() as sw:
            again = await asyncio.gather(*(one(c) for c in comms))
        concurrent.append(sw.seconds)
        assert list(again) == digests
    expected: dict[int, int] = {}
    for comm in comms:
        assert comm is not None
        expected[comm.id] = int(await db.fetchval(
            "SELECT COALESCE(SUM(a.messages), 0) FROM message_activity a JOIN memberships m"
            " ON m.community_id = a.community_id AND m.user_id = a.user_id"
            " WHERE a.community_id = :community AND a.day || printf(' %02d', a.hour) >= :start"
            " AND a.day || printf(' %02d', a.hour) < :end",
            {"community": comm.id, "start": (END - WEEK).strftime("%Y-%m-%d %H"),
             "end": END.strftime("%Y-%m-%d %H")})
            or 0)
    await db.close()
    return {
        "sequential_s": min(sequential),
        "concurrent_s": min(concurrent),
        "sequential_runs": sequential,
        "concurrent_runs": concurrent,
        "digests": digests,
        "expected_messages": expected,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communities", type=int, default=1000)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--hours-per-week", type=int, default=1,
                        help="distinct active hours per member per week")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as tmp:
        path = Path(tmp) / "hearth.db"

        async def migrate() -> None:
            db = await open_database(path)
            await db.close()

        asyncio.run(migrate())
        seed_base(path, args.communities, args.members, years=10)
        with Stopwatch() as seed1:
            seed_history(path, 0, 52, args.hours_per_week)
        one = asyncio.run(compile_all(path, args.communities, args.repeats))
        counts1 = table_counts(path)
        with Stopwatch() as seed10:
            seed_history(path, 52, 520, args.hours_per_week)
        ten = asyncio.run(compile_all(path, args.communities, args.repeats))
        counts10 = table_counts(path)
        size10 = path.stat().st_size

    mismatched = sum(1 for a, b in zip(one["digests"], ten["digests"], strict=True) if a != b)
    if mismatched:
        problems.append(f"{mismatched} digests differ between one and ten years of history")
    wrong = [d.community_name for d in ten["digests"]
             if d.participation.messages
             != ten["expected_messages"][int(d.community_name.split()[-1])]]
    if wrong:
        problems.append(f"{len(wrong)} digests have a message total that differs from SQL, "
                        f"e.g. {wrong[:3]}")
    if not any(d.participation.messages for d in ten["digests"]):
        problems.append("no digest saw any messages: the synthetic history is not in the window")

    best = "concurrent_s" if ten["concurrent_s"] <= ten["sequential_s"] else "sequential_s"
    ratio_seq = ten["sequential_s"] / one["sequential_s"]
    ratio_con = ten["concurrent_s"] / one["concurrent_s"]
    res = {
        "communities": args.communities,
        "members_per_community": args.members,
        "rows_one_year": counts1,
        "rows_ten_years": counts10,
        "db_bytes_ten_years": size10,
        "seed_seconds": {"one_year": seed1.seconds, "nine_more_years": seed10.seconds},
        "one_year": {k: v for k, v in one.items() if k not in ("digests", "expected_messages")},
        "ten_years": {k: v for k, v in ten.items() if k not in ("digests", "expected_messages")},
        "ratio_sequential": ratio_seq,
        "ratio_concurrent": ratio_con,
        "ms_per_digest_ten_years": ten[best] / args.communities * 1000,
        "target_seconds": TARGET_SECONDS,
        "target_ratio": TARGET_RATIO,
        "target_time_met": ten[best] < TARGET_SECONDS,
        "target_ratio_met": min(ratio_seq, ratio_con) <= TARGET_RATIO,
        "mean_messages_per_digest": statistics.mean(d.participation.messages
                                                     for d in ten["digests"]),
    }
    finish(
        "digest",
        res,
        ["history", "activity rows", "one after another s", "all at once s", "ms/digest"],
        [
            ["one year (reference)", counts1["message_activity"], one["sequential_s"],
             one["concurrent_s"], min(one["sequential_s"], one["concurrent_s"])
             / args.communities * 1000],
            ["ten years", counts10["message_activity"], ten["sequential_s"],
             ten["concurrent_s"], min(ten["sequential_s"], ten["concurrent_s"])
             / args.communities * 1000],
            ["ten / one", f"x{counts10['message_activity'] / counts1['message_activity']:.1f}",
             f"x{ratio_seq:.2f}", f"x{ratio_con:.2f}", ""],
        ],
        problems=problems,
        notes=[
            f"{args.communities:,} digests in < {TARGET_SECONDS:.0f} s: "
            f"{'met' if res['target_time_met'] else 'MISSED'} ({ten[best]:.2f} s, ten years); "
            f"ten years <= x{TARGET_RATIO} of one: "
            f"{'met' if res['target_ratio_met'] else 'MISSED'}",
            f"ten-year database: {size10 / 1e6:,.0f} MB, {counts10['stories']:,} stories, "
            f"{counts10['polls']:,} polls, {counts10['meetings']:,} meetings, "
            f"{counts10['digests']:,} digest records",
            "all 1,000 digests identical with one and ten years of history; message totals "
            "checked against SQL" if not problems else "see problems",
        ],
    )


if __name__ == "__main__":
    main()
