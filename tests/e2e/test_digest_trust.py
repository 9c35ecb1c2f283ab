"""Issue 11: what the sponsor's digest promises members and facilitators, end to end.

* Widened consent takes effect: a story whose teller widens its consent after its week's
  digest has gone goes out in the next digest, once; a story already shared, or widened and
  narrowed again before any digest, is never offered twice.
* Membership of a patients' or carers' group is health information: the sponsor learns how
  many joined and left, never who (Discord DM embeds, Markdown, both e-mail parts, and the
  distilling group's roll-up).
* A manual ``/digest send`` says what was already sent, never sends a period twice, covers
  the real time since the last digest (labelled with its dates and claimed like a scheduled
  one), and sends nothing when nothing happened; ``/digest preview`` claims nothing.

Every cog is loaded; people act through the commands; time moves only through
world.advance*.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.story_draft import submit_and_post
from tests.e2e.test_digest import (
    Inbox,
    digests_in,
    embed_text,
    free_port,
    post,
    shown_messages,
    text_file_of,
)
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
DISTILLED = "Carers Distilled"
DUE_1 = datetime(2027, 1, 18, 9, tzinfo=UTC)  # Monday 09:00 London (GMT), the default
DUE_2 = DUE_1 + timedelta(days=7)
DUE_3 = DUE_2 + timedelta(days=7)
DUE_4 = DUE_3 + timedelta(days=7)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        w.emu.clock = w.clock.now
        yield w


async def sponsor(
    world: HearthWorld, community: str, who: UserState, mail: str | None = None
) -> None:
    opts: dict[str, Any] = {"community": community, "member": who}
    if mail:
        opts["email"] = mail
    rec = await world.slash(world.owner, "community sponsor", **opts)
    assert "now the sponsor" in rec.content, rec.content


async def share(world: HearthWorld, user: UserState, title: str, **options: Any) -> None:
    rec = await world.slash(user, "story share", community=COMMUNITY, **options)
    assert rec.modal is not None, rec.content
    done = await submit_and_post(world.emu, user, rec, {"title": title, "text": f"{title} text."})
    assert "is saved as #" in done.content, done.content


async def consent(world: HearthWorld, user: UserState, story: int, level: str) -> str:
    rec = await world.slash(user, "story consent", story=story, level=level)
    assert f"now **{level}**" in rec.content, rec.content
    return rec.content


def whole(group: list[MessageState]) -> str:
    return text_file_of(group) + "\n" + embed_text(group)


async def digest_rows(world: HearthWorld, community_id: int) -> list[tuple[str, str, str]]:
    assert world.db is not None
    rows = await world.db.fetchall(
        "SELECT period_start, period_end, state FROM digests WHERE community_id = :community"
        " ORDER BY period_end",
        {"community": community_id},
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def offered(world: HearthWorld) -> list[tuple[int, int]]:
    assert world.db is not None
    rows = await world.db.fetchall(
        "SELECT digest_id, story_id FROM digest_stories ORDER BY digest_id, story_id"
    )
    return [(r[0], r[1]) for r in rows]


# ------------------------------------------------------------------ 1. widened consent


async def test_widened_consent_reaches_the_next_digest_once(world: HearthWorld) -> None:
    alice, bob = world.person("alice"), world.person("bob")
    main_sponsor, distilled_sponsor = world.person("sponsor"), world.person("dsponsor")
    await world.create_community(COMMUNITY, members={alice: "carer", bob: "nurse"})
    await sponsor(world, COMMUNITY, main_sponsor)
    await world.create_community(DISTILLED, "distilling")
    await world.slash(world.owner, "community link", community=DISTILLED, serves=COMMUNITY)
    await sponsor(world, DISTILLED, distilled_sponsor)
    await world.advance(timedelta(hours=1))

    # Week 1: told within the group (1, 3) and shared at once (2).
    await share(world, alice, "LATEWIDE the ward")
    await share(world, bob, "SHAREDFIRST the night", consent="anonymous")
    await share(world, alice, "FLIPFLOP the clinic")
    await world.advance_to(DUE_1)
    [d1] = digests_in(world.emu.dms_to(main_sponsor))
    assert "SHAREDFIRST" in whole(d1)
    assert "LATEWIDE" not in whole(d1) and "FLIPFLOP" not in whole(d1)

    # Week 2: alice widens #1 after its week's digest went; bob narrows #2, already shared;
    # alice widens #3 and narrows it again before any digest could carry it.
    await world.advance(timedelta(hours=1))
    told = await consent(world, alice, 1, "anonymous")
    assert "may be shared beyond the community" in told
    await consent(world, bob, 2, "group")
    await consent(world, alice, 3, "named")
    await world.advance(timedelta(hours=1))
    await consent(world, alice, 3, "group")
    await world.advance_to(DUE_2)
    d2 = digests_in(world.emu.dms_to(main_sponsor))[1]
    assert "LATEWIDE" in whole(d2), "widened consent must take effect in the next digest"
    text = embed_text(d2)
    item = text[text.index("**LATEWIDE") :].split("\n\n")[0]
    assert "Shared without the teller's name." in item and "alice" not in item, item
    assert "SHAREDFIRST" not in whole(d2) and "FLIPFLOP" not in whole(d2)
    rollup = digests_in(world.emu.dms_to(distilled_sponsor))
    assert "LATEWIDE" in text_file_of(rollup[1]) and "LATEWIDE" not in text_file_of(rollup[0])

    # Week 3: #1 goes from anonymous to named, #2 is widened again after being shared:
    # neither is offered twice. #3, never shared, is widened again and now goes out.
    await world.advance(timedelta(hours=1))
    await consent(world, alice, 1, "named")
    await consent(world, bob, 2, "anonymous")
    await consent(world, alice, 3, "anonymous")
    await world.advance_to(DUE_3)
    d3 = digests_in(world.emu.dms_to(main_sponsor))[2]
    assert "FLIPFLOP" in whole(d3)
    assert "LATEWIDE" not in whole(d3) and "SHAREDFIRST" not in whole(d3)

    await world.advance_to(DUE_4)
    groups = digests_in(world.emu.dms_to(main_sponsor))
    assert len(groups) == 4
    for marker in ("LATEWIDE", "SHAREDFIRST", "FLIPFLOP"):
        rolled_up = digests_in(world.emu.dms_to(distilled_sponsor))
        assert sum(marker in text_file_of(g) for g in groups) == 1, marker
        assert sum(marker in text_file_of(g) for g in rolled_up) == 1, marker


# ------------------------------------------------------------------ 2. membership names




async def test_sponsor_sees_how_many_joined_and_left_never_who(tmp_path: Path) -> None:
    port = free_port()
    extra = {
        "HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",  # a local test relay
        "HEARTH_SMTP_FROM": "h@example.org",
    }
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            discord_text = await _membership_world(world)
    finally:
        controller.stop()

    mails = {str(m["To"]): m for m in inbox.messages}
    assert set(mails) == {"sponsor@example.org", "distilled@example.org"}
    parts: dict[str, dict[str, str]] = {}
    for to, msg in mails.items():
        plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
        assert plain is not None and html is not None
        parts[to] = {"text": plain.get_content(), "html": html.get_content()}
    outputs = {
        **{f"discord {k}": v for k, v in discord_text.items()},
        "mail text": parts["sponsor@example.org"]["text"],
        "mail html": parts["sponsor@example.org"]["html"],
        "distilled mail text": parts["distilled@example.org"]["text"],
        "distilled mail html": parts["distilled@example.org"]["html"],
    }
    for where, text in outputs.items():
        for name in ("patjoiner", "leeleaver", "doradistil"):
            assert name not in text, (where, name)
        assert "Joined" not in text and "Left (" not in text, where
    for where in ("discord embeds", "discord text file", "mail text", "mail html"):
        assert "4 members joined." in outputs[where], (where, outputs[where][:3000])
        assert "1 member left." in outputs[where], where
        assert "alice" in outputs[where], where  # a member to thank is still named
    for where in ("discord distilled embeds", "distilled mail text", "distilled mail html"):
        assert "2 members joined" in outputs[where], where
        assert "ROLLUPSTORY" in outputs[where], where  # the roll-up is there and was scanned


async def _membership_world(world: HearthWorld) -> dict[str, str]:
    alice, pat, lee = world.person("alice"), world.person("patjoiner"), world.person("leeleaver")
    dora = world.person("doradistil")
    main_sponsor, distilled_sponsor = world.person("sponsor"), world.person("dsponsor")
    await world.create_community(COMMUNITY, members={alice: "carer", pat: "patient", lee: "carer"})
    await sponsor(world, COMMUNITY, main_sponsor, "sponsor@example.org")
    await world.create_community(DISTILLED, "distilling", members={dora: "patient"})
    await world.slash(world.owner, "community link", community=DISTILLED, serves=COMMUNITY)
    await sponsor(world, DISTILLED, distilled_sponsor, "distilled@example.org")
    await world.advance(timedelta(hours=1))
    await post(world, world.channel("carers-voice-lounge"), alice, 2)
    await share(world, alice, "ROLLUPSTORY the hospice", consent="anonymous")
    removed = await world.slash(world.owner, "community remove", community=COMMUNITY, member=lee)
    assert "Removed" in removed.content, removed.content

    await world.advance_to(DUE_1)
    [main] = digests_in(world.emu.dms_to(main_sponsor))
    [distilled] = digests_in(world.emu.dms_to(distilled_sponsor))
    return {
        "embeds": embed_text(main),
        "text file": text_file_of(main),
        "distilled embeds": embed_text(distilled),
        "distilled text file": text_file_of(distilled),
    }


# ------------------------------------------------------------------ 3. manual sends


async def test_manual_send_offers_nothing_twice_and_covers_its_real_period(
    world: HearthWorld,
) -> None:
    alice, main_sponsor = world.person("alice"), world.person("sponsor")
    await world.create_community(COMMUNITY, members={alice: "carer"})
    await sponsor(world, COMMUNITY, main_sponsor)
    comm = await world.community_row(COMMUNITY)
    lounge = world.channel("carers-voice-lounge")
    await world.advance(timedelta(hours=1))
    await post(world, lounge, alice, 2)
    await world.advance_to(DUE_1)
    assert len(digests_in(world.emu.dms_to(main_sponsor))) == 1
    first = await digest_rows(world, comm.id)
    assert [r[2] for r in first] == ["sent"]

    # Straight after the scheduled digest nothing has happened: say what was sent, send nothing.
    await world.advance(timedelta(hours=1))
    again = await world.slash(world.owner, "digest send", community=COMMUNITY)
    assert again.ephemeral
    assert "Nothing has happened" in again.content, again.content
    assert "week of 11 January 2027" in again.content, again.content
    assert "Sent the digest" not in again.content
    assert len(digests_in(world.emu.dms_to(main_sponsor))) == 1
    assert await digest_rows(world, comm.id) == first

    # A preview claims nothing, and records no story as offered, whatever it shows.
    await world.advance_to(DUE_1 + timedelta(days=2) - timedelta(hours=1))
    await post(world, lounge, alice, 1)
    await share(world, alice, "MIDWEEK the pharmacy", consent="anonymous")
    await world.advance_to(DUE_1 + timedelta(days=2))
    preview = await world.slash(world.owner, "digest preview", community=COMMUNITY)
    shown = shown_messages(preview)
    assert shown and "MIDWEEK" in embed_text(shown)
    assert await digest_rows(world, comm.id) == first
    assert await offered(world) == []

    # The manual send covers the real time since the last digest, labelled with its dates.
    sent = await world.slash(world.owner, "digest send", community=COMMUNITY)
    assert "Sent the digest" in sent.content, sent.content
    assert "18 January 2027 to 20 January 2027" in sent.content, sent.content
    assert "week of 11 January 2027" in sent.content, sent.content  # what was already sent
    groups = digests_in(world.emu.dms_to(main_sponsor))
    assert len(groups) == 2
    manual = groups[1]
    md = text_file_of(manual)
    assert "Hearth digest: Carers Voice — 18 January 2027 to 20 January 2027" in md, md[:300]
    assert "week of" not in md.splitlines()[0]
    assert "MIDWEEK" in md
    assert await offered(world) == [(2, 1)]  # the manual digest offered story #1
    rows = await digest_rows(world, comm.id)
    now = world.clock.now()
    assert rows == [*first, (DUE_1.isoformat(), now.isoformat(), "sent")]

    # Sending again at once offers nothing twice.
    await world.advance(timedelta(minutes=5))
    twice = await world.slash(world.owner, "digest send", community=COMMUNITY)
    assert "Nothing has happened" in twice.content, twice.content
    assert "18 January 2027 to 20 January 2027" in twice.content, twice.content
    assert len(digests_in(world.emu.dms_to(main_sponsor))) == 2
    assert await digest_rows(world, comm.id) == rows

    # The next scheduled digest starts where the manual one ended: no overlap, no gap.
    await world.advance_to(DUE_2)
    groups = digests_in(world.emu.dms_to(main_sponsor))
    assert len(groups) == 3
    md3 = text_file_of(groups[2])
    assert "MIDWEEK" not in md3
    assert "Hearth digest: Carers Voice — 20 January 2027 to 25 January 2027" in md3, md3[:300]
    final = await digest_rows(world, comm.id)
    assert final[-1] == (now.isoformat(), DUE_2.isoformat(), "sent")
    assert [r[0] for r in final[1:]] == [r[1] for r in final[:-1]]  # contiguous periods
    titles = [text_file_of(g).splitlines()[0] for g in groups]
    assert len(set(titles)) == 3, titles
    filenames = [a.filename for g in groups for a in g[0].attachments
                 if a.filename.endswith(".txt")]  # fmt: skip
    assert len(set(filenames)) == 3, filenames


async def test_a_retried_digest_offers_the_same_stories_and_the_next_one_the_rest(
    world: HearthWorld,
) -> None:
    alice, main_sponsor = world.person("alice"), world.person("sponsor", dms_open=False)
    await world.create_community(COMMUNITY, members={alice: "carer"})
    await sponsor(world, COMMUNITY, main_sponsor)
    await world.advance(timedelta(hours=1))
    await share(world, alice, "FIRSTTRY the ward", consent="anonymous")
    await share(world, alice, "WIDENEDLATER the ward")
    await world.advance_to(DUE_1)  # the DM is refused: retried later
    assert digests_in(world.emu.dms_to(main_sponsor)) == []

    # Widened while the week's digest is being retried: it waits for the next digest.
    await consent(world, alice, 2, "named")
    main_sponsor.dms_open = True
    await world.advance(timedelta(seconds=world.config.digest.retry_backoff_seconds[0]))
    [d1] = digests_in(world.emu.dms_to(main_sponsor))
    assert "FIRSTTRY" in whole(d1) and "WIDENEDLATER" not in whole(d1)
    await world.advance_to(DUE_2)
    d2 = digests_in(world.emu.dms_to(main_sponsor))[1]
    assert "WIDENEDLATER" in whole(d2) and "FIRSTTRY" not in whole(d2)
    assert await offered(world) == [(1, 1), (2, 2)]
