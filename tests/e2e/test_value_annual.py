"""`/value annual` end to end: a facilitator opens the members' annual report; members answer
from the DM button (one from the lounge, her DMs being closed), one agrees to be quoted
without her name, one does not and changes his answer, one never answers and is reminded;
the close comes across a restart and the sponsor (DM and e-mail) and the facilitator get the
report once. Everything the sponsor received is scanned: the words of the member who did not
agree, and the anonymous member's name and id, appear nowhere in it.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import discord
import pytest
from aiosmtpd.controller import Controller

from tests.e2e.hearth import START, HearthWorld, hearth_world
from tests.e2e.test_digest import Inbox, free_port
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
LOUNGE = "carers-voice-lounge"
ANSWER = "annual:1:answer"
QUOTE = "annual:1:quote"
CLOSES = START + timedelta(days=10)


def _message_text(m: MessageState) -> str:
    parts = [m.content, json.dumps(m.embeds, ensure_ascii=False), json.dumps(m.components)]
    for a in m.attachments:
        parts += [a.filename, a.data.decode("utf-8", errors="replace")]
    return "\n".join(parts)


def _email_text(msg: EmailMessage) -> str:
    parts = [str(msg["Subject"])]
    parts += [str(p.get_content()) for p in msg.walk() if p.get_content_maintype() == "text"]
    return "\n".join(parts)


def _with_button(messages: list[MessageState], custom_id: str = ANSWER) -> MessageState:
    found = [m for m in messages if custom_id in all_custom_ids(m.components)]
    assert found, [m.content for m in messages]
    return found[-1]


def _field_values(modal: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for c in components:
            if c.get("type") == 4:
                out[c["custom_id"]] = c.get("value") or ""
            walk(c.get("components") or [])
            if "component" in c:
                walk([c["component"]])

    walk(modal.get("components") or [])
    return out


async def _answer(
    world: HearthWorld, user: UserState, message: MessageState, values: dict[str, str]
) -> InteractionRecord:
    opened = await world.emu.click(user, message, ANSWER)
    assert opened.modal is not None, opened.content
    done = await world.emu.submit_modal(user, opened, values)
    assert "your answer" in done.content, done.content
    return done


async def test_annual_report_from_open_to_the_sponsor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    port = free_port()
    extra = {
        "HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
        "HEARTH_SMTP_FROM": "h@example.org",
    }
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            await _run(world, inbox)
    finally:
        controller.stop()
    logged = caplog.text
    for secret in ("KINDNIGHTQUOTE", "BOBSECRET", "BOBUPDATED", "DAVEWORDS", "Dr Patel"):
        assert secret not in logged, secret


async def _run(world: HearthWorld, inbox: Inbox) -> None:
    alice, bob = world.person("alice"), world.person("bob")
    carol, dave = world.person("carol"), world.person("dave", dms_open=False)
    sponsor, outsider = world.person("sponsor"), world.person("outsider")
    await world.create_community(
        COMMUNITY, members={alice: "carer", bob: "nurse", carol: "gp", dave: "patient"}
    )
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY,
                            member=sponsor, email="sponsor@example.org")  # fmt: skip
    assert "now the sponsor" in rec.content, rec.content

    # ---- bad input is refused, with nothing stored
    refused = await world.slash(alice, "value annual", community=COMMUNITY)
    assert refused.ephemeral and "facilitat" in refused.content.lower(), refused.content
    past = await world.slash(world.owner, "value annual", community=COMMUNITY,
                             closes="2027-01-02 10:00")  # fmt: skip
    assert "in the past" in past.content, past.content
    soon = await world.slash(world.owner, "value annual", community=COMMUNITY, closes="in 2 hours")
    assert "at least a day" in soon.content, soon.content
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM annual_reports") == 0

    # ---- open: every member gets a DM with the button; the lounge gets the same button
    opened = await world.slash(
        world.owner, "value annual", community=COMMUNITY, closes="in 10 days"
    )
    await opened.wait_final()
    text = opened.all_text
    assert "4 of 5 members got it by direct message" in text, text
    assert "1 could not be reached" in text and "dave" not in text, text
    again = await world.slash(world.owner, "value annual", community=COMMUNITY)
    assert "already open" in again.content, again.content
    for member in (alice, bob, carol, world.owner):
        assert _with_button(world.emu.dms_to(member)).embeds
    assert world.emu.dms_to(dave) == []
    lounge_post = _with_button(world.emu.messages_in(world.channel(LOUNGE)))

    # ---- alice answers and agrees to be quoted without her name
    done = await _answer(world, alice, _with_button(world.emu.dms_to(alice)), {
        "annual-contacts": "Dr Patel\nLeeds practice; district nurses",
        "annual-education": "Taught a workshop on cancer pain",
        "annual-feedback": "KINDNIGHTQUOTE a carer said the hospice was kind. Call 07700 900123",
    })  # fmt: skip
    assert "Saved your answer" in done.content and "never quoted" in done.content, done.content
    assert done.reply is not None
    chose = await world.emu.select(alice, done.reply, QUOTE, ["anonymous"])
    assert "Noted: your words may be quoted" in chose.all_text, chose.all_text
    assert "without your name" in chose.all_text, chose.all_text

    # ---- bob answers, keeps the default (not quoted), then changes his answer
    await _answer(world, bob, _with_button(world.emu.dms_to(bob)),
                  {"annual-skills": "BOBSECRET first aid"})  # fmt: skip
    reopened = await world.emu.click(bob, _with_button(world.emu.dms_to(bob)), ANSWER)
    assert reopened.modal is not None
    assert _field_values(reopened.modal)["annual-skills"] == "BOBSECRET first aid"
    updated = await world.emu.submit_modal(bob, reopened, {
        "annual-skills": "BOBUPDATED palliative care diploma\nTeaching course",
    })  # fmt: skip
    assert "Updated your answer" in updated.content, updated.content

    # ---- dave (DMs closed) answers from the lounge; an empty form and an outsider are refused
    empty = await world.emu.click(dave, lounge_post, ANSWER)
    nothing = await world.emu.submit_modal(dave, empty, {})
    assert "Nothing was saved" in nothing.content, nothing.content
    await _answer(world, dave, lounge_post, {"annual-other": "DAVEWORDS the group helped"})
    stranger = await world.emu.click(outsider, lounge_post, ANSWER)
    assert stranger.modal is None and "Only members" in stranger.content, stranger.content

    stored = await world.db.fetchall(
        "SELECT user_id, skills, quote_consent FROM annual_answers ORDER BY user_id"
    )
    by_user = {r["user_id"]: (r["skills"], r["quote_consent"]) for r in stored}
    assert by_user[bob.id][0].startswith("BOBUPDATED") and by_user[bob.id][1] == "group"
    assert by_user[alice.id][1] == "anonymous" and len(by_user) == 3

    # ---- the reminder: only those who have not answered, and it says nothing of others
    before = {u.name: len(world.emu.dms_to(u)) for u in (alice, bob, carol, world.owner)}
    await world.advance_to(CLOSES - timedelta(days=3))
    after = {u.name: len(world.emu.dms_to(u)) for u in (alice, bob, carol, world.owner)}
    assert after["alice"] == before["alice"] and after["bob"] == before["bob"]
    assert after["carol"] == before["carol"] + 1 and after["owner"] == before["owner"] + 1
    reminder = world.emu.dms_to(carol)[-1]
    assert "have not answered yet" in reminder.content
    assert ANSWER in all_custom_ids(reminder.components)
    assert "alice" not in reminder.content and "3" not in reminder.content.split("for")[0]

    # ---- the deadline passes while the bot is down: after the restart it is sent once
    await world.stop_bot()
    world.clock.set(CLOSES + timedelta(hours=1))
    await world.start_bot()
    await world.advance(timedelta(seconds=1))
    await world.restart()
    await world.advance(timedelta(days=1))

    sponsor_dms = world.emu.dms_to(sponsor)
    reports = [m for m in sponsor_dms if any(a.filename.endswith(".md") for a in m.attachments)]
    assert len(reports) == 1, [m.content for m in sponsor_dms]
    report = reports[0]
    assert {a.filename for a in report.attachments} == {
        "hearth-annual-report-carers-voice-2027.md", "hearth-annual-report-carers-voice-2027.html",
    }  # fmt: skip
    summary = json.dumps(report.embeds)
    assert "3 of 5 members answered (60%)" in summary, summary
    assert "Cancer and end-of-life care" in summary or "Teaching and training" in summary
    # (the weekly digest e-mails go too; the annual report is one e-mail of its own)
    mails = [m for m in inbox.messages if "annual report" in str(m["Subject"])]
    assert len(mails) == 1 and str(mails[0]["To"]) == "sponsor@example.org", mails

    received = "\n".join(_message_text(m) for m in sponsor_dms) + _email_text(mails[0])
    assert "KINDNIGHTQUOTE" in received  # positive control: consented words did reach the sponsor
    for secret in ("BOBSECRET", "BOBUPDATED", "DAVEWORDS", "Dr Patel", "07700 900123"):
        assert secret not in received, secret
    for who in (alice, bob, dave):
        assert who.name not in received.lower() and str(who.id) not in received, who.name

    fac = [m for m in world.emu.dms_to(world.owner) if m.attachments]
    assert len(fac) == 1 and "exactly what the sponsor gets" in fac[0].content, fac
    assert "by direct message and e-mail" in fac[0].content, fac[0].content

    # ---- the lounge post is closed, and the button now says so
    closed_post = world.emu.get_message(world.channel(LOUNGE), lounge_post.id)
    assert all_custom_ids(closed_post.components) == ["annual:1:read"]
    assert "is closed" in json.dumps(closed_post.embeds)
    # ... where a facilitator (whose DMs might be closed) reads the report again, privately
    again_read = await world.emu.click(world.owner, closed_post, "annual:1:read")
    await again_read.wait_final()
    assert again_read.ephemeral and len(again_read.files) == 2, again_read.all_text
    assert "3 of 5 members answered" in again_read.all_text
    denied = await world.emu.click(alice, closed_post, "annual:1:read")
    assert denied.ephemeral and "Only a facilitator" in denied.content, denied.content
    late = await world.emu.click(carol, reminder, ANSWER)
    assert late.modal is None and "closed" in late.content, late.content


async def test_a_close_interrupted_before_delivery_is_delivered_once_after_restart(
    tmp_path: Path,
) -> None:
    """The process dies right after the close was stored (the report run recorded, nothing
    sent): the next start delivers the report, once, and a later restart sends nothing."""
    async with hearth_world(tmp_path) as world:
        alice, sponsor = world.person("alice"), world.person("sponsor")
        await world.create_community(COMMUNITY, members={alice: "carer"})
        await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=sponsor)
        opened = await world.slash(world.owner, "value annual", community=COMMUNITY)
        await opened.wait_final()
        await _answer(world, alice, _with_button(world.emu.dms_to(alice)),
                      {"annual-education": "Ran a session"})  # fmt: skip
        assert world.bot is not None
        annual: Any = world.bot.get_cog("ValueCog").annual_reports  # type: ignore[union-attr]
        # What close() does before it delivers, then "the crash".
        await annual.deliveries.start("annual:1:report")
        assert await annual.service.close(1)
        await world.restart()
        await world.advance(timedelta(seconds=1))
        await world.restart()
        await world.advance(timedelta(weeks=5))

        def reports_to(user: UserState) -> list[MessageState]:
            # (the weekly digests come with a .txt file; the annual report with a .md)
            return [
                m for m in world.emu.dms_to(user)
                if any(a.filename.endswith(".md") for a in m.attachments)
            ]  # fmt: skip

        assert len(reports_to(sponsor)) == 1
        assert "1 of 2 members answered (50%)" in json.dumps(reports_to(sponsor)[0].embeds)
        assert len(reports_to(world.owner)) == 1
        assert world.db is not None
        assert (
            await world.db.fetchval("SELECT state FROM delivery_runs WHERE run = 'annual:1:report'")
            == "finished"
        )


async def test_a_sponsor_dm_that_fails_for_now_is_tried_again(tmp_path: Path) -> None:
    """Discord fails the sponsor's DM with a 503: the facilitators are told it will be tried
    again, and 15 minutes later the sponsor gets it, once."""
    async with hearth_world(tmp_path) as world:
        alice, sponsor = world.person("alice"), world.person("sponsor")
        await world.create_community(COMMUNITY, members={alice: "carer"})
        await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=sponsor)
        opened = await world.slash(world.owner, "value annual", community=COMMUNITY,
                                   closes="in 2 days")  # fmt: skip
        await opened.wait_final()
        assert world.bot is not None
        await world.bot.create_dm(discord.Object(sponsor.id))
        dm = world.emu.dm_channel(sponsor)
        assert dm is not None
        world.emu.fail_route("POST", rf"/channels/{dm.id}/messages", 503)

        def reports_to(user: UserState) -> list[MessageState]:
            return [
                m for m in world.emu.dms_to(user)
                if any(a.filename.endswith(".md") for a in m.attachments)
            ]  # fmt: skip

        await world.advance(timedelta(days=2))
        assert reports_to(sponsor) == []
        [note] = reports_to(world.owner)
        assert "I will try again" in note.content, note.content
        await world.advance(timedelta(minutes=15))
        assert len(reports_to(sponsor)) == 1
        await world.advance(timedelta(hours=2))
        assert len(reports_to(sponsor)) == 1 and len(reports_to(world.owner)) == 1


async def test_a_member_quoted_with_their_name_is_credited_by_display_name(
    tmp_path: Path,
) -> None:
    async with hearth_world(tmp_path) as world:
        erin, sponsor = world.person("erin"), world.person("sponsor")
        await world.create_community(COMMUNITY, members={erin: "nurse"})
        await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=sponsor)
        opened = await world.slash(world.owner, "value annual", community=COMMUNITY,
                                   closes="in 2 days")  # fmt: skip
        await opened.wait_final()
        done = await _answer(world, erin, _with_button(world.emu.dms_to(erin)),
                             {"annual-skills": "NAMEDSKILL syringe driver course"})  # fmt: skip
        assert done.reply is not None
        chose = await world.emu.select(erin, done.reply, QUOTE, ["named"])
        assert "with your name" in chose.all_text, chose.all_text
        await world.advance(timedelta(days=2))
        [report] = [
            m for m in world.emu.dms_to(sponsor)
            if any(a.filename.endswith(".md") for a in m.attachments)
        ]  # fmt: skip
        markdown = next(a for a in report.attachments if a.filename.endswith(".md"))
        text = markdown.data.decode("utf-8")
        assert "NAMEDSKILL syringe driver course" in text and "— erin" in text, text
        assert str(erin.id) not in _message_text(report)
