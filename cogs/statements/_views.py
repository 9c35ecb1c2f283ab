"""Persistent statement-round components; state in ``custom_id`` (``stmt:<round>:...``).

Each is a :class:`bot.components.HearthItem` bound to the :class:`StatementService`.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.components import HearthItem
from bot.domain.statements import Statement, Vote
from bot.errors import AlreadyYourVote
from bot.errors_handler import NO_MENTIONS, guarded
from bot.services.statements import StatementService
from bot.text import escape_inline

_VOTES = {"a": Vote.AGREE, "d": Vote.DISAGREE, "p": Vote.PASS}


def statement_page(
    round_id: int, statement: Statement | None, remaining: int, note: str = ""
) -> tuple[str, discord.ui.View | None]:
    """One statement with agree / disagree / pass buttons, or the 'all done' message."""
    if statement is None:
        text = (
            f"{note}You have voted on every statement in this round so far. Thank you! "
            "Come back later: statements added during the round join it."
        )
        return text.strip()[:2000], None
    text = (
        f"{note}**Do you agree?** ({remaining} statement{'s' if remaining != 1 else ''} "
        f"left for you)\n> {escape_inline(statement.text)}"
    )
    view = discord.ui.View(timeout=None)
    for code, label, style in (
        ("a", "Agree", discord.ButtonStyle.success),
        ("d", "Disagree", discord.ButtonStyle.danger),
        ("p", "Pass / unsure", discord.ButtonStyle.secondary),
    ):
        view.add_item(StatementVoteButton(round_id, statement.id, code, label, style))
    return text[:2000], view


class StartVoting(
    HearthItem[StatementService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"stmt:(?P<round_id>[0-9]+):start",
):
    service_type = StatementService

    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Vote on statements",
                style=discord.ButtonStyle.primary,
                custom_id=f"stmt:{round_id}:start",
            )
        )
        self.round_id = round_id

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        await self.service.round_for_vote(self.round_id, interaction.user.id)
        statement, remaining = await self.service.next_for(self.round_id, interaction.user.id)
        text, view = statement_page(self.round_id, statement, remaining)
        if view is None:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        else:
            await interaction.response.send_message(
                text, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
            )


class StatementVoteButton(
    HearthItem[StatementService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"stmt:(?P<round_id>[0-9]+):v:(?P<statement_id>[0-9]+):(?P<code>[adp])",
):
    service_type = StatementService

    def __init__(
        self,
        round_id: int,
        statement_id: int,
        code: str,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or code,
                style=style,
                custom_id=f"stmt:{round_id}:v:{statement_id}:{code}",
            )
        )
        self.round_id = round_id
        self.statement_id = statement_id
        self.code = code

    @classmethod
    def from_match(
        cls, match: re.Match[str], item: discord.ui.Item[Any]
    ) -> StatementVoteButton:
        return cls(
            int(match["round_id"]), int(match["statement_id"]), match["code"],
            getattr(item, "label", None) or "",
        )  # fmt: skip

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        service = self.service
        vote = _VOTES[self.code]
        user_id = interaction.user.id
        try:
            receipt = await service.cast(self.round_id, self.statement_id, user_id, vote)
            note = "Changed. " if receipt.changed else "Saved. "
        except AlreadyYourVote:
            note = "No change. "
        statement, remaining = await service.next_for(self.round_id, user_id)
        text, view = statement_page(self.round_id, statement, remaining, note)
        await interaction.response.edit_message(content=text, view=view)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (StartVoting, StatementVoteButton)
