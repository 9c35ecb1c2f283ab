"""Issue 3's promise, end to end: a `group` story never appears in anything produced for a
sponsor.

Stories are captured the way people capture them (``/story share``, **Save as story** by a
facilitator whose teller has not answered yet, a `named` story moved back to `group`, a
withdrawal), every cog is loaded, and the digests go out on schedule to two sponsors (the
community's, and a distilling group's whose digest rolls up the served community) by Discord
DM *and* e-mail; the sponsor also runs ``/privacy export``. Everything those sponsors
received is scanned. Positive controls (a `named` and an `anonymous` story) prove the scan
looks where the stories would be.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tests.e2e.hearth import START, HearthWorld, hearth_world
from tests.e2e.story_draft import submit_and_post
from tests.e2e.test_digest import Inbox, free_port
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
DISTILLED = "Carers Distilled"
DUE_1 = datetime(2027, 1, 18, 9, tzinfo=UTC)  # the default digest time after START

#: Words that must never reach a sponsor, whatever the channel.
GROUP_MARKERS = (
    "GRPSHARETITLE", "GRPSHARETEXT",      # /story share with the default consent
    "GRPCAPTURETEXT",                     # Save as story by a facilitator, teller silent
    "WASNAMEDTITLE", "WASNAMEDTEXT",      # named, then moved back to group by its teller
    "WITHDRAWNTITLE", "WITHDRAWNTEXT",    # anonymous, then withdrawn
)
#: Words that must reach the sponsor (so the scan demonstrably covers stories).
SHARED_MARKERS = ("NAMEDOKTITLE", "ANONOKTITLE")




def _message_text(m: MessageState) -> str:
    """Everything a Discord message carries, attachments decoded where they are text."""
    parts = [m.content, json.dumps(m.embeds, ensure_ascii=False), json.dumps(m.components)]
    for a in m.attachments:
        parts.append(a.filename)
        parts.append(a.data.decode("utf-8", errors="replace"))
    return "\n".join(parts)


def _email_text(msg: EmailMessage) -> str:
    parts = [str(msg["Subject"])]
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            parts.append(str(part.get_content()))
    return "\n".join(parts)


async def _share(
    world: HearthWorld, user: UserState, title: str, text: str, **options: Any
) -> None:
    rec = await world.slash(user, "story share", community=COMMUNITY, **options)
    assert rec.modal is not None, rec.content
    done = await submit_and_post(world.emu, user, rec, {"title": title, "text": text})
    assert "is saved as #" in done.content, done.content


async def test_group_stories_reach_no_sponsor_by_dm_email_rollup_or_export(
    tmp_path: Path,
) -> None:
    port = free_port()
    extra = {
        "HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",  # a local relay
        "HEARTH_SMTP_FROM": "h@example.org",
    }
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            sponsors = await _run(world)
    finally:
        controller.stop()

    by_address = {str(m["To"]): _email_text(m) for m in inbox.messages}
    assert set(by_address) == {"sponsor@example.org", "distilled@example.org"}, by_address
    received = {
        "sponsor": sponsors["sponsor"] + "\n" + by_address["sponsor@example.org"],
        "distilled": sponsors["distilled"] + "\n" + by_address["distilled@example.org"],
    }
    for who, text in received.items():
        for marker in GROUP_MARKERS:
            assert marker not in text, (who, marker)
        assert "bob@example.org" not in text, who  # the anonymous story was redacted
    # Positive controls: the shareable stories did reach both sponsors, by DM and by e-mail.
    for marker in SHARED_MARKERS:
        assert marker in sponsors["sponsor"] and marker in by_address["sponsor@example.org"]
        assert marker in sponsors["distilled"], marker
        assert marker in by_address["distilled@example.org"], marker
    # ... text included: the community's own digest carries story texts, not only titles.
    assert "made tea for everyone" in sponsors["sponsor"]
    assert "made tea for everyone" in by_address["sponsor@example.org"]


async def _run(world: HearthWorld) -> dict[str, str]:
    """Capture stories every way, deliver the digests; return what each sponsor got on Discord."""
    alice, bob = world.person("alice"), world.person("bob")
    carol = world.person("carol")
    sponsor, distilled_sponsor = world.person("sponsor"), world.person("dsponsor")
    await world.create_community(COMMUNITY, members={alice: "carer", bob: "nurse", carol: "gp"})
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY,
                            member=sponsor, email="sponsor@example.org")
    assert "now the sponsor" in rec.content, rec.content
    await world.create_community(DISTILLED, "distilling")
    await world.slash(world.owner, "community link", community=DISTILLED, serves=COMMUNITY)
    rec = await world.slash(world.owner, "community sponsor", community=DISTILLED,
                            member=distilled_sponsor, email="distilled@example.org")
    assert "now the sponsor" in rec.content, rec.content
    await world.advance(timedelta(hours=1))

    # group by default
    await _share(world, alice, "GRPSHARETITLE at the ward", "GRPSHARETEXT she stayed late.")
    # Save as story by a facilitator: the teller is asked and has not answered -> group
    lounge = world.channel("carers-voice-lounge")
    msg = await world.emu.post_message(lounge, bob, "GRPCAPTURETEXT the porter sang to us.")
    saved = await world.emu.message_command(world.guild, world.owner, "Save as story", msg)
    assert "asked bob" in saved.content, saved.content
    # named, then moved back to group by its teller
    await _share(world, carol, "WASNAMEDTITLE first visit", "WASNAMEDTEXT the GP phoned back.",
                 consent="named")
    back = await world.slash(carol, "story consent", story=3, level="group")
    assert "now **group**" in back.content, back.content
    # anonymous, then withdrawn
    await _share(world, alice, "WITHDRAWNTITLE a hard day", "WITHDRAWNTEXT nobody came.",
                 consent="anonymous")
    gone = await world.slash(alice, "story consent", story=4, level="withdrawn")
    assert "withdrawn" in gone.content, gone.content
    # the positive controls
    await _share(world, alice, "NAMEDOKTITLE the hospice", "They made tea for everyone.",
                 consent="named")
    await _share(world, bob, "ANONOKTITLE the night shift",
                 "Write to bob@example.org if you want to hear more.", consent="anonymous")

    ran = await world.advance_to(DUE_1)
    assert {"digest:1", "digest:2"} <= set(ran), ran

    export = await world.slash(sponsor, "privacy export")
    await export.wait_final()
    out: dict[str, str] = {}
    for key, user in (("sponsor", sponsor), ("distilled", distilled_sponsor)):
        dms = world.emu.dms_to(user)
        assert any(a.filename.endswith(".txt") for m in dms for a in m.attachments), key
        out[key] = "\n".join(_message_text(m) for m in dms)
    assert "hearth-data-" in out["sponsor"]  # the export arrived and was scanned
    assert str(bob.id) not in out["sponsor"] and str(alice.id) not in out["sponsor"]
    assert START < DUE_1
    return out
