"""A digest too long for one Discord message, end to end with every cog loaded.

Members share many long stories through `/story share` (anonymous and named) and the
community closes several polls through `/poll create` and the vote buttons. The scheduled
digest then has to be split across several DMs to the sponsor: every message must be
within Discord's limits, and nothing may be lost: every story and every poll outcome in the
attached text file must also be in the embeds, complete and in the same order.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tests.e2e.hearth import HearthWorld
from tests.e2e.story_draft import submit_and_post
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
DUE_1 = datetime(2027, 1, 18, 9, tzinfo=UTC)  # Monday 09:00 London: the default schedule
STORIES = 12
POLLS = 4

SENTENCES = [
    "The nurse sat down with us and explained each step of the plan slowly and kindly",
    "We were given time to ask every question we had written down the night before",
    "Someone at reception remembered our names and that made the waiting easier",
    "The letter arrived before the appointment and it used words we understood",
    "A volunteer walked us to the right clinic when the signs were confusing",
    "Our own doctor phoned afterwards to ask how we were coping at home",
]


def story_text(i: int) -> str:
    """About 3,300 characters in two paragraphs, unique to story ``i``."""
    paragraphs = []
    for part in range(2):
        sentences = [
            f"Story {i} part {part} line {k}: {SENTENCES[(i + k) % len(SENTENCES)]}."
            for k in range(19)
        ]
        paragraphs.append(" ".join(sentences))
    text = "\n\n".join(paragraphs)
    assert 3000 < len(text) <= 4000
    return text


def digest_messages(messages: list[MessageState]) -> list[list[MessageState]]:
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


def assert_within_discord_limits(m: MessageState) -> None:
    """Discord's documented message and embed limits, checked on what was delivered."""
    assert len(m.content or "") <= 2000
    assert len(m.embeds) <= 10
    total = 0
    for e in m.embeds:
        title, desc = e.get("title") or "", e.get("description") or ""
        footer = (e.get("footer") or {}).get("text") or ""
        author = (e.get("author") or {}).get("name") or ""
        assert len(title) <= 256 and len(desc) <= 4096
        assert len(footer) <= 2048 and len(author) <= 256
        fields = e.get("fields") or []
        assert len(fields) <= 25
        for f in fields:
            assert 1 <= len(f["name"]) <= 256 and 1 <= len(f["value"]) <= 1024
            total += len(f["name"]) + len(f["value"])
        total += len(title) + len(desc) + len(footer) + len(author)
    assert total <= 6000, total


def quoted_lines(text: str) -> list[str]:
    """The quoted lines of the text file (story texts, meeting notes): indented 4 spaces."""
    return [line[4:] for line in text.splitlines() if line.startswith("    ")]


def item_titles(text: str) -> list[str]:
    """The items of the text file (stories, votes, meetings): lines starting with '* '."""
    return [line[2:] for line in text.splitlines() if line.startswith("* ")]


async def share(world: HearthWorld, user: UserState, title: str, text: str, consent: str) -> None:
    rec = await world.slash(
        user, "story share", community=COMMUNITY, stage="treatment", consent=consent
    )
    assert rec.modal is not None, rec.content
    sub = await submit_and_post(world.emu, user, rec, {"title": title, "text": text})
    assert "saved as #" in sub.content, sub.content


async def test_a_long_digest_is_split_across_dms_within_limits_and_loses_nothing(
    world: HearthWorld,
) -> None:
    sponsor = world.person("sponsor")
    alice, bob, cara, dev = (world.person(n) for n in ("alice", "bob", "cara", "dev"))
    await world.create_community(
        COMMUNITY, members={alice: "carer", bob: "nurse", cara: "carer", dev: "gp"}
    )
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=sponsor)
    assert "now the sponsor" in rec.content, rec.content

    tellers = [alice, bob]
    titles = [f"What helped in week {i}" for i in range(STORIES)]
    for i, title in enumerate(titles):
        consent = "named" if i % 2 == 0 else "anonymous"
        await share(world, tellers[i % 2], title, story_text(i), consent)
        await world.advance(timedelta(minutes=10))
    await share(world, cara, "Kept in the group", "Only for us to hear.", "group")

    questions = [f"The carers' clinic should open on evening {i}" for i in range(POLLS)]
    for q in questions:
        rec = await world.slash(
            world.owner,
            "poll create",
            options={"community": COMMUNITY, "question": q, "kind": "agreement", "closes": "2h"},
        )
        assert "Posted" in rec.content, rec.content
        poll_msg = [m for m in world.emu.messages_in(world.channel("carers-voice-voice"))
                    if m.components][-1]  # fmt: skip
        pid = poll_msg.components[0]["components"][0]["custom_id"].split(":")[1]
        for person, level in ((alice, 0), (bob, 1), (cara, 1), (dev, 3)):
            r = await world.emu.click(person, poll_msg, f"poll:{pid}:v:{level}")
            assert r.ephemeral, r.content
    await world.advance(timedelta(hours=2))  # every poll closes
    assert world.db is not None
    assert await world.db.fetchval("SELECT COUNT(*) FROM polls WHERE closed_at IS NULL") == 0

    before = len(world.emu.dms_to(sponsor))
    await world.advance_to(DUE_1)
    delivered = world.emu.dms_to(sponsor)[before:]
    [digest] = digest_messages(delivered)
    assert len(digest) >= 5, len(digest)  # ~40,000 characters cannot fit in one message
    assert digest == [m for m in delivered if m.embeds]
    for m in world.emu.dms_to(sponsor):  # every DM the sponsor ever received
        assert_within_discord_limits(m)
    # The attachments come once, with the first message; every message has the footer.
    assert [a.filename.rsplit(".", 1)[1] for a in digest[0].attachments] == ["txt", "png"]
    assert all(not m.attachments for m in digest[1:])
    assert all("full digest is in the attached file" in m.embeds[-1]["footer"]["text"]
               for m in digest)  # fmt: skip

    txt = next(a for a in digest[0].attachments if a.filename.endswith(".txt")).data.decode()
    embeds = [e for m in digest for e in m.embeds]
    described = "\n".join(e.get("description") or "" for e in embeds)
    assert "(see the attached file)" not in described  # nothing had to be cut

    # Every quoted line of the text file (the story texts) is in the embeds verbatim and
    # in the same order; every story and poll title too.
    lines = quoted_lines(txt)
    assert len(lines) == STORIES * 2
    position = 0
    for line in lines:
        found = described.find(f"> {line}", position)
        assert found >= 0, f"missing from the embeds: {line[:80]!r}"
        position = found + len(line)
    assert item_titles(txt) == [*questions, *titles]  # what the group said, then stories
    position = 0
    for title in item_titles(txt):
        found = described.find(f"**{title}**", position)
        assert found >= 0, title
        position = found
    for i in range(STORIES):
        for part in range(2):  # each story's text is complete, to its last sentence
            assert f"Story {i} part {part} line 18:" in described
    assert len(re.findall(r"Story \d+ part \d line \d+:", described)) == STORIES * 2 * 19

    # Consent held across the split: the group story nowhere, anonymous ones unnamed.
    for body in (txt, described):
        assert "Kept in the group" not in body and "Only for us to hear" not in body
        assert "1 more story stays within the group, as its teller chose." in body
    story_embeds = [e for e in embeds if str(e.get("title", "")).startswith("Stories")]
    assert len(story_embeds) >= 5
    assert story_embeds[0]["title"] == "Stories you may share"
    assert all(e["title"] == "Stories you may share (continued)" for e in story_embeds[1:])
    for i, title in enumerate(titles):
        at = described.index(f"**{title}**")
        credit = described[at:].splitlines()[2]
        assert credit == ("Told by alice." if i % 2 == 0 else "Shared without the teller's name.")
    for body in (txt, described):
        assert str(alice.id) not in body and str(bob.id) not in body

    # What each poll found, one claim per sentence, with turnout and a link to the poll.
    voice = [e for e in embeds if str(e.get("title", "")).startswith("What the group said")]
    assert voice
    voice_text = "\n".join(e["description"] for e in voice)
    for q in questions:
        assert f"**{q}**" in voice_text
        assert f"3 of 5 members agree that {q[0].lower()}{q[1:]}." in voice_text
    # Eligible: the four members and the facilitator (the sponsor is not a member).
    assert voice_text.count("4 of 5 members voted.") == POLLS
    assert voice_text.count("1 member disagrees.") == POLLS
    assert voice_text.count("[Open this vote in Discord](https://discord.com/channels/") == POLLS
