"""Background tasks that never die silently.

asyncio keeps only a weak reference to a task, so a task created and forgotten can be
garbage-collected mid-flight, and an exception in it surfaces, if at all, as "Task exception
was never retrieved" when it is collected. :func:`spawn` keeps a strong reference until the
task ends and logs any failure with the task's name (python-discord bot-core's
``scheduling.create_task`` is the model). Every background task in Hearth is made here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Tasks still running; a task removes itself when done.
_RUNNING: set[asyncio.Task[Any]] = set()


def _finished(task: asyncio.Task[Any]) -> None:
    _RUNNING.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.error("background task %r failed", task.get_name(), exc_info=exc)


def spawn(coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
    """Start ``coro`` as a task that is kept alive and whose failure is logged."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _RUNNING.add(task)
    task.add_done_callback(_finished)
    return task


def running() -> set[asyncio.Task[Any]]:
    """The tasks :func:`spawn` started that have not finished (for shutdown and tests)."""
    return set(_RUNNING)
