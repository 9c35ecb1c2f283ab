"""Logs: no line, at any level, links a voter to a choice; no personal data at INFO; no
message body at DEBUG, including when votes fail.

The bot runs with the logging ``python -m bot`` sets up (:func:`configure_logging`) at
``DEBUG``, the most talkative level an operator can choose (discord.py prints every gateway
event and HTTP body, aiosqlite every statement). Every record it writes is kept as written,
traceback included, and scanned. Members vote in an anonymous single-choice poll (buttons),
a multi-choice poll (a select: the choice is in the values) and a statement round, and
votes fail the ways that reach the error handler: Discord answers the interaction callback
with 10062 Unknown interaction (a late acknowledgement), and SQLite says ``database is
locked`` inside the vote's write or at its ``BEGIN``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bot import log_privacy
from bot.db.database import Database
from bot.log_privacy import configure_logging, is_vote_custom_id
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.story_draft import submit_and_post
from tests.e2e.test_digest import DUE_1, Inbox, digests_in, free_port, setup_community
from tests.e2e.test_polls import create_poll, poll_message
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"
OPTIONS = ["Aubergine", "Beetroot", "Cabbage", "Damson"]
TOPICS = ["Respite breaks", "Night sitters", "Carer cafes", "Benefits advice", "Peer mentors",
          "Hospital parking"]  # fmt: skip
STATEMENTS = [
    "Evening appointments would help working carers",
    "Letters should be written in plain English",
    "Parking at the hospital is too expensive",
]
UNKNOWN_INTERACTION = {"message": "Unknown interaction", "code": 10062}
CALLBACK = r"^/interactions/\d+/[^/]+/callback"
_RECORD = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<name>\S+): ")


class Records(io.StringIO):
    """The handler's stream, keeping each write (one formatted record, traceback and all)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[str] = []

    def write(self, text: str) -> int:
        self.records.append(text)
        return len(text)

    def at_least(self, level: int) -> list[str]:
        out = []
        for text in self.bot_records():
            m = _RECORD.match(text)
            assert m
            if logging.getLevelNamesMapping()[m["level"]] >= level:
                out.append(text)
        return out

    def bot_records(self) -> list[str]:
        """Every record but the test SMTP server's (``mail.log``: another process in life)."""
        out = []
        for text in self.records:
            m = _RECORD.match(text)
            assert m, f"not a Hearth log record: {text[:200]!r}"
            if m["name"] != "mail.log":
                out.append(text)
        return out


@pytest.fixture
def hearth_log() -> Iterator[Records]:
    """What ``HEARTH_LOG_LEVEL=DEBUG python -m bot`` writes (its own logging setup)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = Records()
    handler = configure_logging("DEBUG", stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for h in handlers:  # pytest's own handlers got the filter too; give them back clean
            h.removeFilter(log_privacy.FILTER)
        root.setLevel(level)


@pytest.fixture
async def world(tmp_path: Path, hearth_log: Records) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


class LockedWriter:
    """The writer connection, except that one statement fails as a busy database does."""

    def __init__(self, conn: Any, fails: Callable[[str], bool]) -> None:
        self._conn = conn
        self._fails = fails
        self.failed = 0

    def _check(self, sql: str) -> None:
        if not self.failed and self._fails(sql):
            self.failed += 1
            raise sqlite3.OperationalError("database is locked")

    def execute(self, sql: str, parameters: Any = None) -> Any:
        self._check(sql)
        return self._conn.execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any) -> Any:
        self._check(sql)
        return self._conn.executemany(sql, parameters)

    async def execute_fetchall(self, sql: str, parameters: Any = None) -> Any:
        self._check(sql)
        return await self._conn.execute_fetchall(sql, parameters)

    async def execute_insert(self, sql: str, parameters: Any = None) -> Any:
        self._check(sql)
        return await self._conn.execute_insert(sql, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _head(sql: str) -> str:
    return sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""


def is_write(sql: str) -> bool:
    return _head(sql) in ("INSERT", "UPDATE", "DELETE", "REPLACE")


def is_begin(sql: str) -> bool:
    return _head(sql) == "BEGIN"


@contextlib.contextmanager
def database_locked(db: Database, fails: Callable[[str], bool]) -> Iterator[LockedWriter]:
    real = db._writer
    proxy = LockedWriter(real, fails)
    db._writer = proxy  # type: ignore[assignment]
    try:
        yield proxy
    finally:
        db._writer = real
    assert proxy.failed == 1, "the fault was never injected"


def voice_messages(world: HearthWorld) -> list[MessageState]:
    return [m for m in world.emu.messages_in(world.channel("carers-voice-voice")) if m.components]


def statement_id(flow: MessageState) -> int:
    ids = [c for c in all_custom_ids(flow.components) if c.startswith("stmt:1:v:")]
    assert ids, flow.content
    return int(ids[0].split(":")[3])


async def late_answer(world: HearthWorld, user: UserState, msg: MessageState, cid: str) -> None:
    """Click, and Discord refuses the bot's answer (and its apology) with 10062."""
    rule = world.emu.fail_route("POST", CALLBACK, 404, json=UNKNOWN_INTERACTION, times=2)
    await world.emu.click(user, msg, cid, wait=False)
    await world.emu.wait_for(lambda: rule.times == 0, 5.0, "the answers were never refused")
    # one more round trip so the bot has logged its failure to apologise too
    await world.slash(world.owner, "poll results", poll="1")


async def start_statements(
    world: HearthWorld, user: UserState, round_msg: MessageState
) -> MessageState:
    """Press "Vote on statements": the member's ephemeral flow, at their next statement."""
    start = await world.emu.click(user, round_msg, "stmt:1:start")
    assert start.reply is not None, start.content
    return start.reply


@pytest.mark.sqlite_only("wraps the SQLite writer connection to inject errors")
async def test_no_log_line_links_a_voter_to_a_choice_even_when_votes_fail(
    world: HearthWorld, hearth_log: Records
) -> None:
    emu, db = world.emu, world.db
    assert db is not None
    voters = [world.person(f"voter_{w}") for w in ("alpha", "bravo", "charlie", "delta")]
    alpha, bravo, charlie, delta = voters
    await world.create_community(COMMUNITY, members={v: "carer" for v in voters})
    r = await create_poll(world, question="Which vegetable for the stall?",
                          choices="; ".join(OPTIONS), kind="single", closes="in 3 days")
    assert "Posted" in r.content, r.content
    single = poll_message(world)
    r = await create_poll(world, question="Which topics this spring?",
                          choices="; ".join(TOPICS), kind="multi", closes="in 3 days")
    assert "Posted" in r.content, r.content
    multi = poll_message(world)
    for text in STATEMENTS:
        r = await world.slash(world.owner, "statement add", community=COMMUNITY, text=text)
        assert "Added" in r.content, r.content
    r = await world.slash(world.owner, "statement round", community=COMMUNITY, closes="in 2 days")
    assert "Opened statement round #1" in r.content, r.content
    round_msg = voice_messages(world)[-1]
    assert round_msg is not single and round_msg is not multi

    # (a) late acknowledgement: the vote is stored, Discord refuses the answer with 10062
    await late_answer(world, alpha, single, "poll:1:v:0")
    # (b) the database is locked inside the vote's write: the member gets an apology
    with database_locked(db, is_write):
        r = await emu.click(charlie, single, "poll:1:v:2")
    assert r.content.startswith("Sorry"), r.content
    for i, v in enumerate(voters[1:], start=1):
        r = await emu.click(v, single, f"poll:1:v:{i}")
        assert "recorded" in r.content, r.content
    # the select: the choice is in the values, not in the custom_id
    with database_locked(db, is_write):
        r = await emu.select(delta, multi, "poll:2:s", ["3", "5"])
    assert r.content.startswith("Sorry"), r.content
    for i, v in enumerate(voters):
        r = await emu.select(v, multi, "poll:2:s", [str(i), str(i + 2)])
        assert "recorded" in r.content, r.content

    # statement round: every voter votes on every statement; bravo's first answer comes too
    # late, delta's first vote meets a database locked at BEGIN (the whole batch fails)
    for n, v in enumerate(voters):
        flow = await start_statements(world, v, round_msg)
        fault = {bravo.id: "late", delta.id: "locked"}.get(v.id)
        while flow.components:
            sid = statement_id(flow)
            cid = f"stmt:1:v:{sid}:{'adp'[(n + sid) % 3]}"
            if fault == "late":
                await late_answer(world, v, flow, cid)
                flow = await start_statements(world, v, round_msg)
            elif fault == "locked":
                with database_locked(db, is_begin):
                    r = await emu.click(v, flow, cid)
                assert r.content.startswith("Sorry"), r.content
                flow = await start_statements(world, v, round_msg)
            else:
                r = await emu.click(v, flow, cid)
                assert r.reply is flow
            fault = None
        assert "voted on every statement" in flow.content, flow.content
    await world.advance(timedelta(days=3))  # the round and both polls close

    records = hearth_log.bot_records()
    errors = hearth_log.at_least(logging.WARNING)
    # the faults really reached the error handler's log lines, tracebacks included
    poll_errors = [t for t in errors if "component poll:" in t]
    stmt_errors = [t for t in errors if "component stmt:" in t]
    assert poll_errors and stmt_errors, errors
    assert any("10062" in t and "Traceback" in t for t in poll_errors), poll_errors
    assert any("10062" in t and "Traceback" in t for t in stmt_errors), stmt_errors
    assert any("database is locked" in t and "Traceback" in t for t in poll_errors)
    assert any("database is locked" in t and "Traceback" in t for t in stmt_errors)
    assert any("group commit" in t and "database is locked" in t for t in errors)

    # 1. no record naming a voter (id, name or mention) names a choice: an option, a
    #    statement, or the custom_id of a vote component (which encodes the choice)
    vote_ids = {c for m in emu.messages.values() for c in all_custom_ids(m.components)
                if is_vote_custom_id(c)}  # fmt: skip
    vote_ids |= {str(rec.data.get("custom_id")) for rec in emu.interactions.values()
                 if is_vote_custom_id(rec.data.get("custom_id"))}  # fmt: skip
    assert {"poll:1:v:0", "poll:2:s", "stmt:1:start"} <= vote_ids
    choices = [*OPTIONS, *TOPICS, *STATEMENTS, *vote_ids]
    for text in records:
        for v in voters:
            if str(v.id) in text or v.name in text:
                named = [c for c in choices if c in text]
                assert not named, (v.name, named, text[:2000])
    # 2. stronger: no vote custom_id in any record at all
    for text in records:
        leaked = [c for c in vote_ids if c in text]
        assert not leaked, (leaked, text[:2000])
    # 3. and at INFO and above no member is named at all
    for text in hearth_log.at_least(logging.INFO):
        for v in voters:
            assert v.name not in text, text[:2000]
    assert len(records) > 200  # DEBUG really was on


async def test_no_email_at_info_and_no_message_body_at_debug(
    tmp_path: Path, hearth_log: Records
) -> None:
    port = free_port()
    address = "dana.sponsor@example.org"
    story = "After my husband's second stroke the night carers saved our family"
    extra = {
        "HEARTH_SMTP_URL": f"smtp://127.0.0.1:{port}?tls=none",
        "HEARTH_SMTP_FROM": "hearth@example.org",
    }
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with hearth_world(tmp_path, settings_extra=extra) as world:
            sponsor, alice = world.person("sponsor_dana"), world.person("alice_teller")
            await setup_community(world, sponsor=sponsor, email_to=address,
                                  members={alice: "carer"})  # fmt: skip
            rec = await world.slash(alice, "story share", community=COMMUNITY, consent="named")
            assert rec.modal is not None, rec.content
            sub = await submit_and_post(world.emu, alice, rec, {"title": "Nights", "text": story})
            assert "saved as #1" in sub.content, sub.content
            await world.advance_to(DUE_1)
            assert digests_in(world.emu.dms_to(sponsor))
            dms = [m.content for u in (alice, sponsor, world.owner)
                   for m in world.emu.dms_to(u) if len(m.content) > 30]  # fmt: skip
    finally:
        controller.stop()
    assert [m["To"] for m in inbox.messages] == [address]  # the e-mail really went out
    assert dms  # the welcome DM at least

    info = hearth_log.at_least(logging.INFO)
    assert any("digest e-mail sent" in t for t in info), info
    for text in info:
        assert address not in text, text[:2000]
        for name in ("sponsor_dana", "alice_teller"):
            assert name not in text, text[:2000]
    records = hearth_log.bot_records()
    assert len(records) > 100  # DEBUG really was on
    for text in records:
        assert address not in text, text[:2000]
        assert story not in text, text[:2000]
        for dm in dms:
            assert dm[:60] not in text, (dm[:60], text[:2000])
