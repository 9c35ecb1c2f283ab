"""The sponsor's digest, read as a busy manager and an older reader would (issue 12).

* Plain words: every format (the Discord embeds, the attached text file, the e-mail's HTML
  and text) is scanned for jargon and raw codes, with a digest that exercises every kind of
  finding, every role and every section.
* One source of wording: every sentence of the one view appears, word for word, in every
  format.
* Understood in thirty seconds: the summary has three to five sentences of one number each.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.digest import (
    Digest,
    Finding,
    HeldMeeting,
    LinkedHighlights,
    MemberActivity,
    OpenPoll,
    Period,
    Place,
    PollOutcome,
    ProductNews,
    ProductSource,
    ShareableStory,
    SignificantChange,
    UpcomingMeeting,
    WeekActivity,
    compile_digest,
)
from bot.domain.digest_embeds import render_embeds
from bot.domain.digest_render import render_html, render_text
from bot.domain.digest_view import view
from bot.text import ZWSP

WEEK = Period(datetime(2027, 1, 11, 9, tzinfo=UTC), datetime(2027, 1, 18, 9, tzinfo=UTC))
DAY = timedelta(days=1)

#: Words a sponsor should never have to decode, and the codes Hearth stores.
BANNED = (
    r"instant[- ]runoff", r"\brunoff\b", r"\bdivisive\b", r"opinion groups?", r"\bconsensus\b",
    r"continuing (votes|ballots)", r"rounds? of counting", r"\bquorum\b", r"\bturnout\b",
    r"\beligible\b", r"\bdisciplines?\b", r"may leave the community", r"\bn/a\b",
    r"\backnowledgement\b", r"collective voice", r"\bactive members\b", r"\bvs\.?\b",
    r"\bavg\b", r"\bwk\b", r"[▲▼▶→]", r"\d+% vs", r"\(\d+% vs \d+%\)",
    r"\bexhausted\b", r"\bPCA\b", r"\bk-means\b", r"\bconsent level\b",
)  # fmt: skip
#: Raw discipline codes as Hearth stores them (a role must read "GPs", "nurses", ...).
RAW_CODES = (r"\bgp\b", r"\bGP:", r"\bNurse\b", r"\bPatient\b", r"\bCarer\b", r"\bOther\b",
             r"\bgps\b")  # fmt: skip


def person(i: int, role: str, posts: int = 0, *, quiet: bool = False) -> MemberActivity:
    late = datetime(2027, 1, 12, 23, tzinfo=UTC)  # 23:00 London: late at night
    return MemberActivity(
        i, f"Member {chr(64 + i)}", role, datetime(2026, 6, 1, tzinfo=UTC),
        hourly_counts={late: posts} if posts else {},
        last_active_before=WEEK.start - timedelta(weeks=5) if quiet else None,
    )  # fmt: skip


def rich_digest() -> Digest:
    """Every section, every kind of finding, every role (one merged into other roles)."""
    roster = [person(i, "gp", 2 if i % 2 else 0) for i in range(1, 5)]
    roster += [person(i, "nurse", 1) for i in range(5, 8)]
    roster += [person(i, "patient") for i in range(8, 11)]
    roster += [person(11, "carer", 5), person(12, "other", quiet=True), person(13, "other")]
    at = WEEK.start + DAY
    outcomes = [
        PollOutcome("The clinic should open later.", "long statement", 20, 24, at,
                    findings=(Finding("agree", count=18, of=24, disagree=2),),
                    place=Place(7, 8)),
        PollOutcome("Which day suits?", "s", 9, 24, at, place=Place(7, 9), findings=(
            Finding("chose", "Tuesday", 5, 9), Finding("chose", "Friday", 3, 9))),
        PollOutcome("Rank the topics", "s", 12, 24, at, place=Place(7, 10),
                    findings=(Finding("won", "Waiting times", 5, 12),)),
        PollOutcome("Rank again", "s", 4, 24, at, findings=(
            Finding("tie", options=("Parking", "Letters")),)),
        PollOutcome("Pick one", "s", 4, 24, at, findings=(
            Finding("tie", options=("A", "B"), count=2),)),
        PollOutcome("Quick survey", "s", 10, 24, at, findings=(
            Finding("yes", "Did the letter help?", 7, 10), Finding("yes", "Was it late?", 0, 0))),
        PollOutcome("Nobody came", "s", 0, 24, at, findings=(Finding("no_votes"),)),
        PollOutcome("Statement round (4 statements)", "s", 14, 24, at, is_round=True,
                    place=Place(7, 11), findings=(
            Finding("agree", "We need more respite care.", 15, 24, roles=("gp", "nurse", "carer")),
            Finding("split", "Evening clinics are better.", roles=("gp",), others=("patient",)),
            Finding("split", "Letters should be shorter."),
        )),
        PollOutcome("Statement round (2 statements)", "s", 6, 24, at, is_round=True,
                    findings=(Finding("none_agreed", count=63, of=2),)),
    ]  # fmt: skip
    return compile_digest(
        "GP Advisors", WEEK, roster,
        [WeekActivity(WEEK.start.date() - timedelta(weeks=w), 10, 4) for w in (3, 2, 1)],
        stories=[
            ShareableStory("A long day", "It was long.\nBut the nurse was kind.", "Diagnosis",
                           "Jean"),
            ShareableStory("Unnamed", "Someone listened.", "Treatment", None),
        ],
        kept_story_count=3,
        poll_outcomes=outcomes,
        open_polls=[
            OpenPoll("When should we meet?", 4, 24, WEEK.end + 2 * DAY, place=Place(7, 12)),
            OpenPoll("Statement round: vote on members' statements", 3, 24, WEEK.end + DAY,
                     is_round=True),
        ],
        upcoming_meetings=[UpcomingMeeting("Spring gathering", WEEK.end + 20 * DAY, 8, 3, 1,
                                           place=Place(5, 6, 99))],
        held_meetings=[
            HeldMeeting("Winter gathering", WEEK.start + 2 * DAY, "We agreed to write.", 9, 12,
                        place=Place(5, 13)),
            HeldMeeting("North meeting", WEEK.start + 3 * DAY, None, None, 1),
        ],
        linked=[LinkedHighlights("North Forum", ["A story: Waiting (Diagnosis)."])],
        late=True,
        guild_id=1234,
        products=[
            ProductNews("Our principles of people-centred care", "guideline", "published", True,
                        ("published",),
                        ("training session, Leeds nurse day", "The March patient forum"),
                        (ProductSource("story", "a story shared within the group", False),
                         ProductSource("poll", "Which words should we use?"),
                         ProductSource("statement_round", "round #3 of 11 Jan 2027"),
                         ProductSource("meeting", "Spring gathering"))),
            ProductNews("Ten stages", "document", "drafting", False),
        ],
        changes=[
            SignificantChange("Care for people affected by cancer", "Phoned before going home",
                              "The ward phones carers first.", "Mum came home to a warm house.",
                              "Jean", ("Safety at home matters most.",), tied=True),
            SignificantChange("My own practice", "One plan", "We share one care plan.",
                              "Time back for patients.", None, ("Joined-up care.",)),
        ],
    )  # fmt: skip


def embeds_markdown(d: Digest) -> str:
    out = []
    for message in render_embeds(d):
        for e in message:
            out += [e.get("title", ""), e.get("description", ""), e["footer"]["text"]
                    if "footer" in e else ""]  # fmt: skip
    return "\n".join(out)


def unmarkdown(text: str) -> str:
    """What Discord shows of our Markdown: escapes, emphasis and link syntax dropped."""
    text = text.replace(ZWSP, "")
    text = re.sub(r"\[([^\]]*)\]\((https://[^)]*)\)", r"\1 \2", text)  # [label](url)
    text = re.sub(r"(?<!\\)\*\*|(?<!\\)_(?=\S)|(?<=\S)(?<!\\)_", "", text)
    return re.sub(r"\\(.)", r"\1", text)


def html_text(page: str) -> str:
    """What a mail client shows of the HTML: tags dropped, entities decoded."""
    body = page.split("<body", 1)[1]
    body = re.sub(r'<a href="([^"]*)"[^>]*>([^<]*)</a>', r"\2 \1", body)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def formats(d: Digest) -> dict[str, str]:
    return {
        "embeds": unmarkdown(embeds_markdown(d)),
        "text file and e-mail text": render_text(d),
        "e-mail html": html_text(render_html(d, chart_src="cid:chart@x", chart_alt="chart")),
    }


DATE = re.compile(r"\w+day \d{1,2} \w+ \d{4}(, \d{2}:\d{2} \w+)?")


def numbers(sentence: str) -> int:
    """How many numbers a reader takes in: a date is one thing, "18 of 24" one share."""
    plain = re.sub(r"\d+ of (the )?\d+", "§", DATE.sub("a date", sentence))
    return len(re.findall(r"\d+", plain)) + plain.count("§")


def context(text: str, found: re.Match[str] | None) -> str:
    return "" if found is None else text[max(0, found.start() - 80) : found.end() + 80]


@pytest.fixture(scope="module")
def digest() -> Digest:
    return rich_digest()


def test_no_jargon_or_raw_codes_in_any_format(digest: Digest) -> None:
    for where, text in formats(digest).items():
        for pattern in BANNED:
            found = re.search(pattern, text, re.IGNORECASE)
            assert found is None, (where, pattern, context(text, found))
        for pattern in RAW_CODES:
            found = re.search(pattern, text)
            assert found is None, (where, pattern, context(text, found))


def test_roles_read_as_people(digest: Digest) -> None:
    text = render_text(digest)
    for line in ("2 of 4 GPs posted.", "3 of 3 nurses posted.", "0 of 3 patients posted.",
                 "GPs, nurses and carers all agree.",
                 "Most GPs agree; most patients disagree."):  # fmt: skip
        assert line in text, line
    assert "Carers are counted with other roles" in text  # one carer: merged, and said so


def test_every_sentence_of_the_view_is_in_every_format(digest: Digest) -> None:
    v = view(digest)
    sentences = v.sentences()
    assert len(sentences) > 60
    for where, text in formats(digest).items():
        flat = " ".join(text.split()).casefold()  # headings may be laid out in capitals
        position = 0
        for sentence in sentences:
            if where == "embeds" and sentence == v.closing:
                continue  # the embeds' footer points at the attached file instead
            found = flat.find(" ".join(sentence.split()).casefold(), position)
            assert found >= 0, (where, sentence, flat[position:position + 300])
            position = found
        for s in digest.stories or ():  # and the stories' own words, whole
            for line in s.text.splitlines():
                assert line in text, (where, line)


def test_each_vote_statement_round_and_meeting_links_back_and_no_story_does(
    digest: Digest,
) -> None:
    urls = [
        "https://discord.com/channels/1234/7/8",
        "https://discord.com/channels/1234/7/9",
        "https://discord.com/channels/1234/7/10",
        "https://discord.com/channels/1234/7/11",
        "https://discord.com/channels/1234/7/12",
        "https://discord.com/events/1234/99",  # upcoming: the event
        "https://discord.com/channels/1234/5/13",  # held: the announcement
    ]
    page = render_html(digest)
    for where, text in formats(digest).items():
        for url in urls:
            assert text.count(url) == 1, (where, url)
        assert len(re.findall(r"https://discord\.com/", text)) == len(urls), where
    assert all(f'href="{url}"' in page for url in urls)
    stories = render_text(digest).split("STORIES YOU MAY SHARE")[1].split("MEETINGS")[0]
    assert "https://" not in stories
    assert "The stories channel is for members only" in stories


def test_the_summary_is_three_to_five_sentences_of_one_number_each(digest: Digest) -> None:
    summary = view(digest).summary
    assert 3 <= len(summary) <= 5, summary
    for sentence in summary:
        assert numbers(sentence) <= 1, sentence
        assert sentence.count(". ") == 0, sentence  # one sentence
    assert summary[0] == "6 of 13 members posted this week."
    assert summary[1] == "18 of 24 members agree that the clinic should open later."
    assert any("Spring gathering" in s for s in summary)
    assert any("late at night" in s and "thanks" in s for s in summary)


def test_no_sentence_carries_more_than_two_numbers(digest: Digest) -> None:
    """Each sentence one claim: the old first item held ten numbers in two sentences."""
    for sentence in view(digest).sentences():
        assert numbers(sentence) <= 2, sentence
