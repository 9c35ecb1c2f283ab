"""Every /community command, driven through the emulator as people would use it.

Assertions are on what Discord (the emulator) holds afterwards: channels, roles,
overwrites, DMs, and on the rows in the database. Refusals are checked for being
ephemeral and for leaving no trace (no mutating REST call, state unchanged).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.emulator.interactions import InteractionRecord
from tests.emulator.permissions import DEFAULT_BOT, P
from tests.emulator.state import ChannelState, ChannelType, RoleState, UserState

pytestmark = pytest.mark.e2e



VIEW = P.VIEW_CHANNEL
SEND = P.SEND_MESSAGES
PURPOSES = ("lounge", "stories", "voice", "meetings")
FORBIDDEN_JSON = {"message": "Missing Permissions", "code": 50013}


# ---------------------------------------------------------------------------- helpers


def space(world: HearthWorld, slug: str) -> dict[str, ChannelState]:
    """The community's channels by purpose (plus 'category')."""
    out = {p: world.channel(f"{slug}-{p}") for p in PURPOSES}
    cat = next(
        c for c in world.emu.channels_in(world.guild, ChannelType.CATEGORY)
        if c.id == out["lounge"].parent_id
    )
    out["category"] = cat
    return out


def role(world: HearthWorld, name: str) -> RoleState:
    found = world.emu.role_by_name(world.guild, name)
    assert found is not None, f"no role {name!r}"
    return found


def role_names(world: HearthWorld, user: UserState) -> set[str]:
    return {r.name for r in world.emu.roles_of(world.guild, user)}


def can(world: HearthWorld, user: UserState, perms: int, channel: ChannelState) -> bool:
    return world.emu.can(world.guild, user, perms, channel)


async def db_rows(
    world: HearthWorld, sql: str, params: dict[str, Any] | None = None
) -> list[tuple[Any, ...]]:
    """Read what is really stored, on a connection of its own (either engine)."""
    async with world.settings.open_database() as db:
        return [tuple(r) for r in await db.fetchall(sql, params or {})]


def ensure_general(world: HearthWorld) -> None:
    """Commands run from #general, which the emulator makes on first use: make it up front
    so that "nothing changed" comparisons are not confused by it."""
    if world.emu.channel_by_name(world.guild, "general") is None:
        world.emu.create_channel(world.guild, "general")


async def snapshot(world: HearthWorld) -> tuple[Any, ...]:
    """Everything a refusal must leave untouched."""
    g = world.guild
    return (
        sorted((c.id, c.name) for c in g.channels.values()),
        sorted((r.id, r.name) for r in g.roles.values()),
        sorted((m.user.id, tuple(sorted(m.roles))) for m in g.members.values()),
        sorted(
            (c.id, tuple(sorted((o.id, o.allow, o.deny) for o in c.overwrites)))
            for c in g.channels.values()
        ),
        await db_rows(world, "SELECT * FROM communities ORDER BY id"),
        await db_rows(world, "SELECT * FROM memberships ORDER BY community_id, user_id"),
        await db_rows(world, "SELECT * FROM community_channels ORDER BY channel_id"),
    )


async def refused(
    world: HearthWorld, user: UserState, command: str, **options: Any
) -> InteractionRecord:
    """Run a command that must be refused: ephemeral, no REST mutation, nothing changed."""
    ensure_general(world)
    before = await snapshot(world)
    calls_before = len(world.emu.mutating_calls())
    rec = await world.slash(user, command, **options)
    assert rec.ephemeral, rec.content
    assert rec.content and not rec.content.startswith("Sorry"), rec.content
    assert world.emu.mutating_calls()[calls_before:] == []
    assert await snapshot(world) == before
    return rec


# ---------------------------------------------------------------------------- create


async def test_create_builds_private_space_with_forum_roles_and_facilitator(
    world: HearthWorld,
) -> None:
    outsider = world.person("outsider")
    rec = await world.create_community("Carers Voice", "practice")
    assert rec.ephemeral
    assert "Created **Carers Voice** (practice)" in rec.content
    sp = space(world, "carers-voice")
    cat = sp["category"]
    assert cat.name == "Carers Voice"
    assert {c.name for c in world.emu.children_of(cat)} == {
        f"carers-voice-{p}" for p in PURPOSES
    }
    stories = sp["stories"]
    assert stories.type == ChannelType.FORUM
    labels = [s.label for s in world.config.stories.stages]
    assert [t.name for t in stories.available_tags] == labels
    for p in ("lounge", "voice", "meetings"):
        assert sp[p].type == ChannelType.TEXT

    member_role = role(world, "Carers Voice member")
    fac_role = role(world, "Carers Voice facilitator")
    assert role_names(world, world.owner) >= {member_role.name, fac_role.name}
    for ch in sp.values():
        everyone = world.emu.overwrite_for(ch, world.guild)
        assert everyone is not None and everyone.deny & VIEW
        ow = world.emu.overwrite_for(ch, member_role)
        assert ow is not None and ow.allow & VIEW and ow.allow & SEND
        assert not can(world, outsider, VIEW, ch)

    row = await world.community_row("Carers Voice")
    assert row is not None and row.slug == "carers-voice" and row.kind.value == "practice"
    assert row.stories_is_forum and row.stories_id == stories.id
    assert row.category_id == cat.id and row.member_role_id == member_role.id
    tags = await world.bot.communities.stage_tags(row.id) if world.bot else {}
    assert set(tags) == {s.slug for s in world.config.stories.stages}
    assert set(tags.values()) == {t.id for t in stories.available_tags}
    [fac] = await db_rows(
        world, "SELECT user_id, is_facilitator, left_at FROM memberships WHERE community_id=:c",
        {"c": row.id},
    )
    assert fac == (world.owner.id, 1, None)


async def test_members_see_and_post_sponsor_reads_only(world: HearthWorld) -> None:
    alice, sam = world.person("alice"), world.person("sam")
    outsider = world.person("outsider")
    await world.create_community("GP Forum", "reference", sponsor=sam, members={alice: "gp"})
    sp = space(world, "gp-forum")
    for purpose, ch in sp.items():
        assert can(world, alice, VIEW | SEND, ch), ch.name
        assert not can(world, sam, SEND, ch), ch.name
        assert not can(world, outsider, VIEW, ch), ch.name
        # The sponsor reads the conversation, never the stories channel: group stories
        # stay in the community and reach the sponsor only through the digest.
        assert can(world, sam, VIEW, ch) == (purpose != "stories"), ch.name
    row = await world.community_row("GP Forum")
    assert row.sponsor_id == sam.id


async def test_stories_is_a_text_channel_without_community_feature(tmp_path: Path) -> None:
    async with hearth_world(tmp_path, features=()) as world:
        rec = await world.create_community("Nurses Together", "practice")
        assert "forums need a Community server" in rec.content
        stories = world.channel("nurses-together-stories")
        assert stories.type == ChannelType.TEXT
        row = await world.community_row("Nurses Together")
        assert not row.stories_is_forum
        assert await db_rows(world, "SELECT * FROM story_stage_tags") == []


async def test_circles_are_private_to_their_discipline(world: HearthWorld) -> None:
    gp, nurse, fac = world.person("gp"), world.person("nurse"), world.person("fac")
    await world.create_community(
        "Cancer Care", "practice", circles="gp, nurse", members={gp: "gp", nurse: "nurse"}
    )
    gp_circle = world.channel("cancer-care-gp-circle")
    nurse_circle = world.channel("cancer-care-nurse-circle")
    assert world.emu.channel_by_name(world.guild, "cancer-care-carer-circle") is None
    assert can(world, gp, VIEW | SEND, gp_circle)
    assert not can(world, gp, VIEW, nurse_circle)
    assert can(world, nurse, VIEW | SEND, nurse_circle)
    assert not can(world, nurse, VIEW, gp_circle)
    # A facilitator (added with facilitator=True) sees every circle.
    rec = await world.slash(
        world.owner, "community add", community="Cancer Care", member=fac,
        discipline="other", facilitator=True,
    )
    assert "also a facilitator" in rec.content
    assert "Cancer Care facilitator" in role_names(world, fac)
    assert can(world, fac, VIEW | SEND, gp_circle) and can(world, fac, VIEW | SEND, nurse_circle)
    # Changing discipline moves the circle access.
    rec = await world.slash(
        world.owner, "community add", community="Cancer Care", member=gp, discipline="nurse"
    )
    assert "Updated" in rec.content
    assert not can(world, gp, VIEW, gp_circle)
    assert can(world, gp, VIEW | SEND, nurse_circle)


async def test_server_manager_who_is_not_owner_creates_and_becomes_facilitator(
    world: HearthWorld,
) -> None:
    mgr = world.person("manager", manager=True)
    rec = await world.slash(mgr, "community create", name="Patients First", kind="practice")
    assert "Created" in rec.content, rec.content
    assert role_names(world, mgr) >= {"Patients First member", "Patients First facilitator"}
    lounge = world.channel("patients-first-lounge")
    assert can(world, mgr, VIEW | SEND, lounge)


async def test_create_refusals_leave_nothing(world: HearthWorld) -> None:
    plain = world.person("plain")
    rec = await refused(world, plain, "community create", name="Mine", kind="practice")
    assert "server manager" in rec.content

    await world.create_community("Carers Voice")
    for dup in ("carers voice", "CARERS VOICE", "Carers  Voice!", "Carers-Voice"):
        rec = await refused(world, world.owner, "community create", name=dup, kind="practice")
        assert "already exists" in rec.content, (dup, rec.content)

    bad = {
        "   ": "Give the community a name",
        "x" * 51: "keep it to 50",
        "!!! ???": "at least one letter or digit",
        "🔥🔥": "at least one letter or digit",
        "@everyone party": "cannot contain `@`",
        "Team #1": "cannot contain",
    }
    for name, expected in bad.items():
        rec = await refused(world, world.owner, "community create", name=name, kind="practice")
        assert expected in rec.content, (name, rec.content)
    rec = await refused(
        world, world.owner, "community create", name="Ok Name", kind="practice",
        circles="gp, dentist",
    )
    assert "`dentist` is not a discipline" in rec.content


async def test_accented_name_slugifies(world: HearthWorld) -> None:
    rec = await world.create_community("Soignants Île-de-France", "practice")
    assert "Created" in rec.content
    assert world.channel("soignants-ile-de-france-lounge")
    assert role(world, "Soignants Île-de-France member")


@pytest.mark.parametrize("missing", ["MANAGE_ROLES", "MANAGE_CHANNELS"])
async def test_missing_bot_permission_is_named_and_nothing_is_made(
    world: HearthWorld, missing: str
) -> None:
    world.emu.set_bot_permissions(world.guild, DEFAULT_BOT & ~getattr(P, missing))
    await world.emu.wait_for(
        lambda: world.bot is not None
        and not getattr(
            world.bot.get_guild(world.guild.id).me.guild_permissions,  # type: ignore[union-attr]
            missing.lower(),
        )
    )
    rec = await refused(world, world.owner, "community create", name="Carers", kind="practice")
    label = missing.replace("_", " ").title()
    assert f"**{label}**" in rec.content


async def test_failure_midway_rolls_back_everything(world: HearthWorld) -> None:
    guild = world.guild
    ensure_general(world)
    before_channels = set(guild.channels)
    before_roles = set(guild.roles)
    # Category and lounge succeed, the 3rd channel (the stories forum) is refused.
    world.emu.fail_route(
        "POST", r"^/guilds/\d+/channels$", 403, after=2, json=FORBIDDEN_JSON
    )
    rec = await world.slash(world.owner, "community create", name="Carers", kind="practice")
    assert rec.ephemeral
    assert "Manage Channels" in rec.content and not rec.content.startswith("Sorry")
    assert len(world.emu.calls("POST", r"^/guilds/\d+/channels$")) == 3
    assert set(guild.channels) == before_channels
    assert set(guild.roles) == before_roles
    assert "Carers member" not in role_names(world, world.owner)
    assert await db_rows(world, "SELECT * FROM communities") == []
    assert await db_rows(world, "SELECT * FROM memberships") == []
    # The same name works once the fault is gone.
    rec = await world.create_community("Carers")
    assert world.channel("carers-stories").type == ChannelType.FORUM


async def test_failure_on_second_role_rolls_back(world: HearthWorld) -> None:
    before_roles = set(world.guild.roles)
    world.emu.fail_route("POST", r"^/guilds/\d+/roles$", 403, after=1, json=FORBIDDEN_JSON)
    rec = await world.slash(world.owner, "community create", name="Carers", kind="practice")
    assert "Manage" in rec.content and rec.ephemeral
    assert set(world.guild.roles) == before_roles
    assert world.emu.calls("POST", r"^/guilds/\d+/channels$") == []
    assert await db_rows(world, "SELECT * FROM communities") == []


async def test_failure_giving_creator_roles_rolls_back(world: HearthWorld) -> None:
    ensure_general(world)
    before = (set(world.guild.channels), set(world.guild.roles))
    world.emu.fail_route(
        "PUT", r"^/guilds/\d+/members/\d+/roles/\d+$", 403, json=FORBIDDEN_JSON
    )
    rec = await world.slash(world.owner, "community create", name="Carers", kind="practice")
    assert "Manage Roles" in rec.content and rec.ephemeral
    assert (set(world.guild.channels), set(world.guild.roles)) == before
    assert await db_rows(world, "SELECT * FROM communities") == []


# ---------------------------------------------------------------------------- add / remove


async def test_add_assigns_roles_records_and_welcomes(world: HearthWorld) -> None:
    alice = world.person("alice")
    await world.create_community("Carers Voice")
    rec = await world.slash(
        world.owner, "community add", community="Carers Voice", member=alice,
        discipline="carer", region="Yorkshire",
    )
    assert rec.ephemeral and "Added" in rec.content and "Yorkshire" in rec.content
    assert "Carers Voice member" in role_names(world, alice)
    assert "Carers Voice facilitator" not in role_names(world, alice)
    row = await world.community_row("Carers Voice")
    [m] = await db_rows(
        world,
        "SELECT discipline, region, is_facilitator, left_at FROM memberships"
        " WHERE community_id=:community AND user_id=:user",
        {"community": row.id, "user": alice.id},
    )
    assert m == ("carer", "Yorkshire", 0, None)
    [dm] = world.emu.dms_to(alice)
    assert "Carers Voice" in dm.content
    induction_start = world.config.induction.text.strip().split("{")[0][:30]
    assert induction_start and dm.content.startswith(induction_start)
    assert "{community}" not in dm.content and "{facilitator}" not in dm.content

    # Re-adding updates discipline and region, with no second welcome.
    rec = await world.slash(
        world.owner, "community add", community="Carers Voice", member=alice,
        discipline="nurse", region="Leeds",
    )
    assert "Updated" in rec.content
    [m] = await db_rows(
        world, "SELECT discipline, region FROM memberships WHERE community_id=:c AND user_id=:u",
        {"c": row.id, "u": alice.id},
    )
    assert m == ("nurse", "Leeds")
    assert len(world.emu.dms_to(alice)) == 1

    # Re-adding to change only the discipline keeps the region (regression: it was cleared).
    rec = await world.slash(
        world.owner, "community add", community="Carers Voice", member=alice,
        discipline="carer",
    )
    assert "Updated" in rec.content and "Leeds" in rec.content, rec.content
    [m] = await db_rows(
        world, "SELECT discipline, region FROM memberships WHERE community_id=:c AND user_id=:u",
        {"c": row.id, "u": alice.id},
    )
    assert m == ("carer", "Leeds")


async def test_closed_dms_are_reported_not_an_error(world: HearthWorld) -> None:
    bob = world.person("bob", dms_open=False)
    await world.create_community("Carers Voice")
    rec = await world.slash(
        world.owner, "community add", community="Carers Voice", member=bob, discipline="gp"
    )
    assert rec.ephemeral and "Added" in rec.content
    assert "direct messages are closed" in rec.content
    assert "Carers Voice member" in role_names(world, bob)
    assert world.emu.dms_to(bob) == []


async def test_member_of_two_communities(world: HearthWorld) -> None:
    alice = world.person("alice")
    await world.create_community("Carers Voice", members={alice: "carer"})
    await world.create_community("GP Forum", members={alice: "gp"})
    assert role_names(world, alice) >= {"Carers Voice member", "GP Forum member"}
    assert can(world, alice, VIEW | SEND, world.channel("carers-voice-lounge"))
    assert can(world, alice, VIEW | SEND, world.channel("gp-forum-lounge"))
    rows = await db_rows(
        world, "SELECT c.name, m.discipline FROM memberships m JOIN communities c"
        " ON c.id = m.community_id WHERE m.user_id=:user ORDER BY c.name", {"user": alice.id},
    )
    assert rows == [("Carers Voice", "carer"), ("GP Forum", "gp")]


async def test_remove_takes_roles_and_circle_keeps_row(world: HearthWorld) -> None:
    alice = world.person("alice")
    await world.create_community("Carers Voice", circles="all", members={alice: "carer"})
    circle = world.channel("carers-voice-carer-circle")
    lounge = world.channel("carers-voice-lounge")
    assert can(world, alice, VIEW, circle)
    rec = await world.slash(world.owner, "community remove", community="Carers Voice", member=alice)
    assert rec.ephemeral and "Removed" in rec.content
    assert not any(r.startswith("Carers Voice") for r in role_names(world, alice))
    assert not can(world, alice, VIEW, circle)
    assert not can(world, alice, VIEW, lounge)
    row = await world.community_row("Carers Voice")
    [m] = await db_rows(
        world, "SELECT discipline, left_at FROM memberships WHERE community_id=:c AND user_id=:u",
        {"c": row.id, "u": alice.id},
    )
    assert m[0] == "carer" and m[1] is not None
    # Removing again is refused; re-adding brings them back with a fresh welcome.
    rec = await refused(world, world.owner, "community remove", community="Carers Voice",
                        member=alice)
    assert "not a member" in rec.content
    rec = await world.slash(
        world.owner, "community add", community="Carers Voice", member=alice, discipline="carer"
    )
    assert "Added" in rec.content
    assert can(world, alice, VIEW | SEND, circle)
    assert len(world.emu.dms_to(alice)) == 2


async def test_facilitator_refusals(world: HearthWorld) -> None:
    alice, bob, carol = world.person("alice"), world.person("bob"), world.person("carol")
    fac_b = world.person("fac_b")
    await world.create_community("Carers Voice", members={alice: "carer"})
    await world.create_community("GP Forum")
    await world.slash(
        world.owner, "community add", community="GP Forum", member=fac_b, discipline="gp",
        facilitator=True,
    )
    # A plain member, a non-member, and another community's facilitator are all refused.
    for who in (alice, bob, fac_b):
        rec = await refused(world, who, "community add", community="Carers Voice", member=carol,
                            discipline="gp")
        assert "Only a facilitator of **Carers Voice**" in rec.content
        await refused(world, who, "community remove", community="Carers Voice", member=alice)
        await refused(world, who, "community archive", community="Carers Voice")
        await refused(world, who, "community sponsor", community="Carers Voice", member=carol)
    # ...but fac_b facilitates GP Forum without being a server manager.
    rec = await world.slash(fac_b, "community add", community="GP Forum", member=carol,
                            discipline="gp")
    assert "Added" in rec.content
    rec = await refused(world, world.owner, "community add", community="Nope", member=carol,
                        discipline="gp")
    assert "no community called" in rec.content


async def test_add_refuses_bots_and_bad_region(world: HearthWorld) -> None:
    alice = world.person("alice")
    await world.create_community("Carers Voice")
    other_bot = world.emu.create_user("otherbot", bot=True)
    world.emu.add_member(world.guild, other_bot)
    rec = await refused(world, world.owner, "community add", community="Carers Voice",
                        member=other_bot, discipline="gp")
    assert "Bots" in rec.content
    rec = await refused(world, world.owner, "community add", community="Carers Voice",
                        member=alice, discipline="gp", region="r" * 51)
    assert "region" in rec.content


async def test_add_without_manage_roles_names_it(world: HearthWorld) -> None:
    alice = world.person("alice")
    await world.create_community("Carers Voice")
    world.emu.set_bot_permissions(world.guild, DEFAULT_BOT & ~P.MANAGE_ROLES)
    rec = await world.slash(world.owner, "community add", community="Carers Voice", member=alice,
                            discipline="gp")
    assert rec.ephemeral and "**Manage Roles**" in rec.content
    assert "Carers Voice member" not in role_names(world, alice)
    assert await db_rows(
        world, "SELECT * FROM memberships WHERE user_id=:user", {"user": alice.id}
    ) == []


# ---------------------------------------------------------------------------- sponsor / link


async def test_sponsor_set_replaced_and_email_validated(world: HearthWorld) -> None:
    sam, tess = world.person("sam"), world.person("tess")
    await world.create_community("Carers Voice", circles="gp")
    sp = space(world, "carers-voice")
    circle = world.channel("carers-voice-gp-circle")
    rec = await world.slash(world.owner, "community sponsor", community="Carers Voice",
                            member=sam, email="sam@example.org")
    assert rec.ephemeral and "now the sponsor" in rec.content
    for purpose, ch in sp.items():
        assert can(world, sam, VIEW, ch) == (purpose != "stories"), ch.name
        assert not can(world, sam, SEND, ch), ch.name
    assert not can(world, sam, VIEW, circle)
    row = await world.community_row("Carers Voice")
    assert (row.sponsor_id, row.sponsor_email) == (sam.id, "sam@example.org")

    rec = await world.slash(world.owner, "community sponsor", community="Carers Voice",
                            member=tess)
    assert "now the sponsor" in rec.content, rec.content
    for purpose, ch in sp.items():
        assert world.emu.overwrite_for(ch, sam) is None, ch.name
        assert not can(world, sam, VIEW, ch)
        assert can(world, tess, VIEW, ch) == (purpose != "stories"), ch.name
        assert not can(world, tess, SEND, ch)
    row = await world.community_row("Carers Voice")
    assert (row.sponsor_id, row.sponsor_email) == (tess.id, None)

    for bad in ("not-an-email", "a@b", "two@@example.org", "x" * 250 + "@example.org"):
        rec = await refused(world, world.owner, "community sponsor", community="Carers Voice",
                            member=sam, email=bad)
        assert "does not look like an e-mail" in rec.content


async def test_link_rules(world: HearthWorld) -> None:
    await world.create_community("Carers Voice", "practice")
    await world.create_community("Carers Core", "distilling")
    await world.create_community("Second Core", "distilling")
    rec = await refused(world, world.owner, "community link", community="Carers Voice",
                        serves="Carers Core")
    assert "Only a `distilling` community" in rec.content
    rec = await refused(world, world.owner, "community link", community="Carers Core",
                        serves="Carers Core")
    assert "its own voice" in rec.content
    rec = await world.slash(world.owner, "community link", community="Carers Core",
                            serves="Carers Voice")
    assert rec.ephemeral and "now distils the voice of **Carers Voice**" in rec.content
    core = await world.community_row("Carers Core")
    voice = await world.community_row("Carers Voice")
    assert core.serves_id == voice.id
    # Second Core serves Carers Core; Carers Core cannot then serve Second Core.
    rec = await world.slash(world.owner, "community link", community="Second Core",
                            serves="Carers Core")
    assert "now distils" in rec.content
    rec = await refused(world, world.owner, "community link", community="Carers Core",
                        serves="Second Core")
    assert "both ways" in rec.content
    info = await world.slash(world.owner, "community info", community="Carers Voice")
    assert "Distilled by" in info.all_text and "Carers Core" in info.all_text


# ---------------------------------------------------------------------------- info / list


async def test_info_and_list_for_anyone(world: HearthWorld) -> None:
    alice, bob, sam = world.person("alice"), world.person("bob"), world.person("sam")
    outsider = world.person("outsider")
    await world.create_community("Carers Voice", sponsor=sam,
                                 members={alice: "carer", bob: "gp"})
    await world.create_community("GP Forum", "reference")
    rec = await world.slash(outsider, "community info", community="carers voice")
    assert rec.ephemeral
    text = rec.all_text
    assert "Carers Voice" in text and "practice" in text
    assert "Members 3" in text and "carer 1" in text and "gp 1" in text
    assert f"<@{sam.id}>" in text and f"<@{world.owner.id}>" in text
    rec = await world.slash(outsider, "community list")
    assert rec.ephemeral
    assert "**Carers Voice** · practice · 3 members" in rec.all_text
    assert "**GP Forum** · reference · 1 members" in rec.all_text
    rec = await refused(world, outsider, "community info", community="Nope")
    assert "no community called" in rec.content


async def test_autocomplete_offers_communities(world: HearthWorld) -> None:
    await world.create_community("Carers Voice")
    await world.create_community("GP Forum")
    choices = await world.emu.autocomplete(
        world.guild, world.owner, "community add", focused="community", value="car"
    )
    assert [c["value"] for c in choices] == ["Carers Voice"]


# ---------------------------------------------------------------------------- archive


async def test_archive_locks_keeps_data_and_refuses_later_changes(world: HearthWorld) -> None:
    alice, gp, bob = world.person("alice"), world.person("gp"), world.person("bob")
    await world.create_community(
        "Carers Voice", circles="carer, gp", members={alice: "carer", gp: "gp"}
    )
    sp = space(world, "carers-voice")
    carer_circle = world.channel("carers-voice-carer-circle")
    gp_circle = world.channel("carers-voice-gp-circle")
    rec = await world.slash(world.owner, "community archive", community="Carers Voice")
    assert rec.ephemeral and "Archived" in rec.content
    for ch in sp.values():
        assert can(world, alice, VIEW, ch), ch.name
        assert not can(world, alice, SEND, ch), ch.name
    # Circles stay private to their discipline and become read-only too.
    assert can(world, alice, VIEW, carer_circle) and not can(world, alice, SEND, carer_circle)
    assert not can(world, alice, VIEW, gp_circle)
    assert can(world, gp, VIEW, gp_circle) and not can(world, gp, SEND, gp_circle)
    assert not can(world, gp, VIEW, carer_circle)

    row = await world.community_row("Carers Voice")
    assert row.archived
    assert len(await db_rows(
        world, "SELECT * FROM memberships WHERE community_id=:community", {"community": row.id}
    )) == 3
    assert len(await db_rows(
        world, "SELECT * FROM community_channels WHERE community_id=:community",
        {"community": row.id},
    )) == 6
    for command, opts in (
        ("community add", {"member": bob, "discipline": "gp"}),
        ("community remove", {"member": alice}),
        ("community sponsor", {"member": bob}),
        ("community archive", {}),
    ):
        rec = await refused(world, world.owner, command, community="Carers Voice", **opts)
        assert "archived" in rec.content, (command, rec.content)
    info = await world.slash(alice, "community info", community="Carers Voice")
    assert "archived" in info.all_text
    listing = await world.slash(alice, "community list")
    assert "archived" in listing.all_text


# ---------------------------------------------------------------------------- restart


async def test_restart_loses_nothing(world: HearthWorld) -> None:
    alice, bob, sam = world.person("alice"), world.person("bob"), world.person("sam")
    await world.create_community("Carers Voice", sponsor=sam, circles="carer",
                                 members={alice: "carer"})
    await world.create_community("Carers Core", "distilling", members={alice: "carer"})
    await world.slash(world.owner, "community link", community="Carers Core",
                      serves="Carers Voice")
    before = await db_rows(world, "SELECT * FROM communities ORDER BY id"), await db_rows(
        world, "SELECT * FROM memberships ORDER BY community_id, user_id")

    await world.restart()

    after = await db_rows(world, "SELECT * FROM communities ORDER BY id"), await db_rows(
        world, "SELECT * FROM memberships ORDER BY community_id, user_id")
    assert after == before
    rec = await world.slash(world.owner, "community add", community="Carers Voice", member=bob,
                            discipline="carer")
    assert "Added" in rec.content
    assert can(world, bob, VIEW | SEND, world.channel("carers-voice-carer-circle"))
    rec = await world.slash(bob, "community info", community="Carers Voice")
    assert "Members 3" in rec.all_text and "Carers Core" in rec.all_text
    rec = await world.slash(world.owner, "community remove", community="Carers Voice",
                            member=alice)
    assert "Removed" in rec.content
    rec = await world.slash(world.owner, "community archive", community="Carers Core")
    assert "Archived" in rec.content


async def test_concurrent_creates_of_one_name_leave_one_community(world: HearthWorld) -> None:
    mgr = world.person("manager", manager=True)
    ensure_general(world)
    before_channels, before_roles = set(world.guild.channels), set(world.guild.roles)
    first = await world.slash(world.owner, "community create", name="Twins", kind="practice",
                              wait=False)
    second = await world.slash(mgr, "community create", name="twins", kind="practice",
                               wait=False)
    await first.wait_final()
    await second.wait_final()
    contents = sorted([first.content, second.content])
    assert sum("Created" in c for c in contents) == 1, contents
    assert sum("already exists" in c or "a moment ago" in c for c in contents) == 1, contents
    assert await db_rows(world, "SELECT name FROM communities") in ([("Twins",)], [("twins",)])
    new_channels = set(world.guild.channels) - before_channels
    assert len(new_channels) == 5  # one category and four channels, not two sets
    assert len(set(world.guild.roles) - before_roles) == 2


async def test_bot_cannot_sponsor(world: HearthWorld) -> None:
    other_bot = world.emu.create_user("otherbot", bot=True)
    world.emu.add_member(world.guild, other_bot)
    rec = await refused(world, world.owner, "community create", name="Carers", kind="practice",
                        sponsor=other_bot)
    assert "bot cannot be a sponsor" in rec.content
