"""Closing a round's step early (``/change close``) and the selectors' reminder: the
confirmation buttons and the words.

``/change close community`` asks first, privately: **Close collection now** (selection opens
at once for the selectors; its deadline stays) or **Close selection now** (the outcome is
frozen, the feedback posted and the tellers told, as at the deadline), and **Keep it open**.
The buttons carry the round, the step they close and the facilitator who asked
(``chg:<round>:close:<step>:<user>:<yes|no>``): a button for a step that has ended since
(the deadline came, another facilitator closed it) closes nothing more, and only the
facilitator who asked (still a facilitator) can press it. The close itself is a
compare-and-set in the database, and the step then runs through the same exactly-once
delivery runs as at its deadline.

The reminder: one DM, a day before the selection deadline, to each selector who has not
chosen a story yet (``change:<round>:reminder``, each DM sent exactly once across restarts).
It says only that selection closes soon and where to choose; never a story.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.components import HearthItem
from bot.domain.change import ChangeRound, RoundState
from bot.domain.change.results import RoundStatus
from bot.domain.communities import Community
from bot.domain.timeparse import discord_timestamp
from bot.errors import NotAllowed
from bot.errors_handler import guarded
from bot.interactions import NO_MENTIONS, facilitated_community
from bot.services.change_rounds import ChangeRoundService
from bot.text import escape_inline


def reminder_run(round_id: int) -> str:
    return f"change:{round_id}:reminder"


def confirm_text(st: RoundStatus) -> str:
    rnd = st.round
    who = escape_inline(st.selectors_name)
    stories = sum(st.stories)
    told = f"{stories} stor{'y' if stories == 1 else 'ies'}"
    if rnd.state is RoundState.COLLECTING:
        return (
            f"**Close story collection of significant-change round #{rnd.id} now?** "
            f"{told} so far (deadline {discord_timestamp(rnd.collect_until, 'F')}). No more "
            f"stories can be told; the members of **{who}** are invited at once to choose the "
            f"most significant, until {discord_timestamp(rnd.select_until, 'F')}."
        )
    return (
        f"**Close selection of significant-change round #{rnd.id} now?** {st.chosen} of "
        f"{st.selectors} members of **{who}** have chosen so far (deadline "
        f"{discord_timestamp(rnd.select_until, 'F')}). The outcome is frozen and posted with "
        "the selectors' reasons, and every teller is told what became of their story. This "
        "cannot be undone."
    )


def closed_text(rnd: ChangeRound, step: RoundState, ended: bool, community: Community) -> str:
    where = f" in <#{community.lounge_id}>" if community.lounge_id else ""
    if step is RoundState.COLLECTING:
        if ended:
            return (
                f"Closed story collection of round #{rnd.id}. The selectors are invited to "
                f"choose until {discord_timestamp(rnd.select_until, 'F')}."
            )
        return f"Story collection of round #{rnd.id} had already closed; selection is open."
    if ended:
        return (
            f"Closed selection of round #{rnd.id}: the outcome is posted{where} and every "
            "teller has been told."
        )
    return f"Selection of round #{rnd.id} had already closed; its outcome is posted{where}."


KEPT = "Nothing was closed; the round goes on as before."


def reminder_dm(rnd: ChangeRound, selectors: Community, community: Community) -> str:
    """One reminder to a selector who has not chosen yet: when, where, never a story."""
    where = (
        f"https://discord.com/channels/{selectors.guild_id}/{rnd.selection_channel_id}/"
        f"{rnd.selection_message_id}"
        if rnd.selection_channel_id and rnd.selection_message_id
        else (f"<#{selectors.lounge_id}>" if selectors.lounge_id else "the lounge")
    )
    serves = f" for **{escape_inline(community.name)}**" if selectors.id != community.id else ""
    return (
        f"A reminder: selection for significant-change round #{rnd.id}{serves} closes "
        f"{discord_timestamp(rnd.select_until, 'R')} "
        f"({discord_timestamp(rnd.select_until, 'F')}), and you have not chosen a story yet. "
        f"Press **Choose stories** on the invitation ({where}) to read the candidates and "
        "choose the most significant, with a short reason. Nobody sees who chose what. "
        "This is the only reminder."
    )


def confirm_view(rnd: ChangeRound, user_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CloseButton(rnd.id, rnd.state.value, user_id, "yes"))
    view.add_item(CloseButton(rnd.id, rnd.state.value, user_id, "no"))
    return view


class CloseButton(
    HearthItem[ChangeRoundService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=(
        r"chg:(?P<round_id>[0-9]+):close:(?P<step>collecting|selecting):"
        r"(?P<user_id>[0-9]+):(?P<action>yes|no)"
    ),
):
    service_type = ChangeRoundService

    def __init__(self, round_id: int, step: str, user_id: int, action: str) -> None:
        what = "collection" if step == RoundState.COLLECTING.value else "selection"
        super().__init__(
            discord.ui.Button(
                label=f"Close {what} now" if action == "yes" else "Keep it open",
                style=(
                    discord.ButtonStyle.danger if action == "yes"
                    else discord.ButtonStyle.secondary
                ),
                custom_id=f"chg:{round_id}:close:{step}:{user_id}:{action}",
            )
        )  # fmt: skip
        self.round_id = round_id
        self.step = RoundState(step)
        self.user_id = user_id
        self.action = action

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        if interaction.user.id != self.user_id:
            raise NotAllowed(
                "This button belongs to someone else's request (the facilitator who asked); "
                "it does nothing for you. To close a round's step yourself, use "
                "`/change close`."
            )
        rnd = await self.service.get(self.round_id)
        community, _ = await facilitated_community(interaction, str(rnd.community_id))
        if self.action == "no":
            await interaction.response.edit_message(
                content=KEPT, view=None, allowed_mentions=NO_MENTIONS
            )
            return
        await interaction.response.edit_message(
            content="Closing…", view=None, allowed_mentions=NO_MENTIONS
        )
        ended = await self.service.close_early(self.round_id, self.step)
        hooks = self.service.hooks
        if hooks is not None:
            if self.step is RoundState.COLLECTING:
                await hooks.selection_due(self.round_id)
            else:
                await hooks.close_due(self.round_id)
        await interaction.edit_original_response(
            content=closed_text(rnd, self.step, ended, community), allowed_mentions=NO_MENTIONS
        )


DYNAMIC_ITEMS = (CloseButton,)
