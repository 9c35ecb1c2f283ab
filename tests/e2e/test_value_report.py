"""``/value report`` and the sponsor's quarterly value report, end to end through the emulator.

The facilitator's private report is read back from its files (HTML, Markdown, chart); the
sponsor's quarterly report arrives by DM and by e-mail (a real SMTP server, the digest
tests' inbox) exactly once, across a restart; every format the sponsor gets is scanned for
group-consent text and anonymous tellers' names; bad periods are refused.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot.db.stories import StoryRepo
from bot.db.value_stories import ValueStoryRepo
from bot.domain.stories import Consent
from bot.domain.value.report_chart import CHART_SIZE
from bot.domain.value.stories import ValueStoryText
from bot.services.change_rounds import ChangeRoundService
from bot.services.digests import DigestService
from bot.services.products import ProductService
from tests.e2e.hearth import START, HearthWorld, hearth_world
from tests.e2e.test_digest import Inbox, free_port, png_size, post, setup_community
from tests.emulator.state import AttachmentState, MessageState, UserState

#: The first quarterly report: 1 April 2027, 09:00 London (BST since 28 March).
DUE = datetime(2027, 4, 1, 8, 0, tzinfo=UTC)

GROUP_TEXT = "Only for our group: the ward sister's rota."
ANON_NAME = "Anonymous Annie"
SECRETS = (GROUP_TEXT, ANON_NAME, "Grace Inside", "07700 900123", "Withdrawn words")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


async def seed_value_stories(world: HearthWorld, community_id: int, people: dict[str, UserState],
                             when: datetime) -> None:  # fmt: skip
    """Value-creation stories through the value stories' repository, one per consent level
    (the report reads them through that capability's service, as in production)."""
    assert world.db is not None
    repo = ValueStoryRepo(world.db)
    stories = [
        (people["nia"], Consent.NAMED, ValueStoryText(
            immediate="The winter meeting.", potential="A referral template from a GP.",
            applied="I rewrote my referral letters.",
            realized="Patients were seen two weeks sooner.")),
        (people["annie"], Consent.ANONYMOUS, ValueStoryText(
            immediate="The lounge.", potential="A carer's phone tip.",
            applied="I call carers back the same day (07700 900123).",
            reframing="Carers are part of the team.")),
        (people["grace"], Consent.GROUP, ValueStoryText(
            immediate="Coffee chats.", potential="Ideas.", applied=GROUP_TEXT)),
        (people["nia"], Consent.NAMED, ValueStoryText(
            immediate="Withdrawn words", potential="Withdrawn words")),
    ]  # fmt: skip
    ids = []
    for teller, consent, text in stories:
        story = await repo.add(
            community_id=community_id, teller_id=teller.id, consent=consent, text=text, now=when
        )
        ids.append(story.id)
    await repo.withdraw(ids[-1], when)


async def seed_change_round(world: HearthWorld, community: Any, people: dict[str, UserState],
                            when: datetime) -> None:  # fmt: skip
    """A significant-change round through its service: two stories, one chosen with a reason."""
    assert world.bot is not None
    service = world.bot.services.get(ChangeRoundService)
    rnd = await service.repo.create_round(
        community_id=community.id, selector_id=community.id, opened_by=world.owner.id,
        domains=("my own practice",), period=(when - timedelta(days=30), when),
        collect_until=when + timedelta(days=1), select_until=when + timedelta(days=2),
        min_choices=1, now=when,
    )  # fmt: skip
    assert rnd is not None
    chosen = await service.repo.add_story(
        rnd, domain=0, teller_id=people["annie"].id, title="Fewer admissions",
        changed="Fewer emergency admissions on our ward.", why="Care moved closer to home.",
        consent=Consent.ANONYMOUS, now=when, max_per_domain=50,
    )  # fmt: skip
    await service.repo.add_story(
        rnd, domain=0, teller_id=people["grace"].id, title="Grace Inside's change",
        changed=GROUP_TEXT, why="It matters to us.", consent=Consent.GROUP, now=when,
        max_per_domain=50,
    )  # fmt: skip
    assert chosen is not None
    assert await service.open_selection(rnd.id) is not None
    await service.choose(rnd.id, people["nia"].id, 0, chosen.id, "It shows care at home.")
    assert await service.close(rnd.id) is not None


def value_dms(world: HearthWorld, user: UserState) -> list[MessageState]:
    """The value reports among a person's DMs (the weekly digest comes there too)."""
    return [
        m
        for m in world.emu.dms_to(user)
        if any(a.filename.endswith(".html") for a in m.attachments)
    ]


def value_mails(inbox: Inbox) -> list[EmailMessage]:
    return [m for m in inbox.messages if str(m["Subject"]).startswith("Hearth value report")]


def files_of(msg: MessageState) -> dict[str, AttachmentState]:
    return {a.filename.rsplit(".", 1)[-1]: a for a in msg.attachments}


def report_message(rec: Any) -> MessageState:
    msgs = {m.id: m for m in [rec.original, *rec.followups] if m is not None and m.attachments}
    assert len(msgs) == 1, rec.all_text
    return next(iter(msgs.values()))


def embed_words(msg: MessageState) -> str:
    parts = [msg.content]
    for e in msg.embeds:
        parts += [
            e.get("title") or "",
            e.get("description") or "",
            (e.get("footer") or {}).get("text", ""),
        ]
        parts += [f["name"] + " " + f["value"] for f in e.get("fields") or []]
    return "\n".join(parts)


async def seeded(
    world: HearthWorld, *, email: str | None = None
) -> tuple[Any, dict[str, UserState]]:
    names = {"sponsor": "sponsor", "alice": "alice", "bob": "bob", "grace": "Grace Inside",
             "nia": "Dr Named Nia", "annie": ANON_NAME}  # fmt: skip
    people = {key: world.person(name) for key, name in names.items()}
    comm = await setup_community(
        world, sponsor=people["sponsor"], email_to=email,
        members={people["alice"]: "nurse", people["bob"]: "gp", people["grace"]: "carer",
                 people["nia"]: "gp", people["annie"]: "nurse"},
    )  # fmt: skip
    await post(world, world.channel("carers-voice-lounge"), people["alice"], 3)
    assert world.db is not None
    await StoryRepo(world.db).add(
        community_id=comm.id, teller_id=people["bob"].id, title="A story", text="Told.",
        stage="diagnosis", stage_label="Tests and diagnosis", consent=Consent.GROUP,
        now=START + timedelta(hours=1),
    )  # fmt: skip
    await seed_value_stories(world, comm.id, people, START + timedelta(days=2))
    await seed_change_round(world, comm, people, START + timedelta(days=3))
    await seed_product(world, comm)
    return comm, people


async def seed_product(world: HearthWorld, community: Any) -> None:
    """A product in the impact log, used twice (through the products service)."""
    assert world.bot is not None
    service = world.bot.services.get(ProductService)
    product = await service.add(community, world.owner.id, "Referral letter template", "guideline")
    for place in ("GP training day", "Ward 7 handover"):
        await service.record_use(product, "training", place, None, world.owner.id)


# ---------------------------------------------------------------------------- facilitator


async def test_the_facilitator_gets_the_matrix_privately_with_its_files(
    world: HearthWorld,
) -> None:
    comm, people = await seeded(world)
    await world.advance(timedelta(days=10))
    rec = await world.slash(world.owner, "value report", community=comm.name)
    assert rec.ephemeral
    msg = report_message(rec)
    words = embed_words(msg)
    assert "Your private value report for **Carers Voice**" in words
    assert "11 January 2027 to 21 January 2027" in words
    assert "Next: <t:" in words and str(int(DUE.timestamp())) in words  # the sponsor's date
    assert "1 of 6 members took part" in words
    files = files_of(msg)
    assert set(files) == {"html", "md", "png"}
    html, md = files["html"].data.decode(), files["md"].data.decode()
    for text in (html, md):
        for cycle in ("Immediate value", "Potential value", "Applied value", "Realized value",
                      "Reframing value"):  # fmt: skip
            assert cycle in text
        assert "What members did differently because of the community." in text
        assert "Dr Named Nia" in text
        assert GROUP_TEXT in text  # the facilitator is inside the community...
        assert "Stays inside the community" in text  # ...and sees it marked
        assert ANON_NAME not in text and "07700 900123" not in text
        assert "Withdrawn words" not in text
    assert "- Messages: **3**" in md and "- Stories told: **1**" in md
    assert "- Significant-change stories reporting it: **2**" in md
    assert "- Products made: **1**" in md and "- Times products were used: **2**" in md
    assert "Referral letter template (guideline, idea): made in this period, used 2 times." in md
    assert "Chosen by the selectors as the most significant, because: It shows care at home." in md
    assert png_size(files["png"].data)[0] == CHART_SIZE[0]
    assert f'src="data:image/png;base64,{base64.b64encode(files["png"].data).decode()}"' in html
    assert files["png"].description and "Applied value: 3 stories" in files["png"].description
    # nothing was sent to the sponsor, and nothing was claimed
    assert value_dms(world, people["sponsor"]) == []
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM value_report_deliveries") == 0


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"from": "2027-03-01", "to": "2027-02-01"}, "ends (1 February 2027) before it starts"),
        ({"from": "2099-01-01"}, "starts in the future"),
        ({"to": "2020-01-01"}, "ends before the community began"),
        ({"from": "31/02/2027"}, "is not a real date"),
        ({"from": "last spring"}, "I could not read `last spring` as a date"),
    ],
)
async def test_bad_periods_are_refused_clearly(
    world: HearthWorld, options: dict[str, str], words: str
) -> None:
    comm, _ = await seeded(world)
    await world.advance(timedelta(days=3))
    rec = await world.slash(world.owner, "value report", community=comm.name, **options)
    assert rec.ephemeral and words in rec.content, rec.content
    assert not [m for m in [rec.original, *rec.followups] if m is not None and m.attachments]


async def test_a_member_may_not_see_the_report(world: HearthWorld) -> None:
    comm, people = await seeded(world)
    rec = await world.slash(people["alice"], "value report", community=comm.name)
    assert rec.ephemeral and "facilitator" in rec.content.lower(), rec.content
    assert not [m for m in [rec.original, *rec.followups] if m is not None and m.attachments]


# ---------------------------------------------------------------------------- sponsor


def sponsor_texts(dm: MessageState, mail: EmailMessage) -> list[str]:
    """Every format the sponsor gets, as text."""
    files = files_of(dm)
    texts = [embed_words(dm), files["html"].data.decode(), files["md"].data.decode(),
             files["png"].description or "", str(mail["Subject"])]  # fmt: skip
    for part in mail.walk():
        if part.get_content_maintype() == "text":
            assert isinstance(part, EmailMessage)
            texts.append(part.get_content())
    return texts


async def test_the_sponsor_gets_the_quarter_once_by_dm_and_email(tmp_path: Path) -> None:
    port = free_port()
    extra = {
        "HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
        "HEARTH_SMTP_FROM": "hearth@example.org",
    }
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            comm, people = await seeded(world, email="sponsor@example.org")
            sponsor = people["sponsor"]
            # Not before the quarter's send time.
            await world.advance_to(DUE - timedelta(minutes=1))
            assert value_dms(world, sponsor) == []

            await world.advance_to(DUE)
            dms = value_dms(world, sponsor)
            assert len(dms) == 1 and len(value_mails(inbox)) == 1
            dm, mail = dms[0], value_mails(inbox)[0]
            assert "quarterly value report for **Carers Voice**" in dm.content
            assert mail["To"] == "sponsor@example.org"
            assert mail["Subject"] == (
                "Hearth value report: Carers Voice — January to March 2027 "
                "(1 January 2027 to 31 March 2027)"
            )
            texts = sponsor_texts(dm, mail)
            for text in texts:
                for secret in SECRETS:
                    assert secret not in text, (secret, text[:200])
            whole = "\n".join(texts)
            assert "Dr Named Nia" in whole and "I rewrote my referral letters." in whole
            assert "[redacted]" in whole  # the anonymous story, its phone number removed
            assert "stayed inside the community at" in whole
            assert "Fewer emergency admissions on our ward." in whole
            assert "Referral letter template (guideline, idea): made in this period" in whole
            assert "the most significant, because: It shows care at home." in whole
            images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
            assert len(images) == 1 and png_size(images[0].get_content()) == CHART_SIZE
            assert world.db is not None
            rows = await world.db.fetchall(
                "SELECT state, dm_done, email_done FROM value_report_deliveries"
            )
            assert [tuple(r) for r in rows] == [("sent", 1, 1)]

            # A restart (the job re-armed from the database) and a day later: nothing again.
            await world.restart()
            await world.advance(timedelta(days=1))
            assert len(value_dms(world, sponsor)) == 1
            assert len(value_mails(inbox)) == 1
            # The facilitator sees the next quarter's date.
            rec = await world.slash(world.owner, "value report", community=comm.name)
            assert str(int(datetime(2027, 7, 1, 8, tzinfo=UTC).timestamp())) in rec.all_text
            assert "The report for January to March 2027 was delivered <t:" in rec.all_text
    finally:
        controller.stop()


async def test_a_quarter_missed_while_down_is_caught_up_once(tmp_path: Path) -> None:
    async with hearth_world(tmp_path) as world:
        _comm, people = await seeded(world)
        await world.stop_bot()
        world.clock.set(DUE + timedelta(days=3))  # Hearth was down on the day
        await world.start_bot()
        await world.advance(timedelta(seconds=1))
        dms = value_dms(world, people["sponsor"])
        assert len(dms) == 1
        assert "January to March 2027" in embed_words(dms[0])
        await world.restart()
        await world.advance(timedelta(hours=2))
        assert len(value_dms(world, people["sponsor"])) == 1


async def test_a_closed_dm_is_retried_and_the_facilitators_told(world: HearthWorld) -> None:
    comm, people = await seeded(world)
    sponsor = people["sponsor"]
    sponsor.dms_open = False
    await world.advance_to(DUE)
    assert value_dms(world, sponsor) == []
    told = [m.content for m in world.emu.dms_to(world.owner) if "value report" in m.content]
    assert len(told) == 1 and "could not be delivered to its sponsor" in told[0], told
    assert "I will keep retrying" in told[0]
    for secret in (*SECRETS, "Dr Named Nia", "referral"):
        assert secret not in told[0]  # the notice never carries the report's content
    assert world.db is not None
    row = await world.db.fetchone("SELECT state, attempts FROM value_report_deliveries")
    assert row is not None and tuple(row) == ("pending", 1)

    sponsor.dms_open = True
    await world.advance(timedelta(seconds=world.config.digest.retry_backoff_seconds[0]))
    assert len(value_dms(world, sponsor)) == 1
    row = await world.db.fetchone("SELECT state, attempts FROM value_report_deliveries")
    assert row is not None and tuple(row) == ("sent", 1)
    await world.advance(timedelta(days=2))
    assert len(value_dms(world, sponsor)) == 1
    assert comm.id


async def test_no_sponsor_means_no_report_until_one_is_set_then_the_quarter_goes_once(
    world: HearthWorld,
) -> None:
    await world.create_community("Quiet Group", "practice")
    await world.advance_to(DUE)
    assert world.db is not None
    rows = await world.db.fetchall("SELECT state, problem FROM value_report_deliveries")
    assert [tuple(r) for r in rows] == [("skipped", "no sponsor")]
    rec = await world.slash(world.owner, "value report", community="Quiet Group")
    assert "has no sponsor yet" in rec.all_text and "the next would be due <t:" in rec.all_text
    sponsor = world.person("late sponsor")
    rec = await world.slash(world.owner, "community sponsor", community="Quiet Group",
                            member=sponsor)  # fmt: skip
    assert "now the sponsor" in rec.content
    # The latest quarter due goes once, now that someone can receive it (within the hour:
    # the hourly sweep re-arms it even without the /community sponsor listener).
    await world.restart()
    await world.advance(timedelta(hours=1, seconds=1))
    await world.advance(timedelta(seconds=1))
    dms = value_dms(world, sponsor)
    assert len(dms) == 1 and "January to March 2027" in embed_words(dms[0])
    await world.restart()
    await world.advance(timedelta(days=1))
    assert len(value_dms(world, sponsor)) == 1
    rows = await world.db.fetchall("SELECT state FROM value_report_deliveries")
    assert [tuple(r) for r in rows] == [("sent",)]


async def test_a_sponsor_who_stopped_emails_gets_the_dm_only(tmp_path: Path) -> None:
    port = free_port()
    extra = {"HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
             "HEARTH_SMTP_FROM": "hearth@example.org"}  # fmt: skip
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            comm, people = await seeded(world, email="sponsor@example.org")
            assert world.bot is not None
            digests = world.bot.services.get(DigestService)
            await digests.set_sponsor_emails(comm.id, people["sponsor"].id, on=False)
            await world.advance_to(DUE)
            assert len(value_dms(world, people["sponsor"])) == 1
            assert value_mails(inbox) == []
            assert world.db is not None
            rows = await world.db.fetchall(
                "SELECT state, dm_done, email_done FROM value_report_deliveries"
            )
            assert [tuple(r) for r in rows] == [("sent", 1, 0)]
    finally:
        controller.stop()


async def test_a_failed_email_is_retried_after_a_restart_without_a_second_dm(
    tmp_path: Path,
) -> None:
    port = free_port()
    extra = {"HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
             "HEARTH_SMTP_FROM": "hearth@example.org"}  # fmt: skip
    async with hearth_world(tmp_path, settings_extra=extra) as world:
        _comm, people = await seeded(world, email="sponsor@example.org")
        sponsor = people["sponsor"]
        await world.advance_to(DUE)  # no mail server yet: the DM goes, the e-mail waits
        assert len(value_dms(world, sponsor)) == 1
        assert world.db is not None
        row = await world.db.fetchone(
            "SELECT state, dm_done, email_done, attempts FROM value_report_deliveries"
        )
        assert row is not None and tuple(row) == ("pending", 1, 0, 1)

        await world.restart()
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            await world.advance(timedelta(seconds=world.config.digest.retry_backoff_seconds[0]))
        finally:
            controller.stop()
        assert len(value_mails(inbox)) == 1
        assert len(value_dms(world, sponsor)) == 1  # the DM was not sent again
        row = await world.db.fetchone(
            "SELECT state, dm_done, email_done FROM value_report_deliveries"
        )
        assert row is not None and tuple(row) == ("sent", 1, 1)
