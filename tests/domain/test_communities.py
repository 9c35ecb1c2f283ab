"""Community domain: names, slugs, parsing, who may facilitate, and link rules."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.communities import (
    NAME_MAX,
    REGION_MAX,
    Actor,
    Community,
    Discipline,
    Kind,
    Membership,
    can_facilitate,
    channel_name,
    clean_email,
    clean_name,
    clean_region,
    parse_circles,
    parse_discipline,
    parse_kind,
    require_active,
    require_facilitator,
    require_member,
    require_participant,
    slugify,
    validate_link,
)
from bot.errors import InvalidInput, NotAllowed

# Discord text channel names: lowercase, no spaces, 1-100 characters. A fragment that is
# letters/digits joined by single dashes stays valid once "-meetings" or "-patient-circle"
# is appended.
FRAGMENT = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------- slugify


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Carers Voice", "carers-voice"),
        ("  GP   Forum 2 ", "gp-forum-2"),
        ("Soignants Île-de-France", "soignants-ile-de-france"),
        ("Crème Brûlée Club", "creme-brulee-club"),
        ("Straße Gruppe", "strasse-gruppe"),
        ("Ærø Øst", "aero-ost"),
        ("Łódź nurses", "lodz-nurses"),
        ("Carers 💜 Voice", "carers-voice"),
        ("--Carers--Voice--", "carers-voice"),
        ("Carers_Voice", "carers-voice"),
        ("🔥🔥", ""),
        ("!!!", ""),
        ("日本語", ""),
    ],
)
def test_slugify_examples(name: str, slug: str) -> None:
    assert slugify(name) == slug


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_slugify_is_a_valid_channel_fragment_or_empty(text: str) -> None:
    slug = slugify(text)
    if slug:
        assert FRAGMENT.fullmatch(slug), slug
        assert len(slug) <= NAME_MAX
        for purpose in ("lounge", "stories", "voice", "meetings", "patient-circle"):
            name = channel_name(slug, purpose)
            assert len(name) <= 100 and FRAGMENT.fullmatch(name)
    assert slugify(slug) == slug  # idempotent


@settings(max_examples=200)
@given(st.text(max_size=80))
def test_clean_name_accepts_only_names_with_a_usable_slug(text: str) -> None:
    try:
        name = clean_name(text)
    except InvalidInput as exc:
        assert exc.user_message
        return
    assert 1 <= len(name) <= NAME_MAX
    assert name == name.strip() and "  " not in name
    assert not set(name) & {"@", "#", "`"}
    assert FRAGMENT.fullmatch(slugify(name))
    assert clean_name(name) == name  # idempotent


@settings(max_examples=100)
@given(
    st.text(
        alphabet=st.sampled_from("abcdeéèêëàâîïôöùûüçñåøæßłABCDÉÈ0123456789 -'&"),
        min_size=1,
        max_size=NAME_MAX,
    )
)
def test_accented_latin_names_keep_their_letters(text: str) -> None:
    letters = [c for c in text if c.isalnum()]
    slug = slugify(text)
    if letters:
        assert slug, text
        assert FRAGMENT.fullmatch(slug)


# ---------------------------------------------------------------------------- clean_name


def test_clean_name_normalises_whitespace_and_controls() -> None:
    assert clean_name("  Carers \t  Voice\n") == "Carers Voice"
    assert clean_name("Carers\u200bVoice") == "CarersVoice"
    assert clean_name("Cafe\u0301 Club") == "Café Club"  # NFC


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Give the community a name"),
        ("   ", "Give the community a name"),
        ("\u200b\u200b", "Give the community a name"),
        ("x" * (NAME_MAX + 1), f"keep it to {NAME_MAX}"),
        ("@everyone", "cannot contain `@`"),
        ("@here and now", "cannot contain `@`"),
        ("Team #1", "cannot contain"),
        ("`code`", "cannot contain"),
        ("!!! ???", "at least one letter or digit"),
        ("🔥", "at least one letter or digit"),
    ],
)
def test_clean_name_refusals(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        clean_name(raw)


def test_clean_name_at_the_limit() -> None:
    assert clean_name("x" * NAME_MAX) == "x" * NAME_MAX


# ---------------------------------------------------------------------------- parse_*


def test_parse_kind_and_discipline() -> None:
    assert parse_kind(" Practice ") is Kind.PRACTICE
    assert parse_kind("distilling") is Kind.DISTILLING
    assert parse_discipline("GP") is Discipline.GP
    with pytest.raises(InvalidInput, match="reference, practice, distilling"):
        parse_kind("team")
    with pytest.raises(InvalidInput, match="gp, nurse, patient, carer, other"):
        parse_discipline("dentist")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, []),
        ("", []),
        ("   ", []),
        ("all", list(Discipline)),
        ("ALL", list(Discipline)),
        ("gp", [Discipline.GP]),
        ("gp, nurse", [Discipline.GP, Discipline.NURSE]),
        ("nurse;gp nurse", [Discipline.NURSE, Discipline.GP]),
        ("carer,,patient", [Discipline.CARER, Discipline.PATIENT]),
    ],
)
def test_parse_circles(raw: str | None, expected: list[Discipline]) -> None:
    assert parse_circles(raw) == expected


def test_parse_circles_refuses_unknown() -> None:
    with pytest.raises(InvalidInput, match="`dentist` is not a discipline"):
        parse_circles("gp, dentist")


def test_clean_region_and_email() -> None:
    assert clean_region(None) is None
    assert clean_region("   ") is None
    assert clean_region(" Yorkshire ") == "Yorkshire"
    assert clean_region("r" * REGION_MAX) == "r" * REGION_MAX
    with pytest.raises(InvalidInput):
        clean_region("r" * (REGION_MAX + 1))
    assert clean_email(None) is None
    assert clean_email("  ") is None
    assert clean_email(" sam@example.org ") == "sam@example.org"
    for bad in ("sam", "sam@example", "sam@@example.org", "sam @example.org",
                "a" * 250 + "@example.org"):
        with pytest.raises(InvalidInput, match="does not look like an e-mail"):
            clean_email(bad)


# ---------------------------------------------------------------------------- permissions


def community(**kw: object) -> Community:
    base = Community(
        id=1, guild_id=100, name="Carers Voice", slug="carers-voice", kind=Kind.PRACTICE,
        timezone="Europe/London", category_id=None, lounge_id=None, stories_id=None,
        stories_is_forum=False, voice_id=None, meetings_id=None, member_role_id=None,
        facilitator_role_id=None, sponsor_id=None, sponsor_email=None, serves_id=None,
        created_by=7, created_at=NOW, archived_at=None,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def membership(*, facilitator: bool, left: bool = False) -> Membership:
    return Membership(
        community_id=1, user_id=5, discipline=Discipline.GP, region=None,
        is_facilitator=facilitator, joined_at=NOW, left_at=NOW if left else None,
    )


@pytest.mark.parametrize(
    ("manager", "guild", "member", "expected"),
    [
        (True, 100, None, True),  # server manager, not a member
        (True, 999, None, False),  # manager of another server
        (False, 100, None, False),  # stranger
        (False, 100, membership(facilitator=False), False),  # plain member
        (False, 100, membership(facilitator=True), True),  # facilitator
        (False, 100, membership(facilitator=True, left=True), False),  # left facilitator
        (False, 999, membership(facilitator=True), False),  # wrong server
    ],
)
def test_can_facilitate_matrix(
    manager: bool, guild: int, member: Membership | None, expected: bool
) -> None:
    actor = Actor(user_id=5, guild_id=guild, is_manager=manager)
    comm = community()
    assert can_facilitate(actor, comm, member) is expected
    if expected:
        require_facilitator(actor, comm, member)
    else:
        with pytest.raises(NotAllowed, match=r"\*\*Carers Voice\*\*"):
            require_facilitator(actor, comm, member)


def test_require_member_and_active() -> None:
    comm = community()
    require_member(Actor(5, 100, False), comm, membership(facilitator=False))
    require_member(Actor(5, 100, True), comm, None)
    with pytest.raises(NotAllowed, match="Only members"):
        require_member(Actor(5, 100, False), comm, None)
    with pytest.raises(NotAllowed, match="Only members"):
        require_member(Actor(5, 100, False), comm, membership(facilitator=False, left=True))
    with pytest.raises(NotAllowed, match="another server"):
        require_member(Actor(5, 999, True), comm, None)
    require_active(comm)
    with pytest.raises(InvalidInput, match="archived"):
        require_active(community(archived_at=NOW))


def test_validate_link() -> None:
    core = community(id=2, name="Core", kind=Kind.DISTILLING)
    voice = community(id=1)
    validate_link(core, voice)
    with pytest.raises(InvalidInput, match="its own voice"):
        validate_link(core, core)
    with pytest.raises(InvalidInput, match="Only a `distilling`"):
        validate_link(voice, core)
    with pytest.raises(InvalidInput, match="this server"):
        validate_link(core, community(id=3, guild_id=999))
    with pytest.raises(InvalidInput, match="both ways"):
        validate_link(core, community(id=3, kind=Kind.DISTILLING, serves_id=2))


def test_require_participant_is_members_only() -> None:
    comm = community()
    require_participant(Actor(5, 100, False), comm, membership(facilitator=False))
    require_participant(Actor(5, 100, True), comm, membership(facilitator=True))
    for actor, member in (
        (Actor(5, 100, True), None),  # a server manager who is not a member
        (Actor(5, 100, False), None),
        (Actor(5, 100, False), membership(facilitator=False, left=True)),
    ):
        with pytest.raises(NotAllowed, match="Only members of"):
            require_participant(actor, comm, member)
    with pytest.raises(NotAllowed, match="another server"):
        require_participant(Actor(5, 999, False), comm, membership(facilitator=False))
