"""/change commands and a significant-change round's scheduled steps.

``/change round`` (facilitators) opens a round and posts its announcement, with the
persistent **Tell a story of change** button, in the community's lounge. At the collection
deadline the selectors (the community, or the distilling group linked to serve it) get the
**Choose stories** invitation in their lounge; at the selection deadline the round closes,
its outcome is frozen, the feedback is posted (one message per domain, in the community's
lounge and, when a distilling group selected, in theirs) and every teller gets a DM. Each
step is a delivery run (:mod:`bot.delivery`): started before the step is claimed, resumed
after a restart, each message sent exactly once.

``/change consent`` lets a teller change who may read a story, or withdraw it; a story
withdrawn (or narrowed) after selection is edited out of the feedback already posted.

``/change close`` (facilitators) ends collection or selection early, after a confirmation;
a day before the selection deadline each selector who has not chosen yet gets one reminder
DM (both in :mod:`cogs.change._closing`).

This module is longer than 400 lines because it is the one place where a round's scheduled
steps (selection, close, reminder) meet Discord, each an exactly-once delivery run that a
restart resumes; the wording and the components are already in their own modules.

Thin: rules and storage are :class:`bot.services.change_rounds.ChangeRoundService`'s;
wording is ``_render``'s.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.choices import ANY_CONSENT
from bot.delivery import Deliveries, Destination, RunState
from bot.domain.change import ChangeRound, RoundState
from bot.domain.communities import Community
from bot.domain.glossary import Glossary
from bot.domain.stories.consent import parse_consent
from bot.errors import InvalidInput, NotFound
from bot.interactions import (
    NO_MENTIONS,
    community_autocomplete,
    facilitated_community,
    member_community,
)
from bot.services.change_rounds import ChangeRoundService, NameLookup, RoundDefaults
from bot.text import escape_inline, plain
from cogs.change._choosing import ChooseButton, ChooseDomain, PageButton, PickStory
from cogs.change._closing import CloseButton, confirm_text, confirm_view, reminder_dm, reminder_run
from cogs.change._render import (
    announcement,
    collection_closed,
    consent_text,
    feedback_message,
    selection_closed,
    selection_invitation,
    status_text,
    teller_dm,
    with_distillers,
)
from cogs.change._telling import TellButton, TellDomain

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    TellButton,
    TellDomain,
    ChooseButton,
    ChooseDomain,
    PageButton,
    PickStory,
    CloseButton,
)

_RUN = re.compile(r"^change:(\d+):(selection|feedback|reminder)$")


def selection_run(round_id: int) -> str:
    return f"change:{round_id}:selection"


def feedback_run(round_id: int) -> str:
    return f"change:{round_id}:feedback"


class ChangeCog(commands.GroupCog, group_name="change"):
    """Significant-change rounds (Most Significant Change, Davies & Dart 2005)."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = ChangeRoundService(
            bot.db, bot.communities, bot.clock, bot.scheduler,
            Glossary.from_mapping(bot.config.glossary), self.defaults,
        )  # fmt: skip
        self.service.hooks = self
        self.deliveries = Deliveries(bot)

    def defaults(self) -> RoundDefaults:
        cfg = self.bot.config.change
        return RoundDefaults(
            domains=tuple(cfg.domains),
            collect=timedelta(days=cfg.collect_days),
            select=timedelta(days=cfg.select_days),
            min_choices=cfg.min_choices,
        )

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        for rnd in await self.service.unfinished_rounds():
            self.service.arm(rnd)
        for run in await self.deliveries.running("change:"):
            found = _RUN.match(run)
            if found is None:
                continue
            round_id, step = int(found.group(1)), found.group(2)
            func = {
                "selection": self.selection_due, "feedback": self.close_due,
                "reminder": self.reminder_due,
            }[step]  # fmt: skip
            try:
                community_id = (await self.service.get(round_id)).community_id
            except NotFound:
                continue  # the round is gone: nothing left to resume
            self.bot.scheduler.schedule(
                f"change:resume:{step}:{round_id}",
                self.bot.clock.now(),
                partial(func, round_id),
                guild_id=self.bot.communities.guild_of(community_id),
            )

    async def cog_unload(self) -> None:
        self.service.disarm_all()
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.services.unregister(self.service)

    # ------------------------------------------------------------------ helpers
    def names(self, guild_id: int) -> NameLookup:
        async def lookup(user_id: int) -> str | None:
            guild = self.bot.get_guild(guild_id)
            member = guild.get_member(user_id) if guild is not None else None
            if member is not None:
                return member.display_name
            try:
                user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            except discord.HTTPException:
                return None
            return user.display_name

        return lookup

    async def _community(self, community_id: int) -> Community | None:
        return await self.bot.communities.get(community_id)

    async def _edit(self, channel_id: int | None, message_id: int | None, **edit: Any) -> None:
        if channel_id is None or message_id is None:
            return
        try:
            await (
                self.bot.get_partial_messageable(channel_id)
                .get_partial_message(message_id)
                .edit(**edit)
            )
        except discord.HTTPException as exc:
            log.warning("change round: could not edit message %s: %s", message_id, exc.status)

    # ------------------------------------------------------------------ scheduled steps
    async def selection_due(self, round_id: int) -> None:
        """Collection closes: invite the selectors, exactly once."""
        run = selection_run(round_id)
        if await self.deliveries.start(run) is RunState.FINISHED:
            return
        await self.service.open_selection(round_id)
        rnd = await self.service.repo.get_round(round_id)
        if rnd is None or rnd.state is not RoundState.SELECTING:
            await self.deliveries.finish(run)
            return
        community = await self._community(rnd.community_id)
        selectors = await self._community(rnd.selector_id)
        if community is None or selectors is None or selectors.lounge_id is None:
            await self.deliveries.finish(run)
            return
        counts = await self.service.candidate_counts(rnd)
        view = discord.ui.View(timeout=None)
        view.add_item(ChooseButton(rnd.id))
        try:
            sent = await self.deliveries.send(
                run, Destination.channel(selectors.lounge_id),
                embed=selection_invitation(rnd, community, counts), view=view,
                allowed_mentions=NO_MENTIONS,
            )  # fmt: skip
            await self.service.selection_posted(rnd, selectors.lounge_id, sent.message_id)
            if rnd.distilled and community.lounge_id is not None:
                await self.deliveries.send(
                    run, Destination.channel(community.lounge_id), part="note",
                    content=with_distillers(rnd, selectors), allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
        except discord.HTTPException as exc:
            log.warning("change round %s: could not invite selectors: %s", round_id, exc.status)
        await self._edit(rnd.channel_id, rnd.message_id, embed=collection_closed(rnd), view=None)
        await self.deliveries.finish(run)

    async def close_due(self, round_id: int) -> None:
        """Selection closes: freeze the outcome, post the feedback, tell each teller."""
        run = feedback_run(round_id)
        if await self.deliveries.start(run) is RunState.FINISHED:
            return
        await self.service.close(round_id)
        rnd = await self.service.repo.get_round(round_id)
        if rnd is None or rnd.state is not RoundState.CLOSED:
            await self.deliveries.finish(run)
            return
        community = await self._community(rnd.community_id)
        if community is None:
            await self.deliveries.finish(run)
            return
        names = self.names(community.guild_id)
        await self._edit(
            rnd.selection_channel_id, rnd.selection_message_id,
            embed=selection_closed(rnd), view=None,
        )  # fmt: skip
        audiences: list[tuple[str, int | None]] = [("inside", community.lounge_id)]
        if rnd.distilled:
            selectors = await self._community(rnd.selector_id)
            audiences.append(("outside", selectors.lounge_id if selectors else None))
        for audience, channel_id in audiences:
            if channel_id is None:
                continue
            feedback = await self.service.feedback(rnd, names, outside=audience == "outside")
            for fb in feedback:
                content, embeds = feedback_message(rnd, fb)
                try:
                    sent = await self.deliveries.send(
                        run, Destination.channel(channel_id), part=f"{audience}{fb.outcome.domain}",
                        content=content, embeds=embeds, allowed_mentions=NO_MENTIONS,
                    )  # fmt: skip
                except discord.HTTPException as exc:
                    log.warning("change round %s: feedback not posted: %s", round_id, exc.status)
                    continue
                await self.service.feedback_posted(
                    rnd.id, fb.outcome.domain, audience, channel_id, sent.message_id
                )
        for news in await self.service.teller_news(rnd, names):
            try:
                await self.deliveries.send(
                    run, Destination.member(news.teller_id), part=f"s{news.story.id}",
                    content=teller_dm(rnd, community, news), allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
            except discord.HTTPException:
                log.info("change round %s: a teller's DM could not be delivered", round_id)
        await self.deliveries.finish(run)

    async def reminder_due(self, round_id: int) -> None:
        """A day before the selection deadline: one DM to each selector who has not chosen
        yet, each sent exactly once (a restart resumes the run, never repeats a DM)."""
        run = reminder_run(round_id)
        if await self.deliveries.start(run) is RunState.FINISHED:
            return
        rnd = await self.service.repo.get_round(round_id)
        if rnd is None or not rnd.accepts_choices(self.bot.clock.now()):
            await self.deliveries.finish(run)  # closed (early) or gone: no reminder
            return
        community = await self._community(rnd.community_id)
        selectors = await self._community(rnd.selector_id)
        if community is None or selectors is None:
            await self.deliveries.finish(run)
            return
        text = reminder_dm(rnd, selectors, community)
        for user_id in await self.service.to_remind(rnd):
            try:
                await self.deliveries.send(
                    run, Destination.member(user_id), part=f"u{user_id}", content=text,
                    allowed_mentions=NO_MENTIONS,
                )  # fmt: skip
            except discord.HTTPException:
                log.info("change round %s: a selector's reminder could not be delivered", rnd.id)
        await self.deliveries.finish(run)

    async def feedback_changed(self, rnd: ChangeRound) -> None:
        community = await self._community(rnd.community_id)
        if community is not None:
            await self.refresh_feedback(rnd, community.guild_id)

    async def refresh_feedback(self, rnd: ChangeRound, guild_id: int) -> bool:
        """Re-render the posted feedback (after a withdrawal or narrowed consent)."""
        posts = await self.service.feedback_posts(rnd.id)
        if not posts:
            return False
        names = self.names(guild_id)
        views = {
            audience: await self.service.feedback(rnd, names, outside=audience == "outside")
            for audience in {a for _, a, _, _ in posts}
        }
        for domain, audience, channel_id, message_id in posts:
            feedback = views[audience]
            if domain >= len(feedback):
                continue
            content, embeds = feedback_message(rnd, feedback[domain])
            await self._edit(channel_id, message_id, content=content, embeds=embeds)
        return True

    # ------------------------------------------------------------------ commands
    @app_commands.command(
        name="round", description="Open a significant-change round (facilitators)"
    )
    @app_commands.describe(
        community="The community",
        domains="Domains of change separated by ';' (up to 10; default from the configuration)",
        period="Reporting period: '6 months' (default), '1 year' or '2026-06-01 to 2026-11-30'",
        collect_until="When story collection ends, e.g. 'in 2 weeks' (default 2 weeks)",
        select_until="When selection ends, e.g. '2027-03-10 18:00' (default 1 week later)",
    )
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def round_(
        self,
        interaction: discord.Interaction[HearthBot],
        community: str,
        domains: str | None = None,
        period: str | None = None,
        collect_until: str | None = None,
        select_until: str | None = None,
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        await interaction.response.defer(ephemeral=True, thinking=True)
        rnd, selectors = await self.service.open_round(
            comm, actor.user_id, domains=domains, period=period,
            collect_until=collect_until, select_until=select_until,
        )  # fmt: skip
        assert comm.lounge_id is not None
        view = discord.ui.View(timeout=None)
        view.add_item(TellButton(rnd.id))
        try:
            message = await self.bot.get_partial_messageable(comm.lounge_id).send(
                embed=announcement(rnd, comm, selectors), view=view, allowed_mentions=NO_MENTIONS
            )
        except discord.HTTPException:
            await self.service.discard(rnd.id)  # nothing half-stored
            raise
        await self.service.posted(rnd, comm.lounge_id, message.id)
        who = (
            "the community's members"
            if selectors.id == comm.id
            else f"the distilling group **{escape_inline(selectors.name)}**"
        )
        await interaction.followup.send(
            f"Opened significant-change round #{rnd.id} in <#{comm.lounge_id}> with "
            f"{len(rnd.domains)} domains. Stories are collected until "
            f"<t:{int(rnd.collect_until.timestamp())}:F>; then {who} select until "
            f"<t:{int(rnd.select_until.timestamp())}:F>.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    @app_commands.command(
        name="close", description="Close story collection or selection now (facilitators)"
    )
    @app_commands.describe(community="The community")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def close(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, actor = await facilitated_community(interaction, community)
        rnd = await self.service.round_to_close(comm)
        status = await self.service.status(comm)
        await interaction.response.send_message(
            confirm_text(status), view=confirm_view(rnd, actor.user_id), ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip

    @app_commands.command(
        name="status", description="Where the significant-change round stands (counts only)"
    )
    @app_commands.describe(community="The community")
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction[HearthBot], community: str) -> None:
        comm, _actor, _membership = await member_community(
            interaction, community, allow_archived=True
        )
        text = status_text(await self.service.status(comm))
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def story_autocomplete(
        self, interaction: discord.Interaction[HearthBot], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        stories = await self.service.my_stories(interaction.user.id, interaction.guild_id)
        needle = current.strip().lower()
        return [
            app_commands.Choice(name=plain(f"#{s.id} {s.title or ''}", 100), value=str(s.id))
            for s in stories
            if not needle or needle in f"#{s.id} {s.title or ''}".lower()
        ][:25]

    @app_commands.command(
        name="consent", description="Change who may read your story of change, or withdraw it"
    )
    @app_commands.describe(
        story="Your story of change",
        level="Who may read it now (withdrawing deletes it)",
    )
    @app_commands.choices(level=ANY_CONSENT)
    @app_commands.autocomplete(story=story_autocomplete)
    @app_commands.guild_only()
    async def consent(
        self, interaction: discord.Interaction[HearthBot], story: str, level: str
    ) -> None:
        try:
            story_id = int(story.strip().lstrip("#").split()[0])
            if not 0 < story_id < 2**53:
                raise ValueError
        except (ValueError, IndexError):
            raise InvalidInput(
                "Pick one of your stories of change from the list (they show as `#12 Title`)."
            ) from None
        consent = parse_consent(level)
        await interaction.response.defer(ephemeral=True, thinking=True)
        updated, rnd = await self.service.set_consent(story_id, interaction.user.id, consent)
        edited = False
        if (
            rnd.state is RoundState.CLOSED
            and rnd.outcome is not None
            and updated.id in rnd.outcome.selected_ids()
            and interaction.guild_id is not None
        ):
            edited = await self.refresh_feedback(rnd, interaction.guild_id)
        await interaction.followup.send(
            consent_text(updated, edited_feedback=edited), ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )  # fmt: skip
