"""Scheduled DMs a crash interrupted are finished after the restart, once each (issue 11).

In-process, a crash is reproduced by leaving exactly what one leaves: the run claimed and
started, one member's DM recorded as pending and actually delivered by Discord (with the
nonce Hearth sends it with), the others not sent. The SIGKILL versions of these scenarios,
with the real process, are in ``tests/faults/test_crash_deliveries.py``.
"""

from __future__ import annotations

from datetime import timedelta

import discord

from bot.db.deliveries import DeliveryRepo
from bot.db.meetings import MeetingRepo
from bot.delivery import Deliveries, Destination, nonce_for
from bot.domain.polls import poll_outcome
from tests.e2e.hearth import HearthWorld
from tests.e2e.test_digest import DUE_1
from tests.e2e.test_digest import records as digest_records
from tests.e2e.test_digest import setup_community as digest_setup
from tests.e2e.test_polls import (
    create_poll,
    embed_text,
    poll_message,
    results_messages,
    setup_community,
    voice,
)
from tests.e2e.test_polls import repo as poll_repo
from tests.emulator.state import UserState


async def landed_but_not_recorded(
    world: HearthWorld, run: str, user: UserState, content: str
) -> None:
    """What a SIGKILL right after Discord created the DM leaves: a pending record, a DM."""
    assert world.bot is not None
    deliveries = Deliveries(world.bot)
    key = deliveries.key(run, Destination.member(user.id))
    await deliveries.repo.intend(key, run, nonce_for(key), world.clock.now())
    channel = await world.bot.create_dm(discord.Object(user.id))
    await channel.send(content, nonce=nonce_for(key))


def nudges(world: HearthWorld, user: UserState) -> list[str]:
    return [m.content for m in world.emu.dms_to(user) if "have not voted yet" in m.content]


async def test_interrupted_poll_nudge_is_finished_once_after_a_restart(
    world: HearthWorld,
) -> None:
    world.emu.clock = world.clock.now
    voted, landed, waiting = await setup_community(world)
    await create_poll(world, question="Should we start a newsletter?",
                      choices="Yes please; No thanks", kind="single", closes="in 3 days")
    await world.emu.click(voted, poll_message(world), "poll:1:v:0")
    # The nudge fell due and was claimed; the bot died after Discord delivered one DM.
    world.clock.advance(timedelta(days=2))
    assert world.db is not None
    await DeliveryRepo(world.db).start("poll:1:nudge", world.clock.now())
    assert await poll_repo(world).mark_nudged(1, world.clock.now())
    await landed_but_not_recorded(world, "poll:1:nudge", landed,
                                  "A reminder from Carers Voice: you have not voted yet.")

    await world.restart()
    await world.advance(timedelta(0))
    assert {u.name: len(nudges(world, u)) for u in (voted, landed, waiting, world.owner)} == {
        voted.name: 0, landed.name: 1, waiting.name: 1, world.owner.name: 1}
    assert await DeliveryRepo(world.db).state("poll:1:nudge") == "finished"
    assert await world.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0, (
        "a finished run keeps no per-member rows")

    await world.restart()
    await world.advance(timedelta(hours=12))
    assert len(nudges(world, waiting)) == 1, "never nudged twice"


async def test_interrupted_notes_prompt_is_sent_once_after_a_restart(world: HearthWorld) -> None:
    world.emu.clock = world.clock.now
    await world.create_community("Carers Voice", members={world.person("alice"): "carer"})
    rec = await world.slash(world.owner, "meeting schedule", community="Carers Voice",
                            title="Short one", when="2027-01-20 10:00", duration=30)
    assert "Scheduled" in rec.content, rec.content
    assert world.db is not None
    [meeting] = await MeetingRepo(world.db).upcoming(1, world.clock.now())
    # The meeting ended; the prompt was claimed and its run started, then the bot died.
    world.clock.set(meeting.end_utc)
    await DeliveryRepo(world.db).start(f"meeting:{meeting.id}:notes", world.clock.now())
    assert await MeetingRepo(world.db).mark_notes_prompted(meeting.id, world.clock.now())

    await world.restart()
    await world.advance(timedelta(0))
    prompts = [m for m in world.emu.dms_to(world.owner) if "/meeting notes" in m.content]
    assert len(prompts) == 1
    await world.restart()
    await world.advance(timedelta(days=1))
    assert len([m for m in world.emu.dms_to(world.owner) if "/meeting notes" in m.content]) == 1


async def test_poll_closed_before_a_crash_gets_its_results_posted_once(
    world: HearthWorld,
) -> None:
    voters = await setup_community(world)
    await create_poll(world, question="Tea or coffee?", choices="Tea; Coffee", kind="single",
                      closes="in 3 days")
    for person in voters:
        await world.emu.click(person, poll_message(world), "poll:1:v:0")
    # The close job ran: results run recorded, poll closed; the bot died before the post.
    world.clock.advance(timedelta(days=3))
    assert world.db is not None
    await DeliveryRepo(world.db).start("poll:1:results", world.clock.now())
    assert await poll_repo(world).close(1, world.clock.now(), None, poll_outcome) is not None
    assert results_messages(world) == []

    await world.restart()
    await world.advance(timedelta(0))
    [results] = results_messages(world)
    assert "3 of 4" in embed_text(results) or "Voters: 3" in results.content, results.content
    assert not any(m.components for m in world.emu.messages_in(voice(world))), (
        "the buttons came off the poll")
    await world.restart()
    await world.advance(timedelta(hours=1))
    assert len(results_messages(world)) == 1
    # /poll close on the closed poll changes nothing and leaves no run behind.
    rec = await world.slash(world.owner, "poll close", poll="1")
    assert "Closed poll" not in rec.content, rec.content
    assert len(results_messages(world)) == 1



async def test_a_digest_given_up_leaves_no_delivery_behind(world: HearthWorld) -> None:
    """A refused DM keeps its run open for the retries; giving up closes it, so nothing
    about the sponsor stays in the delivery tables."""
    sponsor = world.person("sponsor", dms_open=False)
    comm = await digest_setup(world, sponsor=sponsor)
    await world.advance_to(DUE_1)
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM deliveries") == 1  # the refused part
    for seconds in world.config.digest.retry_backoff_seconds:
        await world.advance(timedelta(seconds=seconds))
    assert (await digest_records(world, comm.id))[0][1] == "failed"
    assert await world.db.fetchval("SELECT COUNT(*) FROM deliveries") == 0
    assert await DeliveryRepo(world.db).running("digest:") == []
