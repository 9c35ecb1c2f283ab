"""Red-team attacks on `/value annual`, end to end: a member who takes back their "quote me"
before the close; a form opened before the deadline and sent after it; a theme only one
member mentioned; a named member erased with `/privacy forget` before the close; a member
who leaves (and one who joins) after the close, so the report read again must say what it
said at the close; and the logs at DEBUG, where nobody's answer may appear."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_logs_privacy import Records, hearth_log  # noqa: F401 (fixture)
from tests.e2e.test_privacy import forget
from tests.e2e.test_value_annual import (
    ANSWER,
    COMMUNITY,
    LOUNGE,
    QUOTE,
    _answer,
    _message_text,
    _with_button,
)
from tests.emulator.state import MessageState, UserState

pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(tmp_path: Path, hearth_log: Records) -> AsyncIterator[HearthWorld]:  # noqa: F811
    async with hearth_world(tmp_path) as w:
        yield w


def _reports_to(world: HearthWorld, user: UserState) -> list[MessageState]:
    return [
        m for m in world.emu.dms_to(user) if any(a.filename.endswith(".md") for a in m.attachments)
    ]


async def test_consent_taken_back_late_answers_lone_themes_erasure_and_a_second_reading(
    world: HearthWorld,
    hearth_log: Records,  # noqa: F811
) -> None:
    alice, bob, carol = world.person("alice"), world.person("bob"), world.person("carol")
    dave, erin, sponsor = world.person("dave"), world.person("erin"), world.person("sponsor")
    members = {alice: "carer", bob: "nurse", carol: "gp", dave: "patient", erin: "carer"}
    await world.create_community(COMMUNITY, members=members)
    await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=sponsor)
    opened = await world.slash(world.owner, "value annual", community=COMMUNITY,
                               closes="in 2 days")  # fmt: skip
    await opened.wait_final()

    # alice agrees to be quoted, then takes it back before the close
    alice_done = await _answer(
        world, alice, _with_button(world.emu.dms_to(alice)),
        {"annual-education": "ALICETAKENBACK taught a workshop"},
    )  # fmt: skip
    assert alice_done.reply is not None
    await world.emu.select(alice, alice_done.reply, QUOTE, ["anonymous"])
    back = await world.emu.select(alice, alice_done.reply, QUOTE, ["group"])
    assert "not" in back.all_text.lower(), back.all_text
    # bob: the only one to mention mental health (a theme of one), quoted anonymously on
    # teaching, which erin mentions too (a theme of two)
    done = await _answer(world, bob, _with_button(world.emu.dms_to(bob)), {
        "annual-feedback": "BOBLONE my burnout this winter",
        "annual-skills": "Teaching course",
    })  # fmt: skip
    assert done.reply is not None
    await world.emu.select(bob, done.reply, QUOTE, ["anonymous"])
    await _answer(world, erin, _with_button(world.emu.dms_to(erin)),
                  {"annual-skills": "Training in syringe drivers"})  # fmt: skip
    # carol is quoted with her name, then erases herself before the close
    done = await _answer(world, carol, _with_button(world.emu.dms_to(carol)),
                         {"annual-other": "CAROLGONE the group helped me"})  # fmt: skip
    assert done.reply is not None
    await world.emu.select(carol, done.reply, QUOTE, ["named"])
    await forget(world, carol)
    # dave opens the form before the deadline and sends it after
    late_form = await world.emu.click(dave, _with_button(world.emu.dms_to(dave)), ANSWER)
    assert late_form.modal is not None

    await world.advance(timedelta(days=2, minutes=1))
    late = await world.emu.submit_modal(dave, late_form, {"annual-other": "DAVELATE words"})
    assert "no longer accepted" in late.content, late.content
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM annual_answers WHERE user_id = :user",
                                   {"user": dave.id}) == 0  # fmt: skip
    # alice uses the quoting choice she was shown before the deadline
    too_late = await world.emu.select(alice, alice_done.reply, QUOTE, ["named"])
    assert "closed" in too_late.all_text, too_late.all_text
    assert (
        await world.db.fetchval(
            "SELECT quote_consent FROM annual_answers WHERE user_id = :user", {"user": alice.id}
        )
        == "group"
    )

    [report] = _reports_to(world, sponsor)
    received = _message_text(report)
    assert "Teaching course" in received  # positive control: bob's consented words
    assert "BOBLONE" in received  # bob agreed to be quoted, but his theme is left out
    for secret in ("ALICETAKENBACK", "Mental health", "CAROLGONE",
                   "carol", str(carol.id), "DAVELATE"):  # fmt: skip
        assert secret not in received, secret
    assert "3 of 5 members answered (60%)" in received, received

    # a day after the close bob leaves and a new member joins: the report read again says the
    # same as at the close
    await world.advance(timedelta(days=1))
    rec = await world.slash(world.owner, "community remove", community=COMMUNITY, member=bob)
    await rec.wait_final()
    frank = world.person("frank")
    await world.slash(world.owner, "community add", community=COMMUNITY, member=frank,
                      discipline="carer")  # fmt: skip
    post = _with_button(world.emu.messages_in(world.channel(LOUNGE)), "annual:1:read")
    again = await world.emu.click(world.owner, post, "annual:1:read")
    await again.wait_final()
    assert "3 of 5 members answered (60%)" in again.all_text, again.all_text
    files = "\n".join(f.data.decode() for f in again.files)
    assert "3 of 5 members answered (60%)" in files

    # nothing anyone wrote reached the logs, at DEBUG
    logged = "\n".join(hearth_log.bot_records())
    assert logged
    for secret in ("ALICETAKENBACK", "BOBLONE", "burnout", "CAROLGONE", "DAVELATE",
                   "Teaching course", "syringe"):  # fmt: skip
        assert secret not in logged, secret


def _data_dir_bytes(world: HearthWorld) -> bytes:
    """Every file in the data directory as `cp -r` would copy it (the SQLite file, its WAL)."""
    folder = world.db_path.parent
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


@pytest.mark.sqlite_only("reads every file of the SQLite data directory")
async def test_an_erased_members_answer_is_in_no_file_of_the_data_directory(
    world: HearthWorld,
) -> None:
    alice = world.person("alice")
    await world.create_community(COMMUNITY, members={alice: "carer"})
    opened = await world.slash(world.owner, "value annual", community=COMMUNITY)
    await opened.wait_final()
    await _answer(world, alice, _with_button(world.emu.dms_to(alice)),
                  {"annual-feedback": "ERASEDWORDS the night nurse"})  # fmt: skip
    assert b"ERASEDWORDS" in _data_dir_bytes(world)  # positive control: it was on disk
    await forget(world, alice)
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM annual_answers") == 0
    assert b"ERASEDWORDS" not in _data_dir_bytes(world)


async def test_downtime_across_the_reminder_and_the_deadline_sends_no_stale_reminder(
    world: HearthWorld,
) -> None:
    """The bot is down from before the reminder until after the deadline: at start the
    report closes and goes out once, and nobody is reminded to answer what has closed."""
    alice, bob, sponsor = world.person("alice"), world.person("bob"), world.person("sponsor")
    await world.create_community(COMMUNITY, members={alice: "carer", bob: "nurse"})
    await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=sponsor)
    opened = await world.slash(world.owner, "value annual", community=COMMUNITY,
                               closes="in 10 days")  # fmt: skip
    await opened.wait_final()
    await _answer(world, alice, _with_button(world.emu.dms_to(alice)),
                  {"annual-education": "Ran a session"})  # fmt: skip
    before = len(world.emu.dms_to(bob))
    await world.stop_bot()
    world.clock.set(world.clock.now() + timedelta(days=11))
    await world.start_bot()
    await world.advance(timedelta(minutes=1))
    assert len(_reports_to(world, sponsor)) == 1
    late = world.emu.dms_to(bob)[before:]
    assert not any("have not answered yet" in m.content for m in late), [m.content for m in late]


async def test_an_invitation_discord_failed_is_sent_again_not_counted_as_closed_dms(
    world: HearthWorld,
) -> None:
    """Discord answers 503 to one member's invitation DM: the opener is told it will be
    tried again (not that the member's DMs are closed); 15 minutes later the member has
    it, nobody has it twice, and the opener hears how it went."""
    import discord

    alice, bob = world.person("alice"), world.person("bob")
    await world.create_community(COMMUNITY, members={alice: "carer", bob: "nurse"})
    assert world.bot is not None
    await world.bot.create_dm(discord.Object(bob.id))
    dm = world.emu.dm_channel(bob)
    assert dm is not None
    world.emu.fail_route("POST", rf"/channels/{dm.id}/messages", 503)
    opened = await world.slash(world.owner, "value annual", community=COMMUNITY)
    await opened.wait_final()
    text = opened.all_text
    assert "2 of 3 members got it by direct message" in text, text
    assert "direct messages are closed" not in text and "try again" in text, text

    def invitations(user: UserState) -> int:
        return len([m for m in world.emu.dms_to(user) if ANSWER in json.dumps(m.components)])

    assert invitations(bob) == 0
    owner_dms = len(world.emu.dms_to(world.owner))
    await world.advance(timedelta(minutes=15))
    assert invitations(bob) == 1 and invitations(alice) == 1
    told = world.emu.dms_to(world.owner)[owner_dms:]
    assert any("3 of 3 members got it" in m.content for m in told), [m.content for m in told]
    await world.advance(timedelta(hours=2))
    assert invitations(bob) == 1 and invitations(alice) == 1
