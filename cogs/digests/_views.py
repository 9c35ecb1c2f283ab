"""The button under each digest DM that stops or restarts the sponsor's digest e-mails.

Persistent (a ``DynamicItem``: the community and the action live in its ``custom_id``), so
it works on any digest the sponsor was ever sent, after any restart. Only the community's
current sponsor may press it; the e-mail's footer names it (the labels are defined once in
:mod:`bot.domain.email_message`).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.components import HearthItem
from bot.domain.email_message import START_EMAILS, STOP_EMAILS
from bot.errors_handler import guarded
from bot.interactions import NO_MENTIONS
from bot.services.digests import DigestService
from bot.text import escape_inline


class EmailButton(
    HearthItem[DigestService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"digest:email:(?P<community_id>\d+):(?P<action>stop|start)",
):
    service_type = DigestService

    def __init__(self, community_id: int, action: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=STOP_EMAILS if action == "stop" else START_EMAILS,
                style=discord.ButtonStyle.secondary,
                custom_id=f"digest:email:{community_id}:{action}",
            )
        )
        self.community_id = community_id
        self.action = action

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        on = self.action == "start"
        community = await self.service.set_sponsor_emails(
            self.community_id, interaction.user.id, on=on
        )
        name = escape_inline(community.name)
        if on:
            text = (
                f"Digest e-mails for **{name}** are on again: the next digest comes by e-mail "
                "as well as here."
            )
        else:
            text = (
                f"Digest e-mails for **{name}** are stopped. The digest still comes here as a "
                f"direct message; press **{START_EMAILS}** under any digest to get e-mails again."
            )
        # The button turns into its opposite, so the message shows the current choice.
        await interaction.response.edit_message(view=email_view(self.community_id, stopped=not on))
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def email_view(community_id: int, *, stopped: bool) -> discord.ui.View:
    """The one button under a digest DM: "Stop e-mails", or "Start e-mails" once stopped."""
    view = discord.ui.View(timeout=None)
    view.add_item(EmailButton(community_id, "start" if stopped else "stop"))
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (EmailButton,)
