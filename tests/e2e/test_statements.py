"""Statement rounds end to end: add, open a round, vote one at a time, report, close."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.e2e.hearth import HearthWorld
from tests.emulator.interactions import InteractionRecord
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"


def voice(world: HearthWorld) -> Any:
    return world.channel("carers-voice-voice")


def round_message(world: HearthWorld) -> MessageState:
    msgs = [m for m in world.emu.messages_in(voice(world)) if m.components]
    assert msgs
    return msgs[-1]


async def add(world: HearthWorld, user: UserState, text: str) -> InteractionRecord:
    return await world.slash(user, "statement add", community=COMMUNITY, text=text)


def statement_ids(msg: MessageState) -> int:
    ids = [c["custom_id"] for row in msg.components for c in row["components"]]
    assert all(i.startswith("stmt:") for i in ids), ids
    return int(ids[0].split(":")[3])


async def vote_all(
    world: HearthWorld, user: UserState, votes: dict[int, str], default: str = "p"
) -> list[int]:
    """Vote through the whole flow; returns the statement ids in the order shown."""
    start = await world.emu.click(user, round_message(world), "stmt:1:start")
    assert start.ephemeral and start.reply is not None
    flow = start.reply
    seen: list[int] = []
    while flow.components:
        sid = statement_ids(flow)
        seen.append(sid)
        code = votes.get(sid, default)
        r = await world.emu.click(user, flow, f"stmt:1:v:{sid}:{code}")
        assert r.reply is flow
    assert "voted on every statement" in flow.content
    return seen


async def test_statement_round_end_to_end(world: HearthWorld) -> None:
    people = [world.person(f"p{i}") for i in range(9)]
    disciplines = ["gp"] * 3 + ["nurse"] * 3 + ["carer"] * 3
    await world.create_community(COMMUNITY, members=dict(zip(people, disciplines, strict=True)))
    texts = [
        "Evening appointments would help working carers",
        "Letters should be written in plain English",
        "Parking at the hospital is too expensive",
    ]
    for text in texts:  # the facilitator (a member, discipline "other") writes these
        r = await add(world, world.owner, text)
        assert r.ephemeral and "Added your statement" in r.content and "next" in r.content
    # duplicates (even reworded by case and punctuation) are refused
    r = await add(world, people[5], "letters should be written in PLAIN English!")
    assert r.ephemeral and "already a statement" in r.content
    r = await add(world, people[5], "x" * 281)
    assert "281 characters" in r.content
    r = await add(world, people[5], "   ")
    assert "Write a short statement" in r.content
    # only facilitators open rounds
    r = await world.slash(people[0], "statement round", community=COMMUNITY)
    assert r.ephemeral and "Only a facilitator" in r.content
    r = await world.slash(world.owner, "statement round", community=COMMUNITY, closes="in 2 days")
    assert "Opened statement round #1 with 3 statements" in r.content, r.content
    msg = round_message(world)
    assert "Vote on statements" in str(msg.components)

    # a statement added during the round joins it
    r = await add(world, people[8], "Nurses should have more time to explain results")
    assert "joins the round" in r.content

    # everyone agrees with 2 (plain English); gps agree and nurses disagree on 3 (parking)
    s_plain, s_parking = 2, 3
    orders = []
    for i, p in enumerate(people):
        parking = {"gp": "a", "nurse": "d", "carer": "p"}[disciplines[i]]
        orders.append(await vote_all(world, p, {s_plain: "a", s_parking: parking}))
    # never their own statement
    assert 4 not in orders[8] and sorted(orders[8]) == [1, 2, 3]
    assert all(sorted(o) == [1, 2, 3, 4] for o in orders[:8])
    # the order spreads votes: not everyone saw the same statement first
    assert len({o[0] for o in orders}) > 1

    # while the round is open the report is turnout only (tests/e2e/test_statements_anonymity.py)
    rep = await world.slash(people[6], "statement report", community=COMMUNITY)
    assert rep.ephemeral and not rep.embeds
    assert "9 of 10 members have voted so far" in rep.content, rep.content

    # votes after close are refused; closing posts the collective statement
    ran = await world.advance(timedelta(days=2))
    assert "statements:close:1" in ran

    rep = await world.slash(people[6], "statement report", community=COMMUNITY)
    text = "\n".join(e.get("description") or "" for e in rep.embeds)
    assert rep.ephemeral and rep.embeds[0]["title"] == "Statement report"
    assert "Letters should be written in plain English" in text
    assert "Consensus overall" in text and "Divisive" in text
    consensus = text.split("**Consensus overall**")[1].split("**Consensus across")[0]
    assert "plain English" in consensus and "Parking" not in consensus
    divisive = text.split("**Divisive**")[1].split("**Opinion groups**")[0]
    assert "Parking" in divisive and "gp" in divisive and "nurse" in divisive
    cross = text.split("**Consensus across disciplines**")[1].split("**Divisive**")[0]
    assert "plain English" in cross and "carer 100%" in cross and "gp 100%" in cross
    assert "Too few voters to identify opinion groups" in text
    posts = [m for m in world.emu.messages_in(voice(world)) if m.embeds
             and "what we say together" in str(m.embeds[0].get("title"))]
    assert len(posts) == 1
    said = posts[0].embeds[0]["description"]
    assert "agree that letters should be written in plain English" in said, said
    assert "divided on whether parking at the hospital is too expensive" in said
    assert not world.emu.get_message(voice(world), msg.id).components
    assert world.db is not None
    row = await world.db.fetchone("SELECT * FROM statement_rounds WHERE id = 1")
    assert row is not None
    assert row["voters"] == 9 and row["eligible"] == 10 and row["collective_statement"] == said


async def test_round_survives_restart_and_refuses_late_votes(world: HearthWorld) -> None:
    a, b, c = (world.person(n) for n in ("a", "b", "c"))
    outsider = world.person("outsider")
    await world.create_community(COMMUNITY, members={a: "gp", b: "nurse", c: "carer"})
    await add(world, a, "We should meet in the evening")
    await add(world, b, "We should meet online sometimes")
    r = await world.slash(world.owner, "statement round", community=COMMUNITY, closes="1d")
    assert "Opened" in r.content
    r = await world.slash(world.owner, "statement round", community=COMMUNITY)
    assert "already open" in r.content
    msg = round_message(world)
    await world.restart()
    start = await world.emu.click(c, msg, "stmt:1:start")
    assert start.reply is not None and start.reply.components
    r = await world.emu.click(outsider, msg, "stmt:1:start")
    assert r.ephemeral and "Only members" in r.content
    flow = start.reply
    sid = statement_ids(flow)
    await world.emu.click(c, flow, f"stmt:1:v:{sid}:a")
    world.clock.advance(timedelta(days=1))  # deadline passed, job not yet run
    r = await world.emu.click(c, flow, f"stmt:1:v:{2 if sid == 1 else 1}:a")
    assert "closed" in r.content
    await world.restart()
    ran = await world.advance(timedelta(0))
    assert "statements:close:1" in ran
    assert world.db is not None
    assert await world.db.fetchval("SELECT closed_at FROM statement_rounds") is not None


async def test_round_needs_statements(world: HearthWorld) -> None:
    a = world.person("a")
    await world.create_community(COMMUNITY, members={a: "gp"})
    r = await world.slash(world.owner, "statement round", community=COMMUNITY)
    assert "at least 2 new statements" in r.content
    r = await world.slash(a, "statement report", community=COMMUNITY)
    assert "no statement round yet" in r.content
    await add(world, a, "One")
    await add(world, a, "Two things")
    r = await world.slash(world.owner, "statement round", community=COMMUNITY, closes="yesterday")
    assert r.ephemeral and "round" not in r.content.lower()[:10]
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM statement_rounds") == 0


async def test_round_message_says_closed_after_closing(world: HearthWorld) -> None:
    # Regression: the round message kept "Press the button… Voting closes in 2 days" after
    # the round closed and its button was removed.
    a, b = world.person("a"), world.person("b")
    await world.create_community(COMMUNITY, members={a: "carer", b: "nurse"})
    await add(world, a, "Letters should be in plain English")
    await add(world, b, "Parking is too expensive")
    opened = await world.slash(world.owner, "statement round", community=COMMUNITY,
                               closes="in 2 days")
    assert "Opened statement round #1" in opened.content, opened.content
    msg = round_message(world)
    assert "Press the button" in msg.embeds[0]["description"]

    await world.advance(timedelta(days=2))
    closed = world.emu.get_message(voice(world), msg.id)
    assert not closed.components
    text = f"{closed.embeds[0]['title']} {closed.embeds[0]['description']}"
    assert "is closed" in text and "Voting closed <t:" in text
    assert "Press the button" not in text and "Voting closes" not in text
