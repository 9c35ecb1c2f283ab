"""/product commands: the impact log.

Thin: the rules (who may link what, what a sponsor sees) are
:class:`bot.services.products.ProductService`'s and :mod:`bot.domain.products`'s; this cog
resolves the product and the person acting, calls the service and renders the reply.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.domain.communities import Community, require_active, require_facilitator, require_member
from bot.domain.products import Audience, Product, audience_for
from bot.errors import HearthError
from bot.interactions import (
    NO_MENTIONS,
    actor_of,
    community_autocomplete,
    facilitated_community,
    mention,
)
from bot.services.products import ProductService
from bot.text import escape_inline, plain
from cogs.products._render import (
    KIND_CHOICES,
    SETTING_CHOICES,
    STATUS_CHOICES,
    linked_notice,
    product_embed,
    source_label,
)

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


class ProductsCog(commands.GroupCog, group_name="product"):
    """What the group has made: products, where they came from and where they were used."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = ProductService(bot.db, bot.communities, bot.clock)

    async def cog_load(self) -> None:
        self.bot.services.register(self.service)

    async def cog_unload(self) -> None:
        self.bot.services.unregister(self.service)

    # ------------------------------------------------------------------ helpers
    async def _product(
        self, interaction: discord.Interaction[Any], value: str, *, facilitator: bool
    ) -> tuple[Product, Community, int]:
        """The product picked, refused unless the user may act on it: a facilitator of its
        community (or a server manager), or for ``facilitator=False`` any member."""
        actor = actor_of(interaction)
        product, community = await self.service.in_guild(interaction.guild_id, value)
        membership = await self.bot.communities.membership(community.id, actor.user_id)
        if facilitator:
            require_facilitator(actor, community, membership)
        else:
            require_member(actor, community, membership)
        require_active(community)
        return product, community, actor.user_id

    async def product_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        actor = actor_of(interaction)
        found = await self.service.visible_to(
            interaction.guild_id, actor.user_id, current, manager=actor.is_manager
        )
        out = []
        for product, community_name in found:
            suffix = plain(f"({community_name})", 40)
            name = plain(f"#{product.id} {product.title}", 99 - len(suffix))
            out.append(app_commands.Choice(name=f"{name} {suffix}", value=str(product.id)))
        return out[:25]

    async def source_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """The picked product's community's sources, by kind and title; nothing for someone
        who may not link to it."""
        value = getattr(interaction.namespace, "product", None)
        if interaction.guild_id is None or not value:
            return []
        try:
            product, _community, _actor = await self._product(
                interaction, str(value), facilitator=True
            )
        except HearthError:  # not a product of theirs: offer nothing
            return []
        choices = await self.service.source_choices(product, current)
        return [app_commands.Choice(name=source_label(c), value=c.token) for c in choices[:25]]

    # ------------------------------------------------------------------ /product add
    @app_commands.command(name="add", description="Add something the group made to its impact log")
    @app_commands.describe(
        community="The community that made it",
        title="What it is called, e.g. 'Our principles of people-centred care'",
        kind="What kind of product it is",
    )
    @app_commands.choices(kind=KIND_CHOICES)
    @app_commands.autocomplete(community=community_autocomplete)
    @app_commands.guild_only()
    async def add(
        self, interaction: discord.Interaction[HearthBot], community: str, title: str, kind: str
    ) -> None:
        comm, actor = await facilitated_community(interaction, community)
        product = await self.service.add(comm, actor.user_id, title, kind)
        await interaction.response.send_message(
            f"Added **{escape_inline(product.title)}** ({product.kind.label}, "
            f"{product.status.value}) to the impact log of **{escape_inline(comm.name)}** "
            f"as product #{product.id}. Link what it came from with {mention('product link')}, "
            f"and record where it is used with {mention('product used')}.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ /product link
    @app_commands.command(
        name="link", description="Link a story, poll, round or meeting a product came from"
    )
    @app_commands.describe(
        product="The product",
        source="What it came from: start typing a title and pick from the list",
    )
    @app_commands.guild_only()
    async def link(
        self, interaction: discord.Interaction[HearthBot], product: str, source: str
    ) -> None:
        prod, community, actor_id = await self._product(interaction, product, facilitator=True)
        linked = await self.service.link(prod, source, actor_id)
        await interaction.response.send_message(
            f"Linked {linked.kind.label.lower()} “{escape_inline(linked.title)}” to "
            f"**{escape_inline(prod.title)}**. {mention('product show')} shows where it came "
            "from; outside the group each story appears only as its teller agreed.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        teller = await self.service.teller_of(linked.kind, linked.id)
        if teller is not None and teller[0] != actor_id:
            text = linked_notice(linked.title, prod.title, community.name, teller[1])
            await self._dm(teller[0], text)

    async def _dm(self, user_id: int, text: str) -> None:
        """Best effort: a teller whose DMs are closed still sees the link in /product show."""
        try:
            channel = await self.bot.create_dm(discord.Object(user_id))
            await channel.send(text, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.info("could not tell a teller their story was linked (%s)", exc.code)

    # ------------------------------------------------------------------ /product status
    @app_commands.command(name="status", description="Record a product's new status (facilitators)")
    @app_commands.describe(
        product="The product",
        status="Where it stands now",
        note="What happened, e.g. 'published on the trust's website' (optional)",
    )
    @app_commands.choices(status=STATUS_CHOICES)
    @app_commands.guild_only()
    async def status(
        self,
        interaction: discord.Interaction[HearthBot],
        product: str,
        status: str,
        note: str | None = None,
    ) -> None:
        prod, _community, actor_id = await self._product(interaction, product, facilitator=True)
        before = await self.service.set_status(prod, status, note, actor_id)
        now = status.strip().lower()
        change = f"from {before.value} to **{now}**" if before.value != now else f"still **{now}**"
        await interaction.response.send_message(
            f"**{escape_inline(prod.title)}** is {change}"
            + (", with your note." if note and note.strip() else ".")
            + " It appears in the product's timeline and the sponsor's next digest.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ /product used
    @app_commands.command(name="used", description="Record where a product was used")
    @app_commands.describe(
        product="The product",
        where="Where it was used, e.g. 'practice nurse training day, Leeds'",
        setting="What kind of occasion it was (default: other)",
        note="Anything worth remembering about it (optional)",
    )
    @app_commands.choices(setting=SETTING_CHOICES)
    @app_commands.guild_only()
    async def used(
        self,
        interaction: discord.Interaction[HearthBot],
        product: str,
        where: str,
        setting: str = "other",
        note: str | None = None,
    ) -> None:
        prod, _community, actor_id = await self._product(interaction, product, facilitator=False)
        use = await self.service.record_use(prod, setting, where, note, actor_id)
        await interaction.response.send_message(
            f"Recorded: **{escape_inline(prod.title)}** was used ({use.setting.label}) at "
            f"{escape_inline(use.place)}. Thank you: this is how the group's work is seen to "
            "travel. Your name shows inside the group only; the sponsor sees the use without it.",
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # ------------------------------------------------------------------ /product show
    @app_commands.command(name="show", description="A product's timeline, sources and uses")
    @app_commands.describe(product="The product")
    @app_commands.guild_only()
    async def show(self, interaction: discord.Interaction[HearthBot], product: str) -> None:
        actor = actor_of(interaction)
        prod, community = await self.service.in_guild(interaction.guild_id, product)
        membership = await self.bot.communities.membership(community.id, actor.user_id)
        audience = audience_for(actor, community, membership)
        guild = interaction.guild

        async def display_name(user_id: int) -> str | None:
            """A named teller's name as the community sees it (nickname first)."""
            if guild is None:
                return None
            member = guild.get_member(user_id)
            if member is not None:
                return member.display_name
            try:
                return (await guild.fetch_member(user_id)).display_name
            except discord.HTTPException:
                return None

        # Named tellers' names may need a REST call each: answer within Discord's 3 seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        view = await self.service.show(
            prod, audience, display_name if audience is Audience.OUTSIDE else None
        )
        embed, file = product_embed(view)
        if file is not None:
            await interaction.followup.send(
                embed=embed, file=file, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
        else:
            await interaction.followup.send(
                embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
            )

    link.autocomplete("product")(product_autocomplete)
    link.autocomplete("source")(source_autocomplete)
    status.autocomplete("product")(product_autocomplete)
    used.autocomplete("product")(product_autocomplete)
    show.autocomplete("product")(product_autocomplete)
