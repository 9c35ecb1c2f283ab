"""The erase confirmation: persistent buttons keyed to the member who asked.

State lives in ``custom_id`` (``privacy:forget:<user id>:confirm|cancel``), so the buttons
keep working after a restart; a click by anyone else is refused and changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.components import HearthItem
from bot.errors import NotAllowed
from bot.errors_handler import guarded
from bot.interactions import NO_MENTIONS
from bot.services.privacy import PrivacyService
from bot.text import escape_inline
from cogs.privacy._tidy import ForgetOutcome, PrivacyDiscord

log = logging.getLogger(__name__)

CONFIRM_TEXT = (
    "**Erase everything Hearth holds about you?** This cannot be undone.\n"
    "- Your stories are deleted, and Hearth's posts of them are removed from Discord.\n"
    "- Your votes in open polls and statement rounds are removed. Closed polls and rounds keep "
    "their published counts, but nothing links those votes to you any more.\n"
    "- Your statements are deleted (unless a closed round used them: then the text stays, "
    "without your name).\n"
    "- Your RSVPs, attendance, message counts, memberships and sponsor roles are erased, and "
    "your community roles removed.\n"
    "Facilitators are only told that a member left. Want a copy first? Use `/privacy export`."
)
CANCELLED = "Nothing was erased. Your data is unchanged."
WORKING = "Erasing your data…"


def confirm_view(user_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ForgetButton(user_id, "confirm"))
    view.add_item(ForgetButton(user_id, "cancel"))
    return view


def outcome_text(outcome: ForgetOutcome) -> str:
    if not outcome.result.anything:
        text = "Done. Hearth held nothing about you, so there was nothing to erase."
    else:
        text = "Done. Hearth no longer holds any data about you."
    if outcome.posts_left:
        titles = ", ".join(f"“{escape_inline(p.title, 60)}”" for p in outcome.posts_left[:10])
        text += (
            f"\nDiscord would not let me delete the post of {len(outcome.posts_left)} of your "
            f"stories ({titles}). The stories are erased from Hearth; please ask a server "
            "manager to delete those posts."
        )
    if outcome.roles_left:
        text += (
            "\nI could not remove your roles in: " + ", ".join(outcome.roles_left[:10])
            + ". Ask a server manager to remove them."
        )
    return text[:2000]


class ForgetButton(
    HearthItem[PrivacyService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"privacy:forget:(?P<user_id>[0-9]+):(?P<action>confirm|cancel)",
):
    service_type = PrivacyService

    def __init__(self, user_id: int, action: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Erase my data" if action == "confirm" else "Cancel",
                style=(
                    discord.ButtonStyle.danger if action == "confirm"
                    else discord.ButtonStyle.secondary
                ),
                custom_id=f"privacy:forget:{user_id}:{action}",
            )
        )
        self.user_id = user_id
        self.action = action

    @guarded
    async def callback(  # type: ignore[override]
        self, interaction: discord.Interaction[Any]
    ) -> None:
        if interaction.user.id != self.user_id:
            raise NotAllowed("This button belongs to someone else's request; it does nothing "
                             "for you. To erase your own data, use `/privacy forget`.")
        if self.action == "cancel":
            await interaction.response.edit_message(
                content=CANCELLED, view=None, allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.response.edit_message(
            content=WORKING, view=None, allowed_mentions=NO_MENTIONS
        )
        outcome = await PrivacyDiscord(interaction.client, self.service).forget(self.user_id)
        await interaction.edit_original_response(
            content=outcome_text(outcome), allowed_mentions=NO_MENTIONS
        )


DYNAMIC_ITEMS = (ForgetButton,)
