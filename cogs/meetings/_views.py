"""Persistent components: RSVP buttons and the attendance picker carry their state in
``custom_id`` (DynamicItem), so they keep working after a restart; plus the notes modal."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.communities import Actor, require_facilitator, require_member
from bot.domain.meetings import RSVP, Meeting
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.errors_handler import HearthModal, guarded
from bot.interactions import NO_MENTIONS, actor_of
from bot.text import escape_inline, plain

if TYPE_CHECKING:
    from bot.app import HearthBot
    from cogs.meetings._service import MeetingService

log = logging.getLogger(__name__)

NOTES_MAX = 4000
_STYLES = {
    RSVP.GOING: discord.ButtonStyle.success,
    RSVP.MAYBE: discord.ButtonStyle.secondary,
    RSVP.CANT: discord.ButtonStyle.danger,
}


def service(bot: HearthBot) -> MeetingService:
    cog = bot.get_cog("MeetingsCog")
    if cog is None:
        raise InvalidInput("Meetings are not available right now; please try again shortly.")
    return cog.service  # type: ignore[attr-defined]


def rsvp_view(meeting_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for answer in RSVP:
        view.add_item(RSVPButton(meeting_id, answer))
    return view


async def _meeting_for(interaction: discord.Interaction[Any], meeting_id: int) -> Meeting:
    meeting = await service(interaction.client).repo.get(meeting_id)
    if meeting is None:
        raise NotFound("That meeting no longer exists.")
    return meeting


async def _as_facilitator(
    interaction: discord.Interaction[Any], meeting_id: int
) -> tuple[MeetingService, Meeting, Actor]:
    """The meeting, for a facilitator of its community (attendance and notes are theirs)."""
    svc = service(interaction.client)
    meeting = await _meeting_for(interaction, meeting_id)
    community = await svc.community(meeting)
    actor = actor_of(interaction)
    require_facilitator(
        actor, community, await svc.bot.communities.membership(community.id, actor.user_id)
    )
    return svc, meeting, actor


class RSVPButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"rsvp:(?P<meeting>\d+):(?P<answer>going|maybe|cant)",
):
    def __init__(self, meeting_id: int, answer: RSVP) -> None:
        super().__init__(
            discord.ui.Button(
                label=answer.label,
                style=_STYLES[answer],
                custom_id=f"rsvp:{meeting_id}:{answer.value}",
            )
        )
        self.meeting_id = meeting_id
        self.answer = answer

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> RSVPButton:
        return cls(int(match["meeting"]), RSVP(match["answer"]))

    @guarded
    async def callback(  # type: ignore[override]
        self, interaction: discord.Interaction[Any]
    ) -> None:
        svc = service(interaction.client)
        meeting = await _meeting_for(interaction, self.meeting_id)
        community = await svc.community(meeting)
        actor = actor_of(interaction)
        membership = await svc.bot.communities.membership(community.id, actor.user_id)
        require_member(actor, community, membership)
        if membership is None or not membership.active:
            # A server manager may oversee, but only members' answers count (and get reminders).
            raise NotAllowed(
                f"Only members of **{escape_inline(community.name)}** can answer for its "
                "meetings. A "
                "facilitator can add you with `/community add`."
            )
        if meeting.cancelled:
            raise InvalidInput("This meeting has been cancelled, so there is nothing to answer.")
        if meeting.end_utc <= svc.now():
            raise InvalidInput("This meeting is over; answers are closed.")
        await svc.repo.set_rsvp(meeting.id, actor.user_id, self.answer, svc.now())
        # Refresh the counts on the very message that was clicked.
        from cogs.meetings._render import announcement_embed

        embed = announcement_embed(meeting, community, await svc.repo.counts(meeting.id))
        await interaction.response.edit_message(embed=embed, view=rsvp_view(meeting.id))
        reply = {
            RSVP.GOING: "See you there.",
            RSVP.MAYBE: "Noted as maybe; you will still get the reminders.",
            RSVP.CANT: "Noted that you can't come; you won't get reminders for it.",
        }[self.answer]
        await interaction.followup.send(
            f"**{escape_inline(meeting.title)}**: you answered *{self.answer.label}*. {reply}",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class AttendanceSelect(
    discord.ui.DynamicItem[discord.ui.UserSelect[Any]], template=r"attend:(?P<meeting>\d+)"
):
    """The facilitator marks who was present (up to 25 people per pick, Discord's limit)."""

    def __init__(self, meeting_id: int) -> None:
        super().__init__(
            discord.ui.UserSelect(
                custom_id=f"attend:{meeting_id}",
                placeholder="Who was present?",
                min_values=0,
                max_values=25,
            )
        )
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AttendanceSelect:
        return cls(int(match["meeting"]))

    @guarded
    async def callback(  # type: ignore[override]
        self, interaction: discord.Interaction[Any]
    ) -> None:
        svc, meeting, actor = await _as_facilitator(interaction, self.meeting_id)
        people = [u.id for u in self.item.values if not u.bot]
        await svc.repo.set_attendance(meeting.id, people, actor.user_id, svc.now())
        await interaction.response.send_message(
            f"Marked {len(people)} {'person' if len(people) == 1 else 'people'} present at "
            f"**{escape_inline(meeting.title)}**.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


def attendance_view(meeting_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(AttendanceSelect(meeting_id))
    return view


class NotesModal(HearthModal):
    def __init__(self, meeting: Meeting) -> None:
        super().__init__(title=plain(f"Notes: {meeting.title}", 45), timeout=1800)
        self.meeting_id = meeting.id
        self.notes: discord.ui.TextInput[NotesModal] = discord.ui.TextInput(
            label="What was discussed and decided",
            style=discord.TextStyle.paragraph,
            max_length=NOTES_MAX,
            default=(meeting.notes or "")[:NOTES_MAX] or None,
            required=True,
        )
        self.add_item(self.notes)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        svc, meeting, actor = await _as_facilitator(interaction, self.meeting_id)
        text = self.notes.value.strip()
        if not text:
            raise InvalidInput("The notes were empty; nothing was saved.")
        await svc.repo.save_notes(meeting.id, text, actor.user_id, svc.now())
        going = sum(1 for a in (await svc.repo.rsvps(meeting.id)).values() if a is RSVP.GOING)
        await interaction.response.send_message(
            f"Saved the notes for **{escape_inline(meeting.title)}** ({len(text)} characters). "
            f"{going} said they were going. Now mark who was present (you can pick again to "
            "correct it):",
            view=attendance_view(meeting.id),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
