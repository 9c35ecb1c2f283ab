"""Polls end to end: every kind, restarts, deadlines, nudges and bad input.

Anonymity has its own module (test_polls_anonymity.py).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.db.polls import PollRepo
from tests.e2e.hearth import HearthWorld
from tests.emulator.interactions import InteractionRecord, all_custom_ids, find_component
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"


async def setup_community(
    world: HearthWorld, n: int = 3, name: str = COMMUNITY, prefix: str = "m"
) -> list[UserState]:
    people = [world.person(f"{prefix}{i}") for i in range(n)]
    await world.create_community(name, members={p: "carer" for p in people})
    return people


def voice(world: HearthWorld, slug: str = "carers-voice") -> Any:
    return world.channel(f"{slug}-voice")


def poll_message(world: HearthWorld, slug: str = "carers-voice") -> MessageState:
    msgs = [m for m in world.emu.messages_in(voice(world, slug)) if m.components]
    assert msgs, "no poll message with components"
    return msgs[-1]


def results_messages(world: HearthWorld, slug: str = "carers-voice") -> list[MessageState]:
    return [
        m
        for m in world.emu.messages_in(voice(world, slug))
        if m.embeds and str(m.embeds[0].get("title", "")).startswith("Results")
    ]


def embed_text(msg: MessageState) -> str:
    parts = [msg.content]
    for e in msg.embeds:
        parts += [str(e.get("title") or ""), str(e.get("description") or "")]
        parts += [f"{f['name']}: {f['value']}" for f in e.get("fields") or []]
        parts.append(str((e.get("footer") or {}).get("text") or ""))
    return "\n".join(parts)


async def create_poll(
    world: HearthWorld, user: UserState | None = None, choices: str | None = None, **opts: Any
) -> InteractionRecord:
    """`/poll create`; ``choices`` is the command's `options` (a name the driver reserves)."""
    opts.setdefault("community", COMMUNITY)
    if choices is not None:
        opts["options"] = choices
    return await world.slash(user or world.owner, "poll create", options=opts)


async def poll_rows(world: HearthWorld) -> list[Any]:
    assert world.db is not None
    return await world.db.fetchall("SELECT * FROM polls ORDER BY id")


def polls_jobs(ran: list[str]) -> list[str]:
    """Our jobs among those that ran (other capabilities schedule their own)."""
    return [j for j in ran if j.startswith("poll:")]


def repo(world: HearthWorld) -> PollRepo:
    assert world.db is not None
    return PollRepo(world.db)


# --------------------------------------------------------------------------- single


async def test_single_choice_poll_votes_changes_and_closes_on_time(world: HearthWorld) -> None:
    a, b, c = await setup_community(world)
    outsider = world.person("outsider")
    rec = await create_poll(
        world, question="Which day suits?", choices="Monday; Tuesday; Friday", kind="single",
        closes="in 2 days",
    )
    assert rec.ephemeral and "Posted poll #1 (single choice)" in rec.content, rec.content
    msg = poll_message(world)
    ids = all_custom_ids(msg.components)
    assert ids == ["poll:1:v:0", "poll:1:v:1", "poll:1:v:2"]
    assert "Which day suits?" in embed_text(msg) and "Anonymous" in embed_text(msg)

    r = await world.emu.click(a, msg, ids[0])
    assert r.ephemeral and "recorded" in r.content and "Monday" in r.content
    assert r.reply is not None and r.reply.visible_to == a.id
    r = await world.emu.click(b, msg, ids[1])
    assert "Tuesday" in r.content
    # a changes their mind; the old vote must not count twice
    r = await world.emu.click(a, msg, ids[1])
    assert "changed" in r.content and "Tuesday" in r.content
    # the same option again: a clear answer, nothing changes
    r = await world.emu.click(a, msg, ids[1])
    assert r.ephemeral and "already your vote" in r.content
    # a non-member cannot vote
    r = await world.emu.click(outsider, msg, ids[2])
    assert r.ephemeral and "Only members" in r.content
    assert await repo(world).voters(1) == {a.id, b.id}

    # results while open (anonymous): turnout only
    res = await world.slash(c, "poll results", poll="1")
    assert res.ephemeral and "2 of 4 members have voted" in res.content, res.content
    assert "Tuesday" not in res.all_text

    ran = await world.advance(timedelta(days=2))
    assert "poll:close:1" in ran
    [posted] = results_messages(world)
    text = embed_text(posted)
    assert "Tuesday" in text and not posted.content  # once, in the embed: no second table
    assert "2 of 2 chose “Tuesday” (100%)" in text
    assert "Turnout: 2 of 4 members (50%)" in text
    # the poll message lost its buttons and no longer invites votes (regression: it kept
    # "Closes in 2 days" and "You can change your vote until the poll closes")
    closed_msg = world.emu.get_message(voice(world), msg.id)
    assert not closed_msg.components
    closed_text = embed_text(closed_msg)
    assert "Closed <t:" in closed_text and "results are posted below" in closed_text
    assert "change your vote" not in closed_text and "Closes <t:" not in closed_text
    row = (await poll_rows(world))[0]
    assert row["closed_at"] is not None and row["ballot_key"] is None
    assert row["voters"] == 2 and row["eligible"] == 4
    assert "chose “Tuesday”" in row["collective_statement"]
    # results after close, for a member, with quorum
    res = await world.slash(c, "poll results", poll="1")
    assert "Turnout: 2 of 4 members" in embed_text(res.reply) and not res.content


async def test_single_choice_with_many_options_uses_a_select(world: HearthWorld) -> None:
    (a, *_rest) = await setup_community(world, 2)
    options = "; ".join(f"Option {i}" for i in range(1, 8))
    await create_poll(world, question="Pick one", choices=options, kind="single")
    msg = poll_message(world)
    sel = find_component(msg.components, "poll:1:s")
    assert sel is not None and sel["type"] == 3 and sel.get("max_values", 1) == 1
    r = await world.emu.select(a, msg, "poll:1:s", ["6"])
    assert "Option 7" in r.content


# --------------------------------------------------------------------------- multi


async def test_multi_choice_poll(world: HearthWorld) -> None:
    a, b, c = await setup_community(world)
    await create_poll(
        world, question="Which topics?", choices="Access; Waiting times; Diet; Sleep",
        kind="multi",
    )
    msg = poll_message(world)
    sel = find_component(msg.components, "poll:1:s")
    assert sel is not None and sel["max_values"] == 4
    r = await world.emu.select(a, msg, "poll:1:s", ["0", "2"])
    assert "Access; Diet" in r.content
    await world.emu.select(b, msg, "poll:1:s", ["2"])
    r = await world.emu.select(c, msg, "poll:1:s", ["1", "2", "3"])
    r = await world.emu.select(c, msg, "poll:1:s", ["1", "2", "3"])
    assert "already your vote" in r.content
    close = await world.slash(world.owner, "poll close", poll="1")
    assert "Closed poll #1" in close.content, close.content
    [posted] = results_messages(world)
    fields = {f["name"]: f["value"] for f in posted.embeds[0]["fields"]}
    assert fields["Diet"] == "3 votes of 3 (100%) · most votes"
    assert fields["Access"] == "1 vote of 3 (33%)"
    assert "“Diet” (3 of 3, 100%)" in posted.embeds[0]["description"]


# --------------------------------------------------------------------------- ranked


async def rank(world: HearthWorld, user: UserState, msg: MessageState, order: list[int]) -> str:
    start = await world.emu.click(user, msg, "poll:1:rank")
    assert start.ephemeral and start.reply is not None
    flow = start.reply
    # before the first pick there is nothing to restart (regression: a second "Rank the
    # options" button sat under the first choice and only reset the empty ranking)
    assert all_custom_ids(flow.components) == ["poll:1:r:"]
    sofar = ""
    for i in order:
        r = await world.emu.select(user, flow, f"poll:1:r:{sofar}", [str(i)])
        sofar += "0123456789abcdefghijklmno"[i]
        assert r.reply is flow
    done = await world.emu.click(user, flow, f"poll:1:rs:{sofar}")
    return done.content


async def test_ranked_poll_instant_runoff_round_by_round(world: HearthWorld) -> None:
    people = await setup_community(world, 5)
    await create_poll(
        world, question="Where should we meet?", choices="Library; Cafe; Town hall",
        kind="ranked", closes="in 1 day",
    )
    msg = poll_message(world)
    # first preferences: Library 2, Cafe 2, Town hall 1 -> Town hall out, its vote goes to Cafe
    ballots = [[0, 1], [0], [1, 0], [1, 2], [2, 1]]
    for person, order in zip(people, ballots, strict=True):
        text = await rank(world, person, msg, order)
        assert "Your ranking is saved" in text
    # partial ranking then a change: counts once
    text = await rank(world, people[1], msg, [0, 2])
    assert "changed" in text
    # the flow refuses ranking the same option twice
    start = await world.emu.click(people[0], msg, "poll:1:rank")
    assert start.reply is not None
    await world.emu.select(people[0], start.reply, "poll:1:r:", ["1"])
    with_dup = find_component(start.reply.components, "poll:1:r:1")
    assert with_dup is not None and "1" not in [o["value"] for o in with_dup["options"]]

    await world.advance(timedelta(days=1))
    [posted] = results_messages(world)
    text = embed_text(posted)
    assert "Round 1:" in text and "Final round (round 2)" in text
    assert "Result: Winner: Cafe" in text
    assert "won after 2 rounds" in posted.embeds[0]["description"]
    res = await world.slash(people[2], "poll results", poll="1")
    assert "Final round (round 2)" in embed_text(res.reply)


# --------------------------------------------------------------------------- agreement


async def test_agreement_poll_and_collective_statement(world: HearthWorld) -> None:
    people = await setup_community(world, 4)
    rec = await create_poll(
        world, question="Appointments should be offered in the evening", kind="agreement",
        closes="in 3 days",
    )
    assert "Posted" in rec.content
    msg = poll_message(world)
    assert all_custom_ids(msg.components) == [f"poll:1:v:{i}" for i in range(5)]
    for person, level in zip(people, [0, 1, 1, 4], strict=True):
        r = await world.emu.click(person, msg, f"poll:1:v:{level}")
        assert r.ephemeral
    await world.advance(timedelta(days=3))
    [posted] = results_messages(world)
    statement = posted.embeds[0]["description"]
    assert statement.startswith(
        "3 of 5 members (60%) agree that appointments should be offered in the evening."
    ), statement
    assert "Agree overall: 3 of 4 (75%)" in embed_text(posted)


# --------------------------------------------------------------------------- survey


async def answer(world: HearthWorld, user: UserState, msg: MessageState, codes: str) -> str:
    start = await world.emu.click(user, msg, "poll:1:survey")
    assert start.reply is not None and start.ephemeral
    flow = start.reply
    for q, code in enumerate(codes):
        assert f"Question {q + 1} of" in flow.content
        await world.emu.click(user, flow, f"poll:1:sq:{q}:{code}")
    return flow.content


async def test_survey_per_question_answers_skips_and_changes(world: HearthWorld) -> None:
    a, b, c = await setup_community(world)
    await create_poll(
        world, question="About the last meeting", kind="survey",
        choices="Did you attend?; Was it useful?; Would you come again?",
    )
    msg = poll_message(world)
    assert "answered 2 of 3" in await answer(world, a, msg, "yns")
    assert "answered 3 of 3" in await answer(world, b, msg, "yyy")
    assert "answered 1 of 3" in await answer(world, c, msg, "ssn")
    # c changes their mind on question 3 and answers question 1: merged, not doubled
    text = await answer(world, c, msg, "nsy")
    assert "answered 2 of 3" in text
    assert await repo(world).voter_count(1) == 3
    await world.slash(world.owner, "poll close", poll="1")
    [posted] = results_messages(world)
    fields = {f["name"]: f["value"] for f in posted.embeds[0]["fields"]}
    assert fields["Did you attend?"] == "2 of 3 who answered said yes (67%); 1 said no."
    assert fields["Was it useful?"] == "1 of 2 who answered said yes (50%); 1 said no."
    assert fields["Would you come again?"] == "2 of 2 who answered said yes (100%); 0 said no."


async def test_a_survey_answer_can_be_withdrawn(world: HearthWorld) -> None:
    """Withdrawing one answer keeps the others; withdrawing the last means not answered."""
    a, b, _c = await setup_community(world)
    await create_poll(
        world, question="About the last meeting", kind="survey",
        choices="Did you attend?; Was it useful?",
    )
    msg = poll_message(world)
    await answer(world, a, msg, "yn")
    await answer(world, b, msg, "y")
    start = await world.emu.click(a, msg, "poll:1:survey")
    assert start.reply is not None
    # the withdraw button appears only for a question the member has answered
    assert "poll:1:sq:0:w" in all_custom_ids(start.reply.components)
    r = await world.emu.click(a, start.reply, "poll:1:sq:0:w")
    assert "question 1 is withdrawn" in r.content
    assert await repo(world).own_ballot(1, a.id) == {1: False}
    # on to question 2 (skipping 1 again), in this flow and in a second one left open
    await world.emu.click(a, start.reply, "poll:1:sq:0:s")
    other = await world.emu.click(a, msg, "poll:1:survey")
    assert other.reply is not None
    await world.emu.click(a, other.reply, "poll:1:sq:0:s")
    r = await world.emu.click(a, start.reply, "poll:1:sq:1:w")
    assert "question 2 is withdrawn" in r.content
    assert await repo(world).own_ballot(1, a.id) is None
    assert await repo(world).voter_count(1) == 1  # a no longer counts as having answered
    # the second flow is out of date: nothing left to withdraw, said plainly
    r = await world.emu.click(a, other.reply, "poll:1:sq:1:w")
    assert "nothing to withdraw" in r.content and r.ephemeral
    await world.slash(world.owner, "poll close", poll="1")
    [posted] = results_messages(world)
    fields = {f["name"]: f["value"] for f in posted.embeds[0]["fields"]}
    assert fields["Did you attend?"] == "1 of 1 who answered said yes (100%); 0 said no."
    assert fields["Was it useful?"] == "No answers yet."


# --------------------------------------------------------------------------- restarts


async def test_buttons_work_and_poll_closes_after_restarts(world: HearthWorld) -> None:
    a, b, _c = await setup_community(world)
    await create_poll(
        world, question="Keep the monthly call?", choices="Yes; No", kind="single",
        closes="in 1 day",
    )
    msg = poll_message(world)
    await world.emu.click(a, msg, "poll:1:v:0")
    await world.restart()
    assert "poll:close:1" in world.bot.scheduler.jobs()  # type: ignore[union-attr]
    r = await world.emu.click(b, msg, "poll:1:v:0")
    assert "recorded" in r.content
    r = await world.emu.click(a, msg, "poll:1:v:1")
    assert "changed" in r.content
    await world.restart()
    ran = await world.advance(timedelta(days=1))
    assert "poll:close:1" in ran
    [posted] = results_messages(world)
    assert "it was a tie" in posted.embeds[0]["description"]


async def test_poll_due_while_bot_was_down_closes_at_start(world: HearthWorld) -> None:
    (a, *_r) = await setup_community(world, 2)
    await create_poll(world, question="Q?", choices="X; Y", kind="single", closes="2h")
    await world.emu.click(a, poll_message(world), "poll:1:v:1")
    await world.stop_bot()
    world.clock.advance(timedelta(hours=5))
    await world.start_bot()
    assert polls_jobs(await world.advance(timedelta(0))) == ["poll:close:1"]
    assert len(results_messages(world)) == 1


async def test_vote_after_deadline_is_refused_even_before_the_close_job(
    world: HearthWorld,
) -> None:
    (a, *_r) = await setup_community(world, 2)
    await create_poll(world, question="Q?", choices="X; Y", kind="single", closes="in 1 hour")
    msg = poll_message(world)
    world.clock.advance(timedelta(hours=1))  # the job has not run yet
    r = await world.emu.click(a, msg, "poll:1:v:0")
    assert r.ephemeral and "closed" in r.content
    assert await repo(world).voter_count(1) == 0
    # the same click against a closed poll (message components still there on old clients)
    await world.advance(timedelta(0))
    assert (await poll_rows(world))[0]["closed_at"] is not None


async def test_clicking_a_button_of_a_deleted_poll(world: HearthWorld) -> None:
    (a, *_r) = await setup_community(world, 2)
    await create_poll(world, question="Q?", choices="X; Y", kind="single")
    msg = poll_message(world)
    await repo(world).delete(1)
    r = await world.emu.click(a, msg, "poll:1:v:0")
    assert r.ephemeral and "no longer exists" in r.content


# --------------------------------------------------------------------------- nudges


async def test_nudge_dms_only_members_who_have_not_voted_once(world: HearthWorld) -> None:
    a, b, c = await setup_community(world)
    await create_poll(
        world, question="Should we start a newsletter?", choices="Yes please; No thanks",
        kind="single", closes="in 3 days",
    )
    await world.emu.click(a, poll_message(world), "poll:1:v:0")
    before = {p.id: len(world.emu.dms_to(p)) for p in (a, b, c)}
    ran = await world.advance(timedelta(days=2))
    assert polls_jobs(ran) == ["poll:nudge:1"]
    assert len(world.emu.dms_to(a)) == before[a.id]
    for p in (b, c):
        dms = world.emu.dms_to(p)
        assert len(dms) == before[p.id] + 1
        assert "have not voted yet" in dms[-1].content
        assert "Yes please" not in dms[-1].content and "No thanks" not in dms[-1].content
    # a restart does not nudge again
    await world.restart()
    assert "poll:nudge:1" not in world.bot.scheduler.jobs()  # type: ignore[union-attr]
    await world.advance(timedelta(hours=23))
    assert len(world.emu.dms_to(b)) == before[b.id] + 1


# --------------------------------------------------------------------------- other features


async def test_absolute_closing_time_in_community_timezone(world: HearthWorld) -> None:
    await setup_community(world, 1)
    # START is 2027-01-11 09:00 UTC, winter: London time equals UTC
    await create_poll(world, question="Q?", choices="X; Y", kind="single",
                      closes="2027-01-12 18:00")
    row = (await poll_rows(world))[0]
    assert row["closes_at"] == datetime(2027, 1, 12, 18, 0, tzinfo=UTC).isoformat()
    world.clock.set(datetime(2027, 6, 1, 9, 0, tzinfo=UTC))  # summer: BST = UTC+1
    await create_poll(world, question="Q2?", choices="X; Y", kind="single",
                      closes="2027-06-02 18:00")
    row = (await poll_rows(world))[1]
    assert row["closes_at"] == datetime(2027, 6, 2, 17, 0, tzinfo=UTC).isoformat()


async def test_not_anonymous_poll_shows_who_voted_what(world: HearthWorld) -> None:
    a, b = await setup_community(world, 2)
    rec = await create_poll(world, question="Lead the next session?", choices="Me; Not me",
                            kind="single", anonymous=False)
    assert "Not anonymous" in rec.content
    msg = poll_message(world)
    await world.emu.click(a, msg, "poll:1:v:0")
    await world.emu.click(b, msg, "poll:1:v:1")
    res = await world.slash(b, "poll results", poll="1")
    assert f"<@{a.id}>: Me" in res.content and f"<@{b.id}>: Not me" in res.content
    assert "Results so far" in res.embeds[0]["title"]


async def test_poll_autocomplete_lists_only_the_users_communities(world: HearthWorld) -> None:
    a, _b = await setup_community(world, 2)
    other = world.person("other")
    await world.create_community("Nurses Forum", members={other: "nurse"})
    await create_poll(world, question="Carers question", choices="X; Y", kind="single")
    await create_poll(world, community="Nurses Forum", question="Nurses question",
                      choices="X; Y", kind="single")
    got = await world.emu.autocomplete(world.guild, a, "poll results", focused="poll", value="")
    assert [c["value"] for c in got] == ["1"]
    assert "Carers question" in got[0]["name"] and "Carers Voice" in got[0]["name"]
    got = await world.emu.autocomplete(
        world.guild, other, "poll results", focused="poll", value="question"
    )
    assert [c["value"] for c in got] == ["2"]


async def test_burst_of_votes_is_group_committed_and_all_acknowledged(
    world: HearthWorld,
) -> None:
    people = await setup_community(world, 40)
    await create_poll(world, question="Burst?", choices="A; B; C", kind="single")
    msg = poll_message(world)
    recs = [
        await world.emu.click(p, msg, f"poll:1:v:{i % 3}", wait=False)
        for i, p in enumerate(people)
    ]
    await asyncio.gather(*(r.wait_final() for r in recs))
    assert all("recorded" in r.content for r in recs)
    assert await repo(world).voter_count(1) == 40
    cog = world.bot.get_cog("PollsCog")  # type: ignore[union-attr]
    batches = cog.service.committer.batches  # type: ignore[union-attr]
    assert sum(batches) == 40 and len(batches) < 40, batches


# --------------------------------------------------------------------------- bad input


async def test_bad_input_is_refused_clearly_and_nothing_is_stored(world: HearthWorld) -> None:
    (a, *_r) = await setup_community(world, 2)
    many = "; ".join(f"o{i}" for i in range(26))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"choices": "Only one", "kind": "single"}, "at least 2 options"),
        ({"choices": many, "kind": "multi"}, "at most 25"),
        ({"choices": "A; ; B", "kind": "single"}, "is empty"),
        ({"choices": "", "kind": "single"}, "at least 2 options"),
        ({"choices": "Tea; tea", "kind": "ranked"}, "repeats option 1"),
        ({"choices": "A; B", "kind": "agreement"}, "Leave options empty"),
        ({"choices": "A; B", "kind": "single", "closes": "2027-01-10 10:00"}, "in the past"),
        ({"choices": "A; B", "kind": "single", "closes": "whenever"}, "couldn't read `whenever`"),
        ({"choices": "A; B", "kind": "single", "question": "   "}, "needs a question"),
    ]
    for opts, fragment in cases:
        opts.setdefault("question", "A question?")
        rec = await create_poll(world, **opts)
        assert rec.ephemeral, opts
        assert fragment.lower() in rec.content.lower(), (opts, rec.content)
    # members who are not facilitators cannot create polls
    rec = await create_poll(world, a, question="Q?", choices="X; Y", kind="single")
    assert rec.ephemeral and "Only a facilitator" in rec.content
    assert await poll_rows(world) == []
    assert not [m for m in world.emu.messages_in(voice(world)) if m.components]


async def test_poll_ids_are_checked_against_community_and_server(world: HearthWorld) -> None:
    a, _b = await setup_community(world, 2)
    nurse = world.person("nurse")
    await world.create_community("Nurses Forum", members={nurse: "nurse"})
    # the owner makes `a` a facilitator of Carers Voice only
    await world.slash(world.owner, "community add", community=COMMUNITY, member=a,
                      discipline="carer", facilitator=True)
    await create_poll(world, community="Nurses Forum", question="Nurse Q", choices="X; Y",
                      kind="single")
    rec = await world.slash(a, "poll close", poll="1")
    assert rec.ephemeral and "Only a facilitator of **Nurses Forum**" in rec.content
    rec = await world.slash(a, "poll results", poll="1")
    assert rec.ephemeral and "Only members of **Nurses Forum**" in rec.content
    rec = await world.slash(a, "poll close", poll="999")
    assert "There is no poll #999" in rec.content
    rec = await world.slash(a, "poll close", poll="not a number")
    assert "Pick a poll" in rec.content
    assert (await poll_rows(world))[0]["closed_at"] is None
    await world.slash(world.owner, "poll close", poll="1")
    rec = await world.slash(world.owner, "poll close", poll="1")
    assert "already closed" in rec.content


async def test_invalid_select_values_are_refused(world: HearthWorld) -> None:
    """A crafted component payload (not possible from a real client) changes nothing."""
    (a, *_r) = await setup_community(world, 2)
    await create_poll(world, question="Q?", choices="A; B; C", kind="multi")
    msg = poll_message(world)
    sel = find_component(msg.components, "poll:1:s")
    assert sel is not None
    data = {"custom_id": "poll:1:s", "component_type": 3, "values": ["0", "0"]}
    rec = world.emu._new_interaction(3, a, world.guild, voice(world), data, message=msg)
    await rec.wait_final()
    assert rec.ephemeral and "same option twice" in rec.content
    assert await repo(world).voter_count(1) == 0
    assert json.loads(json.dumps(sel))["max_values"] == 3


async def test_poll_not_stored_when_it_cannot_be_posted(world: HearthWorld) -> None:
    await setup_community(world, 1)
    channel_id = voice(world).id
    world.emu.fail_route("POST", rf"^/channels/{channel_id}/messages$", 403,
                         json={"code": 50013, "message": "Missing Permissions"})
    rec = await create_poll(world, question="Q?", choices="X; Y", kind="single", closes="1d")
    assert rec.ephemeral and "permission" in rec.content.lower(), rec.content
    assert await poll_rows(world) == []
    assert not [j for j in world.bot.scheduler.jobs() if j.startswith("poll:")]  # type: ignore[union-attr]
