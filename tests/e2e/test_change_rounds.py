"""Significant-change rounds end to end: open, tell, select with reasons, feed back, withdraw.

Through the emulator as people would: the facilitator's ``/change round``, members pressing
**Tell a story of change** in the lounge (domain menu, modal, private draft, **Tell it**),
selectors pressing **Choose stories** (domain menu, candidates, pick, reason modal), the
injected clock moving to each deadline, and what the lounge, the distilling group's lounge
and each teller's DMs then show.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.e2e.hearth import HearthWorld
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
LOUNGE = "carers-voice-lounge"
DISTILLERS = "Distillers"

ALICE_TEXT = "The ward now phones carers before discharge, so nobody goes home to an empty house."
ALICE_WHY = "My mother came home to a warm house and her medicines ready for the first time."
BOB_TEXT = "The nurse specialist started a weekly drop-in for people waiting for results."
BOB_WHY = "Waiting used to be the loneliest part; now we wait together."
CAROL_TEXT = "Our practice and the hospice share one care plan for each patient."
CAROL_WHY = "I no longer chase letters; I can spend that time with patients."


def lounge(world: HearthWorld, name: str = LOUNGE) -> Any:
    return world.channel(name)


def with_component(world: HearthWorld, channel: Any, custom_id: str) -> MessageState:
    found = [m for m in world.emu.messages_in(channel) if custom_id in all_custom_ids(m.components)]
    assert found, f"no message with {custom_id} in {channel.name}"
    return found[-1]


async def tell(
    world: HearthWorld,
    user: UserState,
    round_id: int,
    domain: int,
    changed: str,
    why: str,
    *,
    title: str = "",
    consent: str = "group",
) -> InteractionRecord:
    announcement = with_component(world, lounge(world), f"chg:{round_id}:tell")
    pressed = await world.emu.click(user, announcement, f"chg:{round_id}:tell")
    assert pressed.ephemeral and pressed.reply is not None, pressed.content
    picked = await world.emu.select(user, pressed.reply, f"chg:{round_id}:td", [str(domain)])
    assert picked.modal is not None, picked.content
    values = {"changed": changed, "why": why}
    if title:
        values["title"] = title
    draft = await world.emu.submit_modal(user, picked, values)
    assert draft.ephemeral and "not kept yet" in draft.content, draft.content
    assert draft.reply is not None
    if consent != "group":
        await world.emu.select(user, draft.reply, "chg:draft:consent", [consent])
    return await world.emu.click(user, draft.reply, "chg:draft:post")


async def open_candidates(
    world: HearthWorld, user: UserState, round_id: int, domain: int, channel: Any
) -> MessageState:
    invitation = with_component(world, channel, f"chg:{round_id}:choose")
    pressed = await world.emu.click(user, invitation, f"chg:{round_id}:choose")
    assert pressed.ephemeral and pressed.reply is not None, pressed.content
    await world.emu.select(user, pressed.reply, f"chg:{round_id}:cd", [str(domain)])
    return pressed.reply


async def choose(
    world: HearthWorld,
    user: UserState,
    round_id: int,
    domain: int,
    story_id: int,
    reason: str,
    channel: Any,
) -> InteractionRecord:
    page = await open_candidates(world, user, round_id, domain, channel)
    picked = await world.emu.select(user, page, f"chg:{round_id}:pk:{domain}", [str(story_id)])
    if picked.modal is None:
        return picked
    return await world.emu.submit_modal(user, picked, {"reason": reason})


def text_of(msg: MessageState) -> str:
    return msg.content + json.dumps(msg.embeds, ensure_ascii=False)


async def stories(world: HearthWorld) -> list[Any]:
    assert world.db is not None
    return await world.db.fetchall("SELECT * FROM change_stories ORDER BY id")


async def setup_people(world: HearthWorld) -> dict[str, UserState]:
    people = {n: world.person(n) for n in ("alice", "bob", "carol", "dave")}
    await world.create_community(
        COMMUNITY,
        members={people["alice"]: "carer", people["bob"]: "patient", people["carol"]: "gp",
                 people["dave"]: "nurse"},
    )  # fmt: skip
    return people


async def test_a_round_collects_selects_and_feeds_back(world: HearthWorld) -> None:
    p = await setup_people(world)
    alice, bob, carol, dave = p["alice"], p["bob"], p["carol"], p["dave"]
    r = await world.slash(alice, "change round", community=COMMUNITY)
    assert r.ephemeral and "Only a facilitator" in r.content, r.content
    r = await world.slash(
        world.owner, "change round", community=COMMUNITY, collect_until="in 3 days",
        select_until="in 5 days",
    )  # fmt: skip
    assert "Opened significant-change round #1" in r.content, r.content
    ann = with_component(world, lounge(world), "chg:1:tell")
    assert "Care for people affected by cancer" in text_of(ann)
    assert "How services work together" in text_of(ann)

    # three stories: group, anonymous, named
    told = await tell(world, alice, 1, 0, ALICE_TEXT, ALICE_WHY, title="Phoned before discharge")
    assert "kept as #1" in told.content, told.content
    told = await tell(world, bob, 1, 0, BOB_TEXT, BOB_WHY, consent="anonymous")
    assert "kept as #2" in told.content and "without my name" in told.content, told.content
    told = await tell(world, carol, 1, 1, CAROL_TEXT, CAROL_WHY, title="One plan",
                      consent="named")  # fmt: skip
    assert "kept as #3" in told.content, told.content
    rows = await stories(world)
    assert [(s["teller_id"], s["domain"], s["consent"]) for s in rows] == [
        (alice.id, 0, "group"), (bob.id, 0, "anonymous"), (carol.id, 1, "named"),
    ]  # fmt: skip
    assert rows[1]["title"] == "The nurse specialist started a weekly drop-in for…"

    st = await world.slash(dave, "change status", community=COMMUNITY)
    assert "Care for people affected by cancer: 2 stories" in st.content, st.content
    assert "My own practice: 1 story" in st.content and "collected until" in st.content
    # the round's jobs are rebuilt from the database after a restart
    await world.restart()
    # selection has not opened yet
    assert not [m for m in world.emu.messages_in(lounge(world))
                if "chg:1:choose" in all_custom_ids(m.components)]  # fmt: skip
    await world.advance(timedelta(days=3, minutes=1))
    invitation = with_component(world, lounge(world), "chg:1:choose")
    assert "Choose the most significant" in text_of(invitation)
    # the announcement no longer takes stories
    assert world.emu.get_message(lounge(world), ann.id).components == []

    # what a selector reads: the anonymous story has no name, the named one has
    page = await open_candidates(world, dave, 1, 0, lounge(world))
    shown = text_of(page)
    assert ALICE_TEXT in shown and BOB_TEXT in shown
    assert "Told anonymously" in shown and "bob" not in shown
    page = await open_candidates(world, dave, 1, 1, lounge(world))
    assert "Told by carol" in text_of(page)

    # a teller cannot choose their own story; a reason is required by the modal
    r = await choose(world, alice, 1, 0, 1, "mine", lounge(world))
    assert "You told this story" in r.content, r.content
    r = await choose(world, bob, 1, 0, 1, "Families feel seen.", lounge(world))
    assert "Saved your choice" in r.content, r.content
    r = await choose(world, dave, 1, 0, 2, "Waiting together", lounge(world))
    r = await choose(world, dave, 1, 0, 1, "It changed what going home means.", lounge(world))
    assert "Changed your choice" in r.content, r.content
    r = await choose(world, carol, 1, 0, 1, "Safety at home matters most.", lounge(world))
    r = await choose(world, alice, 1, 0, 2, "Loneliness is the hidden harm.", lounge(world))
    r = await choose(world, alice, 1, 1, 3, "Time back for patients.", lounge(world))
    r = await choose(world, bob, 1, 1, 3, "Joined-up care.", lounge(world))
    assert "Saved your choice" in r.content
    # nobody sees who chose what while selection runs: turnout only
    st = await world.slash(world.owner, "change status", community=COMMUNITY)
    assert "4 of 5 members" in st.content and "stays hidden" in st.content, st.content
    assert "Families feel seen" not in "".join(text_of(m) for m in world.emu.messages_in(
        lounge(world)))  # fmt: skip

    await world.advance(timedelta(days=2))
    assert world.db is not None
    row = await world.db.fetchone("SELECT state, outcome FROM change_rounds WHERE id = 1")
    assert row is not None
    assert row["state"] == "closed"
    outcome = json.loads(row["outcome"])
    assert outcome["domains"][0]["selected"] == [1] and outcome["domains"][0]["choices"] == 4
    assert outcome["domains"][1]["selected"] == [3]
    assert outcome["domains"][2]["result"] == "no_stories"
    assert str(dave.id) not in row["outcome"] and str(bob.id) not in row["outcome"]

    feedback = [m for m in world.emu.messages_in(lounge(world)) if "round #1 ·" in m.content]
    assert len(feedback) == 4
    first = text_of(feedback[0])
    assert "Selected with 3 of 4 choices" in first and ALICE_TEXT in first
    assert "Families feel seen." in first and "It changed what going home means." in first
    assert "Safety at home matters most." in first
    assert "Waiting together" not in first  # a changed choice's old reason is gone
    for name in ("bob", "dave", "carol"):  # reasons without selectors' names
        assert name not in first
    assert "Told by carol" in text_of(feedback[1]) and "Time back for patients." in text_of(
        feedback[1])  # fmt: skip
    assert "No story was told" in feedback[2].content

    dm_alice = "\n".join(m.content for m in world.emu.dms_to(alice))
    assert "it was selected as the most significant" in dm_alice and "Families feel seen." in (
        dm_alice)  # fmt: skip
    dm_bob = "\n".join(m.content for m in world.emu.dms_to(bob))
    assert "not selected this time" in dm_bob and "Phoned before discharge" in dm_bob
    assert "Safety at home matters most." in dm_bob
    dm_carol = "\n".join(m.content for m in world.emu.dms_to(carol))
    assert "selected as the most significant" in dm_carol
    assert not [m for m in world.emu.dms_to(dave) if "round #1" in m.content]  # told none

    # a restart sends nothing twice
    before = len(world.emu.messages_in(lounge(world)))
    await world.restart()
    await world.advance(timedelta(minutes=1))
    assert len(world.emu.messages_in(lounge(world))) == before
    assert len([m for m in world.emu.dms_to(alice) if "round #1" in m.content]) == 1


async def test_a_distilling_group_selects_only_what_may_leave(world: HearthWorld) -> None:
    p = await setup_people(world)
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    eve, frank = world.person("eve"), world.person("frank")
    await world.create_community(DISTILLERS, kind="distilling",
                                 members={eve: "gp", frank: "nurse"})  # fmt: skip
    r = await world.slash(world.owner, "community link", community=DISTILLERS, serves=COMMUNITY)
    assert "now distils" in r.content, r.content
    r = await world.slash(world.owner, "change round", community=COMMUNITY,
                          domains="What changed for carers; Anything else")  # fmt: skip
    assert "the distilling group **Distillers**" in r.content, r.content
    ann = with_component(world, lounge(world), "chg:1:tell")
    assert "What changed for carers" in text_of(ann) and "Distillers" in text_of(ann)

    await tell(world, alice, 1, 0, ALICE_TEXT + " Call 07700 900123.", ALICE_WHY)
    await tell(world, bob, 1, 0, BOB_TEXT + " Ring 07700 900456.", BOB_WHY, consent="anonymous")
    await tell(world, carol, 1, 0, CAROL_TEXT, CAROL_WHY, title="One plan", consent="named")
    await world.advance(timedelta(days=14, minutes=1))

    distil_lounge = lounge(world, "distillers-lounge")
    invitation = with_component(world, distil_lounge, "chg:1:choose")
    assert "Carers Voice" in text_of(invitation)
    note = [m for m in world.emu.messages_in(lounge(world)) if "Distillers" in m.content]
    assert note and "is now choosing" in note[-1].content
    # the community's own members do not select this time
    pressed = await world.emu.click(alice, invitation, "chg:1:choose")
    assert "Only the selectors" in pressed.content, pressed.content

    page = await open_candidates(world, eve, 1, 0, distil_lounge)
    shown = text_of(page)
    assert ALICE_TEXT not in shown  # group consent never leaves the community
    assert "Told anonymously" in shown and "bob" not in shown
    assert "07700 900456" not in shown and "redacted" in shown
    assert "Told by carol" in shown
    options = next(
        c
        for row in page.components
        for c in row["components"]
        if c.get("custom_id") == "chg:1:pk:0"
    )["options"]
    assert [o["value"] for o in options] == ["2", "3"]  # alice's group story is not offered
    r = await choose(world, eve, 1, 0, 3, "A shared plan is what carers ask for.", distil_lounge)
    assert "Saved your choice" in r.content, r.content
    r = await choose(world, frank, 1, 0, 3, "It saves clinicians' time.", distil_lounge)
    await world.advance(timedelta(days=7))

    inside = [m for m in world.emu.messages_in(lounge(world)) if "round #1 ·" in m.content]
    outside = [m for m in world.emu.messages_in(distil_lounge) if "round #1 ·" in m.content]
    assert len(inside) == len(outside) == 2
    assert CAROL_TEXT in text_of(inside[0]) and CAROL_TEXT in text_of(outside[0])
    assert "A shared plan is what carers ask for." in text_of(outside[0])
    assert "too few" in inside[1].content.lower() or "No story" in inside[1].content
    dm_alice = "\n".join(m.content for m in world.emu.dms_to(alice))
    assert "stayed inside the group" in dm_alice
    dm_bob = "\n".join(m.content for m in world.emu.dms_to(bob))
    assert "not selected this time" in dm_bob and "One plan" in dm_bob

    # withdrawal after selection: gone from both feedback posts and from the database
    r = await world.slash(carol, "change consent", story="3", level="withdrawn")
    assert "Withdrawn" in r.content and "feedback" in r.content, r.content
    for msg in (inside[0], outside[0]):
        now = world.emu.get_message(world.emu.get_channel(msg.channel_id), msg.id)
        assert CAROL_TEXT not in text_of(now) and CAROL_WHY not in text_of(now)
        assert "A story its teller withdrew" in text_of(now)
    row = (await stories(world))[2]
    assert (row["teller_id"], row["changed"], row["why"], row["title"], row["consent"]) == (
        None, None, None, None, "withdrawn",
    )  # fmt: skip
    # someone else's story cannot be changed
    r = await world.slash(alice, "change consent", story="2", level="withdrawn")
    assert "Only its teller" in r.content, r.content
    r = await world.slash(alice, "change consent", story="99", level="withdrawn")
    assert "no story of change #99" in r.content, r.content


async def test_bad_input_is_refused_and_nothing_is_stored(world: HearthWorld) -> None:
    await setup_people(world)
    owner = world.owner

    async def refused(expect: str, **options: Any) -> None:
        r = await world.slash(owner, "change round", community=COMMUNITY, **options)
        assert r.ephemeral and expect in r.content, (expect, r.content)

    await refused("at most 10", domains=";".join(f"Domain {i}" for i in range(11)))
    await refused("80 or fewer", domains="x" * 81)
    await refused("listed twice", domains="Care; care")
    await refused("not a reporting period", period="banana")
    await refused("ends before it starts", period="2026-11-30 to 2026-06-01")
    await refused("must come after the collection deadline",
                  collect_until="in 5 days", select_until="in 3 days")  # fmt: skip
    await refused("in the past", collect_until="2026-12-01 10:00")
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM change_rounds") == 0
    r = await world.slash(owner, "change round", community=COMMUNITY, period="1 year")
    assert "Opened" in r.content
    await refused("already has a significant-change round")
    assert await world.db.fetchval("SELECT COUNT(*) FROM change_rounds") == 1
    # a story without "why" is refused by the service (the modal's own check aside)
    r = await world.slash(world.people["alice"], "change consent", story="banana",
                          level="named")  # fmt: skip
    assert "Pick one of your stories" in r.content


# --------------------------------------------------------------------------- the digest


GRP = "GRPCHANGETEXT the ward phoned me first."
ANON = "ANONCHANGETEXT a drop-in while we wait; write to bob@example.org to join."
NAMED = "NAMEDCHANGETEXT one care plan shared with the hospice."
GONE = "WITHDRAWNCHANGETEXT the pharmacy delivers now."


async def test_the_sponsors_digest_carries_only_what_may_leave(tmp_path: Any) -> None:
    from aiosmtpd.controller import Controller

    from tests.e2e.hearth import hearth_world
    from tests.e2e.test_digest import Inbox, free_port
    from tests.e2e.test_stories_sponsor import DUE_1, _email_text, _message_text

    port = free_port()
    extra = {"HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
             "HEARTH_SMTP_FROM": "h@example.org"}  # fmt: skip
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            p = await setup_people(world)
            alice, bob, carol, dave = p["alice"], p["bob"], p["carol"], p["dave"]
            sponsor = world.person("sponsor")
            rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY,
                                    member=sponsor, email="sponsor@example.org")  # fmt: skip
            assert "now the sponsor" in rec.content, rec.content
            r = await world.slash(world.owner, "change round", community=COMMUNITY,
                                  collect_until="in 2 days", select_until="in 4 days")  # fmt: skip
            assert "Opened" in r.content, r.content
            await tell(world, alice, 1, 0, GRP, "It felt safe.", title="GRPCHANGETITLE")
            await tell(world, bob, 1, 0, ANON, "We are less alone.", consent="anonymous")
            await tell(world, carol, 1, 0, NAMED, "Less chasing.", consent="named")
            await tell(world, dave, 1, 1, GONE, "No more queues.", consent="anonymous")
            await world.advance(timedelta(days=2, minutes=1))
            lounge_ = lounge(world)
            # a three-way tie in domain 0: all selected; dave's story in domain 1
            await choose(world, dave, 1, 0, 1, "REASONGRP home first.", lounge_)
            await choose(world, alice, 1, 0, 2, "REASONANON waiting together.", lounge_)
            await choose(world, bob, 1, 0, 3, "REASONNAMED joined-up care.", lounge_)
            await choose(world, alice, 1, 1, 4, "REASONGONE access.", lounge_)
            await choose(world, bob, 1, 1, 4, "REASONGONE2 access.", lounge_)
            await world.advance(timedelta(days=2))
            feedback = [m for m in world.emu.messages_in(lounge_) if "round #1 ·" in m.content]
            assert "3 stories tied" in feedback[0].content
            # withdrawn after selection: gone from the feedback and from the digest
            r = await world.slash(dave, "change consent", story="4", level="withdrawn")
            assert "Withdrawn" in r.content, r.content
            now = world.emu.get_message(lounge_, feedback[1].id)
            assert "WITHDRAWNCHANGETEXT" not in text_of(now)
            assert "A story its teller withdrew" in text_of(now)

            ran = await world.advance_to(DUE_1)
            assert "digest:1" in ran, ran
            dm = "\n".join(_message_text(m) for m in world.emu.dms_to(sponsor))
            ids = [str(u.id) for u in (alice, bob, carol, dave)]
    finally:
        controller.stop()
    [email] = [m for m in inbox.messages if str(m["To"]) == "sponsor@example.org"]
    mail = _email_text(email)
    for text in (dm, mail):
        assert "Stories of significant change" in text
        assert "ANONCHANGETEXT" in text and "NAMEDCHANGETEXT" in text  # positive controls
        assert "Told by carol" in text and "REASONANON waiting together." in text
        hidden_words = ("GRPCHANGETEXT", "GRPCHANGETITLE", "REASONGRP", "WITHDRAWNCHANGETEXT",
                        "REASONGONE", "bob@example.org", "bob", *ids)  # fmt: skip
        for hidden in hidden_words:
            assert hidden not in text, hidden
    assert any(a.filename.endswith(".txt") for m in world.emu.dms_to(sponsor)
               for a in m.attachments)  # fmt: skip


async def test_erasure_takes_a_selected_story_out_of_the_feedback(world: HearthWorld) -> None:
    p = await setup_people(world)
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    await world.slash(world.owner, "change round", community=COMMUNITY)
    await tell(world, alice, 1, 0, ALICE_TEXT, ALICE_WHY, title="Phoned before discharge")
    await world.advance(timedelta(days=14, minutes=1))
    await choose(world, bob, 1, 0, 1, "Families feel seen.", lounge(world))
    await choose(world, carol, 1, 0, 1, "Safety at home.", lounge(world))
    await world.advance(timedelta(days=7))
    [first] = [m for m in world.emu.messages_in(lounge(world)) if "round #1 · Care" in m.content]
    assert ALICE_TEXT in text_of(first)
    from tests.e2e.test_privacy import forget

    await forget(world, alice)
    assert world.db is not None
    row = await world.db.fetchone("SELECT consent, changed FROM change_stories WHERE id = 1")
    assert row is not None and tuple(row) == ("withdrawn", None)
    now = world.emu.get_message(lounge(world), first.id)
    assert ALICE_TEXT not in text_of(now) and ALICE_WHY not in text_of(now)
    assert "A story its teller withdrew" in text_of(now)
    assert "Families feel seen." in text_of(now)  # the selectors' reasons stay, unnamed


async def test_no_story_title_text_or_reason_reaches_the_log(tmp_path: Any) -> None:
    """What ``HEARTH_LOG_LEVEL=DEBUG python -m bot`` writes, through a whole round."""
    import io
    import logging

    from bot import log_privacy
    from bot.log_privacy import configure_logging
    from tests.e2e.hearth import hearth_world

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    handler = configure_logging("DEBUG", stream=stream)
    try:
        async with hearth_world(tmp_path) as world:
            p = await setup_people(world)
            await world.slash(world.owner, "change round", community=COMMUNITY)
            await tell(world, p["alice"], 1, 0, "LOGTEXTA the ward phones.", "LOGWHYA safe.",
                       title="LOGTITLEA")  # fmt: skip
            await tell(world, p["bob"], 1, 0, "LOGTEXTB a drop-in.", "LOGWHYB together.",
                       title="LOGTITLEB", consent="anonymous")  # fmt: skip
            await world.advance(timedelta(days=14, minutes=1))
            await choose(world, p["carol"], 1, 0, 1, "LOGREASONC home.", lounge(world))
            await choose(world, p["dave"], 1, 0, 2, "LOGREASOND waiting.", lounge(world))
            await world.advance(timedelta(days=7))
            await world.slash(p["bob"], "change consent", story="2", level="withdrawn")
    finally:
        root.removeHandler(handler)
        for h in handlers:
            h.removeFilter(log_privacy.FILTER)
        root.setLevel(level)
    logged = "\n".join(line for line in stream.getvalue().splitlines() if " mail.log: " not in line)
    assert "change round 1 closed" in logged.replace("#", "")  # the scan sees the round
    for secret in ("LOGTEXT", "LOGWHY", "LOGTITLE", "LOGREASON"):
        assert secret not in logged, secret


async def test_the_draft_suggests_plain_words_and_keeps_nothing_until_told(
    world: HearthWorld,
) -> None:
    p = await setup_people(world)
    alice = p["alice"]
    await world.slash(world.owner, "change round", community=COMMUNITY)
    ann = with_component(world, lounge(world), "chg:1:tell")
    pressed = await world.emu.click(alice, ann, "chg:1:tell")
    assert pressed.reply is not None
    picked = await world.emu.select(alice, pressed.reply, "chg:1:td", ["1"])
    assert picked.modal is not None and "My own practice" in picked.modal["title"]
    draft = await world.emu.submit_modal(
        alice, picked, {"changed": "After the biopsy we talk about discharge early.",
                        "why": "Families plan ahead."},
    )  # fmt: skip
    assert "**biopsy**" in draft.content and "**discharge**" in draft.content, draft.content
    assert draft.reply is not None and "My own practice" in text_of(draft.reply)
    assert await stories(world) == []
    # Edit the words: the form comes back filled in, and the draft shows the new words
    edit = await world.emu.click(alice, draft.reply, "chg:draft:edit")
    assert edit.modal is not None
    values = {c["custom_id"]: c.get("value") for row in edit.modal["components"]
              for c in row.get("components", [row.get("component", {})])}  # fmt: skip
    assert values["changed"] == "After the biopsy we talk about discharge early."
    await world.emu.submit_modal(alice, edit, {"changed": "We talk about going home early."})
    assert "We talk about going home early." in text_of(draft.reply)
    cancelled = await world.emu.click(alice, draft.reply, "chg:draft:cancel")
    assert "nothing was kept" in cancelled.content, cancelled.content
    assert await stories(world) == []
    # a member of no community cannot tell one
    stranger = world.person("stranger")
    r = await world.emu.click(stranger, ann, "chg:1:tell")
    assert r.ephemeral and "Only members" in r.content
