from __future__ import annotations

import dataclasses
import itertools
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.stories import (
    ANONYMOUS_CREDIT,
    DEFAULT_STAGES,
    TEXT_LIMIT,
    TITLE_LIMIT,
    Cadence,
    Consent,
    PromptSchedule,
    SharedStory,
    Stage,
    Stages,
    StoryRecord,
    auto_title,
    catch_up_run,
    credit_inside,
    describe_schedule,
    missed_run,
    next_due,
    next_prompt,
    parse_cadence,
    parse_consent,
    parse_time_of_day,
    parse_weekday,
    shareable_view,
    validate_captured,
    validate_story,
)
from bot.errors import InvalidInput

LONDON = ZoneInfo("Europe/London")
CREATED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TELLER = 246813579024681357
COMMUNITY = 135792468013579246
STAGES = Stages.from_config(None)


def story(consent: Consent, **kw: object) -> StoryRecord:
    base: dict[str, object] = {
        "id": 42,
        "community_id": COMMUNITY,
        "teller_id": TELLER,
        "title": "Getting the news",
        "text": "Call me on 07700 900123 or mail jo@example.com. Born 12/03/1956.",
        "stage": "tests-and-diagnosis",
        "consent": consent,
        "created_at": CREATED,
        "source_message_link": f"https://discord.com/channels/1/{COMMUNITY}/999",
    }
    base.update(kw)
    return StoryRecord(**base)  # type: ignore[arg-type]


# =========================================================================== consent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("group", Consent.GROUP),
        (" Anonymous ", Consent.ANONYMOUS),
        ("NAMED", Consent.NAMED),
        ("withdrawn", Consent.WITHDRAWN),
        (Consent.NAMED, Consent.NAMED),
    ],
)
def test_parse_consent(raw: str, expected: Consent) -> None:
    assert parse_consent(raw) is expected


def test_parse_consent_unknown_lists_choices() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_consent("public")
    msg = err.value.user_message
    assert "public" in msg
    assert all(c.value in msg for c in Consent)


# =========================================================================== shareable_view


@pytest.mark.parametrize("consent", [Consent.GROUP, Consent.WITHDRAWN])
def test_group_and_withdrawn_never_leave(consent: Consent) -> None:
    assert shareable_view(story(consent), teller_display_name="Jo Bloggs") is None


def test_anonymous_has_no_name_and_is_redacted() -> None:
    shared = shareable_view(story(Consent.ANONYMOUS), teller_display_name="Jo Bloggs")
    assert shared is not None
    assert shared.teller_name is None
    assert shared.text == "Call me on [redacted] or mail [redacted]. Born [redacted]."
    assert shared.title == "Getting the news"
    assert shared.redaction_count == 3
    assert shared.consent is Consent.ANONYMOUS
    assert shared.stage == "tests-and-diagnosis"
    assert "Jo" not in repr(shared)


def test_named_carries_the_display_name() -> None:
    shared = shareable_view(
        story(Consent.NAMED, title="My GP on 01632 960123"), teller_display_name=" Jo  Bloggs "
    )
    assert shared is not None
    assert shared.teller_name == "Jo Bloggs"
    assert shared.title == "My GP on [redacted]"
    assert "07700" not in shared.text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        (str(TELLER), None),
        (f"<@{TELLER}>", None),
        ("jo@example.com", None),
        ("Jo (jo@example.com)", "Jo ([redacted])"),
        ("Jo\x00\x07", "Jo"),
    ],
)
def test_named_display_name_is_cleaned(name: str | None, expected: str | None) -> None:
    shared = shareable_view(story(Consent.NAMED), teller_display_name=name)
    assert shared is not None
    assert shared.teller_name == expected


def test_shared_story_has_no_field_that_could_carry_ids() -> None:
    names = {f.name for f in dataclasses.fields(SharedStory)}
    assert not {n for n in names if "id" in n.split("_") or "link" in n or "url" in n}
    assert names == {
        "title",
        "text",
        "stage",
        "consent",
        "teller_name",
        "created_at",
        "redaction_count",
    }


def test_discord_identifiers_in_text_are_scrubbed() -> None:
    text = (
        f"Thanks <@{TELLER}> and <@!{TELLER}> in <#{COMMUNITY}> and <@&{COMMUNITY}>, "
        f"see https://discord.com/channels/1/2/3 and id {TELLER} :) <:heart:{COMMUNITY}>"
    )
    shared = shareable_view(story(Consent.ANONYMOUS, text=text), teller_display_name=None)
    assert shared is not None
    assert str(TELLER) not in shared.text and str(COMMUNITY) not in shared.text
    assert "discord.com" not in shared.text
    assert ":heart:" in shared.text


def test_story_without_content_never_leaves() -> None:
    assert shareable_view(story(Consent.ANONYMOUS, text=None), teller_display_name=None) is None
    assert shareable_view(story(Consent.NAMED, text=""), teller_display_name="Jo") is None


snowflakes = st.integers(10**16, 2**63 - 1)


@settings(max_examples=60, deadline=None)
@given(
    consent=st.sampled_from(list(Consent)),
    teller=snowflakes,
    community=snowflakes,
    words=st.lists(
        st.sampled_from(
            ["we", "the", "ward", "said", "<@{t}>", "{t}", "{c}", "<#{c}>", "discharge", "10 mg"]
        ),
        max_size=12,
    ),
    name=st.one_of(st.none(), st.text(max_size=30)),
)
def test_shared_view_never_contains_ids(
    consent: Consent, teller: int, community: int, words: list[str], name: str | None
) -> None:
    text = " ".join(words).format(t=teller, c=community) or "a story"
    record = story(consent, teller_id=teller, community_id=community, text=text, title=text[:100])
    shared = shareable_view(record, teller_display_name=name)
    if consent in (Consent.GROUP, Consent.WITHDRAWN):
        assert shared is None
        return
    assert shared is not None
    rendered = " ".join(str(getattr(shared, f.name)) for f in dataclasses.fields(shared))
    assert str(teller) not in rendered
    assert str(community) not in rendered
    if consent is Consent.ANONYMOUS:
        assert shared.teller_name is None


def test_tombstone_keeps_only_id_community_and_when() -> None:
    tomb = story(Consent.NAMED).tombstone()
    assert (tomb.id, tomb.community_id, tomb.created_at) == (42, COMMUNITY, CREATED)
    assert tomb.consent is Consent.WITHDRAWN and tomb.is_tombstone
    assert tomb.teller_id is tomb.title is tomb.text is tomb.stage is tomb.source_message_link
    assert tomb.text is None


def test_story_record_needs_aware_time() -> None:
    with pytest.raises(ValueError):
        story(Consent.GROUP, created_at=datetime(2024, 1, 1))


# =========================================================================== validation


def test_validate_story_strips_and_cleans() -> None:
    title, text = validate_story(
        "  A\tlong\nday \x07 ", "\r\n  First line\r\nsecond\tline\x00\x1b  \n", "treatment", STAGES
    )
    assert title == "A long day"
    assert text == "First line\nsecond\tline"


@pytest.mark.parametrize(
    ("title", "text"),
    [("", "text"), ("   ", "text"), ("t", ""), ("t", " \n\t "), ("\x00\x01", "x"), ("t", "\x07")],
)
def test_validate_story_rejects_empty(title: str, text: str) -> None:
    with pytest.raises(InvalidInput):
        validate_story(title, text, None, STAGES)


def test_limits_are_inclusive_and_messages_give_numbers() -> None:
    validate_story("t" * TITLE_LIMIT, "x" * TEXT_LIMIT, None, STAGES)
    with pytest.raises(InvalidInput) as err:
        validate_story("t" * 123, "x", None, STAGES)
    assert "123" in err.value.user_message and "100" in err.value.user_message
    with pytest.raises(InvalidInput) as err:
        validate_story("t", "x" * 4321, None, STAGES)
    assert "4321" in err.value.user_message and "4000" in err.value.user_message


def test_unknown_stage_suggests_closest_and_lists_all() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_story("t", "x", "Treatmnet", STAGES)
    msg = err.value.user_message
    assert "Did you mean “Treatment”?" in msg
    assert all(label in msg for _, label in DEFAULT_STAGES)
    with pytest.raises(InvalidInput) as err:
        validate_story("t", "x", "zzzz", STAGES)
    assert "Did you mean" not in err.value.user_message


@pytest.mark.parametrize(
    "value", ["treatment", "Treatment", " TREATMENT ", "end-of-life", "End of life", "seeing a gp"]
)
def test_stage_by_slug_or_label(value: str) -> None:
    validate_story("t", "x", value, STAGES)
    assert value in STAGES


# =========================================================================== stages


def test_default_stages() -> None:
    assert len(STAGES) == 10 == len(DEFAULT_STAGES)
    assert STAGES.slugs[0] == "noticing-symptoms"
    assert STAGES.resolve("bereavement") == Stage("bereavement", "Bereavement")
    assert all(len(label) <= 20 for _, label in DEFAULT_STAGES)


def test_stages_from_config_shapes() -> None:
    stages = Stages.from_config(
        [
            "Seeing a GP",
            ["diag", "Diagnosis"],
            {"slug": "care", "label": "Care"},
            {"label": "Après"},
        ]
    )
    assert [s.slug for s in stages] == ["seeing-a-gp", "diag", "care", "apres"]
    assert stages.resolve("Diagnosis").slug == "diag"


@pytest.mark.parametrize(
    "entries",
    [
        [],
        ["A", "a"],
        ["x" * 21],
        [f"Stage {i}" for i in range(21)],
        [["Bad Slug", "Label"]],
        [["a", "b", "c"]],
        [""],
    ],
)
def test_bad_stage_config(entries: list[object]) -> None:
    with pytest.raises(ValueError):
        Stages.from_config(entries)  # type: ignore[arg-type]


def test_autocomplete() -> None:
    assert [s.slug for s in STAGES.autocomplete("")] == STAGES.slugs
    assert [s.label for s in STAGES.autocomplete("tre")] == ["Treatment planning", "Treatment"]
    # label starting first, then a word starting, then anywhere
    assert [s.label for s in STAGES.autocomplete("t")][:3] == [
        "Tests and diagnosis",
        "Treatment planning",
        "Treatment",
    ]
    assert [s.slug for s in STAGES.autocomplete("DIAG")] == ["tests-and-diagnosis"]
    assert [s.slug for s in STAGES.autocomplete("ymp")] == ["noticing-symptoms"]
    assert STAGES.autocomplete("nothing like it") == []
    many = Stages.from_config([f"Stage {i}" for i in range(20)])
    assert len(many.autocomplete("s")) == 20


# =========================================================================== prompts

LIB = ["What surprised you?", "Who helped?", "What would you tell a friend?", "A small win?"]


def test_next_prompt_without_rng_goes_in_order_and_cycles() -> None:
    used: list[int] = []
    for _ in range(9):
        i, text = next_prompt(LIB, used)
        assert text == LIB[i]
        used.append(i)
    assert used == [0, 1, 2, 3, 0, 1, 2, 3, 0]


def test_next_prompt_accepts_texts_and_ignores_unknown_entries() -> None:
    assert next_prompt(LIB, ["Who helped?", "an old prompt", 0, 99])[0] == 2


def test_single_prompt_library_repeats_and_empty_library_is_refused() -> None:
    assert next_prompt(["Only one"], [0, 0, 0]) == (0, "Only one")
    with pytest.raises(InvalidInput):
        next_prompt([], [])


def test_cycle_boundary_avoids_the_last_prompt() -> None:
    # The cycle just completed with prompt 0 last; the new cycle must not start with 0.
    for seed in range(30):
        i, _ = next_prompt(["a", "b"], [1, 0], random.Random(seed))
        assert i == 1


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 12), cycles=st.integers(1, 4), seed=st.integers(0, 2**32))
def test_rotation_property(size: int, cycles: int, seed: int) -> None:
    library = [f"prompt {i}" for i in range(size)]
    rng = random.Random(seed)
    used: list[int] = []
    for _ in range(size * cycles + 1):
        i, text = next_prompt(library, used, rng)
        assert library[i] == text
        used.append(i)
    for c in range(cycles):
        assert sorted(used[c * size : (c + 1) * size]) == list(range(size))
    if size > 1:
        assert all(a != b for a, b in itertools.pairwise(used))
    # Deterministic for a given seed.
    again: list[int] = []
    rng2 = random.Random(seed)
    for _ in range(size * cycles + 1):
        again.append(next_prompt(library, again, rng2)[0])
    assert again == used


def test_library_edited_mid_cycle() -> None:
    # Prompt 1 was removed from config; history refers to it by text.
    history = ["What surprised you?", "Who helped?"]
    new_lib = ["What surprised you?", "What would you tell a friend?", "A small win?"]
    assert next_prompt(new_lib, history)[0] == 1


# =========================================================================== cadence


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_off_is_never_due() -> None:
    assert next_due(Cadence.OFF, 0, time(10), LONDON, utc(2024, 1, 1)) is None


def test_weekly_keeps_wall_time_across_spring_change() -> None:
    # Last Sunday of March 2024 is the 31st: 10:00 GMT then 10:00 BST.
    first = next_due(Cadence.WEEKLY, 6, time(10), LONDON, utc(2024, 3, 20))
    assert first == utc(2024, 3, 24, 10)
    second = next_due("weekly", 6, time(10), LONDON, first)
    assert second == utc(2024, 3, 31, 9)
    assert second is not None and second.astimezone(LONDON).hour == 10
    assert second.tzinfo is UTC


def test_weekly_keeps_wall_time_across_autumn_change() -> None:
    # Last Sunday of October 2024 is the 27th.
    first = next_due(Cadence.WEEKLY, 6, time(10), LONDON, utc(2024, 10, 20, 8))
    assert first == utc(2024, 10, 20, 9)
    assert next_due(Cadence.WEEKLY, 6, time(10), LONDON, first) == utc(2024, 10, 27, 10)


def test_wall_time_in_the_spring_gap_moves_forward() -> None:
    due = next_due(Cadence.WEEKLY, 6, time(1, 30), LONDON, utc(2024, 3, 30))
    assert due == utc(2024, 3, 31, 1, 30)  # 02:30 BST
    assert due.astimezone(LONDON).time() == time(2, 30)


def test_ambiguous_autumn_wall_time_is_the_first_occurrence() -> None:
    due = next_due(Cadence.WEEKLY, 6, time(1, 30), LONDON, utc(2024, 10, 26))
    assert due == utc(2024, 10, 27, 0, 30)  # 01:30 BST, not 01:30 GMT
    after = next_due(Cadence.WEEKLY, 6, time(1, 30), LONDON, due)
    assert after == utc(2024, 11, 3, 1, 30)


def test_due_is_strictly_after() -> None:
    due = utc(2024, 3, 24, 10)
    assert next_due(Cadence.WEEKLY, 6, time(10), LONDON, due - timedelta(seconds=1)) == due
    assert next_due(Cadence.WEEKLY, 6, time(10), LONDON, due) == utc(2024, 3, 31, 9)


def test_monthly_is_first_weekday_of_each_month() -> None:
    # First Tuesdays: 2024-03-05, 2024-04-02 (BST), 2024-05-07.
    after = utc(2024, 3, 5, 20)  # after the March run
    due = next_due(Cadence.MONTHLY, 1, time(19, 30), LONDON, after)
    assert due == utc(2024, 4, 2, 18, 30)
    assert next_due(Cadence.MONTHLY, 1, time(19, 30), LONDON, due) == utc(2024, 5, 7, 18, 30)
    assert next_due(Cadence.MONTHLY, 1, time(19, 30), LONDON, utc(2024, 3, 1)) == utc(
        2024, 3, 5, 19, 30
    )
    # Across the year end.
    assert next_due(Cadence.MONTHLY, 0, time(9), LONDON, utc(2024, 12, 3)) == utc(2025, 1, 6, 9)


def test_fortnightly_relative_to_anchor() -> None:
    anchor = date(2024, 3, 18)  # a Monday; runs on Wednesdays of that week, +2 weeks, ...
    due = next_due(Cadence.FORTNIGHTLY, 2, time(12), LONDON, utc(2024, 3, 18), anchor=anchor)
    assert due == utc(2024, 3, 20, 12)
    due2 = next_due(Cadence.FORTNIGHTLY, 2, time(12), LONDON, due, anchor=anchor)
    assert due2 == utc(2024, 4, 3, 11)  # BST since 31 March
    # An anchor in the odd week shifts the series by one week.
    odd = next_due(
        Cadence.FORTNIGHTLY, 2, time(12), LONDON, utc(2024, 3, 18), anchor=date(2024, 3, 28)
    )
    assert odd == utc(2024, 3, 27, 12)
    with pytest.raises(ValueError):
        next_due(Cadence.FORTNIGHTLY, 2, time(12), LONDON, utc(2024, 3, 18))


def test_next_due_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        next_due(Cadence.WEEKLY, 0, time(10), LONDON, datetime(2024, 1, 1))
    with pytest.raises(ValueError):
        next_due(Cadence.WEEKLY, 7, time(10), LONDON, utc(2024, 1, 1))


@settings(max_examples=80, deadline=None)
@given(
    cadence=st.sampled_from([Cadence.WEEKLY, Cadence.FORTNIGHTLY, Cadence.MONTHLY]),
    weekday=st.integers(0, 6),
    at=st.times(),
    after=st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC)),
    tzname=st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "UTC"]),
    anchor=st.dates(date(2019, 1, 1), date(2031, 1, 1)),
)
def test_next_due_properties(
    cadence: Cadence, weekday: int, at: time, after: datetime, tzname: str, anchor: date
) -> None:
    tz = ZoneInfo(tzname)
    due = next_due(cadence, weekday, at, tz, after, anchor=anchor)
    assert due is not None and due.tzinfo is UTC and due > after
    limit = {Cadence.WEEKLY: 8, Cadence.FORTNIGHTLY: 15, Cadence.MONTHLY: 36}[cadence]
    assert due - after <= timedelta(days=limit)
    local = due.astimezone(tz)
    naive = datetime.combine(local.date(), at)
    if datetime.combine(local.date(), at, tzinfo=tz).astimezone(UTC) == due and (
        naive == local.replace(tzinfo=None)
    ):
        assert local.weekday() == weekday and local.time() == at
    else:  # the wall time fell in a DST gap and moved forward by the gap
        assert timedelta(0) < local.replace(tzinfo=None) - naive <= timedelta(hours=1)
    if cadence is Cadence.MONTHLY:
        assert local.day <= 7
    # Nothing due strictly between after and due.
    assert next_due(cadence, weekday, at, tz, after, anchor=anchor) == due
    just_before = next_due(cadence, weekday, at, tz, due - timedelta(microseconds=1), anchor=anchor)
    assert just_before == due


def test_missed_run() -> None:
    due = utc(2024, 3, 24, 10)
    grace = timedelta(hours=6)
    assert missed_run(due, due, grace)
    assert missed_run(due, due + grace, grace)
    assert not missed_run(due, due + grace + timedelta(seconds=1), grace)
    assert not missed_run(due, due - timedelta(seconds=1), grace)
    with pytest.raises(ValueError):
        missed_run(due, datetime(2024, 3, 24), grace)
    with pytest.raises(ValueError):
        missed_run(due, due, timedelta(hours=-1))


def test_catch_up_run() -> None:
    grace = timedelta(hours=6)
    args = (Cadence.WEEKLY, 6, time(10), LONDON)
    # Down from Saturday to Sunday 12:00: the 10:00 run is posted once on return.
    assert catch_up_run(*args, since=utc(2024, 3, 23), now=utc(2024, 3, 24, 12), grace=grace) == (
        utc(2024, 3, 24, 10)
    )
    # Already posted (since is that run): nothing.
    assert (
        catch_up_run(*args, since=utc(2024, 3, 24, 10), now=utc(2024, 3, 24, 12), grace=grace)
        is None
    )
    # Too old: skipped.
    assert (
        catch_up_run(*args, since=utc(2024, 3, 23), now=utc(2024, 3, 24, 17), grace=grace) is None
    )
    # A long outage over several due times: only the latest, if recent enough.
    assert catch_up_run(*args, since=utc(2024, 1, 1), now=utc(2024, 3, 31, 9, 30), grace=grace) == (
        utc(2024, 3, 31, 9)
    )
    assert (
        catch_up_run(
            Cadence.OFF,
            6,
            time(10),
            LONDON,
            since=utc(2024, 1, 1),
            now=utc(2024, 3, 31),
            grace=grace,
        )
        is None
    )


def test_parsers() -> None:
    assert parse_cadence(" Fortnightly ") is Cadence.FORTNIGHTLY
    with pytest.raises(InvalidInput):
        parse_cadence("daily")
    assert parse_weekday("tue") == 1 and parse_weekday("Sunday") == 6 and parse_weekday(3) == 3
    with pytest.raises(InvalidInput):
        parse_weekday("t")
    with pytest.raises(InvalidInput):
        parse_weekday(7)
    assert parse_time_of_day("19:30") == time(19, 30)
    assert parse_time_of_day("7pm") == time(19)
    assert parse_time_of_day("7:15 am") == time(7, 15)
    assert parse_time_of_day("12am") == time(0)
    assert parse_time_of_day("noon") == time(12) and parse_time_of_day("1930") == time(19, 30)
    for bad in ["7", "25:00", "13pm", "10:61"]:
        with pytest.raises(InvalidInput):
            parse_time_of_day(bad)


# =========================================================================== phase-2 helpers

LONDON = ZoneInfo("Europe/London")


def test_credit_inside_hides_only_anonymous_tellers() -> None:
    assert credit_inside(Consent.GROUP, "Alice") == "Alice"
    assert credit_inside(Consent.NAMED, "Alice\x00 Smith") == "Alice Smith"
    assert credit_inside(Consent.ANONYMOUS, "Alice") == ANONYMOUS_CREDIT
    assert credit_inside(Consent.GROUP, None) == ANONYMOUS_CREDIT


def test_auto_title_is_first_line_cut_at_a_word() -> None:
    assert auto_title("\n  Short first line \nsecond") == "Short first line"
    long = "The nurse who came at night explained every single step of the plan to us twice"
    title = auto_title(long)
    assert title.endswith("…") and len(title) <= 60 and long.startswith(title[:-1])


def test_validate_captured_refuses_empty_and_overlong_messages() -> None:
    stages = Stages.from_config()
    with pytest.raises(InvalidInput, match="no text to save"):
        validate_captured(" \n\t ", stages)
    with pytest.raises(InvalidInput, match="at most 4000"):
        validate_captured("x" * (TEXT_LIMIT + 1), stages)
    title, text = validate_captured("  It helped.\nA lot.  ", stages)
    assert (title, text) == ("It helped.", "It helped.\nA lot.")


def test_schedule_catch_up_uses_last_handled_run() -> None:
    set_at = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
    due = datetime(2027, 1, 13, 10, 0, tzinfo=UTC)
    plan = PromptSchedule(1, Cadence.WEEKLY, 2, time(10, 0), date(2027, 1, 11), set_at)
    grace = timedelta(hours=12)
    assert plan.catch_up(due + timedelta(hours=2), LONDON, grace) == due
    assert plan.catch_up(due + timedelta(hours=13), LONDON, grace) is None
    handled = dataclasses.replace(plan, last_due_at=due)
    assert handled.catch_up(due + timedelta(hours=2), LONDON, grace) is None
    assert plan.next_after(due, LONDON) == due + timedelta(weeks=1)
    assert describe_schedule(plan, "Europe/London") == (
        "weekly, every Wednesday at 10:00 (Europe/London)"
    )
    off = dataclasses.replace(plan, cadence=Cadence.OFF)
    assert off.catch_up(due, LONDON, grace) is None
    assert describe_schedule(off, "Europe/London").startswith("off")
