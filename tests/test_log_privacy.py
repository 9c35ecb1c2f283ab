"""The log privacy filter and the error handler's wording, record by record.

The end-to-end proof (a DEBUG run with failing votes) is tests/e2e/test_logs_privacy.py;
these pin each rule, so a change that weakens one fails here with a short example.
"""

from __future__ import annotations

import functools
import io
import logging
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest

from bot import errors_handler, log_privacy
from bot.log_privacy import (
    BODY_REDACTED,
    VOTE_REDACTED,
    PrivacyFilter,
    configure_logging,
    describe_custom_id,
    redact_record,
)

VOTER = 1234567890123456789


def record(name: str, msg: str, *args: Any, exc: BaseException | None = None) -> str:
    """Build a record as ``logging.getLogger(name).debug(msg, *args)`` would, filter it and
    format it as the production handler does."""
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    rec = logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args, exc_info)
    assert PrivacyFilter().filter(rec)
    return logging.Formatter(log_privacy.FORMAT).format(rec)


def vote_event(custom_id: str, **data: Any) -> dict[str, Any]:
    return {"op": 0, "t": "INTERACTION_CREATE", "s": 7, "d": {
        "id": "99", "type": 3, "member": {"user": {"id": str(VOTER), "username": "voter_alpha"}},
        "data": {"custom_id": custom_id, "component_type": 2, **data},
    }}  # fmt: skip


@pytest.mark.parametrize("custom_id", [
    "poll:12:v:3", "poll:12:s", "poll:12:r:ab", "poll:12:rs:ab", "poll:12:sq:2:y",
    "stmt:4:v:17:a", "stmt:4:start",
])  # fmt: skip
def test_a_vote_interaction_event_is_replaced_whole(custom_id: str) -> None:
    event = vote_event(custom_id, values=["3"])
    text = record("discord.gateway", "For Shard ID %s: WebSocket Event: %s", 0, event)
    assert VOTE_REDACTED in text
    assert str(VOTER) not in text and "voter_alpha" not in text and custom_id not in text
    assert event["d"]["data"]["custom_id"] == custom_id  # discord.py's own dict is untouched


def test_other_events_lose_bodies_and_entered_values_only() -> None:
    event = {"t": "INTERACTION_CREATE", "d": {"type": 5, "member": {"user": {"id": "5"}},
             "data": {"custom_id": "story:share:3", "components": [{"components": [
                 {"type": 4, "custom_id": "text", "value": "My private story"}]}]}}}
    text = record("discord.gateway", "WebSocket Event: %s", event)
    assert "My private story" not in text and "story:share:3" in text and "'5'" in text
    msg = {"t": "MESSAGE_CREATE", "d": {"id": "1", "content": "a DM body", "embeds": [{}]}}
    text = record("discord.gateway", "WebSocket Event: %s", msg)
    assert "a DM body" not in text and BODY_REDACTED in text


@pytest.mark.parametrize("url", [
    "https://discord.com/api/v10/channels/1/messages",
    "https://discord.com/api/v10/channels/1/messages/2",
    "https://discord.com/api/v10/channels/1/threads",
    "https://discord.com/api/v10/interactions/3/tok/callback",
    "https://discord.com/api/v10/webhooks/4/tok/messages/@original",
])  # fmt: skip
def test_http_bodies_of_messages_and_interaction_replies_are_dropped(url: str) -> None:
    body = '{"content": "Your vote is recorded: **Aubergine**", "flags": 64}'
    sent = record("discord.http", "%s %s with %s has returned %s", "POST", url, body, 200)
    got = record("discord.http", "%s %s has received %s", "POST", url, {"content": "x y z"})
    for text in (sent, got):
        assert "Aubergine" not in text and "x y z" not in text
        assert "POST" in text and url.split("/api/v10")[1].split("/")[1] in text
    assert sent.endswith("returned 200")


def test_sql_parameters_are_dropped_from_aiosqlite_lines() -> None:
    def execute(sql: str, params: Any) -> None: ...

    call = functools.partial(execute, "INSERT INTO votes VALUES (?, ?)", (VOTER, "agree"))
    text = record("aiosqlite", "executing %s", call)
    assert "INSERT INTO votes" in text and str(VOTER) not in text and "agree" not in text


def test_vote_ids_select_values_and_emails_are_cut_from_any_text_and_traceback() -> None:
    try:
        raise ValueError(f"bad click poll:3:v:1 by {VOTER} for x@example.org")
    except ValueError as exc:
        text = record("some.module", "custom_id %s; data %s", "stmt:2:v:9:d",
                      "{'values': ['1', '2']}", exc=exc)  # fmt: skip
    for secret in ("poll:3:v:1", "stmt:2:v:9:d", "['1', '2']", "x@example.org"):
        assert secret not in text
    assert "poll:3:<redacted>" in text and "Traceback" in text and "ValueError" in text


def test_redaction_is_idempotent_and_survives_a_broken_format() -> None:
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", ("only one",), None)
    redact_record(rec)
    assert rec.getMessage() == "<unformattable log message from x>"
    redact_record(rec)
    assert rec.args is None


def test_configure_logging_filters_every_root_handler() -> None:
    root = logging.getLogger()
    level = root.level
    before = io.StringIO()
    earlier = logging.StreamHandler(before)
    root.addHandler(earlier)
    out = io.StringIO()
    handler = configure_logging("INFO", stream=out)
    try:
        logging.getLogger("hearth.anything").info("clicked %s", "poll:1:v:2")
    finally:
        root.removeHandler(handler)
        root.removeHandler(earlier)
        root.setLevel(level)
        log_privacy.uninstall()
        for h in root.handlers:  # pytest's own handlers got the filter too
            h.removeFilter(log_privacy.FILTER)
    for text in (out.getvalue(), before.getvalue()):
        assert "poll:1:<redacted>" in text and "poll:1:v:2" not in text


@pytest.mark.parametrize(("custom_id", "shown"), [
    ("poll:12:v:3", "poll:12 (v)"),
    ("poll:12:sq:2:y", "poll:12 (sq)"),
    ("poll:12:r:", "poll:12 (r)"),
    ("stmt:4:v:17:a", "stmt:4 (v)"),
    ("story:consent:5:named", "story:consent:5"),
    ("rsvp:8:yes", "rsvp:8"),
    ("title", "title"),
])  # fmt: skip
def test_components_are_described_by_kind_and_id_only(custom_id: str, shown: str) -> None:
    assert describe_custom_id(custom_id) == shown


def _interaction(custom_id: str) -> discord.Interaction[Any]:
    fake = SimpleNamespace(
        command=None, type=discord.InteractionType.component, data={"custom_id": custom_id},
        user=SimpleNamespace(id=VOTER), guild_id=1, channel_id=2, id=3,
    )
    return cast("discord.Interaction[Any]", fake)


async def test_the_error_handler_never_names_a_voter_or_their_option(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the filter (the call site alone): kind and poll id, no user, no option."""
    log_privacy.uninstall()

    async def no_reply(*_a: Any) -> None: ...

    monkeypatch.setattr(errors_handler, "reply_ephemeral", no_reply)
    caplog.set_level(logging.ERROR, logger="bot.errors_handler")
    try:
        raise RuntimeError("database is locked")
    except RuntimeError as exc:
        await errors_handler.handle_interaction_error(_interaction("poll:7:v:2"), exc)
        await errors_handler.handle_interaction_error(_interaction("story:consent:5:named"), exc)
    vote, story = (r.getMessage() for r in caplog.records)
    assert "component poll:7 (v)" in vote and "poll:7:v:2" not in vote
    assert str(VOTER) not in vote
    assert "component story:consent:5" in story and f"user {VOTER}" in story
    assert "named" not in story
    assert caplog.records[0].exc_info is not None  # the traceback is still logged
