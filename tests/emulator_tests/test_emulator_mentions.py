"""The emulator's mention log: what Discord would notify for each message the bot sends."""

from __future__ import annotations

import discord
import pytest

from tests.emulator.mentions import effective_mentions
from tests.emulator_tests.bot_under_test import TestBot
from tests.emulator_tests.conftest import World

TEXT = "hi @everyone and @here, <@11> <@!12> and the <@&21> role"


def test_without_allowed_mentions_everything_in_content_is_parsed() -> None:
    m = effective_mentions(TEXT, None)
    assert m.everyone and m.mass
    assert m.users == {11, 12} and m.roles == {21}
    assert m.allowed_users is None and m.unlisted_users == {11, 12}


def test_interactions_parse_only_users_by_default() -> None:
    m = effective_mentions(TEXT, None, interaction=True)
    assert not m.everyone and not m.roles and not m.mass
    assert m.users == {11, 12}


def test_parse_list_and_explicit_ids() -> None:
    none = effective_mentions(TEXT, {"parse": []})
    assert none == effective_mentions(TEXT, {})  # no parse key: nothing parsed
    assert not none.everyone and not none.users and not none.roles
    listed = effective_mentions(TEXT, {"parse": [], "users": ["12", "99"], "roles": ["21"]})
    assert listed.users == {12} and listed.roles == {21} and not listed.everyone
    assert listed.unlisted_users == frozenset()
    everyone_only = effective_mentions(TEXT, {"parse": ["everyone"]})
    assert everyone_only.everyone and not everyone_only.users


def test_broken_mentions_do_not_ping() -> None:
    m = effective_mentions("@\u200beveryone <@ 11> <@&x> <#5> @Everyone", None)
    assert m == effective_mentions("", None)


def test_text_displays_count_embeds_do_not() -> None:
    from tests.emulator.mentions import component_text

    comps = [{"type": 17, "components": [{"type": 10, "content": "@here"}]}]
    assert component_text(comps) == ["@here"]


@pytest.mark.e2e
async def test_log_records_creates_and_edits_with_their_own_allowed_mentions(
    world: World, bot: TestBot
) -> None:
    emu, guild = world.emu, world.guild
    general = emu.channel_by_name(guild, "general")
    assert general is not None
    role = emu.create_role(guild, "Carers")
    start = len(emu.mention_log)
    rec = await emu.slash(guild, world.owner, "community post", channel=general,
                          text=f"@everyone <@{world.alice.id}> <@&{role.id}>")
    assert rec.content.startswith("posted")
    sent = [r for r in emu.mention_log[start:] if r.channel_id == general.id
            and r.action == "create" and not r.interaction]
    assert len(sent) == 1
    assert sent[0].allowed_mentions is None  # this bot sets no allowed_mentions
    assert sent[0].mentions.everyone and sent[0].mentions.roles == {role.id}
    assert sent[0].mentions.users == {world.alice.id}
    # the deferred reply was completed by an edit of the original response
    edits = [r for r in emu.mention_log[start:] if r.action == "edit" and r.interaction]
    assert edits and edits[0].text.startswith("posted")

    # what discord.py sends once the client sets AllowedMentions.none()
    bot.allowed_mentions = discord.AllowedMentions.none()
    start = len(emu.mention_log)
    await emu.slash(guild, world.owner, "community post", channel=general, text="@everyone")
    sent = [r for r in emu.mention_log[start:] if r.channel_id == general.id
            and r.action == "create" and not r.interaction]
    assert sent[0].allowed_mentions == {"parse": []}
    assert not sent[0].mentions.everyone
