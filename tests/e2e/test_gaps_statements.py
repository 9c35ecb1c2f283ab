"""A statement round large enough for opinion groups, end to end with every cog loaded.

Fifteen members in two camps add statements with `/statement add`, the facilitator opens
the round with `/statement round`, and each member clicks through the ephemeral
agree / disagree / pass flow. The report must then find the two camps as opinion groups
(by size, with their distinctive statements, never a member's name or id), consensus
overall and across disciplines, and the divisive statements; closing the round posts the
collective statements in plain words ("N of M members (P%) agree that …").

Camps: A = 5 GPs + 3 nurses, B = 4 carers + 3 nurses. Nurses sit in both camps, so the
divisive statements split GPs against carers while nurses are evenly divided.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.e2e.hearth import HearthWorld
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"

# (text, author key, camp A's vote, camp B's vote)
STATEMENTS: list[tuple[str, str, str, str]] = [
    ("Appointment letters should be written in plain English", "A-gp0", "a", "a"),
    ("Carers should be able to phone the ward at any hour", "B-carer0", "a", "a"),
    ("Clinics should run in the evenings", "A-gp1", "a", "d"),
    ("Test results should be sent by text message", "B-carer1", "a", "d"),
    ("Home visits matter more than new buildings", "A-gp2", "d", "a"),
    ("Volunteers should help run the waiting room", "B-carer2", "d", "a"),
    ("The hospital cafe should stay open later", "A-nurse0", "p", "p"),
]

NAMES = [
    "Aoife", "Bronwen", "Cormac", "Dafydd", "Eilidh", "Fionnuala", "Gwenllian", "Hamish",
    "Iolo", "Jago", "Kerensa", "Lorcan", "Morwenna", "Niamh", "Osian",
]  # fmt: skip


def _voice(world: HearthWorld) -> Any:
    return world.channel("carers-voice-voice")


def _round_message(world: HearthWorld) -> MessageState:
    msgs = [m for m in world.emu.messages_in(_voice(world)) if m.components]
    assert msgs, "no round message with a button"
    return msgs[-1]


def _report_text(embeds: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{e.get('title') or ''}\n{e.get('description') or ''}\n"
        + "\n".join(f"{f['name']} {f['value']}" for f in e.get("fields") or [])
        for e in embeds
    )


def _section(text: str, heading: str, following: str) -> str:
    return text.split(f"**{heading}**")[1].split(f"**{following}**", maxsplit=1)[0]


async def _vote_through(
    world: HearthWorld, user: UserState, round_id: int, plan: dict[int, str]
) -> list[int]:
    """Press "Vote on statements", then answer each statement shown until none is left."""
    start = await world.emu.click(user, _round_message(world), f"stmt:{round_id}:start")
    assert start.ephemeral and start.reply is not None, start.content
    flow = start.reply
    assert flow.visible_to == user.id
    shown: list[int] = []
    while flow.components:
        ids = all_custom_ids(flow.components)
        sid = int(ids[0].split(":")[3])
        assert ids == [f"stmt:{round_id}:v:{sid}:{c}" for c in "adp"], ids
        assert sid not in shown, "a statement was shown twice"
        shown.append(sid)
        r = await world.emu.click(user, flow, f"stmt:{round_id}:v:{sid}:{plan[sid]}")
        assert r.reply is flow and flow.ephemeral
    assert "voted on every statement" in flow.content, flow.content
    return shown


async def test_two_camps_form_opinion_groups_and_the_round_speaks_in_plain_words(
    world: HearthWorld,
) -> None:
    cfg = world.config.polls
    people: dict[str, UserState] = {}
    camps: dict[str, str] = {}
    disciplines: dict[str, str] = {}
    roster = [("A", "gp", 5), ("A", "nurse", 3), ("B", "carer", 4), ("B", "nurse", 3)]
    names = iter(NAMES)
    for camp, discipline, n in roster:
        for i in range(n):
            key = f"{camp}-{discipline}{i}"
            people[key] = world.person(next(names))
            camps[key], disciplines[key] = camp, discipline
    assert len(people) == 15 and len(STATEMENTS) >= 6
    # The round is big enough for every threshold in [polls] to be met.
    assert len(people) >= cfg.statement_min_opinion_voters
    await world.create_community(COMMUNITY, members={people[k]: disciplines[k] for k in people})

    # Members write the statements.
    ids: dict[str, int] = {}
    for text, author, _a, _b in STATEMENTS:
        r = await world.slash(people[author], "statement add", community=COMMUNITY, text=text)
        assert r.ephemeral and "Added your statement" in r.content, r.content
        m = re.search(r"\(#(\d+)\)", r.content)
        assert m is not None
        ids[text] = int(m.group(1))

    opened = await world.slash(
        world.owner, "statement round", community=COMMUNITY, closes="in 3 days"
    )
    assert f"with {len(STATEMENTS)} statements" in opened.content, opened.content
    found = re.search(r"round #(\d+)", opened.content)
    assert found is not None
    round_id = int(found.group(1))
    announcement = _round_message(world)

    # Everyone clicks through; nobody is shown their own statement.
    authored = {author: ids[text] for text, author, _a, _b in STATEMENTS}
    for key, user in people.items():
        plan = {ids[text]: (a if camps[key] == "A" else b) for text, _au, a, b in STATEMENTS}
        shown = await _vote_through(world, user, round_id, plan)
        expected = set(ids.values()) - ({authored[key]} if key in authored else set())
        assert sorted(shown) == sorted(expected), (key, shown)

    # Reference counts from the plan (authors do not vote on their own statement).
    def voters_of(text: str) -> list[str]:
        author = next(au for t, au, _a, _b in STATEMENTS if t == text)
        return [k for k in people if k != author]

    for text, _au, _a, _b in STATEMENTS:
        assert len(voters_of(text)) >= cfg.statement_min_votes
        by_disc: dict[str, int] = {}
        for k in voters_of(text):
            by_disc[disciplines[k]] = by_disc.get(disciplines[k], 0) + 1
        assert min(by_disc.values()) >= cfg.statement_min_group_size, by_disc

    # While the round is open the report is turnout only; everything comes at close.
    rep = await world.slash(people["B-nurse2"], "statement report", community=COMMUNITY)
    assert rep.ephemeral and not rep.embeds, rep.all_text
    assert "15 of 16 members have voted so far" in rep.content, rep.content
    ran = await world.advance(timedelta(days=3))
    assert f"statements:close:{round_id}" in ran

    # The report, as a member sees it.
    rep = await world.slash(people["B-nurse2"], "statement report", community=COMMUNITY)
    assert rep.ephemeral and rep.embeds and rep.embeds[0]["title"] == "Statement report"
    text = _report_text(rep.embeds)
    assert f"15 of 16 members voted on {len(STATEMENTS)} statements" in text

    # Never a member's name or id, nor a mention.
    lowered = text.lower()
    for key, user in people.items():
        assert user.name.lower() not in lowered, key
        assert str(user.id) not in text, key
    assert str(world.owner.id) not in text and "<@" not in text

    plain, phone = STATEMENTS[0][0], STATEMENTS[1][0]
    evenings, texts_, visits, volunteers = (s[0] for s in STATEMENTS[2:6])
    cafe = STATEMENTS[6][0]

    consensus = _section(text, "Consensus overall", "Consensus across disciplines")
    assert plain in consensus and phone in consensus
    assert "agree 14 · disagree 0 · pass 0 (100% agree of 14)" in consensus
    for other in (evenings, texts_, visits, volunteers, cafe):
        assert other not in consensus

    cross = _section(text, "Consensus across disciplines", "Divisive")
    assert f"{plain} — in carer 100%, gp 100%, nurse 100%" in cross
    assert f"{phone} — in carer 100%, gp 100%, nurse 100%" in cross

    divisive = _section(text, "Divisive", "Opinion groups")
    assert f"{evenings} — most of gp agree; most of carer disagree (disciplines)" in divisive
    assert f"{texts_} — most of gp agree; most of carer disagree (disciplines)" in divisive
    assert f"{visits} — most of carer agree; most of gp disagree (disciplines)" in divisive
    assert f"{volunteers} — most of carer agree; most of gp disagree (disciplines)" in divisive
    assert plain not in divisive and cafe not in divisive

    groups = _section(text, "Opinion groups", "Every statement")
    assert "Too few voters" not in groups and "No clear opinion groups" not in groups
    group_lines = [ln for ln in groups.splitlines() if ln.startswith("• Group")]
    # Largest first: camp A (8) then camp B (7).
    assert group_lines == ["• Group A: 8 members", "• Group B: 7 members"], groups
    block_a = groups.split("• Group A: 8 members")[1].split("• Group B")[0]
    block_b = groups.split("• Group B: 7 members")[1]
    assert f"agree more than others with “{evenings}” (100% vs 0%)" in block_a
    assert f"agree more than others with “{texts_}” (100% vs 0%)" in block_a
    assert f"agree less than others with “{visits}” (0% vs 100%)" in block_a
    assert f"agree less than others with “{evenings}” (0% vs 100%)" in block_b
    assert f"agree more than others with “{visits}” (100% vs 0%)" in block_b
    for block in (block_a, block_b):  # shared views are not what tells the groups apart
        assert plain not in block and phone not in block and cafe not in block
        assert len([ln for ln in block.splitlines() if ln.strip().startswith("–")]) <= 3

    every = text.split("**Every statement**")[1]
    assert f"{cafe} — agree 0 · disagree 0 · pass 14 (0% agree of 14)" in every
    assert f"{evenings} — agree 7 · disagree 7 · pass 0 (50% agree of 14)" in every
    assert f"{texts_} — agree 8 · disagree 6 · pass 0 (57% agree of 14)" in every

    # The facilitator sees the same aggregates; the report is the same for everyone.
    rep2 = await world.slash(world.owner, "statement report", community=COMMUNITY)
    assert _report_text(rep2.embeds) == text

    # Closing: the collective statements, posted in the voice channel and stored.
    posts = [
        m for m in world.emu.messages_in(_voice(world))
        if m.embeds and "what we say together" in str(m.embeds[0].get("title"))
    ]  # fmt: skip
    assert len(posts) == 1
    said = posts[0].embeds[0]["description"]
    lines = said.splitlines()
    every_discipline = " This holds in every discipline large enough to report: carer, gp, nurse."
    assert lines == [
        "14 of 16 members (88%) agree that appointment letters should be written in plain "
        "English (14 of the 14 who voted on it, 100%)." + every_discipline,
        "14 of 16 members (88%) agree that carers should be able to phone the ward at any "
        "hour (14 of the 14 who voted on it, 100%)." + every_discipline,
        "Members are divided on whether clinics should run in the evenings: 50% agree and "
        "50% disagree (14 voted); most in gp agree while most in carer disagree.",
        "Members are divided on whether test results should be sent by text message: 57% "
        "agree and 43% disagree (14 voted); most in gp agree while most in carer disagree.",
        "Members are divided on whether home visits matter more than new buildings: 50% "
        "agree and 50% disagree (14 voted); most in carer agree while most in gp disagree.",
        "Members are divided on whether volunteers should help run the waiting room: 43% "
        "agree and 57% disagree (14 voted); most in carer agree while most in gp disagree.",
    ], said
    for user in people.values():
        assert user.name.lower() not in said.lower() and str(user.id) not in said
    assert world.db is not None
    row = await world.db.fetchone("SELECT * FROM statement_rounds WHERE id = :id", {"id": round_id})
    assert row is not None
    assert (row["voters"], row["eligible"]) == (15, 16)
    assert row["collective_statement"] == said
    # The round message lost its button; the report still reads the closed round.
    assert not world.emu.get_message(_voice(world), announcement.id).components
    assert "closed" in text and "• Group A: 8 members" in text
