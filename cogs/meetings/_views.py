"""Persistent components: RSVP buttons, "Who's coming" and the attendance pickers carry
their state in ``custom_id`` (DynamicItem), so they keep working after a restart; plus the
notes modal, and the announcement's link buttons (Google Calendar, Outlook, the Discord
event), which are plain URLs and need no handler.

Each resolves the meetings service once (:class:`bot.components.HearthItem`) and calls
only it: who may answer, and whose attendance a picker changes, are the service's rules.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.components import HearthItem
from bot.domain.calendar_links import (
    discord_event_url,
    google_calendar_url,
    outlook_calendar_url,
)
from bot.domain.communities import Community
from bot.domain.meetings import RSVP, AttendancePage, Meeting
from bot.errors_handler import HearthModal, guarded
from bot.interactions import NO_MENTIONS, actor_of
from bot.services.meetings import MeetingService
from bot.text import escape_inline, plain
from cogs.meetings import _render

if TYPE_CHECKING:
    from typing import Self

log = logging.getLogger(__name__)

NOTES_MAX = 4000
#: A message holds at most five rows: one attendance picker each.
PICKERS_PER_MESSAGE = 5
_STYLES = {
    RSVP.GOING: discord.ButtonStyle.success,
    RSVP.MAYBE: discord.ButtonStyle.secondary,
    RSVP.CANT: discord.ButtonStyle.danger,
}


def calendar_details(meeting: Meeting, community: Community) -> str:
    """The description calendar apps show: whose meeting, and where to answer."""
    text = f"{community.name} meeting, arranged with Hearth."
    if meeting.event_id is not None:
        text += f"\nDiscord event: {discord_event_url(community.guild_id, meeting.event_id)}"
    return text


def announcement_view(meeting: Meeting, community: Community) -> discord.ui.View:
    """The RSVP buttons and "Who's coming" on the first row; on the second, links that add
    the meeting to Google Calendar or Outlook, and the Discord event when there is one."""
    view = discord.ui.View(timeout=None)
    for answer in RSVP:
        view.add_item(RSVPButton(meeting.id, answer))
    view.add_item(WhoButton(meeting.id))
    details = calendar_details(meeting, community)
    when = (meeting.title, meeting.start_utc, meeting.end_utc, details, meeting.location)
    links = [
        ("Add to Google Calendar", google_calendar_url(*when)),
        ("Outlook", outlook_calendar_url(*when)),
    ]
    if meeting.event_id is not None:
        links.append(("Discord event", discord_event_url(community.guild_id, meeting.event_id)))
    for label, url in links:
        view.add_item(discord.ui.Button(label=label, url=url, row=1))
    return view


class RSVPButton(
    HearthItem[MeetingService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"rsvp:(?P<meeting_id>\d+):(?P<answer>going|maybe|cant)",
):
    service_type = MeetingService

    def __init__(self, meeting_id: int, answer: RSVP | str) -> None:
        answer = RSVP(answer)
        super().__init__(
            discord.ui.Button(
                label=answer.label,
                style=_STYLES[answer],
                custom_id=f"rsvp:{meeting_id}:{answer.value}",
            )
        )
        self.meeting_id = meeting_id
        self.answer = answer

    @guarded
    async def callback(  # type: ignore[override]
        self, interaction: discord.Interaction[Any]
    ) -> None:
        done = await self.service.answer(self.meeting_id, actor_of(interaction), self.answer)
        # Refresh the counts on the very message that was clicked.
        embed = _render.announcement_embed(done.meeting, done.community, done.counts)
        await interaction.response.edit_message(
            embed=embed, view=announcement_view(done.meeting, done.community)
        )
        await interaction.followup.send(
            _render.rsvp_reply(done.meeting, self.answer),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class WhoButton(
    HearthItem[MeetingService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"rsvp:(?P<meeting_id>\d+):who",
):
    """Who answered what, shown only to the community's facilitators (and server managers);
    anyone else who clicks is told who may see it. The names are mentions, which Discord
    shows as names and, with no allowed mentions, never pings."""

    service_type = MeetingService

    def __init__(self, meeting_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Who's coming",
                style=discord.ButtonStyle.secondary,
                custom_id=f"rsvp:{meeting_id}:who",
            )
        )
        self.meeting_id = meeting_id

    @guarded
    async def callback(  # type: ignore[override]
        self, interaction: discord.Interaction[Any]
    ) -> None:
        meeting, people = await self.service.who_is_coming(
            self.meeting_id, actor_of(interaction)
        )
        await interaction.response.send_message(
            _render.who_is_coming_text(meeting, people),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class AttendanceSelect(
    HearthItem[MeetingService],
    discord.ui.DynamicItem[discord.ui.UserSelect[Any]],
    template=r"attend:(?P<meeting_id>\d+)(?::(?P<low>\d+)-(?P<high>\d+))?",
):
    """The facilitator marks who was present, one page of the roster per picker.

    ``attend:<meeting>`` is the whole list (everyone fits in one picker of 25, Discord's
    limit): a pick replaces it. ``attend:<meeting>:<low>-<high>`` is the page of people
    whose ids fall in that range, shown with those marked present pre-selected: a pick
    there adds whoever is picked and removes only whom it showed and was unpicked.
    """

    service_type = MeetingService

    def __init__(
        self,
        meeting_id: int,
        low: int | None = None,
        high: int | None = None,
        *,
        placeholder: str = "Who was present?",
        present: tuple[int, ...] = (),
    ) -> None:
        paged = low is not None and high is not None
        super().__init__(
            discord.ui.UserSelect(
                custom_id=f"attend:{meeting_id}:{low}-{high}" if paged else f"attend:{meeting_id}",
                placeholder=placeholder,
                min_values=0,
                max_values=25,
                default_values=[discord.Object(u) for u in present[:25]],
            )
        )
        self.meeting_id = meeting_id
        self.paged = paged
        #: Who this picker showed as present when it was clicked (a page only).
        self.shown: tuple[int, ...] = tuple(present)

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> Self:
        made = super().from_match(match, item)
        if isinstance(item, discord.ui.UserSelect):
            # What the facilitator saw: the picker as rendered in the clicked message.
            made.shown = tuple(value.id for value in item.default_values)
        return made

    @classmethod
    def for_page(cls, meeting_id: int, page: AttendancePage) -> AttendanceSelect:
        placeholder = "Who was present?"
        if page.pages > 1:
            placeholder = f"Who was present? (list {page.number} of {page.pages})"
        return cls(
            meeting_id, page.low, page.high, placeholder=placeholder, present=page.present
        )

    @guarded
    async def callback(  # type: ignore[override]
        self, interaction: discord.Interaction[Any]
    ) -> None:
        people = [u.id for u in self.item.values if not u.bot]
        meeting, present = await self.service.mark_present(
            self.meeting_id, actor_of(interaction), people, self.shown if self.paged else None
        )
        await interaction.response.send_message(
            f"Marked {present} {'person' if present == 1 else 'people'} present at "
            f"**{escape_inline(meeting.title)}**.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


def attendance_views(meeting_id: int, pages: list[AttendancePage]) -> list[discord.ui.View]:
    """The pickers, five to a message (as many messages as the roster needs)."""
    views = []
    for start in range(0, len(pages), PICKERS_PER_MESSAGE):
        view = discord.ui.View(timeout=None)
        for page in pages[start : start + PICKERS_PER_MESSAGE]:
            view.add_item(AttendanceSelect.for_page(meeting_id, page))
        views.append(view)
    return views


class NotesModal(HearthModal):
    def __init__(self, meeting: Meeting, service: MeetingService) -> None:
        super().__init__(title=plain(f"Notes: {meeting.title}", 45), timeout=1800)
        self.meeting_id = meeting.id
        self.service = service
        self.notes: discord.ui.TextInput[NotesModal] = discord.ui.TextInput(
            label="What was discussed and decided",
            style=discord.TextStyle.paragraph,
            max_length=NOTES_MAX,
            default=(meeting.notes or "")[:NOTES_MAX] or None,
            required=True,
        )
        self.add_item(self.notes)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        actor = actor_of(interaction)
        meeting, going = await self.service.save_notes(self.meeting_id, actor, self.notes.value)
        pages = await self.service.attendance_pages(meeting)
        first, *more = attendance_views(meeting.id, pages)
        await interaction.response.send_message(
            _render.notes_saved_text(meeting, len(self.notes.value.strip()), going, pages),
            view=first,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        for number, view in enumerate(more, start=2):
            await interaction.followup.send(
                f"More of **{escape_inline(meeting.title)}**'s attendance "
                f"(message {number} of {len(more) + 1}):",
                view=view,
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
