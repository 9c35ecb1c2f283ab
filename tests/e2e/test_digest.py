"""The weekly sponsor digest, end to end through the emulator.

The bot under test loads every cog, as in production; stories are seeded through the
stories repository, whose consent function the digest must go through.
"""

from __future__ import annotations

import email
import email.policy
import socket
import struct
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.db.stories import StoryRepo
from bot.domain.chart import CHART_SIZE
from bot.domain.stories import Consent
from tests.e2e.hearth import START, HearthWorld, hearth_world
from tests.emulator.state import ChannelType, MessageState, UserState

DUE_1 = datetime(2027, 1, 18, 9, tzinfo=UTC)  # Monday 09:00 London (GMT): the default
DUE_2 = DUE_1 + timedelta(days=7)
DUE_3 = DUE_2 + timedelta(days=7)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


# ---------------------------------------------------------------------------- helpers


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16:29]
    assert struct.unpack(">I", data[29:33])[0] == zlib.crc32(kind + body)
    assert data.endswith(b"IEND\xaeB`\x82")
    w, h = struct.unpack(">II", body[:8])
    return w, h


def cog(world: HearthWorld) -> Any:
    assert world.bot is not None
    return world.bot.get_cog("DigestsCog")


async def setup_community(
    world: HearthWorld, *, sponsor: UserState | None, email_to: str | None = None,
    name: str = "Carers Voice", kind: str = "practice",
    members: dict[UserState, str] | None = None,
) -> Any:
    await world.create_community(name, kind, members=members or {})
    if sponsor is not None:
        opts: dict[str, Any] = {"community": name, "member": sponsor}
        if email_to:
            opts["email"] = email_to
        rec = await world.slash(world.owner, "community sponsor", **opts)
        assert "now the sponsor" in rec.content, rec.content
    return await world.community_row(name)


async def post(world: HearthWorld, channel: Any, user: UserState, n: int = 1) -> None:
    counter = cog(world).counter
    before = counter.total_seen
    for i in range(n):
        await world.emu.post_message(channel, user, f"message {i}")
    await world.emu.wait_for(lambda: counter.total_seen >= before + n, message="counted")


def digests_in(messages: list[MessageState]) -> list[list[MessageState]]:
    """Group a sponsor's DMs into digests: each starts with the message carrying the .txt."""
    groups: list[list[MessageState]] = []
    for m in messages:
        if not m.embeds:
            continue
        if any(a.filename.endswith(".txt") for a in m.attachments):
            groups.append([m])
        elif groups:
            groups[-1].append(m)
    return groups


def shown_messages(rec: Any) -> list[MessageState]:
    """The distinct messages an interaction produced (the first follow-up may be the original)."""
    out: list[MessageState] = []
    for m in [rec.original, *rec.followups]:
        if m is not None and m.embeds and all(m.id != o.id for o in out):
            out.append(m)
    return out


def text_file_of(group: list[MessageState]) -> str:
    att = next(a for a in group[0].attachments if a.filename.endswith(".txt"))
    return att.data.decode("utf-8")


def chart_of(group: list[MessageState]) -> bytes:
    return next(a for a in group[0].attachments if a.filename.endswith(".png")).data


def embed_text(group: list[MessageState]) -> str:
    parts = []
    for m in group:
        for e in m.embeds:
            parts += [e.get("title") or "", e.get("description") or ""]
            parts += [f["name"] + " " + f["value"] for f in e.get("fields") or []]
    return "\n".join(parts)


async def records(world: HearthWorld, community_id: int) -> list[tuple[str, str, int, int]]:
    assert world.db is not None
    rows = await world.db.fetchall(
        "SELECT period_end, state, late, attempts FROM digests WHERE community_id = :community"
        " ORDER BY period_end",
        {"community": community_id},
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def add_story(
    world: HearthWorld, community_id: int, teller: UserState, title: str, text: str,
    consent: Consent, when: datetime,
) -> int:
    assert world.db is not None
    story = await StoryRepo(world.db).add(
        community_id=community_id, teller_id=teller.id, title=title, text=text,
        stage="diagnosis", stage_label="Tests and diagnosis", consent=consent, now=when,
    )  # fmt: skip
    return story.id


# ---------------------------------------------------------------------------- tests


async def test_counting_uses_metadata_of_community_channels_and_their_threads_only(
    world: HearthWorld,
) -> None:
    alice = world.person("alice")
    comm = await setup_community(world, sponsor=None, members={alice: "nurse"})
    lounge = world.channel("carers-voice-lounge")
    elsewhere = world.emu.create_channel(world.guild, "general")
    thread = world.emu.create_channel(
        world.guild, "a-thread", ChannelType.PUBLIC_THREAD, parent=lounge
    )
    thread.owner_id = alice.id  # a member's thread, unknown to the bot's cache
    robot = world.emu.create_user("robot", bot=True)
    world.emu.add_member(world.guild, robot)

    await post(world, lounge, alice, 3)
    await post(world, thread, alice, 2)
    counter = cog(world).counter
    seen = counter.total_seen
    await world.emu.post_message(elsewhere, alice, "not a community channel")
    await world.emu.post_message(lounge, robot, "bots are not counted")
    await post(world, lounge, alice, 1)  # proves the two above were processed and skipped
    assert counter.total_seen == seen + 1
    assert counter.channels[elsewhere.id] is None

    await counter.flush()
    assert world.db is not None
    rows = await world.db.fetchall(
        "SELECT community_id, user_id, day, hour, messages FROM message_activity"
    )
    assert [tuple(r) for r in rows] == [(comm.id, alice.id, "2027-01-11", 9, 6)]


async def test_scheduled_digest_is_delivered_with_consent_and_redaction(
    world: HearthWorld,
) -> None:
    sponsor = world.person("sponsor")
    alice, bob, cara = world.person("alice"), world.person("bob"), world.person("cara")
    comm = await setup_community(
        world, sponsor=sponsor, members={alice: "nurse", bob: "gp", cara: "carer"}
    )
    lounge = world.channel("carers-voice-lounge")
    await world.advance_to(datetime(2027, 1, 12, 23, 30, tzinfo=UTC))  # late at night
    await post(world, lounge, alice, 3)
    await world.advance_to(datetime(2027, 1, 13, 10, tzinfo=UTC))
    await post(world, lounge, bob, 2)
    t = datetime(2027, 1, 14, 12, tzinfo=UTC)
    await add_story(world, comm.id, alice, "Named tale", "Call me on 07700 900123 please.",
                    Consent.NAMED, t)  # fmt: skip
    await add_story(world, comm.id, bob, "Anonymous tale", "The nurse listened.",
                    Consent.ANONYMOUS, t)  # fmt: skip
    await add_story(world, comm.id, cara, "Group only tale", "Stays here.", Consent.GROUP, t)
    gone = await add_story(world, comm.id, cara, "Withdrawn tale", "Gone.", Consent.ANONYMOUS, t)
    assert world.db is not None
    await StoryRepo(world.db).withdraw(gone, t)
    assert world.bot is not None
    assert world.bot.scheduler.next_run(f"digest:{comm.id}") == DUE_1

    ran = await world.advance_to(DUE_1)
    assert f"digest:{comm.id}" in ran
    groups = digests_in(world.emu.dms_to(sponsor))
    assert len(groups) == 1
    md, text = text_file_of(groups[0]), embed_text(groups[0])
    assert png_size(chart_of(groups[0])) == CHART_SIZE
    for body in (md, text):
        assert "Carers Voice" in body and "week of 11 January 2027" in body
        assert "Named tale" in body and "alice" in body
        assert "Anonymous tale" in body
        assert "Group only tale" not in body and "Withdrawn tale" not in body
        assert "07700 900123" not in body and "redacted" in body.lower()
        assert "(late)" not in body
        assert str(bob.id) not in body and str(alice.id) not in body
    assert "2 of 4 members posted this week." in md  # owner facilitates, three members
    assert "Members wrote 5 messages in all." in md
    assert "1 more story stays within the group, as its teller chose." in md
    # The anonymous story carries no name.
    anon = md[md.index("* Anonymous tale") :].split("\n\n")[0]  # its title and lines
    assert "Shared without the teller's name." in anon and "bob" not in anon
    # why the sponsor might thank her, to the sponsor only
    assert "alice posted 3 times late at night, which may mean a heavy load." in md
    assert await records(world, comm.id) == [(DUE_1.isoformat(), "sent", 0, 0)]
    # Names and acknowledgement never reach a community channel.
    for ch in world.emu.channels_in(world.guild):
        for m in world.emu.messages_in(ch):
            if m.author.id == world.emu.bot_user.id:
                assert "late at night" not in m.content and not m.attachments
    # Re-armed for the next week.
    assert world.bot.scheduler.next_run(f"digest:{comm.id}") == DUE_2


async def test_preview_is_exactly_what_send_delivers(world: HearthWorld) -> None:
    sponsor, alice = world.person("sponsor"), world.person("alice")
    comm = await setup_community(world, sponsor=sponsor, members={alice: "nurse"})
    await world.advance(timedelta(days=2))
    await post(world, world.channel("carers-voice-lounge"), alice, 4)
    await add_story(world, comm.id, alice, "A story", "Shared.", Consent.ANONYMOUS,
                    world.clock.now())  # fmt: skip
    await world.advance(timedelta(hours=1))

    preview = await world.slash(world.owner, "digest preview", community="Carers Voice")
    assert preview.ephemeral
    shown = shown_messages(preview)
    assert shown and all(m.ephemeral for m in shown)
    # The preview is the next scheduled digest (to Monday 09:00), with what is known now;
    # a manual send covers the time since the last digest until now, with the same news.
    assert "week of 11 January 2027" in embed_text(shown)

    sent = await world.slash(world.owner, "digest send", community="Carers Voice")
    assert "Sent the digest" in sent.content, sent.content
    delivered = digests_in(world.emu.dms_to(sponsor))
    assert len(delivered) == 1
    assert "11 January 2027 to 13 January 2027" in embed_text(delivered[0])
    for group in (shown, delivered[0]):
        assert "A story" in text_file_of(group)
        assert "• 1 of 2 members posted" in group[0].embeds[0]["description"]  # the summary
        assert "Members wrote 4 messages in all." in text_file_of(group)
    # The manual send covered the week so far; the next scheduled one starts where it ended.
    await world.advance_to(DUE_1)
    groups = digests_in(world.emu.dms_to(sponsor))
    assert len(groups) == 2 and "A story" not in text_file_of(groups[1])
    recs = await records(world, comm.id)
    assert [r[1] for r in recs] == ["sent", "sent"] and recs[1][0] == DUE_1.isoformat()


async def test_restart_neither_repeats_nor_skips_and_catches_up_late(world: HearthWorld) -> None:
    sponsor = world.person("sponsor")
    comm = await setup_community(world, sponsor=sponsor)
    await world.advance_to(DUE_1)
    assert len(digests_in(world.emu.dms_to(sponsor))) == 1

    # Restart right after: nothing is sent again.
    await world.restart()
    await world.advance(timedelta(minutes=1))
    assert len(digests_in(world.emu.dms_to(sponsor))) == 1

    # Down across two due times: both periods are sent on return, once each, marked late.
    await world.stop_bot()
    world.clock.set(DUE_3 + timedelta(hours=5))
    await world.start_bot()
    await world.advance(timedelta(0))
    groups = digests_in(world.emu.dms_to(sponsor))
    assert len(groups) == 3
    assert all("(late)" in text_file_of(g) for g in groups[1:])
    assert "week of 18 January 2027" in text_file_of(groups[1])
    assert "week of 25 January 2027" in text_file_of(groups[2])
    assert await records(world, comm.id) == [
        (DUE_1.isoformat(), "sent", 0, 0),
        (DUE_2.isoformat(), "sent", 1, 0),
        (DUE_3.isoformat(), "sent", 1, 0),
    ]
    await world.restart()
    await world.advance(timedelta(hours=1))
    assert len(digests_in(world.emu.dms_to(sponsor))) == 3

    # A crash after recording "pending" but before sending: finished once after restart.
    assert world.db is not None and world.bot is not None
    from bot.db.digests import DigestRepo
    from bot.domain.digest import Period

    due4 = DUE_3 + timedelta(days=7)
    await world.stop_bot()
    world.clock.set(due4)
    db = world.settings.open_database()
    async with db:
        await DigestRepo(db).claim(comm.id, Period(DUE_3, due4), late=False, now=due4)
    await world.start_bot()
    await world.advance(timedelta(0))
    await world.restart()
    await world.advance(timedelta(minutes=5))
    assert len(digests_in(world.emu.dms_to(sponsor))) == 4
    assert (await records(world, comm.id))[-1] == (due4.isoformat(), "sent", 0, 0)


async def test_closed_dms_are_retried_with_backoff_and_facilitators_told(
    world: HearthWorld,
) -> None:
    sponsor = world.person("sponsor", dms_open=False)
    comm = await setup_community(world, sponsor=sponsor)
    await world.advance_to(DUE_1)
    assert digests_in(world.emu.dms_to(sponsor)) == []
    assert await records(world, comm.id) == [(DUE_1.isoformat(), "pending", 0, 1)]
    told = [
        m.content for m in world.emu.dms_to(world.owner) if "could not be delivered" in m.content
    ]
    assert len(told) == 1 and "does not accept direct messages" in told[0]
    assert world.bot is not None
    backoff = world.config.digest.retry_backoff_seconds
    assert world.bot.scheduler.next_run(f"digest:{comm.id}") == DUE_1 + timedelta(
        seconds=backoff[0]
    )

    await world.advance(timedelta(seconds=backoff[0]))  # second attempt, still closed
    assert (await records(world, comm.id))[0][3] == 2
    told = [
        m.content for m in world.emu.dms_to(world.owner) if "could not be delivered" in m.content
    ]
    assert len(told) == 1  # told once, not at every retry

    sponsor.dms_open = True
    await world.advance(timedelta(seconds=backoff[1]))
    assert len(digests_in(world.emu.dms_to(sponsor))) == 1
    assert await records(world, comm.id) == [(DUE_1.isoformat(), "sent", 0, 2)]


async def test_retries_give_up_loudly_and_fall_back_to_the_lounge(world: HearthWorld) -> None:
    sponsor = world.person("sponsor", dms_open=False)
    world.owner.dms_open = False  # the facilitator cannot be DMed either
    comm = await setup_community(world, sponsor=sponsor)
    await world.advance_to(DUE_1)
    for seconds in world.config.digest.retry_backoff_seconds:
        await world.advance(timedelta(seconds=seconds))
    recs = await records(world, comm.id)
    assert recs[0][1] == "failed"
    lounge = [m for m in world.emu.messages_in(world.channel("carers-voice-lounge"))
              if m.author.id == world.emu.bot_user.id]  # fmt: skip
    assert any("could not be delivered" in m.content for m in lounge)
    assert any("gave up" in m.content for m in lounge)
    assert all(f"<@{world.owner.id}>" in m.content for m in lounge)
    # The next week is still scheduled.
    assert world.bot is not None
    assert world.bot.scheduler.next_run(f"digest:{comm.id}") == DUE_2


async def test_without_a_sponsor_preview_works_and_facilitators_are_told(
    world: HearthWorld,
) -> None:
    comm = await setup_community(world, sponsor=None)
    # Even at once: the preview is the first scheduled digest, as far as it is known yet.
    early = await world.slash(world.owner, "digest preview", community="Carers Voice")
    assert early.ephemeral and shown_messages(early)
    assert "week of 11 January 2027" in embed_text(shown_messages(early))
    await world.advance(timedelta(hours=2))
    preview = await world.slash(world.owner, "digest preview", community="Carers Voice")
    assert shown_messages(preview)
    refused = await world.slash(world.owner, "digest send", community="Carers Voice")
    assert "no sponsor" in refused.content
    await world.advance_to(DUE_1)
    assert any("no sponsor" in m.content for m in world.emu.dms_to(world.owner))
    assert await records(world, comm.id) == [(DUE_1.isoformat(), "skipped", 0, 0)]


async def test_schedule_command_validates_and_moves_the_job(world: HearthWorld) -> None:
    alice = world.person("alice")
    comm = await setup_community(world, sponsor=None, members={alice: "nurse"})
    bad = await world.slash(world.owner, "digest schedule", community="Carers Voice",
                            weekday="friday", time="25:00")  # fmt: skip
    assert bad.ephemeral and "not a time of day" in bad.content
    bad_tz = await world.slash(world.owner, "digest schedule", community="Carers Voice",
                               weekday="friday", time="17:30", timezone="Mars/Base")  # fmt: skip
    assert "timezone" in bad_tz.content
    refused = await world.slash(alice, "digest schedule", community="Carers Voice",
                                weekday="friday", time="17:30")  # fmt: skip
    assert "Only a facilitator" in refused.content
    ok = await world.slash(world.owner, "digest schedule", community="Carers Voice",
                           weekday="friday", time="17:30", timezone="America/New_York")  # fmt: skip
    assert "Fridays at 17:30 (America/New_York)" in ok.content
    assert world.bot is not None
    # Friday 15 January 2027, 17:30 in New York (EST, UTC-5).
    expected = datetime(2027, 1, 15, 22, 30, tzinfo=UTC)
    assert world.bot.scheduler.next_run(f"digest:{comm.id}") == expected
    await world.restart()
    assert world.bot.scheduler.next_run(f"digest:{comm.id}") == expected


async def test_distilling_group_rolls_up_the_served_community(world: HearthWorld) -> None:
    sponsor, alice = world.person("sponsor"), world.person("alice")
    served = await setup_community(world, sponsor=None, members={alice: "patient"})
    await setup_community(world, sponsor=sponsor, name="Carers Distilled", kind="distilling")
    linked = await world.slash(world.owner, "community link", community="Carers Distilled",
                               serves="Carers Voice")  # fmt: skip
    assert not linked.content.startswith("Sorry"), linked.content
    t = START + timedelta(days=2)
    await add_story(world, served.id, alice, "Served story", "Text.", Consent.ANONYMOUS, t)
    await add_story(world, served.id, alice, "Private story", "Text.", Consent.GROUP, t)
    await world.advance_to(DUE_1)
    groups = digests_in(world.emu.dms_to(sponsor))
    assert len(groups) == 1
    md = text_file_of(groups[0])
    assert "HIGHLIGHTS FROM CARERS VOICE" in md and "A story: Served story" in md
    assert "Private story" not in md and "alice" not in md


# ---------------------------------------------------------------------------- e-mail


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_email_is_sent_to_a_real_smtp_server_and_retried_when_it_is_down(
    tmp_path: Path,
) -> None:
    port = free_port()
    extra = {
        "HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",  # a local relay
        "HEARTH_SMTP_FROM": "hearth@example.org",
    }
    async with hearth_world(tmp_path, settings_extra=extra) as world:
        sponsor, alice = world.person("sponsor"), world.person("alice")
        comm = await setup_community(world, sponsor=sponsor, email_to="sponsor@example.org",
                                     members={alice: "nurse"})  # fmt: skip
        t = START + timedelta(days=1)
        await add_story(world, comm.id, alice, "Shared by mail", "Kind words.",
                        Consent.NAMED, t)  # fmt: skip
        await add_story(world, comm.id, alice, "Withheld story", "Private.", Consent.GROUP, t)

        # No SMTP server yet: the DM goes out, the e-mail is retried and facilitators told.
        await world.advance_to(DUE_1)
        assert len(digests_in(world.emu.dms_to(sponsor))) == 1
        assert await records(world, comm.id) == [(DUE_1.isoformat(), "pending", 0, 1)]
        assert any("e-mail could not be sent" in m.content for m in world.emu.dms_to(world.owner))

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            await world.advance(timedelta(seconds=world.config.digest.retry_backoff_seconds[0]))
        finally:
            controller.stop()
        assert len(digests_in(world.emu.dms_to(sponsor))) == 1  # the DM was not repeated
        assert await records(world, comm.id) == [(DUE_1.isoformat(), "sent", 0, 1)]

    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == "sponsor@example.org" and msg["From"] == "hearth@example.org"
    assert msg["Subject"] == "Hearth digest: Carers Voice — week of 11 January 2027"
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    for body in (text.get_content(), html.get_content()):
        assert "Shared by mail" in body and "alice" in body
        assert "Withheld story" not in body and "Private." not in body
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1
    assert png_size(images[0].get_content()) == CHART_SIZE
    cid = images[0]["Content-ID"].strip("<>")
    assert f"cid:{cid}" in html.get_content()
