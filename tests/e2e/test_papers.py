"""Papers for comment end to end: a paper shared as a file and one typed in a form; named
and anonymous comments; a member changing their answer; the close by the clock (the author's
DM with the comments, anonymous ones without names or ids, and the community's collective
statement with the right numbers); a restart across the deadline closing exactly once; early
close by the author only; the database holding no link between an anonymous commenter and
their answer; and bad input refused clearly with nothing stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.hearth import HearthWorld
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState

pytestmark = pytest.mark.e2e

COMMUNITY = "Carers Voice"
PDF = b"%PDF-1.4\n% a draft about referral letters\n"


async def _setup(world: HearthWorld) -> dict[str, UserState]:
    users = {n: world.person(n) for n in ("gina", "alice", "bob", "carol", "dan")}
    await world.create_community(
        COMMUNITY, members={u: ("gp" if n == "gina" else "carer") for n, u in users.items()}
    )
    return users


def _lounge_messages(world: HearthWorld) -> list[MessageState]:
    return world.emu.messages_in(world.channel("carers-voice-lounge"))


def _paper_message(world: HearthWorld, paper_id: int) -> MessageState:
    for m in _lounge_messages(world):
        if (
            any(
                e.get("footer", {}).get("text", "").startswith(f"paper #{paper_id}")
                for e in m.embeds
            )
            and "For comment" in m.embeds[0]["title"]
        ):
            return m
    raise AssertionError(f"no message for paper {paper_id}")


def _outcomes(world: HearthWorld) -> list[MessageState]:
    return [
        m
        for m in _lounge_messages(world)
        if m.embeds and m.embeds[0]["title"].startswith("What the group says")
    ]


async def _answer(
    world: HearthWorld,
    user: UserState,
    paper_id: int,
    code: str,
    comment: str = "",
    named: bool = False,
) -> InteractionRecord:
    msg = world.emu.get_message(
        world.channel("carers-voice-lounge"), _paper_message(world, paper_id).id
    )
    rec = await world.emu.click(user, msg, f"paper:{paper_id}:v:{code}")
    assert rec.modal is not None, rec.content
    values: dict[str, Any] = {"comment": comment}
    if named:
        values["credit"] = ["named"]
    return await world.emu.submit_modal(user, rec, values)


def _closed_dms(world: HearthWorld, user: UserState) -> list[MessageState]:
    return [m for m in world.emu.dms_to(user) if "has closed for comment" in m.content]


async def _rows(world: HearthWorld, sql: str, params: Any = ()) -> list[Any]:
    assert world.db is not None
    return await world.db.fetchall(sql, params)


async def test_paper_with_file_named_and_anonymous_comments(world: HearthWorld) -> None:
    u = await _setup(world)
    rec = await world.slash(
        u["gina"],
        "document comment",
        community=COMMUNITY,
        title="Referral letters",
        closes="in 3 days",
        file=("referral-letters.pdf", PDF),
    )
    assert rec.ephemeral and "Shared **Referral letters** (paper #1)" in rec.content, rec.content
    msg = _paper_message(world, 1)
    assert [a.filename for a in msg.attachments] == ["referral-letters.pdf"]
    assert msg.attachments[0].data == PDF  # the draft itself, re-posted with the paper
    assert all_custom_ids(msg.components) == [
        "paper:1:v:a",
        "paper:1:v:c",
        "paper:1:v:d",
        "paper:1:close",
    ]
    assert "0 of 5 members" in str(msg.embeds[0]["fields"])  # the author does not count

    # the author does not answer their own paper; a non-member cannot answer
    own = await world.emu.click(u["gina"], msg, "paper:1:v:a")
    assert own.ephemeral and "your own paper" in own.content
    outsider = world.person("outsider")
    out = await world.emu.click(outsider, msg, "paper:1:v:a")
    assert out.ephemeral and "Only members" in out.content

    r = await _answer(
        world, u["alice"], 1, "a", "Clear and useful for practice nurses.", named=True
    )
    assert "Saved your answer: **Agree**, with your name" in r.content, r.content
    r = await _answer(world, u["bob"], 1, "c", "Say who to call at night.")
    assert "**Agree with changes**, anonymously" in r.content
    r = await _answer(world, u["carol"], 1, "d", "Too long for patients.")
    r = await _answer(world, u["carol"], 1, "c", "Too long for patients; shorten it.")
    assert "Changed your answer to **Agree with changes**" in r.content
    r = await _answer(world, world.owner, 1, "d")

    # open: the paper shows how many have answered, never how
    shown = str(_paper_message(world, 1).embeds[0])
    assert "4 of 5 members" in shown
    assert "Agree with changes" not in shown.replace("**Agree with changes**", "")

    # forensic: while open no row holds a member's id or a readable answer
    for table in ("paper_answers",):
        for row in await _rows(world, f"SELECT * FROM {table}"):
            blob = b"".join(bytes(v) if isinstance(v, bytes) else str(v).encode() for v in row)
            assert str(u["bob"].id).encode() not in blob
            assert b"call at night" not in blob and b"changes" not in blob
    sizes = {len(r["sealed"]) for r in await _rows(world, "SELECT sealed FROM paper_answers")}
    assert len(sizes) == 1  # one padded length: a named answer looks like an anonymous one

    ran = await world.advance(timedelta(days=3))
    assert "papers:close:1" in ran

    statement = (
        "3 of 5 members (60%) agree with the paper, 2 of them with changes. "
        "1 (20%) disagrees; 1 did not answer."
    )
    outcomes = _outcomes(world)
    assert len(outcomes) == 1 and outcomes[0].embeds[0]["description"] == statement
    assert outcomes[0].reference_id == msg.id  # a reply to the paper
    closed = _paper_message_closed(world)
    assert all_custom_ids(closed.components) == ["paper:1:comments"]  # no answer buttons
    assert closed.attachments[0].filename == "referral-letters.pdf"  # the draft stays

    dms = _closed_dms(world, u["gina"])
    assert len(dms) == 1
    dm = dms[0].content
    assert "Referral letters" in dm and statement in dm
    assert "Agree, **alice**: Clear and useful for practice nurses." in dm, dm
    assert "Agree with changes, *anonymous*: Say who to call at night." in dm
    assert "Too long for patients; shorten it." in dm and "Too long for patients." not in dm
    assert "bob" not in dm and "carol" not in dm
    assert str(u["bob"].id) not in dm and str(u["carol"].id) not in dm

    # the author can read the comments again; nobody else can, facilitators included
    again = await world.emu.click(u["gina"], closed, "paper:1:comments")
    assert again.ephemeral and "Say who to call at night." in again.content
    assert "Agree, **alice**" in again.content and "bob" not in again.content
    for other in (u["alice"], world.owner):
        r = await world.emu.click(other, closed, "paper:1:comments")
        assert r.ephemeral and "Only the paper's author" in r.content
        assert "call at night" not in r.content

    # forensic after close: the key and sealed answers are gone; anonymous comments name no one
    paper = (await _rows(world, "SELECT * FROM papers WHERE id = 1"))[0]
    assert paper["ballot_key"] is None and paper["announced_at"] is not None
    assert (paper["agree"], paper["changes"], paper["disagree"], paper["eligible"]) == (1, 2, 1, 5)
    assert await _rows(world, "SELECT * FROM paper_answers") == []
    comments = await _rows(world, "SELECT * FROM paper_comments ORDER BY position")
    assert [(c["answer"], c["user_id"]) for c in comments] == [
        ("agree", u["alice"].id),
        ("changes", None),
        ("changes", None),
    ]
    assert world.db is not None
    for table in await world.db.table_names():
        if table in ("memberships", "papers", "paper_comments") or table.startswith("sqlite"):
            continue
        for row in await world.db.fetchall(f'SELECT * FROM "{table}"'):
            assert str(u["bob"].id) not in " ".join(str(v) for v in row), table

    # the closed paper is a product in the impact log
    products = await _rows(world, "SELECT * FROM products WHERE origin_kind = 'paper'")
    assert [(p["origin_id"], p["title"]) for p in products] == [(1, "Referral letters")]


def _paper_message_closed(world: HearthWorld) -> MessageState:
    return next(
        m
        for m in _lounge_messages(world)
        if m.embeds and m.embeds[0]["title"].startswith("Closed for comment")
    )


async def test_typed_paper_restart_across_deadline_closes_once(world: HearthWorld) -> None:
    u = await _setup(world)
    rec = await world.slash(
        u["alice"],
        "document comment",
        community=COMMUNITY,
        title="Night-time leaflet",
        closes="in 2 hours",
    )
    assert rec.modal is not None, rec.content
    text = "When you go home at night, ring the ward on 0100 if you are worried."
    done = await world.emu.submit_modal(u["alice"], rec, {"text": text})
    assert "Shared **Night-time leaflet** (paper #1)" in done.content, done.content
    msg = _paper_message(world, 1)
    assert msg.embeds[0]["description"] == text.replace(".", ".")
    assert not msg.attachments
    await _answer(world, u["bob"], 1, "a", "Yes, please.")

    await world.stop_bot()
    world.clock.advance(timedelta(hours=3))
    await world.start_bot()
    await world.advance(timedelta(0))
    await world.restart()
    await world.advance(timedelta(minutes=1))

    assert len(_outcomes(world)) == 1
    assert (
        _outcomes(world)[0]
        .embeds[0]["description"]
        .startswith("1 of 5 members (20%) agree with the paper, 0 of them with changes.")
    )
    dms = _closed_dms(world, u["alice"])
    assert len(dms) == 1 and "*anonymous*: Yes, please." in dms[0].content
    assert len(await _rows(world, "SELECT * FROM products WHERE origin_kind = 'paper'")) == 1


async def test_close_now_only_by_author_or_facilitator(world: HearthWorld) -> None:
    u = await _setup(world)
    rec = await world.slash(
        u["gina"],
        "document comment",
        community=COMMUNITY,
        title="Discharge checklist",
        closes="in 2 days",
        file=("checklist.docx", b"PK\x03\x04 draft"),
    )
    assert "Shared" in rec.content, rec.content
    msg = _paper_message(world, 1)
    r = await world.emu.click(u["bob"], msg, "paper:1:close")
    assert "Only the paper's author or a facilitator" in r.content
    assert _outcomes(world) == []
    r = await world.emu.click(u["gina"], msg, "paper:1:close")
    assert "Closed paper #1" in r.content, r.content
    assert len(_outcomes(world)) == 1
    assert (
        "0 of 5 members (0%) agree with the paper." in _outcomes(world)[0].embeds[0]["description"]
    )
    assert "Nobody left a comment" in _closed_dms(world, u["gina"])[0].content
    # the close job does nothing more at the deadline
    await world.advance(timedelta(days=2))
    assert len(_outcomes(world)) == 1


async def test_long_comments_reach_the_author_as_a_file(world: HearthWorld) -> None:
    u = await _setup(world)
    await world.slash(
        u["gina"],
        "document comment",
        community=COMMUNITY,
        title="Care plan",
        closes="in 1 day",
        file=("plan.md", b"# Plan\n"),
    )
    for name in ("alice", "bob", "carol"):
        await _answer(
            world,
            u[name],
            1,
            "c",
            f"{name} says: " + "more detail please. " * 45,
            named=name == "alice",
        )
    await world.advance(timedelta(days=1))
    dm = _closed_dms(world, u["gina"])[0]
    assert "attached file" in dm.content
    md = dm.attachments[0]
    assert md.filename == "paper-1-comments.md"
    body = md.data.decode()
    assert "**alice**: alice says" in body and body.count("**anonymous**") == 2
    assert str(u["bob"].id) not in body


async def test_bad_input_refused_and_nothing_stored(world: HearthWorld) -> None:
    u = await _setup(world)
    base = {"community": COMMUNITY, "title": "Referrals", "closes": "in 3 days"}
    cases: list[tuple[UserState, dict[str, Any], str]] = [
        (u["gina"], {**base, "title": "x" * 101}, "101 characters"),
        (u["gina"], {**base, "title": "   "}, "Give the paper a title"),
        (u["gina"], {**base, "closes": "in 10 minutes"}, "at least an hour"),
        (u["gina"], {**base, "closes": "2027-01-10 10:00"}, "past"),
        (u["gina"], {**base, "closes": "whenever"}, ""),
        (u["gina"], {**base, "file": ("tool.exe", b"MZ")}, "pdf, .docx"),
        (u["gina"], {**base, "file": ("big.pdf", b"%" * (10 * 1024 * 1024 + 1))}, "10 MB"),
        (u["gina"], {**base, "file": ("empty.pdf", b"")}, "empty"),
        (world.person("visitor"), base, "Only members"),
    ]
    for user, options, expected in cases:
        r = await world.slash(user, "document comment", **options)
        assert r.ephemeral and r.modal is None, (options, r.content)
        assert expected in r.content, (options, r.content)
    assert await _rows(world, "SELECT * FROM papers") == []
    assert not [m for m in _lounge_messages(world) if m.embeds and "paper #" in str(m.embeds)]
    # a comment over the limit cannot even be typed: the form's field is capped
    await world.slash(u["gina"], "document comment", **base, file=("a.pdf", PDF))
    rec = await world.emu.click(u["bob"], _paper_message(world, 1), "paper:1:v:a")
    assert rec.modal is not None
    assert '"max_length": 1000' in str(rec.modal).replace("'", '"')


async def test_an_interrupted_announcement_resumes_without_repeats(world: HearthWorld) -> None:
    u = await _setup(world)
    await world.slash(u["gina"], "document comment", community=COMMUNITY, title="Leaflet",
                      closes="in 1 day", file=("leaflet.pdf", PDF))  # fmt: skip
    await _answer(world, u["bob"], 1, "a", "Good.")
    lounge = world.channel("carers-voice-lounge")
    world.emu.fail_route("POST", rf"/channels/{lounge.id}/messages", 403,
                         json={"message": "Missing Access", "code": 50001})  # fmt: skip
    await world.advance(timedelta(days=1))
    assert _outcomes(world) == [] and len(_closed_dms(world, u["gina"])) == 1
    row = (await _rows(world, "SELECT closed_at, announced_at FROM papers"))[0]
    assert row["closed_at"] is not None and row["announced_at"] is None

    ran = await world.advance(timedelta(minutes=15))  # retried later, DM not repeated
    assert "papers:announce:1" in ran
    assert len(_outcomes(world)) == 1 and len(_closed_dms(world, u["gina"])) == 1
    row = (await _rows(world, "SELECT announced_at FROM papers"))[0]
    assert row["announced_at"] is not None
    await world.restart()
    await world.advance(timedelta(hours=1))
    assert len(_outcomes(world)) == 1 and len(_closed_dms(world, u["gina"])) == 1


async def test_an_announcement_left_unfinished_is_finished_at_start(world: HearthWorld) -> None:
    u = await _setup(world)
    await world.slash(u["gina"], "document comment", community=COMMUNITY, title="Leaflet",
                      closes="in 1 day", file=("leaflet.pdf", PDF))  # fmt: skip
    lounge = world.channel("carers-voice-lounge")
    world.emu.fail_route("POST", rf"/channels/{lounge.id}/messages", 403,
                         json={"message": "Missing Access", "code": 50001})  # fmt: skip
    await world.advance(timedelta(days=1))
    assert _outcomes(world) == []
    await world.restart()  # stopped before the retry: the next start finishes it
    assert "papers:announce:1" in await world.advance(timedelta(0))
    assert len(_outcomes(world)) == 1 and len(_closed_dms(world, u["gina"])) == 1


@pytest.mark.sqlite_only("copies and replays the SQLite database file and its WAL")
async def test_a_copy_of_the_data_directory_links_no_one_after_close(
    world: HearthWorld, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A curious admin with the data directory and the installation secret, after the close:
    no file holds the paper's key or a sealed answer, and no state in the WAL has them."""
    from contextlib import closing

    from tests.forensics import commit_states, copy_data_dir, find_bytes, open_image

    u = await _setup(world)
    await world.slash(u["gina"], "document comment", community=COMMUNITY, title="Leaflet",
                      closes="in 1 day", file=("leaflet.pdf", PDF))  # fmt: skip
    await _answer(world, u["bob"], 1, "d", "Anonymous objection.")
    await _answer(world, u["alice"], 1, "a", "Named support.", named=True)
    sealed_key = (await _rows(world, "SELECT ballot_key FROM papers"))[0][0]
    sealed = [bytes(r[0]) for r in await _rows(world, "SELECT sealed FROM paper_answers")]
    await world.advance(timedelta(days=1))
    elsewhere = tmp_path_factory.mktemp("forensics")
    copy = copy_data_dir(world.db_path.parent, elsewhere / "copy")
    needles = {"paper key": bytes(sealed_key)} | {f"answer {i}": s for i, s in enumerate(sealed)}
    assert find_bytes(copy, needles) == []
    scratch = elsewhere / "scratch"
    scratch.mkdir()
    for n, image in enumerate(commit_states(copy / world.db_path.name)):
        with closing(open_image(image, scratch / f"state-{n}.db")) as conn:
            assert conn.execute("SELECT count(*) FROM paper_answers").fetchone()[0] == 0
            assert conn.execute("SELECT ballot_key FROM papers").fetchone()[0] is None
            rows = conn.execute("SELECT comment, user_id FROM paper_comments").fetchall()
            assert {(r[0], r[1]) for r in rows} == {
                ("Named support.", u["alice"].id),
                ("Anonymous objection.", None),
            }
