"""The sponsor stops and restarts the digest e-mails themselves (issue 12, "on any screen").

Through the emulator with a real SMTP server (aiosmtpd): the button under the digest DM,
pressed by the sponsor, stops the e-mails (the DM still comes) and starts them again; no one
else may press it; the chart attachment carries its numbers as alt text.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.domain.email_message import CHART_FILENAME, START_EMAILS, STOP_EMAILS
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_digest import Inbox
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import MessageState, UserState

DUE_1 = datetime(2027, 1, 18, 9, tzinfo=UTC)  # Monday 09:00 London: the default schedule
DUE_2 = DUE_1 + timedelta(days=7)
DUE_3 = DUE_2 + timedelta(days=7)
NAME = "Carers Voice"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def mail(tmp_path: Path) -> AsyncIterator[tuple[HearthWorld, Inbox]]:
    port = free_port()
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    extra = {"HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
             "HEARTH_SMTP_FROM": "hearth@example.org"}  # fmt: skip
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            yield world, inbox
    finally:
        controller.stop()


async def sponsored(world: HearthWorld) -> tuple[UserState, UserState, int]:
    sponsor, alice = world.person("sponsor"), world.person("alice")
    await world.create_community(NAME, members={alice: "carer"})
    rec = await world.slash(world.owner, "community sponsor", community=NAME, member=sponsor,
                            email="sponsor@example.org")  # fmt: skip
    assert "now the sponsor" in rec.content, rec.content
    return sponsor, alice, (await world.community_row(NAME)).id


async def say(world: HearthWorld, user: UserState, n: int) -> None:
    assert world.bot is not None
    counter = world.bot.get_cog("DigestsCog").counter  # type: ignore[union-attr]
    before = counter.total_seen
    lounge = world.channel("carers-voice-lounge")
    for i in range(n):
        await world.emu.post_message(lounge, user, f"message {i}")
    await world.emu.wait_for(lambda: counter.total_seen >= before + n, message="counted")


def digest_dms(world: HearthWorld, sponsor: UserState) -> list[MessageState]:
    """The sponsor's digest DMs that carry the e-mail button (the last message of each)."""
    return [
        m for m in world.emu.dms_to(sponsor)
        if any(c.startswith("digest:email:") for c in all_custom_ids(m.components))
    ]  # fmt: skip


def button_labels(message: MessageState) -> list[str]:
    out = []
    for row in message.components:
        out += [c.get("label", "") for c in row.get("components", [])]
    return out


async def stopped_at(world: HearthWorld, community_id: int) -> Any:
    assert world.db is not None
    return await world.db.fetchval(
        "SELECT sponsor_email_stopped_at FROM communities WHERE id = :id", {"id": community_id}
    )


def body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body(preferencelist=(kind,))
    assert part is not None
    return " ".join(str(part.get_content()).split())


async def test_sponsor_stops_emails_the_dm_still_comes_then_restarts_them(
    mail: tuple[HearthWorld, Inbox],
) -> None:
    world, inbox = mail
    sponsor, alice, cid = await sponsored(world)
    await say(world, alice, 3)

    await world.advance_to(DUE_1)
    [first] = digest_dms(world, sponsor)
    assert button_labels(first) == [STOP_EMAILS]
    assert len(inbox.messages) == 1
    for kind in ("plain", "html"):  # every e-mail says how to stop them
        assert f"press “{STOP_EMAILS}” under that direct message" in body(inbox.messages[0], kind)

    # The chart's alt text (the attachment description Discord shows) carries the numbers.
    chart = next(a for m in world.emu.dms_to(sponsor) for a in m.attachments
                 if a.filename == CHART_FILENAME)  # fmt: skip
    assert chart.description is not None
    assert chart.description == (
        "Chart of weekly activity in Carers Voice in its first week. "
        "This week (from 11 Jan): 3 messages; 1 of 2 members active."
    )

    # Someone else pressing it (forged: only the sponsor sees their DM) changes nothing.
    first.visible_to = alice.id
    try:
        refused = await world.emu.click(alice, first, f"digest:email:{cid}:stop")
    finally:
        first.visible_to = None
    assert refused.ephemeral and "Only the sponsor of **Carers Voice**" in refused.content
    assert await stopped_at(world, cid) is None

    # The sponsor stops them: told so, and the button turns into "Start e-mails".
    rec = await world.emu.click(sponsor, first, f"digest:email:{cid}:stop")
    await rec.wait_followups(1)
    assert "are stopped" in rec.followups[0].content and rec.followups[0].ephemeral
    assert button_labels(first) == [START_EMAILS]
    assert await stopped_at(world, cid) is not None

    # Next week: the DM goes, no e-mail; the digest counts as delivered.
    await say(world, alice, 2)
    await world.advance_to(DUE_2)
    dms = digest_dms(world, sponsor)
    assert len(dms) == 2 and button_labels(dms[-1]) == [START_EMAILS]
    assert len(inbox.messages) == 1
    assert world.db is not None
    states = await world.db.fetchall(
        "SELECT state, email_done FROM digests WHERE community_id = :community ORDER BY period_end",
        {"community": cid},
    )
    assert [tuple(r) for r in states] == [("sent", 1), ("sent", 0)]

    # Pressing "Start e-mails" on the newest digest brings them back the week after.
    rec = await world.emu.click(sponsor, dms[-1], f"digest:email:{cid}:start")
    await rec.wait_followups(1)
    assert "on again" in rec.followups[0].content
    assert button_labels(dms[-1]) == [STOP_EMAILS]
    await say(world, alice, 1)
    await world.advance_to(DUE_3)
    assert len(digest_dms(world, sponsor)) == 3
    assert len(inbox.messages) == 2
    assert inbox.messages[-1]["To"] == "sponsor@example.org"


async def test_a_new_sponsor_starts_with_emails_on_and_the_old_button_is_refused(
    mail: tuple[HearthWorld, Inbox],
) -> None:
    world, inbox = mail
    sponsor, alice, cid = await sponsored(world)
    await world.advance_to(DUE_1)
    [first] = digest_dms(world, sponsor)
    rec = await world.emu.click(sponsor, first, f"digest:email:{cid}:stop")
    await rec.wait_followups(1)
    assert await stopped_at(world, cid) is not None

    successor = world.person("successor")
    done = await world.slash(world.owner, "community sponsor", community=NAME,
                             member=successor, email="next@example.org")  # fmt: skip
    assert "now the sponsor" in done.content, done.content
    assert await stopped_at(world, cid) is None  # the choice was the old sponsor's
    again = await world.emu.click(sponsor, first, f"digest:email:{cid}:start")
    assert again.ephemeral and "Only the sponsor" in again.content

    await say(world, alice, 1)
    await world.advance_to(DUE_2)
    assert [m["To"] for m in inbox.messages] == ["sponsor@example.org", "next@example.org"]
    assert button_labels(digest_dms(world, successor)[-1]) == [STOP_EMAILS]
