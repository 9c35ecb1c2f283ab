"""The permission-matrix world: seven kinds of actor around two communities, and the helpers
that decide "allowed and done" versus "refused with no effect".

Community A ("Carers Voice", kind distilling so that `/community link` has a subject) is the
one every command is aimed at; community B ("GP Forum") gives us a facilitator and a member who
belong elsewhere. The guild owner builds everything (it is a manager and A's creator, so it is
never one of the actors under test).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import discord

from tests.e2e.hearth import HearthWorld
from tests.e2e.story_draft import submit_and_post
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState

A = "Carers Voice"
B = "GP Forum"

MANAGER = "manager"
FACILITATOR = "facilitator"
OTHER_FACILITATOR = "other_facilitator"
MEMBER = "member"
OTHER_MEMBER = "other_member"
SPONSOR = "sponsor"
NON_MEMBER = "non_member"
ACTORS = (MANAGER, FACILITATOR, OTHER_FACILITATOR, MEMBER, OTHER_MEMBER, SPONSOR, NON_MEMBER)

#: Who may do what (PRODUCT.md's "who" column, made precise):
EVERYONE = frozenset(ACTORS)
#: facilitator commands: the community's facilitator and server managers.
FACILITATORS = frozenset({MANAGER, FACILITATOR})
#: reading a community's shared record (story list, poll results, statement report, meeting
#: list): its members, and server managers (who could read it all as facilitators anyway).
READERS = frozenset({MANAGER, FACILITATOR, MEMBER})
#: taking part (sharing a story, voting, adding a statement, answering an RSVP): members only.
#: A server manager who is not a member is refused: a non-member's voice must not count in
#: the community's collective voice, its RSVP counts or its stories (they can add themselves).
PARTICIPANTS = frozenset({FACILITATOR, MEMBER})
#: `/community create`: server managers only.
MANAGERS = frozenset({MANAGER})
#: what belongs to one person (a story's consent, an erase request): that person only; here
#: the member actor tells the story and asks for erasure.
SELF = frozenset({MEMBER})
#: what belongs to the facilitator who asked for it (a /change close confirmation): that
#: facilitator only, not another facilitator or a server manager.
ASKER = frozenset({FACILITATOR})
#: what only a community's sponsor decides (stopping or restarting their digest e-mails).
SPONSORS = frozenset({SPONSOR})
#: what a community shows its sponsor too (a product's outside view): readers and the sponsor.
SPONSOR_READERS = READERS | SPONSORS

#: Tables written by background work (the message counter's periodic flush), not by actions.
BACKGROUND_TABLES = frozenset({"message_activity"})


@dataclass
class Ctx:
    """One actor's world: everything the rows need, built fresh per actor."""

    world: HearthWorld
    actor_key: str
    people: dict[str, UserState]
    a_id: int = 0
    b_id: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    messages: dict[str, MessageState] = field(default_factory=dict)

    @property
    def actor(self) -> UserState:
        return self.people[self.actor_key]

    @property
    def emu(self) -> Any:
        return self.world.emu

    async def val(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        assert self.world.db is not None
        return await self.world.db.fetchval(sql, params or {})

    async def row(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        assert self.world.db is not None
        return await self.world.db.fetchone(sql, params or {})

    async def slash(self, user: UserState, command: str, **options: Any) -> InteractionRecord:
        # All options go in the `options=` mapping: a poll's `options` option would otherwise
        # collide with the driver's own keyword.
        rec: InteractionRecord = await self.world.emu.slash(
            self.world.guild, user, command, options=options)
        return rec


Step = Callable[[Ctx], Awaitable[Any]]
Act = Callable[[Ctx, Any], Awaitable[InteractionRecord]]
Check = Callable[[Ctx, InteractionRecord, Any], Awaitable[None]]


@dataclass(frozen=True)
class Row:
    """One line of the matrix: `subject` is a command's qualified name (``"poll close"``),
    a context-menu name, or a DynamicItem class name."""

    subject: str
    allowed: frozenset[str]
    act: Act
    check: Check
    prepare: Step | None = None
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.subject}{f' ({self.note})' if self.note else ''}"


# ---------------------------------------------------------------------------- the world


async def build(world: HearthWorld, actor_key: str) -> Ctx:
    """Two communities, the seven actors and the things components hang on."""
    emu = world.emu
    emu.clock = world.clock.now  # Discord refuses scheduled events "in the past" by our time
    people = {key: world.person(key, manager=key == MANAGER) for key in ACTORS}
    for extra in ("teller", "leaver", "newcomer", "new_sponsor"):
        people[extra] = world.person(extra)
    ctx = Ctx(world=world, actor_key=actor_key, people=people)
    owner = world.owner
    await world.create_community(A, kind="distilling", sponsor=people[SPONSOR])
    await world.create_community(B, kind="practice")
    adds = [
        (A, FACILITATOR, True), (A, MEMBER, False), (A, "teller", False), (A, "leaver", False),
        (B, OTHER_FACILITATOR, True), (B, OTHER_MEMBER, False),
    ]
    for name, key, fac in adds:
        rec = await ctx.slash(owner, "community add", community=name, member=people[key],
                              discipline="carer", facilitator=fac)
        assert "Added" in rec.content, rec.content
    ctx.a_id = (await world.community_row(A)).id
    ctx.b_id = (await world.community_row(B)).id

    # A meeting that is over (notes, attendance), then time moves on past it.
    await _ok(ctx.slash(owner, "meeting schedule", community=A, title="Winter check-in",
                        when="2027-01-11 10:00", duration=60), "Scheduled")
    ctx.ids["past_meeting"] = await ctx.val("SELECT max(id) FROM meetings")
    await world.advance(timedelta(hours=3))
    await _ok(ctx.slash(owner, "meeting schedule", community=A, title="Spring gathering",
                        when="2027-03-10 18:30"), "Scheduled")
    ctx.ids["meeting"] = await ctx.val("SELECT max(id) FROM meetings")
    ctx.messages["rsvp"] = message_with(ctx, f"{_slug()}-meetings", f"rsvp:{ctx.ids['meeting']}:")
    await _ok(ctx.slash(owner, "meeting schedule", community=A, title="Summer social",
                        when="2027-06-10 18:30"), "Scheduled")
    ctx.ids["cancel_meeting"] = await ctx.val("SELECT max(id) FROM meetings")

    # Polls of every voting shape, plus one to close.
    for key, kind, options in (
        ("single", "single", "Tea; Coffee"),
        ("multi", "multi", "Mornings; Afternoons; Evenings"),
        ("ranked", "ranked", "Library; Cafe; Town hall"),
        ("survey", "survey", "Was it useful?; Would you come again?"),
        ("to_close", "single", "Yes; No"),
    ):
        await _ok(ctx.slash(owner, "poll create", community=A, question=f"Poll {key}?",
                            kind=kind, options=options, closes="in 3 days"), "Posted")
        ctx.ids[f"poll_{key}"] = pid = await ctx.val("SELECT max(id) FROM polls")
        ctx.messages[f"poll_{key}"] = message_with(ctx, f"{_slug()}-voice", f"poll:{pid}:")

    # A statement round open for voting (statements by the teller).
    for text in ("Evening clinics help carers", "Parking is the first barrier"):
        await _ok(ctx.slash(people["teller"], "statement add", community=A, text=text), "Added")
    await _ok(ctx.slash(owner, "statement round", community=A, closes="in 3 days"), "Opened")
    ctx.ids["round"] = await ctx.val("SELECT max(id) FROM statement_rounds")
    ctx.messages["round"] = message_with(ctx, f"{_slug()}-voice", f"stmt:{ctx.ids['round']}:")

    # Six stories (two pages of the list), and the member's message saved by the owner, so the
    # member is asked for consent by DM: those are the consent buttons.
    for i in range(6):
        rec = await ctx.slash(people["teller"], "story share", community=A)
        assert rec.modal is not None, rec.content
        done = await submit_and_post(emu, people["teller"], rec,
                                     {"title": f"Story {i}", "text": f"What happened {i}."})
        assert "Thank you" in done.content, done.content
    lounge = world.channel(f"{_slug()}-lounge")
    said = await emu.post_message(lounge, people[MEMBER], "The night nurse explained it all.")
    await _ok(emu.message_command(world.guild, owner, "Save as story", said), "Saved")
    ctx.ids["member_story"] = await ctx.val("SELECT max(id) FROM stories")
    ctx.messages["consent_dm"] = emu.dms_to(people[MEMBER])[-1]
    assert f"story:consent:{ctx.ids['member_story']}:group" in all_custom_ids(
        ctx.messages["consent_dm"].components)
    return ctx


def _slug() -> str:
    return "carers-voice"


async def _ok(pending: Awaitable[InteractionRecord], expect: str) -> InteractionRecord:
    rec = await pending
    assert expect in rec.all_text, rec.all_text
    return rec


def message_with(ctx: Ctx, channel_name: str, custom_id_prefix: str) -> MessageState:
    """The latest message in a channel carrying a component whose id starts with the prefix."""
    found = [
        m for m in ctx.emu.messages_in(ctx.world.channel(channel_name))
        if any(c.startswith(custom_id_prefix) for c in all_custom_ids(m.components))
    ]
    assert found, f"no message with {custom_id_prefix!r} in #{channel_name}"
    return found[-1]


# ---------------------------------------------------------------------------- components


async def press(
    ctx: Ctx, user: UserState, message: MessageState, custom_id: str,
    values: list[Any] | None = None,
) -> InteractionRecord:
    """Use a component on `message` as `user`.

    Ephemeral flows (a ranking, a survey, statement voting, the attendance picker, story-list
    pages) are visible only to the person who opened them, so Discord would never deliver
    someone else's click. The bot must not rely on that: its callbacks re-check who is acting
    (the state is all in ``custom_id``). So for another person we present the same component
    as if they could see it: a forged click, which must be refused exactly like a real one.
    """
    was = message.visible_to
    if was is not None:
        message.visible_to = user.id
    try:
        if values is None:
            rec: InteractionRecord = await ctx.emu.click(user, message, custom_id)
        else:
            rec = await ctx.emu.select(user, message, custom_id, values)
    finally:
        message.visible_to = was
    if rec.response_type == discord.InteractionResponseType.deferred_message_update.value:
        await rec.wait_edits(1)  # the work happens between the deferral and the edit
    return rec


# ---------------------------------------------------------------------------- effects


async def snapshot(ctx: Ctx) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (the world is small), to prove a refusal changed nothing."""
    assert ctx.world.db is not None
    names = await ctx.world.db.table_names()
    out: dict[str, list[tuple[Any, ...]]] = {}
    for name in sorted(set(names) - BACKGROUND_TABLES):
        rows = await ctx.world.db.fetchall(f'SELECT * FROM "{name}"')
        out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def diff(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [
        f"{t}: {len(before.get(t, []))} -> {len(after.get(t, []))} rows"
        + ("" if len(before.get(t, [])) != len(after.get(t, [])) else " (rows changed)")
        for t in sorted(set(before) | set(after))
        if before.get(t) != after.get(t)
    ]


REFUSAL_WORDS = ("Only ", "belongs to someone else")


def refusal_problems(rec: InteractionRecord) -> list[str]:
    """A refusal is an ephemeral reply that says who may do it (a NotAllowed message)."""
    problems = []
    if rec.reply is None:
        problems.append(f"no reply (response {rec.response})")
    elif not rec.ephemeral:
        problems.append(f"reply is not ephemeral: {rec.content!r}")
    if rec.modal is not None:
        problems.append("a modal was shown")
    if not any(w in rec.all_text for w in REFUSAL_WORDS):
        problems.append(f"reply is not a permission refusal: {rec.all_text[:200]!r}")
    return problems


def allowed_problems(rec: InteractionRecord) -> list[str]:
    """An allowed action must not end in a refusal or an apology."""
    text = rec.all_text
    if rec.response is None:
        return ["never answered"]
    bad = [w for w in ("Only ", "Sorry, something went wrong") if w in text]
    return [f"looks refused or failed: {text[:200]!r}"] if bad else []


def is_edit(rec: InteractionRecord) -> bool:
    """The component's own message was updated (response type 7, or deferred then edited)."""
    return rec.response_type in (
        discord.InteractionResponseType.message_update.value,
        discord.InteractionResponseType.deferred_message_update.value,
    )
