from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from bot.domain.digest import (
    Digest,
    HeldMeeting,
    LinkedHighlights,
    MemberActivity,
    OpenPoll,
    Period,
    PollOutcome,
    ShareableStory,
    UpcomingMeeting,
    WeekActivity,
    compile_digest,
)
from bot.domain.digest_render import (
    DESCRIPTION_LIMIT,
    TRUNCATION_NOTE,
    ZWSP,
    embed_sections,
    embed_size,
    escape_markdown,
    fit_item,
    md_inline,
    period_label,
    render_embeds,
    render_html,
    render_text,
)

PERIOD = Period(datetime(2025, 5, 5, 8, tzinfo=UTC), datetime(2025, 5, 12, 8, tzinfo=UTC))
IN_PERIOD = datetime(2025, 5, 7, 18, tzinfo=UTC)
EVIL = "@everyone <script>alert(1)</script>"


def members(n: int, name: str = "Member") -> list[MemberActivity]:
    return [
        MemberActivity(
            member_id=i,
            display_name=f"{name} {i}",
            discipline=["gp", "nurse", "patient", "carer"][i % 4],
            joined_at=datetime(2024, 1, 1, tzinfo=UTC),
            hourly_counts={IN_PERIOD: i % 5, PERIOD.start + timedelta(hours=15): i % 2},
            last_active_before=PERIOD.start - timedelta(days=40) if i % 5 == 0 else None,
        )
        for i in range(n)
    ]


def sample_digest(*, late: bool = False, title: str = EVIL) -> Digest:
    return compile_digest(
        "GP Advisors",
        PERIOD,
        [*members(12), MemberActivity(99, "@here_boss", "gp", PERIOD.start, None, {IN_PERIOD: 30})],
        [WeekActivity(PERIOD.start.date() - timedelta(weeks=i), 20, 6) for i in range(4, 0, -1)],
        tz="Europe/London",
        stories=[
            ShareableStory(title, "First line\n# not a heading\n<@123> hi", "Diagnosis", None)
        ],
        kept_story_count=3,
        poll_outcomes=[
            PollOutcome("Should we *meet*?", "9 of 12 members (75%) agree", 9, 12, IN_PERIOD)
        ],
        open_polls=[OpenPoll("Best day?", 4, 12, PERIOD.end + timedelta(days=2))],
        upcoming_meetings=[
            UpcomingMeeting("Spring <meeting>", PERIOD.end + timedelta(days=9), 7, 2, 1)
        ],
        held_meetings=[HeldMeeting("Regional _north_", IN_PERIOD, "We agreed @here", 8, 10)],
        linked=[LinkedHighlights("Patient Voices", ["Waiting times ~~matter~~"])],
        late=late,
    )


# --------------------------------------------------------------------------- escaping


def _markdown(d: Digest) -> str:
    """The embeds' Markdown (Discord renders descriptions as Markdown)."""
    return "\n".join(e.get("description", "") for m in render_embeds(d) for e in m)


def test_markdown_neutralises_mentions_and_html() -> None:
    md = _markdown(sample_digest())
    assert "@everyone" not in md and "@here" not in md and "<@123>" not in md
    assert f"@{ZWSP}everyone" in md
    assert "<script>" not in md
    assert r"\<script\>" in md
    assert r"Should we \*meet\*?" in md
    assert r"Regional \_north\_" in md
    assert "> \\# not a heading" in md  # quoted, and the hash cannot start a heading


def test_html_escapes_user_text() -> None:
    html = render_html(sample_digest(), chart_src="cid:abc@x")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Spring &lt;meeting&gt;" in html
    assert 'src="cid:abc@x"' in html


def test_embeds_neutralise_mentions() -> None:
    text = "\n".join(_all_strings(render_embeds(sample_digest())))
    assert "@everyone" not in text and "@here" not in text and "<@123>" not in text
    assert "<script>" not in text


def test_text_rendering_has_every_section_in_plain_words() -> None:
    txt = render_text(sample_digest())
    for needle in [
        "11 of 13 members posted this week.",
        EVIL,  # plain text is not markup; the e-mail client shows it literally
        "3 more stories stay within the group, as their tellers chose.",
        "9 of 12 members (75%) agree",  # a round from before reports were kept: its words
        "4 of 12 members have voted so far.",
        "7 members are going.",
        "2 more may come.",
        "8 members came.",
        "10 members had said they would go.",
        "@here_boss wrote 30 messages, more than anyone else.",
        "HIGHLIGHTS FROM PATIENT VOICES",
    ]:
        assert needle in txt, needle


def test_late_digest_is_marked_everywhere() -> None:
    d = sample_digest(late=True)
    assert "(late)" in render_html(d)
    assert "late" in render_text(d).splitlines()[0]
    first = render_embeds(d)[0][0]
    assert first["title"].endswith("(late)")
    assert first["color"] != render_embeds(sample_digest())[0][0]["color"]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escape_markdown_is_reversible_and_leaves_no_live_syntax(s: str) -> None:
    escaped = escape_markdown(s)
    assert "@everyone" not in escaped and "@here" not in escaped
    unescaped = re.sub(r"\\(.)", r"\1", escaped.replace("@" + ZWSP, "@"), flags=re.DOTALL)
    assert unescaped == s
    # Every special character is preceded by an odd run of backslashes (i.e. escaped).
    for m in re.finditer(r"[`*_~|<>\[\]#]", escaped):
        run = len(escaped[: m.start()]) - len(escaped[: m.start()].rstrip("\\"))
        assert run % 2 == 1


# --------------------------------------------------------------------------- embeds


def _all_strings(messages: list[list[dict[str, Any]]]) -> list[str]:
    out: list[str] = []
    for message in messages:
        for e in message:
            out += [e.get("title", ""), e.get("description", "")]
            for f in e.get("fields", []):
                out += [f["name"], f["value"]]
            out.append(e.get("footer", {}).get("text", ""))
    return out


def test_embed_size_counts_what_discord_counts() -> None:
    embed = {
        "title": "abc",
        "description": "de",
        "url": "https://example.org/not-counted",
        "color": 123,
        "fields": [{"name": "f", "value": "ghij", "inline": True}],
        "footer": {"text": "kl", "icon_url": "https://x/y.png"},
        "author": {"name": "mno", "url": "https://x"},
        "image": {"url": "attachment://chart.png"},
    }
    assert embed_size(embed) == 3 + 2 + 1 + 4 + 2 + 3
    assert embed_size({}) == 0


def test_small_digest_fits_in_one_message_with_footer() -> None:
    messages = render_embeds(sample_digest())
    assert len(messages) == 1
    assert "footer" in messages[0][-1]
    titles = [e["title"] for e in messages[0]]
    assert titles[1:7] == [
        "Who took part",
        "What the group said",
        "Stories you may share",
        "Meetings",
        "People to thank",
        "People to check in with",
    ]


printable = st.characters(blacklist_categories=["Cs"])
# Hypothesis rarely draws long strings on its own: repeat a random pattern to a random
# length, so digests regularly need several embeds and messages (and some items overflow).
long_text = st.builds(
    lambda pattern, n: (pattern * (n // len(pattern) + 1))[:n],
    st.text(printable, min_size=1, max_size=40),
    st.integers(min_value=1, max_value=6000),
)
short_text = st.text(printable, min_size=1, max_size=300)


@st.composite
def big_digests(draw: st.DrawFn) -> Digest:
    n_members = draw(st.integers(min_value=0, max_value=120))
    new_joiners = draw(st.integers(min_value=0, max_value=n_members))
    roster = [
        MemberActivity(
            member_id=i,
            display_name=draw(st.text(printable, min_size=1, max_size=40)),
            discipline="gp",
            joined_at=IN_PERIOD if i < new_joiners else datetime(2024, 1, 1, tzinfo=UTC),
            hourly_counts={IN_PERIOD: draw(st.integers(min_value=0, max_value=3))},
            last_active_before=PERIOD.start - timedelta(weeks=8),
        )
        for i in range(n_members)
    ]
    return compile_digest(
        draw(short_text),
        PERIOD,
        roster,
        stories=draw(
            st.lists(
                st.builds(
                    ShareableStory, short_text, long_text, short_text, st.none() | short_text
                ),
                max_size=8,
            )
        ),
        kept_story_count=draw(st.integers(min_value=0, max_value=50)),
        poll_outcomes=draw(
            st.lists(
                st.builds(
                    PollOutcome, short_text, long_text, st.just(3), st.just(4), st.just(IN_PERIOD)
                ),
                max_size=5,
            )
        ),
        open_polls=draw(
            st.lists(st.builds(OpenPoll, short_text, st.just(1), st.just(2), st.none()), max_size=5)
        ),
        upcoming_meetings=draw(
            st.lists(
                st.builds(
                    UpcomingMeeting,
                    short_text,
                    st.just(PERIOD.end),
                    st.just(1),
                    st.just(0),
                    st.just(0),
                ),
                max_size=4,
            )
        ),
        held_meetings=draw(
            st.lists(
                st.builds(
                    HeldMeeting,
                    short_text,
                    st.just(IN_PERIOD),
                    st.none() | long_text,
                    st.none(),
                    st.just(2),
                ),
                max_size=4,
            )
        ),
        linked=draw(
            st.lists(
                st.builds(LinkedHighlights, short_text, st.lists(long_text, max_size=6)), max_size=2
            )
        ),
        late=draw(st.booleans()),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(big_digests())
def test_embed_messages_respect_every_discord_limit_and_lose_nothing(digest: Digest) -> None:
    messages = render_embeds(digest)
    assert messages and all(messages)
    event(f"messages: {min(len(messages), 3)}{'+' if len(messages) >= 3 else ''}")
    target(float(sum(embed_size(e) for m in messages for e in m)))
    for message in messages:
        assert len(message) <= 10
        assert sum(embed_size(e) for e in message) <= 6000
        for e in message:
            assert 0 < len(e["title"]) <= 256
            assert len(e.get("description", "")) <= 4096
            assert len(e.get("fields", [])) <= 25
            for f in e.get("fields", []):
                assert 0 < len(f["name"]) <= 256 and 0 < len(f["value"]) <= 1024
            assert len(e.get("footer", {}).get("text", "")) <= 2048
        assert "footer" in message[-1]

    descriptions = [e.get("description", "") for m in messages for e in m]
    text = "\n".join(descriptions)
    # Every item of every section appears whole, in order; only items too big for any
    # embed are cut, and each cut one says so.
    items = [item for section in embed_sections(digest) for item in section.items]
    position = 0
    for item in items:
        shown = fit_item(item)
        found = text.find(shown, position)
        assert found >= 0, item[:80]
        position = found + len(shown)
    oversize = sum(1 for item in items if len(item) > DESCRIPTION_LIMIT)
    assert text.count(TRUNCATION_NOTE) == oversize + sum(
        i.count(TRUNCATION_NOTE) for i in items if len(i) <= DESCRIPTION_LIMIT
    )
    # Independently of the section builder: titles, questions and names all made it.
    for story in digest.stories:
        assert md_inline(story.title) in text
    for poll in digest.poll_outcomes:
        assert md_inline(poll.question) in text
    if digest.participation.joined:
        assert f"{digest.participation.joined} member" in text
    for meeting in digest.upcoming_meetings:
        assert md_inline(meeting.title) in text
    everything = "\n".join(_all_strings(messages))
    assert "@everyone" not in everything and "@here" not in everything


def test_one_enormous_item_is_cut_with_a_pointer_to_the_attachment() -> None:
    story = ShareableStory("Long one", "x" * 9000, "Treatment", "Sam")
    d = compile_digest("C", PERIOD, [], stories=[story])
    descriptions = [e.get("description", "") for m in render_embeds(d) for e in m]
    cut = [desc for desc in descriptions if TRUNCATION_NOTE in desc]
    assert len(cut) == 1
    assert cut[0].startswith("**Long one**\nStage: Treatment.\nTold by Sam.")
    assert len(cut[0]) == DESCRIPTION_LIMIT
    # The attached text file keeps it whole.
    assert "x" * 9000 in render_text(d)


def test_long_list_splits_into_continuation_embeds_and_messages() -> None:
    story_text = "y" * 3000
    d = compile_digest(
        "C",
        PERIOD,
        [],
        stories=[ShareableStory(f"S{i}", story_text, "Stage", None) for i in range(30)],
    )
    messages = render_embeds(d)
    assert len(messages) > 1
    titles = [e["title"] for m in messages for e in m]
    assert titles.count("Stories you may share") == 1
    assert titles.count("Stories you may share (continued)") == 29
    text = "\n".join(e.get("description", "") for m in messages for e in m)
    assert TRUNCATION_NOTE not in text
    assert all(f"**S{i}**" in text for i in range(30))


def test_missing_sources_leave_no_section_anywhere() -> None:
    """A source not available (None) is absent, never a placeholder, in every rendering."""
    d = compile_digest(
        "GP Advisors", PERIOD, members(3),
        stories=None, poll_outcomes=None, open_polls=None,
        upcoming_meetings=None, held_meetings=None,
    )  # fmt: skip
    assert not (d.has_stories or d.has_polls or d.has_meetings)
    titles = [s.title for s in embed_sections(d)]
    assert not {"Stories you may share", "What the group said", "Meetings"} & set(titles)
    for rendered in (_markdown(d), render_text(d), render_html(d)):
        text = rendered.replace("Stories appear here only with their tellers", "")
        for gone in ("Stories", "STORIES", "What the group said", "WHAT THE GROUP SAID",
                     "Meetings", "MEETINGS", "No new stories", "No vote", "No meeting"):
            assert gone not in text
        assert "2 of 3 members posted this week." in text


def test_present_but_empty_sources_say_so() -> None:
    d = compile_digest("GP Advisors", PERIOD, members(3))
    for text in (_markdown(d), render_text(d), render_html(d)):
        assert "No new stories this week." in text
        assert "No vote closed this week, and none is open." in text
        assert "No meeting was held this week, and none is planned." in text


def test_who_joined_or_left_is_counted_and_never_named_in_any_format() -> None:
    roster = [
        MemberActivity(1, "Joiner Jo", "patient", IN_PERIOD),
        MemberActivity(2, "Joiner Kim", "carer", IN_PERIOD),
        MemberActivity(3, "Leaver Lee", "carer", datetime(2024, 1, 1, tzinfo=UTC), IN_PERIOD),
        MemberActivity(4, "Poster Pat", "carer", datetime(2024, 1, 1, tzinfo=UTC), None,
                       {IN_PERIOD: 4}),
    ]  # fmt: skip
    d = compile_digest("Carers", PERIOD, roster, tz="Europe/London")
    embeds = "\n".join(e.get("description", "") for m in render_embeds(d) for e in m)
    for body in (render_html(d), render_text(d), embeds):
        assert "2 members joined." in body and "1 member left." in body
        assert "Joiner" not in body and "Leaver" not in body and "Joined" not in body
        assert "Poster Pat" in body  # a member to thank is still named
    only_left = compile_digest("Carers", PERIOD, roster[2:], tz="Europe/London")
    assert "1 member left." in render_text(only_left)
    quiet = compile_digest("Carers", PERIOD, roster[3:], tz="Europe/London")
    assert "joined" not in render_text(quiet) and " left." not in render_text(quiet)


def test_a_digest_is_labelled_by_its_week_or_its_real_dates() -> None:
    london = "Europe/London"
    assert period_label(PERIOD, london) == "week of 5 May 2025"
    across_dst = Period(datetime(2025, 3, 24, 9, tzinfo=UTC), datetime(2025, 3, 31, 8, tzinfo=UTC))
    assert period_label(across_dst, london) == "week of 24 March 2025"
    partial = Period(PERIOD.start, PERIOD.start + timedelta(days=2, hours=3))
    assert period_label(partial, london) == "5 May 2025 to 7 May 2025"
    same_day = Period(PERIOD.start + timedelta(hours=1), PERIOD.start + timedelta(hours=5))
    assert period_label(same_day, london) == "5 May 2025, 10:00 to 14:00"
    d = compile_digest("GPs", partial, [], tz=london)
    assert render_text(d).startswith("Hearth digest: GPs — 5 May 2025 to 7 May 2025\n")
