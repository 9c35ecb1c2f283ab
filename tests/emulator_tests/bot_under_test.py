"""A small throwaway discord.py bot that exercises the emulator the way Hearth will."""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import discord
from discord import app_commands
from discord.ext import commands

log = logging.getLogger(__name__)


def hearth_intents() -> discord.Intents:
    intents = discord.Intents.default()
    intents.members = False
    intents.presences = False
    intents.message_content = False
    return intents


class StoryModal(discord.ui.Modal, title="Share a story"):
    story_title: discord.ui.TextInput[StoryModal] = discord.ui.TextInput(
        label="Title", custom_id="story:title", max_length=100
    )
    text: discord.ui.TextInput[StoryModal] = discord.ui.TextInput(
        label="Your story", custom_id="story:text", style=discord.TextStyle.paragraph,
        max_length=4000,
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"Saved {self.story_title.value!r}: {self.text.value}", ephemeral=True
        )


class Panel(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Share", custom_id="panel:share")
    async def share(self, interaction: discord.Interaction, button: discord.ui.Button[Panel]
                    ) -> None:
        await interaction.response.send_modal(StoryModal())

    @discord.ui.button(label="Count", custom_id="panel:count")
    async def count(self, interaction: discord.Interaction, button: discord.ui.Button[Panel]
                    ) -> None:
        await interaction.response.edit_message(content=f"clicked by {interaction.user.name}")

    @discord.ui.select(custom_id="panel:pick", options=[
        discord.SelectOption(label="Going", value="going"),
        discord.SelectOption(label="Maybe", value="maybe"),
    ])
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Panel]
                   ) -> None:
        await interaction.response.send_message(f"you picked {select.values[0]}", ephemeral=True)


class TestBot(commands.AutoShardedBot):
    __test__ = False

    def __init__(self, intents: discord.Intents | None = None) -> None:
        super().__init__(command_prefix="!", intents=intents or hearth_intents(),
                         guild_ready_timeout=0.05)
        self.seen_messages: list[discord.Message] = []
        self.errors: list[BaseException] = []
        self.tree.add_command(community)
        self.tree.add_command(save_as_story)
        self.tree.add_command(profile)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False
                                   ) -> None:
        """discord.py sleeps 5 s before every non-initial IDENTIFY; tests need not wait."""

    async def setup_hook(self) -> None:
        self.add_view(Panel())
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)


community = app_commands.Group(name="community", description="Communities")
admin = app_commands.Group(name="admin", description="Admin things", parent=community)


@community.command(name="info", description="About a community")
@app_commands.describe(name="Community name")
async def info(interaction: discord.Interaction, name: str) -> None:
    embed = discord.Embed(title=name, description="A community of practice")
    embed.add_field(name="Members", value="3")
    await interaction.response.send_message(embed=embed, ephemeral=True)


@info.autocomplete("name")
async def info_autocomplete(interaction: discord.Interaction, current: str
                            ) -> list[app_commands.Choice[str]]:
    names = ["Carers", "GP Advisors", "Nurses"]
    return [app_commands.Choice(name=n, value=n) for n in names if current.lower() in n.lower()]


@community.command(name="create", description="Create a community")
@app_commands.choices(kind=[app_commands.Choice(name=k, value=k)
                            for k in ("reference", "practice", "distilling")])
async def create(
    interaction: discord.Interaction,
    name: str,
    kind: app_commands.Choice[str],
    sponsor: discord.Member | None = None,
    size: app_commands.Range[int, 1, 500] | None = None,
) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    guild = interaction.guild
    assert guild is not None
    created: list[discord.abc.Snowflake] = []
    try:
        role = await guild.create_role(name=f"{name} member")
        created.append(role)
        overwrites: dict[discord.Role | discord.Member | discord.Object,
                         discord.PermissionOverwrite] = {
            guild.default_role: discord.PermissionOverwrite(view_channel=False),
            role: discord.PermissionOverwrite(view_channel=True, send_messages=True),
            # without this the bot hides the category from itself (Discord answers 50001)
            guild.me: discord.PermissionOverwrite(view_channel=True, send_messages=True),
        }
        if sponsor is not None:
            overwrites[sponsor] = discord.PermissionOverwrite(view_channel=True,
                                                              send_messages=False)
        category = await guild.create_category(name, overwrites=overwrites)
        created.append(category)
        lounge = await guild.create_text_channel("lounge", category=category)
        created.append(lounge)
        stories: discord.ForumChannel | discord.TextChannel
        if "COMMUNITY" in guild.features:
            stories = await guild.create_forum(
                "stories", category=category,
                available_tags=[discord.ForumTag(name="diagnosis"),
                                discord.ForumTag(name="treatment")],
            )
        else:
            stories = await guild.create_text_channel("stories", category=category)
        created.append(stories)
        await guild.create_voice_channel("voice", category=category)
    except discord.Forbidden as exc:
        for obj in reversed(created):
            await obj.delete()  # type: ignore[attr-defined]
        missing = "Manage Roles" if not created else "Manage Channels"
        await interaction.followup.send(f"I need the {missing} permission ({exc.code}).")
        return
    await interaction.followup.send(f"Created {name} ({kind.value}, size {size}).")


@community.command(name="join", description="Give someone a role")
async def join(interaction: discord.Interaction, member: discord.Member, role: discord.Role
               ) -> None:
    try:
        await member.add_roles(role)
    except discord.Forbidden as exc:
        await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
        return
    await interaction.response.send_message(f"{member.name} joined {role.name}")


@community.command(name="welcome", description="DM someone")
async def welcome(interaction: discord.Interaction, member: discord.Member) -> None:
    try:
        await member.send("Welcome!", file=discord.File(io.BytesIO(b"# Induction"), "pack.md"))
    except discord.Forbidden as exc:
        await interaction.response.send_message(f"DMs closed ({exc.code})", ephemeral=True)
        return
    await interaction.response.send_message("sent", ephemeral=True)


@community.command(name="post", description="Post in a channel")
async def post(interaction: discord.Interaction, channel: discord.TextChannel, text: str
               ) -> None:
    await interaction.response.defer(thinking=True)
    try:
        msg = await channel.send(text, file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "data.csv"))
    except discord.HTTPException as exc:
        await interaction.edit_original_response(content=f"failed {exc.status} {exc.code}")
        return
    await interaction.edit_original_response(content=f"posted {msg.id}")
    await interaction.followup.send("second", ephemeral=True)


@community.command(name="panel", description="Buttons")
async def panel(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("Panel", view=Panel())


@community.command(name="story", description="Forum post")
async def story(interaction: discord.Interaction, forum: discord.ForumChannel, title: str
                ) -> None:
    tag = next(t for t in forum.available_tags if t.name == "diagnosis")
    thread, message = await forum.create_thread(
        name=title, content="Once upon a time", applied_tags=[tag],
        file=discord.File(io.BytesIO(b"story"), "story.txt"),
    )
    await interaction.response.send_message(f"thread {thread.id} msg {message.id}")


@community.command(name="event", description="Schedule an event")
async def event(interaction: discord.Interaction, title: str, days: int = 7) -> None:
    guild = interaction.guild
    assert guild is not None
    start = datetime.now(UTC) + timedelta(days=days)
    try:
        ev = await guild.create_scheduled_event(
            name=title, start_time=start, end_time=start + timedelta(hours=2),
            entity_type=discord.EntityType.external, location="Leeds",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
    except discord.HTTPException as exc:
        await interaction.response.send_message(f"failed {exc.status} {exc.code}",
                                                ephemeral=True)
        return
    await interaction.response.send_message(f"event {ev.id}", ephemeral=True)


@admin.command(name="say", description="Say something long")
async def say(interaction: discord.Interaction, length: int) -> None:
    try:
        await interaction.response.send_message("x" * length)
    except discord.HTTPException as exc:
        interaction.client.errors.append(exc)  # type: ignore[attr-defined]


@app_commands.context_menu(name="Save as story")
async def save_as_story(interaction: discord.Interaction, message: discord.Message) -> None:
    await interaction.response.send_message(f"saved: {message.content}", ephemeral=True)


@app_commands.context_menu(name="Profile")
async def profile(interaction: discord.Interaction, member: discord.Member) -> None:
    await interaction.response.send_message(f"profile of {member.name}", ephemeral=True)
