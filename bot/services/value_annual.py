"""The members' annual report: opening a collection, members' answers, the reminder, the close.

Between the Discord layer (``cogs/value/_annual*.py``) and the repository
(:mod:`bot.db.value_annual`). The rules:

* a facilitator opens one collection per community and year (the year it is opened in, in
  the community's time zone); a second open one for the same year is refused, and so is a
  deadline in the past or less than a day away;
* only active members of the community answer, only while it is open; a member can send the
  form again to change their answer until the deadline; their quoting choice (not quoted,
  the default; quoted without a name; quoted with their name) is theirs alone;
* members who have not answered get one reminder before the close (claimed once);
* the close happens once (:meth:`AnnualService.close`), and the report is built from the
  answers by :func:`bot.domain.value.annual.aggregate`: counts, themes and consented quotes.

Nothing here logs what anyone wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db.database import Database
from bot.db.value_annual import AlreadyOpen, AnnualRepo, AnnualReport
from bot.domain.communities import Actor, Community, require_facilitator
from bot.domain.stories import Consent
from bot.domain.timeparse import discord_timestamp
from bot.domain.value.annual import (
    MIN_OPEN,
    AnnualAnswer,
    AnnualSummary,
    Theme,
    aggregate,
    parse_quote_consent,
    reminder_time,
    validate_answer,
)
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.services.lifecycle import Communities
from bot.text import escape_inline

__all__ = ["AnnualReport", "AnnualService", "NameOf", "SavedAnswer"]

log = logging.getLogger(__name__)

#: The latest deadline a facilitator may set.
MAX_OPEN = timedelta(days=180)

NameOf = Callable[[int], Awaitable[str | None]]


@dataclass(frozen=True)
class SavedAnswer:
    report: AnnualReport
    community: Community
    answer: AnnualAnswer
    updated: bool
    """True when it replaced the member's earlier answer."""


class AnnualService:
    def __init__(
        self,
        db: Database,
        communities: Communities,
        clock: Clock,
        *,
        remind_before: Callable[[], timedelta],
        themes: Callable[[], Sequence[Theme]],
        min_theme_members: Callable[[], int] = lambda: 1,
    ) -> None:
        self.repo = AnnualRepo(db)
        self.communities = communities
        self.clock = clock
        self.remind_before = remind_before
        self.themes = themes
        self.min_theme_members = min_theme_members

    # ------------------------------------------------------------------ opening
    def year_for(self, community: Community, when: datetime | None = None) -> int:
        return (when or self.clock.now()).astimezone(ZoneInfo(community.timezone)).year

    def check_closes(self, closes_at: datetime) -> None:
        left = closes_at - self.clock.now()
        if left < MIN_OPEN:
            raise InvalidInput(
                "Give members at least a day to answer: choose a later closing time, such as "
                "`in 4 weeks`."
            )
        if left > MAX_OPEN:
            raise InvalidInput(
                "That is more than six months away. Choose a closing time within six months, "
                "such as `in 4 weeks`."
            )

    async def open(self, community: Community, opened_by: int, closes_at: datetime) -> AnnualReport:
        """Open the community's annual report for this year (refused if one is open)."""
        self.check_closes(closes_at)
        now = self.clock.now()
        year = self.year_for(community, now)
        existing = await self.repo.open_for(community.id, year)
        if existing is None:
            remind_at = reminder_time(now, closes_at, self.remind_before())
            try:
                return await self.repo.create(
                    community.id, year, opened_by, now, closes_at, remind_at
                )
            except AlreadyOpen:
                existing = await self.repo.open_for(community.id, year)
        when = (
            f" until {discord_timestamp(existing.closes_at, 'F')}" if existing is not None else ""
        )
        raise Conflict(
            f"**{escape_inline(community.name)}**'s annual report for {year} is already open"
            f"{when}. Members answer it from the button in their direct messages or the lounge."
        )

    async def invited(
        self, report_id: int, invited: int, unreachable: int, lounge: tuple[int, int] | None
    ) -> None:
        await self.repo.set_invited(report_id, invited, unreachable, lounge)

    async def discard(self, report_id: int) -> None:
        await self.repo.discard(report_id)

    async def members(self, community_id: int) -> list[int]:
        return [m.user_id for m in await self.communities.members(community_id)]

    async def members_at(self, community_id: int, when: datetime) -> list[int]:
        """The members at ``when`` (the close): the report read again later counts the same
        members, whoever has left or joined since."""
        return [
            m.user_id
            for m in await self.communities.members(community_id, active_only=False)
            if m.joined_at <= when and (m.left_at is None or m.left_at > when)
        ]

    async def facilitators(self, community_id: int) -> list[int]:
        return [m.user_id for m in await self.communities.members(community_id) if m.is_facilitator]

    async def get(self, report_id: int) -> AnnualReport | None:
        return await self.repo.get(report_id)

    async def open_reports(self) -> list[AnnualReport]:
        return await self.repo.open_reports()

    async def community_of(self, report: AnnualReport) -> Community | None:
        return await self.communities.get(report.community_id)

    # ------------------------------------------------------------------ answering
    async def for_member(self, report_id: int, user_id: int) -> tuple[AnnualReport, Community]:
        """The open report a member may answer, or a clear refusal."""
        report = await self.repo.get(report_id)
        community = await self.communities.get(report.community_id) if report else None
        if report is None or community is None:
            raise NotFound("This annual report no longer exists.")
        if not report.is_open or self.clock.now() >= report.closes_at:
            raise Conflict(
                f"**{escape_inline(community.name)}**'s annual report for {report.year} closed"
                f" {discord_timestamp(report.closed_at or report.closes_at, 'F')}, so answers "
                "are no longer accepted. Thank you all the same."
            )
        membership = await self.communities.membership(community.id, user_id)
        if membership is None or not membership.active:
            raise NotAllowed(
                f"Only members of **{escape_inline(community.name)}** answer its annual report."
            )
        return report, community

    async def for_facilitator(self, report_id: int, actor: Actor) -> tuple[AnnualReport, Community]:
        """A closed report a facilitator (or server manager) may read again."""
        report = await self.repo.get(report_id)
        community = await self.communities.get(report.community_id) if report else None
        if report is None or community is None:
            raise NotFound("This annual report no longer exists.")
        require_facilitator(
            actor, community, await self.communities.membership(community.id, actor.user_id)
        )
        if report.is_open:
            raise Conflict(
                f"The annual report for {report.year} is still open; its report is ready when "
                f"it closes {discord_timestamp(report.closes_at, 'F')}."
            )
        return report, community

    async def answer_of(self, report_id: int, user_id: int) -> AnnualAnswer | None:
        return await self.repo.answer(report_id, user_id)

    async def save_answer(
        self, report_id: int, user_id: int, raw: Mapping[str, str | None]
    ) -> SavedAnswer:
        report, community = await self.for_member(report_id, user_id)
        texts = validate_answer(raw)
        updated = await self.repo.save_answer(report_id, user_id, texts, self.clock.now())
        answer = await self.repo.answer(report_id, user_id)
        if answer is None:  # it closed between the check and the write
            await self.for_member(report_id, user_id)
            raise Conflict("The annual report has just closed, so your answer was not saved.")
        log.info("annual report %s: an answer was %s", report_id, "updated" if updated else "saved")
        return SavedAnswer(report, community, answer, updated)

    async def set_consent(self, report_id: int, user_id: int, value: str) -> Consent:
        await self.for_member(report_id, user_id)
        consent = parse_quote_consent(value)
        if not await self.repo.set_consent(report_id, user_id, consent, self.clock.now()):
            raise NotAllowed(
                "Only members who have answered choose whether their words are quoted: send "
                "your answer first (the button above), then choose."
            )
        return consent

    # ------------------------------------------------------------------ reminder and close
    async def claim_reminder(self, report_id: int) -> bool:
        return await self.repo.claim_reminder(report_id, self.clock.now())

    async def not_answered(self, report: AnnualReport) -> list[int]:
        answered = await self.repo.answered_ids(report.id)
        return [uid for uid in await self.members(report.community_id) if uid not in answered]

    async def close(self, report_id: int) -> bool:
        """Close now; True for the one call that closed it."""
        closed = await self.repo.close(report_id, self.clock.now())
        if closed:
            log.info(
                "annual report %s closed: %d answer(s)",
                report_id, await self.repo.count_answers(report_id),
            )  # fmt: skip
        return closed

    async def summary(
        self, report: AnnualReport, community: Community, name_of: NameOf
    ) -> AnnualSummary:
        """The report from the answers. Names are looked up only for members who chose to be
        quoted with their name."""
        answers = await self.repo.answers(report.id)
        names = {a.user_id: await name_of(a.user_id) for a in answers if a.consent is Consent.NAMED}
        closed_at = report.closed_at or self.clock.now()
        return aggregate(
            community_name=community.name,
            year=report.year,
            opened_at=report.opened_at,
            closed_at=closed_at,
            member_ids=await self.members_at(community.id, closed_at),
            answers=answers,
            themes=self.themes(),
            names=names,
            min_theme_members=self.min_theme_members(),
        )

    async def emails_stopped(self, community_id: int) -> bool:
        return await self.repo.emails_stopped(community_id)

    async def mark_emailed(self, report_id: int) -> None:
        await self.repo.mark_emailed(report_id, self.clock.now())
