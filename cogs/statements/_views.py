"""Persistent statement-round components; state in ``custom_id`` (``stmt:<round>:...``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.domain.statements import Statement, Vote
from bot.errors import Conflict
from bot.errors_handler import NO_MENTIONS, guarded
from bot.text import escape_inline

if TYPE_CHECKING:
    from cogs.statements._cog import StatementsCog

_VOTES = {"a": Vote.AGREE, "d": Vote.DISAGREE, "p": Vote.PASS}


def _cog(interaction: discord.Interaction[Any]) -> StatementsCog:
    cog = interaction.client.get_cog("StatementsCog")
    if cog is None:
        raise Conflict("Statements are not available right now; try again in a moment.")
    return cog


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
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"stmt:(?P<round>[0-9]+):start",
):
    def __init__(self, round_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Vote on statements",
                style=discord.ButtonStyle.primary,
                custom_id=f"stmt:{round_id}:start",
            )
        )
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> StartVoting:
        return cls(int(match["round"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        cog = _cog(interaction)
        await cog.round_for_vote(interaction, self.round_id)
        statement, remaining = await cog.next_for(self.round_id, interaction.user.id)
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
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"stmt:(?P<round>[0-9]+):v:(?P<sid>[0-9]+):(?P<v>[adp])",
):
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
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> StatementVoteButton:
        return cls(
            int(match["round"]), int(match["sid"]), match["v"], getattr(item, "label", None) or ""
        )

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        cog = _cog(interaction)
        vote = _VOTES[self.code]
        note = ""
        try:
            receipt = await cog.cast(interaction, self.round_id, self.statement_id, vote)
            note = "Changed. " if receipt.changed else "Saved. "
        except Conflict as exc:
            if "already your vote" not in exc.user_message:
                raise
            note = "No change. "
        statement, remaining = await cog.next_for(self.round_id, interaction.user.id)
        text, view = statement_page(self.round_id, statement, remaining, note)
        await interaction.response.edit_message(content=text, view=view)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (StartVoting, StatementVoteButton)
