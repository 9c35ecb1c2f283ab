"""``python -m bot`` with cProfile switched on and off by signals (vote benchmark ``--profile``).

Why: profiling the whole process (``python -m cProfile -m bot``) would bury the burst under
start-up and imports. Here SIGUSR1 starts the profiler and SIGUSR2 stops it and adds its
figures to ``$HEARTH_BENCH_PROFILE`` (pstats format); the bot itself is exactly
``bot.__main__.main()``. The profiler sees the main thread (the event loop), not the
database threads; its clock is the thread's CPU time, so waits do not count.
"""

from __future__ import annotations

import cProfile
import gc
import json
import os
import pstats
import signal
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_state: dict[str, Any] = {}


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    """Garbage-collector time by generation while profiling (the GC's cost grows with the
    number of live objects, and Hearth has more of them than the reference)."""
    if "prof" not in _state:
        return
    if phase == "start":
        _state["gc_t0"] = time.perf_counter()
        return
    gen = info.get("generation", -1)
    spent = _state.setdefault("gc", {})
    count, total = spent.get(gen, (0, 0.0))
    spent[gen] = (count + 1, total + time.perf_counter() - _state.get("gc_t0", time.perf_counter()))


def _start(_sig: int, _frame: FrameType | None) -> None:
    prof = cProfile.Profile(time.thread_time)
    _state["prof"] = prof
    prof.enable()


def _stop(_sig: int, _frame: FrameType | None) -> None:
    prof = _state.pop("prof", None)
    if prof is None:
        return
    prof.disable()
    stats = _state.get("stats")
    if stats is None:
        stats = _state["stats"] = pstats.Stats(prof)
    else:
        stats.add(prof)
    stats.dump_stats(os.environ["HEARTH_BENCH_PROFILE"])
    spent = _state.get("gc", {})
    Path(os.environ["HEARTH_BENCH_PROFILE"] + ".gc.json").write_text(
        json.dumps({str(g): [c, t] for g, (c, t) in spent.items()})
    )


def main() -> int:
    signal.signal(signal.SIGUSR1, _start)
    signal.signal(signal.SIGUSR2, _stop)
    gc.callbacks.append(_gc_timer)
    if "--ack" in sys.argv[1:]:  # the vote benchmark's reference, profiled the same way
        from benchmarks._ackbot import main as ack_main

        return ack_main()
    from bot.__main__ import main as bot_main

    return bot_main([])


if __name__ == "__main__":
    sys.exit(main())
