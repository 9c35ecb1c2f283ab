"""The message counter's memory stays bounded and forgets a member who asks."""

from __future__ import annotations

from typing import Any, cast

from cogs.digests._counter import NAMES_LIMIT, MessageCounter


def counter() -> MessageCounter:
    return MessageCounter(cast(Any, None), cast(Any, None))


def test_names_are_an_lru_of_recent_authors() -> None:
    c = counter()
    assert c.names_limit == NAMES_LIMIT
    c.names_limit = 3
    for uid in (1, 2, 3):
        c.remember_name(uid, f"user {uid}")
    c.remember_name(1, "user 1 renamed")  # seen again: most recent
    c.remember_name(4, "user 4")  # evicts the least recently seen (2)
    assert list(c.names) == [3, 1, 4]
    assert c.names[1] == "user 1 renamed"
    for uid in range(100, 10_000):
        c.remember_name(uid, "x")
    assert len(c.names) == 3


def test_forget_member_drops_name_and_unwritten_counts() -> None:
    c = counter()
    c.remember_name(7, "Alice")
    c.remember_name(8, "Bob")
    c.buffer.add(1, 7, 100)
    c.buffer.add(1, 8, 100)
    c.forget_member(7)
    assert 7 not in c.names and c.names[8] == "Bob"
    assert list(c.buffer.counts) == [(1, 8, 100)]
