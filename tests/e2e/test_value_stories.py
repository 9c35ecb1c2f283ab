"""Value-creation stories end to end: the form, the preview, the post, consent and
withdrawal, the lounge invitations on a schedule, and what may leave the community."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import log_privacy
from bot.log_privacy import configure_logging
from bot.services.value_stories import ValueStoryService
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_logs_privacy import Records
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
SUBMIT = "value:draft:submit"
PHONE = "07700 900123"
# START is Monday 11 January 2027; invitations go up on the first Tuesday at 10:00 London.
FEB = datetime(2027, 2, 2, 10, 0, tzinfo=UTC)
MAR = datetime(2027, 3, 2, 10, 0, tzinfo=UTC)
APR = datetime(2027, 4, 6, 9, 0, tzinfo=UTC)  # 10:00 BST
JUL = datetime(2027, 7, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


async def _setup(world: HearthWorld) -> dict[str, UserState]:
    users = {"alice": world.person("alice"), "bob": world.person("bob")}
    await world.create_community(COMMUNITY, members={users["alice"]: "carer", users["bob"]: "gp"})
    return users


async def _rows(world: HearthWorld) -> list[Any]:
    assert world.db is not None
    return await world.db.fetchall("SELECT * FROM value_stories ORDER BY id")


def _forum(world: HearthWorld) -> Any:
    return world.channel("carers-voice-stories")


def _fields(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for c in components:
            if c.get("type") == 4:
                found[c["custom_id"]] = c
            walk(c.get("components") or [])
            if c.get("component"):
                walk([c["component"]])

    walk(modal["components"])
    return found


ANSWERS = {
    "immediate": "The Tuesday call about discharge planning.",
    "potential": f"A contact at the hospice, and her number {PHONE}.",
    "applied": "I rang her before Mum left the ward.",
    "realized": "Mum came home with the right equipment, and I slept.",
    "reframing": "",
}


async def _preview(
    world: HearthWorld, user: UserState, answers: dict[str, str] | None = None, **options: Any
) -> InteractionRecord:
    rec = await world.slash(user, "value story", community=COMMUNITY, **options)
    assert rec.modal is not None, rec.content
    return await world.emu.submit_modal(user, rec, answers or ANSWERS)


async def _submit(world: HearthWorld, user: UserState, preview: InteractionRecord) -> MessageState:
    assert preview.reply is not None and SUBMIT in all_custom_ids(preview.reply.components)
    rec = await world.emu.click(user, preview.reply, SUBMIT)
    return await rec.wait_edits(1)


async def _tell(world: HearthWorld, user: UserState, **options: Any) -> MessageState:
    return await _submit(world, user, await _preview(world, user, **options))


# --------------------------------------------------------------------------- the form


async def test_form_preview_submit_and_post(world: HearthWorld) -> None:
    users = await _setup(world)
    alice = users["alice"]
    rec = await world.slash(alice, "value story", community=COMMUNITY, consent="named")
    assert rec.modal is not None
    fields = _fields(rec.modal)
    assert list(fields) == ["immediate", "potential", "applied", "realized", "reframing"]
    assert [f.get("required", True) for f in fields.values()] == [True, True, False, False, False]
    for f in fields.values():
        assert len(f["label"]) <= 45 and len(f.get("placeholder", "")) <= 100
    assert fields["potential"]["label"] == "What did you get from it?"

    preview = await world.emu.submit_modal(alice, rec, ANSWERS)
    # Private, not saved yet, with the plain-language suggestion and what would be hidden.
    assert preview.ephemeral and "not saved yet" in preview.content, preview.content
    assert "**discharge**" in preview.content and "going home from hospital" in preview.content
    embed = preview.embeds[0]
    shown = {f["name"]: f["value"] for f in embed["fields"]}
    assert shown["What I got from it"] == ANSWERS["potential"]
    assert "What it changed in what I think matters" not in shown  # left empty
    assert "a phone number" in shown["Outside the community"]
    assert "Share with my name" in shown["Who may hear it"]
    assert await _rows(world) == [] and world.emu.threads_in(_forum(world)) == []

    done = await _submit(world, alice, preview)
    assert "saved as #1" in done.content and "How far it may travel" in done.content
    assert "Share with my name" in done.content and "display name" in done.content
    rows = await _rows(world)
    assert len(rows) == 1
    row = rows[0]
    assert (row["teller_id"], row["consent"]) == (alice.id, "named")
    assert row["immediate"] == ANSWERS["immediate"] and row["reframing"] is None
    thread = world.emu.threads_in(_forum(world))[0]
    assert row["post_channel_id"] == thread.id
    starter = world.emu.messages_in(thread)[0]
    assert "Value story #1" in starter.content and "alice" in starter.content
    posted = {f["name"]: f["value"] for f in starter.embeds[0]["fields"]}
    assert posted["What I got from it"] == ANSWERS["potential"]  # inside: as told


async def test_edit_reopens_the_form_filled_in_and_cancel_keeps_nothing(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    alice = users["alice"]
    preview = await _preview(world, alice)
    assert preview.reply is not None
    await world.emu.select(alice, preview.reply, "value:draft:consent", ["anonymous"])
    edit = await world.emu.click(alice, preview.reply, "value:draft:edit")
    assert edit.modal is not None
    filled = _fields(edit.modal)
    assert filled["immediate"]["value"] == ANSWERS["immediate"]
    assert filled["applied"]["value"] == ANSWERS["applied"]
    await world.emu.submit_modal(alice, edit, {"reframing": "That carers know things too."})
    shown = {f["name"]: f["value"] for f in preview.reply.embeds[0]["fields"]}
    assert shown["What it changed in what I think matters"] == "That carers know things too."
    assert "without my name" in shown["Who may hear it"]

    cancel = await world.emu.click(alice, preview.reply, "value:draft:cancel")
    assert "nothing was saved" in cancel.content
    assert await _rows(world) == [] and world.emu.threads_in(_forum(world)) == []


async def test_missing_or_too_long_answers_are_refused_and_nothing_stored(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    alice = users["alice"]
    blank = await _preview(world, alice, {**ANSWERS, "potential": "   \n  "})
    assert blank.ephemeral and "Please answer “What did you get from it?”" in blank.content
    assert "Nothing was saved" in blank.content

    # A client that ignores the form's limits (the handler re-checks, it does not trust it).
    rec = await world.slash(alice, "value story", community=COMMUNITY)
    assert rec.modal is not None
    for f in _fields(rec.modal).values():
        f.pop("max_length", None)
    long = await world.emu.submit_modal(alice, rec, {**ANSWERS, "applied": "x" * 1001})
    assert long.ephemeral and "1001 characters long; the limit is 1000" in long.content

    outsider = world.person("outsider")
    refused = await world.slash(outsider, "value story", community=COMMUNITY)
    assert refused.modal is None and "Only members of **Carers Voice**" in refused.content
    assert await _rows(world) == [] and world.emu.threads_in(_forum(world)) == []


# --------------------------------------------------------------------------- consent


async def test_consent_change_and_withdrawal(world: HearthWorld) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    await _tell(world, alice)
    await _tell(world, bob)
    thread = world.emu.threads_in(_forum(world))[0]
    assert "alice" in world.emu.messages_in(thread)[0].content

    choices = await world.emu.autocomplete(
        world.guild, alice, "value consent", focused="story", value=""
    )
    assert [c["value"] for c in choices] == [1]  # her own only

    other = await world.slash(bob, "value consent", story=1, level="named")
    assert other.ephemeral and "Only the person who told value story #1" in other.content

    rec = await world.slash(alice, "value consent", story=1, level="anonymous")
    assert "now **Share beyond the group without my name**" in rec.content
    starter = world.emu.messages_in(thread)[0]
    assert "alice" not in starter.content and "a member of the community" in starter.content
    assert (await _rows(world))[0]["consent"] == "anonymous"

    same = await world.slash(alice, "value consent", story=1, level="anonymous")
    assert "already" in same.content

    gone = await world.slash(alice, "value consent", story=1, level="withdrawn")
    assert "withdrawn" in gone.content and "Its post is removed" in gone.content
    row = (await _rows(world))[0]
    assert row["consent"] == "withdrawn" and row["withdrawn_at"] is not None
    assert [row[c] for c in ("teller_id", "immediate", "potential", "applied")] == [None] * 4
    assert len(world.emu.threads_in(_forum(world))) == 1  # bob's stays
    again = await world.slash(alice, "value consent", story=1, level="named")
    assert "was withdrawn" in again.content


# --------------------------------------------------------------------------- invitations


def _invitations(world: HearthWorld) -> list[MessageState]:
    lounge = world.channel("carers-voice-lounge")
    return [
        m
        for m in world.emu.messages_in(lounge)
        if m.author.bot and ("value story" in m.content.lower())
    ]


def _job(world: HearthWorld, cid: int) -> datetime | None:
    assert world.bot is not None
    return world.bot.scheduler.jobs().get(f"value-invite:{cid}")


async def test_monthly_invitations_one_open_at_a_time(world: HearthWorld) -> None:
    users = await _setup(world)
    alice = users["alice"]
    cid = (await world.community_row(COMMUNITY)).id
    refused = await world.slash(alice, "value prompt", community=COMMUNITY, cadence="monthly")
    assert refused.ephemeral and _job(world, cid) is None

    rec = await world.slash(world.owner, "value prompt", community=COMMUNITY, cadence="monthly")
    assert rec.ephemeral and f"<t:{int(FEB.timestamp())}:F>" in rec.content, rec.content
    assert _job(world, cid) == FEB
    await world.advance_to(FEB - timedelta(minutes=1))
    assert _invitations(world) == []
    await world.advance_to(FEB)
    first = _invitations(world)
    assert len(first) == 1 and all_custom_ids(first[0].components) == ["value:invite:1"]
    assert _job(world, cid) == MAR

    click = await world.emu.click(alice, first[0], "value:invite:1")
    assert click.modal is not None
    preview = await world.emu.submit_modal(alice, click, ANSWERS)
    await _submit(world, alice, preview)
    assert (await _rows(world))[0]["invitation_id"] == 1

    await world.advance_to(MAR)
    posted = _invitations(world)
    assert len(posted) == 2
    old, new = posted
    assert "closed" in old.content and old.components == []
    assert all_custom_ids(new.components) == ["value:invite:2"]
    assert world.db is not None
    open_ = await world.db.fetchall(
        "SELECT id FROM value_invitations WHERE closed_at IS NULL AND message_id IS NOT NULL"
    )
    assert [r["id"] for r in open_] == [2]

    # A click on the old button (e.g. a client that has not refreshed) gets a kind pointer.
    stale = await _forged_click(world, alice, old, "value:invite:1")
    assert stale.ephemeral and stale.modal is None
    assert "This invitation is closed" in stale.content
    assert re.search(rf"/channels/{world.guild.id}/\d+/{new.id}", stale.content)

    off = await world.slash(world.owner, "value prompt", community=COMMUNITY, cadence="off")
    assert "are off" in off.content and _job(world, cid) is None
    assert "closed" in _invitations(world)[-1].content
    assert _invitations(world)[-1].components == []


async def _forged_click(
    world: HearthWorld, user: UserState, message: MessageState, custom_id: str
) -> InteractionRecord:
    """Click a button the message no longer shows (a stale client): put it back first."""
    if custom_id not in all_custom_ids(message.components):
        message.components = [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "label": "Tell a value story", "custom_id": custom_id}
                ],
            }
        ]
    return await world.emu.click(user, message, custom_id)


async def test_quarterly_by_default_and_a_restart_catches_up_once(world: HearthWorld) -> None:
    users = await _setup(world)
    cid = (await world.community_row(COMMUNITY)).id
    rec = await world.slash(world.owner, "value prompt", community=COMMUNITY)
    assert "every quarter" in rec.content and f"<t:{int(APR.timestamp())}:F>" in rec.content
    await world.restart()
    assert _job(world, cid) == APR

    # Down across the due time, back two days later (inside the week's grace).
    await world.stop_bot()
    world.clock.set(APR + timedelta(days=2))
    await world.start_bot()
    await world.advance(timedelta(0))
    assert len(_invitations(world)) == 1
    assert _job(world, cid) == JUL
    await world.restart()
    await world.advance(timedelta(minutes=5))
    assert len(_invitations(world)) == 1
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM value_invitations") == 1
    # The button works on a bot that never saw it being sent.
    click = await world.emu.click(users["bob"], _invitations(world)[0], "value:invite:1")
    assert click.modal is not None

    # Down across July's for longer than the grace: skipped, not posted late.
    await world.stop_bot()
    world.clock.set(JUL + timedelta(days=8))
    await world.start_bot()
    await world.advance(timedelta(0))
    assert len(_invitations(world)) == 1


# --------------------------------------------------------------------------- the ways out


async def test_shareable_between_honours_consent_and_redaction(world: HearthWorld) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    leaky = {
        **ANSWERS,
        "immediate": f"The call with <@{bob.id}> in <#{world.channel('carers-voice-lounge').id}>.",
        "reframing": "Write to me at alice@example.org, NHS 943 476 5919.",
    }
    await _tell(world, alice, answers=leaky)  # group: never leaves
    await _tell(world, alice, answers=leaky, consent="anonymous")
    await _tell(world, bob, answers=leaky, consent="named")
    await _tell(world, bob, consent="anonymous")
    await world.slash(bob, "value consent", story=4, level="withdrawn")

    assert world.bot is not None
    service = world.bot.services.get(ValueStoryService)
    cid = (await world.community_row(COMMUNITY)).id
    start, end = world.clock.now() - timedelta(days=1), world.clock.now() + timedelta(days=1)
    shared = await service.shareable_between(cid, start, end)
    assert [s.consent.value for s in shared] == ["anonymous", "named"]
    assert [s.teller_name for s in shared] == [None, "bob"]
    assert shared[0].cycles == ("immediate", "potential", "applied", "realized", "reframing")
    dump = repr(shared)
    for secret in (
        PHONE,
        "alice@example.org",
        "943 476 5919",
        str(bob.id),
        str(alice.id),
        str(world.guild.id),
        "alice",
    ):
        assert secret not in dump, secret
    assert "[redacted]" in shared[0].texts["potential"]
    assert shared[0].redaction_count >= 4

    inside = await service.all_between(cid, start, end)
    assert [(s.consent.value, s.teller_name) for s in inside] == [
        ("group", "alice"),
        ("anonymous", None),
        ("named", "bob"),
    ]
    assert PHONE in inside[0].texts["potential"]  # inside the community: as told
    assert await service.shareable_between(cid, end, end + timedelta(days=1)) == []


async def test_privacy_export_and_forget_cover_value_stories(world: HearthWorld) -> None:
    users = await _setup(world)
    alice = users["alice"]
    await _tell(world, alice)
    assert world.bot is not None
    from bot.db.privacy import PrivacyRepo
    from bot.domain.privacy import export_document

    data = await PrivacyRepo(world.bot.db).export_data(alice.id)
    doc = export_document(data, world.clock.now())
    assert doc["value_stories"][0]["potential"] == ANSWERS["potential"]

    rec = await world.slash(alice, "privacy forget")
    assert rec.reply is not None
    done = await world.emu.click(alice, rec.reply, f"privacy:forget:{alice.id}:confirm")
    await world.emu.wait_for(
        lambda: done.reply is not None and done.reply.content.startswith("Done"),
        message="erasure finished",
    )
    assert await _rows(world) == []
    assert world.emu.threads_in(_forum(world)) == []


# --------------------------------------------------------------------------- logs


@pytest.fixture
def debug_log() -> Iterator[Records]:
    """What ``HEARTH_LOG_LEVEL=DEBUG python -m bot`` writes (as in test_logs_privacy)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = Records()
    handler = configure_logging("DEBUG", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for h in handlers:
            h.removeFilter(log_privacy.FILTER)
        root.setLevel(level)


async def test_logs_never_hold_the_story_text_even_at_debug(
    tmp_path: Path, debug_log: Records
) -> None:
    secret = "the night nurse from Ward Nine who sang to my father"
    async with hearth_world(tmp_path) as w:
        users = await _setup(w)
        alice = users["alice"]
        await _tell(w, alice, answers={**ANSWERS, "realized": secret}, consent="named")
        await w.slash(alice, "value consent", story=1, level="anonymous")
        await w.slash(w.owner, "value prompt", community=COMMUNITY, cadence="monthly")
        await w.advance_to(FEB)
        click = await w.emu.click(alice, _invitations(w)[0], "value:invite:1")
        assert click.modal is not None
        blank = await w.emu.submit_modal(alice, click, {**ANSWERS, "potential": f" {secret} "})
        assert blank.reply is not None  # a preview: the words went through the bot
        await w.slash(alice, "value consent", story=1, level="withdrawn")
    records = debug_log.bot_records()
    assert len(records) > 100  # DEBUG really was on
    for text in records:
        assert secret not in text, text[:2000]
        assert "Ward Nine" not in text, text[:2000]


async def test_an_invitation_claimed_before_a_crash_is_posted_once_after_restart(
    world: HearthWorld,
) -> None:
    await _setup(world)
    await world.slash(world.owner, "value prompt", community=COMMUNITY, cadence="monthly")
    assert world.bot is not None
    service = world.bot.services.get(ValueStoryService)
    community = await world.community_row(COMMUNITY)
    # The run claimed February's invitation and the process died before it was posted.
    await world.stop_bot()
    world.clock.set(FEB + timedelta(minutes=1))
    await world.start_bot()
    assert world.bot is not None
    service = world.bot.services.get(ValueStoryService)
    world.bot.scheduler.cancel(f"value-invite:{community.id}")  # as if it ran up to the claim
    assert await service.claim_invitation(community, FEB) == 1
    await world.stop_bot()
    await world.start_bot()
    await world.advance(timedelta(0))
    assert len(_invitations(world)) == 1
    assert world.db is not None
    row = await world.db.fetchone("SELECT * FROM value_invitations")
    assert row is not None and row["message_id"] == _invitations(world)[0].id
    await world.restart()
    await world.advance(timedelta(minutes=5))
    assert len(_invitations(world)) == 1
    assert await world.db.fetchval("SELECT COUNT(*) FROM value_invitations") == 1


async def test_in_a_server_without_forums_the_story_is_a_message_and_withdrawal_deletes_it(
    tmp_path: Path,
) -> None:
    async with hearth_world(tmp_path, features=()) as w:
        users = await _setup(w)
        alice = users["alice"]
        done = await _tell(w, alice, consent="anonymous")
        assert "saved as #1" in done.content
        channel = w.channel("carers-voice-stories")
        [post] = [m for m in w.emu.messages_in(channel) if m.author.bot and "Value story" in
                  m.content]  # fmt: skip
        assert "alice" not in post.content and "a member of the community" in post.content
        rows = await _rows(w)
        assert (rows[0]["post_channel_id"], rows[0]["post_message_id"]) == (channel.id, post.id)
        gone = await w.slash(alice, "value consent", story=1, level="withdrawn")
        assert "Its post is removed" in gone.content
        assert [m for m in w.emu.messages_in(channel) if "Value story" in m.content] == []
