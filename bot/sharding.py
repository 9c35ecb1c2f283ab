"""Which gateway shards this process runs, and so which guilds (and jobs) it owns.

Several Hearth processes may share one database, each connecting a range of Discord's
gateway shards (``HEARTH_SHARDS=0-3/16``: shards 0 to 3 of 16). Discord sends a guild's
events to shard ``(guild_id >> 22) % shard_count`` only, so that shard's process is the one
that can act for the guild; it is also the one process that schedules the guild's jobs
(:class:`bot.scheduling.Scheduler` asks :meth:`ShardRange.owns` before arming one). No
scheduler is shared between processes: ownership follows from the guild id alone.

Unset, one process owns every guild and discord.py decides the shards, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: ``owns(guild_id)``: does this process act for that guild?
Ownership = Callable[[int], bool]

#: A community this process has never seen (created by another process, after this one
#: started) is reported with this guild id. Discord ids are never 0, and no shard range
#: owns it, so such a community's jobs are left to the process that does own its guild.
UNKNOWN_GUILD = 0

_SHAPE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?/\s*(\d+)\s*$")
SHAPE_HELP = (
    "must look like FIRST-LAST/COUNT, e.g. 0-3/16 (shards 0 to 3 of 16), or SHARD/COUNT "
    "for one shard, e.g. 5/16"
)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends ``guild_id``'s events to (Discord's sharding formula)."""
    return (guild_id >> 22) % shard_count


def owns_every_guild(guild_id: int) -> bool:
    """The single-process default: every guild, even one not yet seen, is this process's."""
    return True


@dataclass(frozen=True)
class ShardRange:
    """Shards ``first`` to ``last`` (inclusive) of ``count``."""

    first: int
    last: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"needs a shard count of at least 1 (got {self.count})")
        if self.first > self.last:
            raise ValueError(f"range {self.first}-{self.last} runs backwards")
        if not 0 <= self.first <= self.last < self.count:
            raise ValueError(
                f"range {self.first}-{self.last} is outside the shards 0-{self.count - 1} "
                f"of a count of {self.count}"
            )

    @property
    def ids(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    def owns(self, guild_id: int) -> bool:
        return guild_id > 0 and self.first <= shard_of(guild_id, self.count) <= self.last

    def __str__(self) -> str:
        ids = f"{self.first}" if self.first == self.last else f"{self.first}-{self.last}"
        return f"{ids}/{self.count}"


def parse_shards(text: str) -> ShardRange:
    """``"0-3/16"`` or ``"5/16"`` -> :class:`ShardRange`; ``ValueError`` with a sentence."""
    found = _SHAPE.match(text)
    if found is None:
        raise ValueError(SHAPE_HELP)
    first = int(found.group(1))
    last = int(found.group(2)) if found.group(2) is not None else first
    return ShardRange(first, last, int(found.group(3)))
