"""Closing a significant-change round's step early (``/change close``) and the selectors'
reminder, end to end through the emulator.

A facilitator closes collection early (after a confirmation; **Keep it open** changes
nothing): selection opens at once, exactly once, and the original deadline passing later,
a restart, or a stale button do not open it again. Closing selection early freezes the
outcome and posts the feedback once. A day before the selection deadline each selector who
has not chosen yet gets one reminder DM (never a story), exactly once across restarts; a
selection closed before then sends none.
"""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.hearth import HearthWorld
from tests.e2e.test_change_rounds import (
    ALICE_TEXT,
    ALICE_WHY,
    BOB_TEXT,
    BOB_WHY,
    COMMUNITY,
    choose,
    lounge,
    setup_people,
    tell,
)
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState


def invitations(world: HearthWorld, round_id: int) -> list[MessageState]:
    return [
        m
        for m in world.emu.messages_in(lounge(world))
        if f"chg:{round_id}:choose" in all_custom_ids(m.components)
    ]


def reminders(world: HearthWorld, user: UserState) -> list[str]:
    return [m.content for m in world.emu.dms_to(user) if m.content.startswith("A reminder:")]


async def state(world: HearthWorld, round_id: int = 1) -> str:
    assert world.db is not None
    return str(
        await world.db.fetchval("SELECT state FROM change_rounds WHERE id = :id", {"id": round_id})
    )


async def ask_close(world: HearthWorld, user: UserState) -> InteractionRecord:
    rec = await world.slash(user, "change close", community=COMMUNITY)
    assert rec.ephemeral, rec.content
    return rec


async def press(world: HearthWorld, user: UserState, rec: InteractionRecord, action: str) -> str:
    """Press **Close … now** (``yes``) or **Keep it open** (``no``); the final words."""
    assert rec.reply is not None, rec.content
    ids = all_custom_ids(rec.reply.components)
    wanted = [c for c in ids if c.endswith(f":{action}")]
    assert len(wanted) == 1, ids
    done = await world.emu.click(user, rec.reply, wanted[0])
    await world.emu.wait_for(
        lambda: done.reply is not None and not done.reply.content.startswith("Closing"),
        message="the close finished",
    )
    assert done.reply is not None
    return done.reply.content


async def test_closing_collection_then_selection_early(world: HearthWorld) -> None:
    p = await setup_people(world)
    alice, bob, carol = p["alice"], p["bob"], p["carol"]
    r = await world.slash(world.owner, "change round", community=COMMUNITY,
                          collect_until="in 3 days", select_until="in 6 days")  # fmt: skip
    assert "Opened significant-change round #1" in r.content, r.content
    await tell(world, alice, 1, 0, ALICE_TEXT, ALICE_WHY, title="Phoned before discharge")
    await tell(world, bob, 1, 0, BOB_TEXT, BOB_WHY, consent="anonymous")

    refused = await world.slash(alice, "change close", community=COMMUNITY)
    assert refused.ephemeral and "Only a facilitator" in refused.content, refused.content

    # Asked, then kept open: nothing changes.
    rec = await ask_close(world, world.owner)
    assert "Close story collection of significant-change round #1 now?" in rec.content
    assert "2 stories so far" in rec.content
    kept = await press(world, world.owner, rec, "no")
    assert "Nothing was closed" in kept, kept
    assert await state(world) == "collecting" and invitations(world, 1) == []

    # Asked again (twice, as two facilitators might) and confirmed: selection opens at
    # once, once.
    rec = await ask_close(world, world.owner)
    rec_too = await ask_close(world, world.owner)
    done = await press(world, world.owner, rec, "yes")
    assert "Closed story collection of round #1" in done, done
    assert await state(world) == "selecting"
    assert len(invitations(world, 1)) == 1
    announcement = [m for m in world.emu.messages_in(lounge(world))
                    if "chg:1:tell" in all_custom_ids(m.components)]  # fmt: skip
    assert announcement == []  # no more stories can be told
    again = await press(world, world.owner, rec_too, "yes")  # the second confirmation
    assert "had already closed" in again, again
    await world.restart()
    await world.advance(timedelta(days=3, minutes=1))  # the original collection deadline
    assert len(invitations(world, 1)) == 1

    # Selection: carol chooses; then the facilitator closes it early.
    assert world.db is not None
    first = int(await world.db.fetchval("SELECT MIN(id) FROM change_stories"))
    chosen = await choose(world, carol, 1, 0, first, "It changed how discharge works.",
                          lounge(world))  # fmt: skip
    assert "kept" in chosen.all_text.lower() or "chose" in chosen.all_text.lower(), chosen.all_text
    rec = await ask_close(world, world.owner)
    rec_too = await ask_close(world, world.owner)
    assert "Close selection of significant-change round #1 now?" in rec.content, rec.content
    assert "1 of" in rec.content
    done = await press(world, world.owner, rec, "yes")
    assert "Closed selection of round #1" in done, done
    assert await state(world) == "closed"
    posts = len(world.emu.messages_in(lounge(world)))
    dms_alice = len(world.emu.dms_to(alice))
    assert dms_alice >= 1  # alice is told what became of her story
    again = await press(world, world.owner, rec_too, "yes")
    assert "had already closed" in again, again
    await world.restart()
    await world.advance(timedelta(days=4))  # past the original selection deadline
    assert len(world.emu.messages_in(lounge(world))) == posts  # no second feedback
    assert len(world.emu.dms_to(alice)) == dms_alice
    assert reminders(world, bob) == []  # closed before the reminder was due
    nothing = await world.slash(world.owner, "change close", community=COMMUNITY)
    assert "nothing to close" in nothing.content, nothing.content


async def test_selectors_who_have_not_chosen_get_one_reminder(world: HearthWorld) -> None:
    p = await setup_people(world)
    alice, bob, carol, dave = p["alice"], p["bob"], p["carol"], p["dave"]
    await world.slash(world.owner, "change round", community=COMMUNITY,
                      collect_until="in 2 days", select_until="in 5 days")  # fmt: skip
    await tell(world, alice, 1, 0, ALICE_TEXT, ALICE_WHY, title="Phoned before discharge")
    await tell(world, bob, 1, 0, BOB_TEXT, BOB_WHY)
    await world.advance(timedelta(days=2, minutes=1))
    assert await state(world) == "selecting"
    assert world.db is not None
    first = int(await world.db.fetchval("SELECT MIN(id) FROM change_stories"))
    await choose(world, carol, 1, 0, first, "It changed how discharge works.", lounge(world))

    await world.advance(timedelta(days=1, hours=23, minutes=58))  # a day and 1 min before
    assert all(reminders(world, u) == [] for u in (alice, bob, carol, dave))
    await world.advance(timedelta(minutes=2))
    for user in (alice, bob, dave):
        sent = reminders(world, user)
        assert len(sent) == 1, (user.name, sent)
        assert "selection for significant-change round #1" in sent[0]
        assert "you have not chosen a story yet" in sent[0]
        for words in (ALICE_TEXT, BOB_TEXT, ALICE_WHY, "Phoned before discharge"):
            assert words not in sent[0]  # never a story
    assert reminders(world, carol) == []  # carol has chosen
    await world.restart()
    await world.advance(timedelta(hours=3))
    for user in (alice, bob, dave):
        assert len(reminders(world, user)) == 1


async def test_a_short_selection_has_no_reminder(world: HearthWorld) -> None:
    p = await setup_people(world)
    await world.slash(world.owner, "change round", community=COMMUNITY,
                      collect_until="in 2 days", select_until="in 3 days")  # fmt: skip
    await tell(world, p["alice"], 1, 0, ALICE_TEXT, ALICE_WHY)
    await world.advance(timedelta(days=2, minutes=1))
    await world.advance(timedelta(days=2))
    assert await state(world) == "closed"
    assert all(reminders(world, u) == [] for u in p.values())
