"""Collective documents end to end: a document built from two consented quotes and one
amendment, exported as Markdown, HTML and PDF (read back), then a teller withdraws and the
next version drops the quote, the facilitator being told which versions contained it; and
bad input refused clearly with nothing stored."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from typing import Any

import pytest
from pypdf import PdfReader

from tests.e2e.hearth import HearthWorld
from tests.e2e.story_draft import submit_and_post
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import ChannelState, MessageState, UserState

pytestmark = pytest.mark.e2e

COMMUNITY = "Carers Voice"
ALICE_STORY = (
    "When they said discharge I did not know it meant going home. The nurse sat with me and "
    "explained every tablet. I felt “listened to” for the first time."
)
BOB_STORY = (
    "My mother’s diagnosis came on a Tuesday. Nobody told us what the tests were for, so we "
    "waited in fear for a week. A leaflet would have helped."
)
CAROL_STORY = "This stays between us: the ward was cold and I cried in the car park."


async def _share(world: HearthWorld, user: UserState, title: str, text: str, consent: str) -> None:
    rec = await world.slash(user, "story share", community=COMMUNITY, consent=consent)
    assert rec.modal is not None, rec.content
    done = await submit_and_post(world.emu, user, rec, {"title": title, "text": text})
    assert "saved as #" in done.content, done.content


async def _setup(world: HearthWorld) -> dict[str, UserState]:
    users = {n: world.person(n) for n in ("alice", "bob", "carol", "dan")}
    await world.create_community(
        COMMUNITY, members={u: ("nurse" if n == "bob" else "carer") for n, u in users.items()}
    )
    await _share(world, users["alice"], "Going home", ALICE_STORY, "named")  # story 1
    await _share(world, users["bob"], "Diagnosis week", BOB_STORY, "anonymous")  # story 2
    await _share(world, users["carol"], "Cold ward", CAROL_STORY, "group")  # story 3
    return users


async def _rows(world: HearthWorld, table: str) -> list[Any]:
    assert world.db is not None
    return await world.db.fetchall(f"SELECT * FROM {table} ORDER BY id")


def _thread(world: HearthWorld) -> ChannelState:
    voice = world.channel("carers-voice-voice")
    threads = world.emu.threads_in(voice)
    assert len(threads) == 1, [t.name for t in threads]
    return threads[0]


def _head(world: HearthWorld) -> MessageState:
    return world.emu.messages_in(_thread(world))[0]


def _last_dm(world: HearthWorld, user: UserState) -> MessageState:
    dms = world.emu.dms_to(user)
    assert dms, f"no DM to {user.name}"
    return dms[-1]


async def _quote(
    world: HearthWorld, proposer: UserState, story: int, section: int, excerpt: str
) -> Any:
    rec = await world.slash(proposer, "document quote", document="1", story=story, section=section)
    assert rec.modal is not None, rec.content
    return await world.emu.submit_modal(proposer, rec, {"quote": excerpt})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._in_h2 = self._in_h2 or tag == "h2"

    def handle_endtag(self, tag: str) -> None:
        self._in_h2 = self._in_h2 and tag != "h2"

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._in_h2:
            self.headings.append(data)


async def _export(world: HearthWorld, user: UserState, fmt: str) -> tuple[str, bytes]:
    # a PDF is rendered by WeasyPrint (a few seconds cold on a loaded 2-core machine)
    rec = await world.emu.slash(
        world.guild, user, "document export", document="1", format=fmt, timeout=60
    )
    assert rec.ephemeral and rec.files, rec.content
    return rec.files[0].filename, rec.files[0].data


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


async def test_document_from_two_quotes_and_an_amendment_then_a_withdrawal(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    alice, bob, carol, dan = users["alice"], users["bob"], users["carol"], users["dan"]

    # ---- create (journey: one section per configured stage)
    made = await world.slash(
        world.owner,
        "document create",
        community=COMMUNITY,
        title="Our principles of people-centred care",
    )
    assert made.ephemeral and "document #1" in made.content and "10 sections" in made.content
    head = _head(world)
    assert "Our principles of people-centred care" in head.content
    assert "Version 1" in head.content and "1. Noticing symptoms" in head.content
    products = await _rows(world, "products")  # every document is in the impact log
    assert [(p["origin_kind"], p["origin_id"], p["title"]) for p in products] == [
        ("document", 1, "Our principles of people-centred care")
    ]

    # ---- a quote from alice's named story, proposed by bob, agreed by alice by DM
    shown = await world.slash(bob, "document quote", document="1", story=1, section=5)
    assert shown.modal is not None
    prefilled = str(shown.modal)
    assert "The nurse sat with me" in prefilled  # the story's text, to trim
    asked = await world.emu.submit_modal(
        bob,
        shown,
        {
            "quote": "The nurse sat with me and explained every tablet. … I felt "
            "“listened to” for the first time."
        },
    )
    assert "Asked the teller of story #1" in asked.content, asked.content
    dm = _last_dm(world, alice)
    assert "explained every tablet" in dm.content and "alice" in dm.content
    assert "Nothing is included unless you press **Agree**" in dm.content
    assert "Version 1" in _head(world).content and "explained" not in _head(world).content
    answered = await world.emu.click(alice, dm, "doc:q:1:yes")
    await answered.wait_edits(1)
    head = _head(world)
    assert "Version 2" in head.content and "explained every tablet" in head.content
    assert "— alice" in head.content

    # ---- a quote from bob's anonymous story, proposed by alice, agreed by bob
    await _quote(world, alice, 2, 3, "Nobody told us what the tests were for")
    answered = await world.emu.click(bob, _last_dm(world, bob), "doc:q:2:yes")
    await answered.wait_edits(1)
    head = _head(world)
    assert "Version 3" in head.content and "Nobody told us what the tests were for" in head.content
    assert "— a member of the group" in head.content and "— bob" not in head.content

    # ---- an amendment: draft with plain-language suggestions first, then Submit
    form = await world.slash(carol, "document propose", document="1", section=6)
    assert form.modal is not None
    draft = await world.emu.submit_modal(
        carol,
        form,
        {
            "text": "Before discharge, someone explains every tablet. Families are told what "
            "happens next."
        },
    )
    assert draft.ephemeral and "not submitted yet" in draft.content
    assert "**discharge**" in draft.content and "going home from hospital" in draft.content
    assert await _rows(world, "document_proposals") == []  # nothing stored yet
    assert draft.reply is not None
    submitted = await world.emu.click(carol, draft.reply, "doc:draft:submit")
    await submitted.wait_edits(1)
    post = world.emu.messages_in(_thread(world))[-1]
    assert "Proposal #1 for section 6. After treatment" in post.content
    ids = all_custom_ids(post.components)
    assert {"doc:p:1:s", "doc:p:1:o", "doc:p:1:p", "doc:p:1:accept"} <= set(ids)
    for user, code in ((alice, "s"), (bob, "s"), (dan, "o"), (carol, "p"), (alice, "s")):
        chose = await world.emu.click(user, post, f"doc:p:1:{code}")
        assert chose.ephemeral and "sealed" in chose.content, chose.content
    # sealed at rest: no plain choice in the database
    rows = await _rows(world, "document_proposals")
    assert rows[0]["support"] == 0 and rows[0]["ballot_key"] is not None
    refused = await world.emu.click(dan, post, "doc:p:1:accept")
    assert refused.ephemeral and "Only a facilitator" in refused.content, refused.content
    accepted = await world.emu.click(world.owner, post, "doc:p:1:accept")
    await accepted.wait_final()
    assert "version 4" in accepted.all_text and "2 support, 1 oppose, 1 pass" in accepted.all_text
    head = _head(world)
    assert "Version 4" in head.content and "Families are told what happens next" in head.content
    rows = await _rows(world, "document_proposals")
    assert (rows[0]["support"], rows[0]["oppose"], rows[0]["pass"]) == (2, 1, 1)
    assert rows[0]["ballot_key"] is None and await _rows_count(world, "document_choices") == 0
    notices = [m.content for m in world.emu.messages_in(_thread(world))]
    assert any(
        "Version 4: section 'After treatment' — text accepted (2 support, 1 oppose, "
        "1 pass): new text (2 sentences)." in n
        for n in notices
    ), notices
    assert "was accepted" in _last_dm(world, carol).content

    # ---- exports, read back
    name, md = await _export(world, dan, "markdown")
    assert name.endswith("-v4.md")
    text = md.decode()
    assert "## 5. Treatment" in text and "explained every tablet" in text
    assert "— alice" in text and "— a member of the group" in text
    name, html = await _export(world, dan, "html")
    parsed = _Text()
    parsed.feed(html.decode())
    body = " ".join(parsed.parts)
    assert "5." in parsed.headings and "Treatment" in parsed.headings
    assert "“listened to”" in body and "@media print" in html.decode()
    assert "version 4" in body
    name, pdf = await _export(world, dan, "pdf")
    assert pdf.startswith(b"%PDF") and name.endswith(".pdf")
    ptext = _pdf_text(pdf)
    assert "explained every tablet" in ptext and "Nobody told us" in ptext
    assert "“listened to”" in ptext and "mother’s" not in ptext  # only the excerpt

    # ---- alice withdraws her story: the next version drops her quote
    before = len(world.emu.dms_to(world.owner))
    gone = await world.slash(alice, "story consent", story=1, level="withdrawn")
    assert not gone.content.startswith("Sorry"), gone.content
    head = _head(world)
    assert "Version 5" in head.content and "explained every tablet" not in head.content
    assert "Nobody told us" in head.content
    told = world.emu.dms_to(world.owner)[before:]
    assert told, "the facilitator was not told"
    assert "versions that contained the quote: 2, 3, 4" in told[-1].content, told[-1].content
    quotes = await _rows(world, "document_quotes")
    assert quotes[0]["status"] == "removed" and quotes[0]["text"] is None
    assert quotes[0]["teller_id"] is None
    _, pdf = await _export(world, dan, "pdf")
    ptext = _pdf_text(pdf)
    assert "explained every tablet" not in ptext and "Nobody told us" in ptext
    assert "version 5" in ptext.lower()

    # ---- bob narrows named? (anonymous → group): his quote goes too
    await world.slash(bob, "story consent", story=2, level="group")
    head = _head(world)
    assert "Version 6" in head.content and "Nobody told us" not in head.content


async def _rows_count(world: HearthWorld, table: str) -> int:
    assert world.db is not None
    return int(await world.db.fetchval(f"SELECT COUNT(*) FROM {table}"))


async def test_bad_input_is_refused_clearly_and_nothing_is_stored(world: HearthWorld) -> None:
    users = await _setup(world)
    bob, dan = users["bob"], users["dan"]
    made = await world.slash(
        world.owner, "document create", community=COMMUNITY, title="Going home", template="blank"
    )
    assert "1 section" in made.content, made.content
    counts = {
        t: await _rows_count(world, t)
        for t in ("document_quotes", "document_proposals", "documents", "document_versions")
    }

    unknown = await world.slash(bob, "document quote", document="Nope", story=1, section=1)
    assert unknown.ephemeral and "There is no document" in unknown.content
    group = await world.slash(bob, "document quote", document="1", story=3, section=1)
    assert group.ephemeral and "kept inside the group" in group.content, group.content
    far = await world.slash(bob, "document propose", document="1", section=4)
    assert far.ephemeral and "There is no section 4" in far.content, far.content
    far = await world.slash(bob, "document quote", document="1", story=1, section=9)
    assert far.ephemeral and "There is no section 9" in far.content, far.content
    missing = await world.slash(bob, "document quote", document="1", story=99, section=1)
    assert "There is no story #99" in missing.content
    many = await world.slash(
        world.owner,
        "document create",
        community=COMMUNITY,
        title="Many",
        sections=";".join(f"Part {i}" for i in range(30)),
    )
    assert "at most 25 sections" in many.content, many.content
    not_fac = await world.slash(dan, "document create", community=COMMUNITY, title="Mine")
    assert "Only a facilitator" in not_fac.content
    long = await world.slash(world.owner, "document create", community=COMMUNITY, title="x" * 101)
    assert "at most 100 characters" in long.content

    form = await world.slash(bob, "document propose", document="1", section=1)
    too_long = await world.emu.submit_modal(bob, form, {"text": "word " * 700})
    assert too_long.ephemeral and "at most 3000 characters" in too_long.content
    form = await world.slash(bob, "document quote", document="1", story=1, section=1)
    invented = await world.emu.submit_modal(bob, form, {"quote": "The doctor was rude."})
    assert "own words" in invented.content, invented.content
    form = await world.slash(bob, "document quote", document="1", story=1, section=1)
    huge = await world.emu.submit_modal(bob, form, {"quote": ALICE_STORY * 8})
    assert "at most 1000 characters" in huge.content, huge.content
    export = await world.slash(bob, "document export", document="2", format="pdf")
    assert "There is no document" in export.content

    after = {t: await _rows_count(world, t) for t in counts}
    assert after == counts


async def test_a_facilitator_names_the_sections(world: HearthWorld) -> None:
    await _setup(world)
    made = await world.slash(
        world.owner,
        "document create",
        community=COMMUNITY,
        title="Principles",
        sections="Respect ; Going home;; Time ",
    )
    assert "3 sections" in made.content, made.content
    head = _head(world).content
    assert "1. Respect" in head and "2. Going home" in head and "3. Time" in head
    row = (await _rows(world, "documents"))[0]
    assert row["template"] == "blank"


async def test_closed_dms_mean_the_teller_could_not_be_asked(world: HearthWorld) -> None:
    erin = world.person("erin", dms_open=False)
    users = await _setup(world)
    await world.slash(
        world.owner, "community add", community=COMMUNITY, member=erin, discipline="carer"
    )
    await _share(world, erin, "Night shift", "The night nurse held my hand all night.", "named")
    await world.slash(
        world.owner, "document create", community=COMMUNITY, title="Nights", template="blank"
    )
    rec = await _quote(world, users["bob"], 4, 1, "held my hand all night")
    assert "could not be asked" in rec.content and "direct messages are closed" in rec.content
    assert await _rows_count(world, "document_quotes") == 0


async def test_recredit_decline_edit_and_a_long_document(world: HearthWorld) -> None:
    users = await _setup(world)
    alice, bob, carol = users["alice"], users["bob"], users["carol"]
    await world.slash(world.owner, "document create", community=COMMUNITY, title="Going home")
    # a quote declined by its teller: nothing kept, no new version
    await _quote(world, bob, 1, 1, "When they said discharge")
    declined = await world.emu.click(alice, _last_dm(world, alice), "doc:q:1:no")
    await declined.wait_edits(1)
    assert "Declined" in _last_dm(world, alice).content
    assert (await _rows(world, "document_quotes"))[0]["text"] is None
    assert "Version 1" in _head(world).content
    # agreed, named; then the teller asks not to be named: re-credited in a new version
    await _quote(world, bob, 1, 5, "The nurse sat with me")
    agreed = await world.emu.click(alice, _last_dm(world, alice), "doc:q:2:yes")
    await agreed.wait_edits(1)
    assert "— alice" in _head(world).content and "Version 2" in _head(world).content
    before = len(world.emu.dms_to(world.owner))
    await world.slash(alice, "story consent", story=1, level="anonymous")
    head = _head(world)
    assert "Version 3" in head.content and "— alice" not in head.content
    assert "The nurse sat with me" in head.content and "— a member of the group" in head.content
    told = world.emu.dms_to(world.owner)[before:]
    assert told and "made a quote anonymous" in told[-1].content
    assert "contained the quote: 2" in told[-1].content

    # the draft's Edit: the form again, filled in; the new words are what is submitted
    form = await world.slash(carol, "document propose", document="1", section=2)
    assert form.modal is not None
    draft = await world.emu.submit_modal(carol, form, {"text": "First words."})
    assert draft.reply is not None
    edit = await world.emu.click(carol, draft.reply, "doc:draft:edit")
    assert edit.modal is not None and "First words." in str(edit.modal)
    long_text = " ".join(f"Sentence number {i} about seeing a GP early." for i in range(50))
    redrawn = await world.emu.submit_modal(carol, edit, {"text": long_text})
    assert redrawn.response_type == 7  # the draft message itself is updated
    assert draft.reply.content.startswith("**Your proposal")
    done = await world.emu.click(carol, draft.reply, "doc:draft:submit")
    await done.wait_edits(1)
    post = world.emu.messages_in(_thread(world))[-1]
    decided = await world.emu.click(world.owner, post, "doc:p:1:accept")
    await decided.wait_final()
    # now longer than one Discord message: an outline, and the full text attached
    head = _head(world)
    assert len(head.content) <= 2000 and "attached as a Markdown file" in head.content
    assert head.attachments and head.attachments[0].filename == "document-v4.md"
    attached = head.attachments[0].data.decode()
    assert "Sentence number 49 about seeing a GP early." in attached
    assert "0 support, 0 oppose, 0 pass" in attached  # the version's summary


async def test_a_teller_who_asks_to_be_forgotten_leaves_the_document(world: HearthWorld) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    await world.slash(world.owner, "document create", community=COMMUNITY, title="Going home")
    await _quote(world, bob, 1, 5, "The nurse sat with me")
    agreed = await world.emu.click(alice, _last_dm(world, alice), "doc:q:1:yes")
    await agreed.wait_edits(1)
    assert "The nurse sat with me" in _head(world).content
    rec = await world.slash(alice, "privacy forget")
    assert rec.reply is not None
    done = await world.emu.click(alice, rec.reply, f"privacy:forget:{alice.id}:confirm")
    await world.emu.wait_for(
        lambda: done.reply is not None and done.reply.content.startswith("Done"),
        message="erasure finished",
    )
    head = _head(world)
    assert "Version 3" in head.content and "The nurse sat with me" not in head.content
    assert "asked Hearth to erase their data" in " ".join(
        m.content for m in world.emu.messages_in(_thread(world))
    )
    assert "contained the quote: 2" in _last_dm(world, world.owner).content
