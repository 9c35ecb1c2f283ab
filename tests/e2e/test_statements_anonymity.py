"""Statement rounds give nothing away while they are open; `/statement close` ends one early.

The attack: a member looks at whatever the bot shows, a colleague votes, the member looks
again. Any figure that moved (a count, a share, a consensus or divisive entry, an opinion
group, a discipline's figure, even which statement the member is shown first) tells them
something about the colleague's vote. So while a round is open every such surface must be
identical before and after a vote, except the turnout ("N of M members have voted so far").

Two statements, each written by a different "probe" member, let the test make a colleague vote
on exactly the statement it wants: a member is never shown their own statement, so each probe
is offered only the other one.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.e2e.hearth import HearthWorld
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
TEXTS = ("Evening clinics would help working carers", "Parking at the hospital costs too much")
TURNOUT = re.compile(r"\b\d+ of \d+ members? (?:has|have) voted so far")


def _voice(world: HearthWorld) -> Any:
    return world.channel("carers-voice-voice")


def _round_message(world: HearthWorld) -> MessageState:
    msgs = [m for m in world.emu.messages_in(_voice(world)) if m.components]
    assert msgs, "no round message with a button"
    return msgs[-1]


def _outcome_posts(world: HearthWorld) -> list[MessageState]:
    return [
        m for m in world.emu.messages_in(_voice(world))
        if m.embeds and "what we say together" in str(m.embeds[0].get("title"))
    ]  # fmt: skip


def _seen(msg: MessageState | None) -> tuple[str, str, list[str]]:
    """Everything a person sees in a message: its text, its embeds and its components."""
    assert msg is not None
    return msg.content, repr(msg.embeds), all_custom_ids(msg.components)


async def _community(world: HearthWorld) -> tuple[dict[str, UserState], dict[str, int]]:
    """Five members (six with the owner, who created the community) and two statements,
    one by each probe."""
    people = {
        name: world.person(name)
        for name in ("observer", "probe_one", "probe_two", "colleague", "quiet")
    }
    disciplines = dict(zip(people.values(), ("carer", "gp", "nurse", "carer", "gp"), strict=True))
    await world.create_community(COMMUNITY, members=disciplines)
    ids: dict[str, int] = {}
    for author, text in zip(("probe_one", "probe_two"), TEXTS, strict=True):
        r = await world.slash(people[author], "statement add", community=COMMUNITY, text=text)
        m = re.search(r"\(#(\d+)\)", r.content)
        assert m is not None, r.content
        ids[author] = int(m.group(1))
    return people, ids


async def _open_round(world: HearthWorld) -> None:
    opened = await world.slash(
        world.owner, "statement round", community=COMMUNITY, closes="in 3 days"
    )
    assert "Opened statement round #1" in opened.content, opened.content


async def _setup(world: HearthWorld) -> tuple[dict[str, UserState], dict[str, int]]:
    """The community and an open round closing in 3 days."""
    people, ids = await _community(world)
    await _open_round(world)
    return people, ids


async def _vote_on_only(
    world: HearthWorld, people: dict[str, UserState], ids: dict[str, int], sid: int, code: str
) -> None:
    """Have the probe who did not write statement `sid` vote on it (their only statement)."""
    probe = people["probe_two" if ids["probe_one"] == sid else "probe_one"]
    start = await world.emu.click(probe, _round_message(world), "stmt:1:start")
    assert start.reply is not None
    assert all_custom_ids(start.reply.components) == [f"stmt:1:v:{sid}:{c}" for c in "adp"]
    await world.emu.click(probe, start.reply, f"stmt:1:v:{sid}:{code}")
    assert "voted on every statement" in start.reply.content, start.reply.content


async def _round_row(world: HearthWorld) -> tuple[Any, ...]:
    assert world.db is not None
    row = await world.db.fetchone("SELECT * FROM statement_rounds WHERE id = 1")
    assert row is not None
    return tuple(row)


async def _report(world: HearthWorld, user: UserState) -> InteractionRecord:
    return await world.slash(user, "statement report", community=COMMUNITY)


def _assert_turnout_only(rec: InteractionRecord, voters: int, eligible: int) -> None:
    text = rec.all_text
    assert rec.ephemeral, text
    assert not rec.embeds, rec.embeds
    assert f"{voters} of {eligible} members" in text and "voted so far" in text, text
    assert "results appear when the round closes on <t:" in text, text
    lowered = text.lower()
    giveaways = ("agree", "pass", "%", "consensus", "divisive", "group", "carer", "nurse", "gp")
    for giveaway in (*giveaways, *(t.lower() for t in TEXTS)):
        assert giveaway not in lowered, (giveaway, text)


async def test_open_round_report_does_not_move_when_a_colleague_votes(
    world: HearthWorld,
) -> None:
    people, ids = await _setup(world)
    before = await _report(world, people["observer"])
    before_fac = await _report(world, world.owner)
    round_msg = _round_message(world)
    round_before = _seen(round_msg)
    _assert_turnout_only(before, 0, 6)
    _assert_turnout_only(before_fac, 0, 6)
    assert "/statement close" in before_fac.content  # facilitators are told how to end it
    assert "/statement close" not in before.content

    # A colleague disagrees with one statement.
    await _vote_on_only(world, people, ids, ids["probe_one"], "d")

    after = await _report(world, people["observer"])
    after_fac = await _report(world, world.owner)
    _assert_turnout_only(after, 1, 6)
    _assert_turnout_only(after_fac, 1, 6)
    # Identical except for the turnout.
    assert TURNOUT.sub("N", after.content) == TURNOUT.sub("N", before.content)
    assert TURNOUT.sub("N", after_fac.content) == TURNOUT.sub("N", before_fac.content)
    assert after.content != before.content  # the turnout did move
    # The round message has not changed either.
    assert _seen(world.emu.get_message(_voice(world), round_msg.id)) == round_before

    # A second vote (the other probe agrees with the other statement): still turnout only.
    await _vote_on_only(world, people, ids, ids["probe_two"], "a")
    again = await _report(world, people["observer"])
    _assert_turnout_only(again, 2, 6)
    assert TURNOUT.sub("N", again.content) == TURNOUT.sub("N", before.content)

    # Once the round closes, the full report.
    ran = await world.advance(timedelta(days=3))
    assert "statements:close:1" in ran
    closed = await _report(world, people["observer"])
    assert closed.ephemeral and closed.embeds and closed.embeds[0]["title"] == "Statement report"
    text = "\n".join(e.get("description") or "" for e in closed.embeds)
    assert "2 of 6 members voted on 2 statements" in text, text
    assert "**Every statement**" in text and TEXTS[0] in text and TEXTS[1] in text


async def test_voting_flow_order_does_not_move_when_a_colleague_votes(
    world: HearthWorld,
) -> None:
    people, ids = await _setup(world)
    observer = people["observer"]
    before = await world.emu.click(observer, _round_message(world), "stmt:1:start")
    assert before.ephemeral and before.reply is not None and before.reply.components
    first = int(all_custom_ids(before.reply.components)[0].split(":")[3])

    # A colleague votes on exactly the statement the observer is shown first. Were the order
    # "fewest votes first", the observer would now be shown the other one, and so learn which
    # statement the colleague had voted on.
    await _vote_on_only(world, people, ids, first, "a")

    after = await world.emu.click(observer, _round_message(world), "stmt:1:start")
    assert after.ephemeral
    assert _seen(after.reply) == _seen(before.reply)


async def test_facilitator_closes_a_round_early(world: HearthWorld) -> None:
    people, ids = await _community(world)
    # Nothing to close yet: a clear, harmless answer.
    r = await world.slash(world.owner, "statement close", community=COMMUNITY)
    assert r.ephemeral and "no open statement round" in r.content, r.all_text
    assert "/statement round" in r.content

    await _open_round(world)
    msg = _round_message(world)
    assert world.bot is not None
    assert world.bot.scheduler.next_run("statements:close:1") is not None
    await _vote_on_only(world, people, ids, ids["probe_one"], "a")
    await world.advance(timedelta(hours=5))
    closed_at = world.clock.now()

    r = await world.slash(world.owner, "statement close", community=COMMUNITY)
    assert r.ephemeral and "Closed statement round #1" in r.all_text, r.all_text
    assert f"<#{_voice(world).id}>" in r.all_text
    # Exactly what the scheduled close does: the outcome posted once, the round message
    # turned into a closed notice without its button, the round stored as closed now.
    assert len(_outcome_posts(world)) == 1
    notice = world.emu.get_message(_voice(world), msg.id)
    assert not notice.components
    notice_text = f"{notice.embeds[0]['title']} {notice.embeds[0]['description']}"
    assert "is closed" in notice_text and "Press the button" not in notice_text
    assert world.db is not None
    row = await world.db.fetchone("SELECT * FROM statement_rounds WHERE id = 1")
    assert row is not None and row["closed_at"] is not None and row["voters"] == 1
    assert row["collective_statement"] == _outcome_posts(world)[0].embeds[0]["description"]
    # The scheduled close is cancelled: the original deadline passes without a second close.
    assert world.bot.scheduler.next_run("statements:close:1") is None
    ran = await world.advance(timedelta(days=3))
    assert "statements:close:1" not in ran
    assert len(_outcome_posts(world)) == 1
    # The full report is there now.
    rep = await _report(world, people["observer"])
    assert rep.ephemeral and rep.embeds and rep.embeds[0]["title"] == "Statement report"
    assert "1 of 6 members voted on 2 statements" in rep.embeds[0]["description"]
    assert "closed <t:" in rep.embeds[0]["description"]
    assert str(int(closed_at.timestamp())) in rep.embeds[0]["description"]

    # Closing again is harmless: a clear answer, nothing posted, edited or stored.
    before_db = await _round_row(world)
    calls = len(world.emu.mutating_calls())
    again = await world.slash(world.owner, "statement close", community=COMMUNITY)
    assert again.ephemeral and "no open statement round" in again.content, again.all_text
    assert "Round #1 closed" in again.content and "/statement report" in again.content
    assert world.emu.mutating_calls()[calls:] == []
    assert await _round_row(world) == before_db
    assert len(_outcome_posts(world)) == 1


async def test_member_cannot_close_a_round(world: HearthWorld) -> None:
    people, _ids = await _setup(world)
    msg = _round_message(world)
    assert world.db is not None
    before = await _round_row(world)
    calls = len(world.emu.mutating_calls())
    r = await world.slash(people["observer"], "statement close", community=COMMUNITY)
    assert r.ephemeral and "Only a facilitator" in r.all_text, r.all_text
    # No effect: the round is open, its message untouched, its close still scheduled.
    assert world.emu.mutating_calls()[calls:] == []
    assert await _round_row(world) == before
    assert world.emu.get_message(_voice(world), msg.id).components
    assert not _outcome_posts(world)
    rep = await _report(world, people["observer"])
    assert "voted so far" in rep.content and not rep.embeds
    assert world.bot is not None
    assert world.bot.scheduler.next_run("statements:close:1") is not None
    ran = await world.advance(timedelta(days=3))
    assert "statements:close:1" in ran and len(_outcome_posts(world)) == 1
