"""A member's own data: the export, the erasure, and retention of message counts.

Owns :class:`~bot.db.privacy.PrivacyRepo`. The erasure in the database is one transaction
(the point of no return); tidying Discord afterwards (story posts, roles, overwrites, the
facilitators' notice) is the privacy cog's, from the :class:`ErasureResult` returned here.
Message counts still buffered in memory belong to the digests' counter: the cog passes it in
as :class:`MessageCounts`, so both the export and the erasure see every count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.clock import Clock
from bot.db.database import Database
from bot.db.privacy import PrivacyRepo
from bot.domain.privacy import (
    ErasureResult,
    export_bytes,
    export_document,
    export_filename,
    next_retention_run,
    retention_cutoff_day,
)

log = logging.getLogger(__name__)


class MessageCounts(Protocol):
    """Message counts held in memory before they are written."""

    async def flush(self) -> None: ...

    def forget(self, user_id: int) -> None:
        """Drop the member's buffered counts and remembered name."""
        ...


@dataclass(frozen=True)
class ExportFile:
    filename: str
    data: bytes


class PrivacyService:
    def __init__(
        self, db: Database, clock: Clock, retention_days: int, counts: MessageCounts
    ) -> None:
        self.db = db
        self.repo = PrivacyRepo(db)
        self.clock = clock
        self.retention_days = retention_days
        self.counts = counts

    async def _flush_counts(self) -> None:
        """Write buffered message counts so the export and the erasure see them."""
        try:
            await self.counts.flush()
        except Exception:
            log.warning("could not flush message counts before a privacy request")

    # ------------------------------------------------------------------ export
    async def export(self, user_id: int) -> ExportFile:
        now = self.clock.now()
        await self._flush_counts()
        doc = export_document(await self.repo.export_data(user_id), now)
        return ExportFile(export_filename(now), export_bytes(doc))

    # ------------------------------------------------------------------ erasure
    async def erase(self, user_id: int) -> ErasureResult:
        """Erase the member everywhere Hearth stores them, including counts in memory."""
        await self._flush_counts()
        result = await self.repo.erase(user_id)  # one transaction: the point of no return
        self.counts.forget(user_id)
        # A flush that drained the buffer before the erasure may have written since.
        await self._flush_counts()
        await self.repo.purge_activity(user_id)
        # The erased words must not linger in the write-ahead log's old pages either.
        await self.db.scrub()
        return result

    async def active_facilitators(self, community_id: int) -> list[int]:
        return await self.repo.active_facilitators(community_id)

    # ------------------------------------------------------------------ retention
    def next_retention(self, *, first: bool = False) -> datetime:
        """When the daily retention job runs next (at once at start: it catches up)."""
        now = self.clock.now()
        return now if first else next_retention_run(now)

    async def run_retention(self) -> int:
        """Delete message-count rows older than the retention period."""
        cutoff = retention_cutoff_day(self.clock.now(), self.retention_days)
        deleted = await self.repo.delete_activity_before(cutoff)
        if deleted:
            log.info("retention: deleted %d message-count rows before %s", deleted, cutoff)
        return deleted
