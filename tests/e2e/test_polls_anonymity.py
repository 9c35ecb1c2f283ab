"""Anonymous polls: nothing the bot sends, edits, DMs or logs links a voter to a choice.

Each voter has a distinctive name and picks an option no one else picks, so any message
(visible to anyone but that voter) or log record that names the voter and the option would
be a link. We scan every REST call the bot made (messages, edits, DMs, interaction replies
and follow-ups, attributing ephemeral ones to the only person who sees them), every message
the emulator holds, and every log record captured while the poll ran and closed.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.hearth import HearthWorld
from tests.e2e.test_polls import create_poll, poll_message, results_messages
from tests.emulator.state import UserState

OPTIONS = ["Aubergine", "Beetroot", "Cabbage", "Damson"]


def _visible_only_to(world: HearthWorld, path: str, body: dict[str, Any] | None) -> int | None:
    """The one user who can see what this call produced, or None if others can too."""
    m = re.match(r"^/interactions/(\d+)/[^/]+/callback", path)
    w = re.match(r"^/webhooks/\d+/([^/]+)", path)
    rec = None
    if m:
        rec = world.emu.interactions.get(int(m.group(1)))
    elif w:
        rec = next((r for r in world.emu.interactions.values() if r.token == w.group(1)), None)
    if rec is None:
        return None
    data = (body or {}).get("data", body) or {}
    flags = int(data.get("flags") or 0) if isinstance(data, dict) else 0
    if flags & 64:
        return rec.user.id
    # an update (type 7) of, or an edit/follow-up on, an ephemeral message
    source = rec.source_message
    if source is not None and source.ephemeral and m and (body or {}).get("type") in (6, 7):
        return rec.user.id
    if w and rec.original is not None and rec.original.ephemeral:
        return rec.user.id
    if rec.type == 4:  # autocomplete choices go only to the person typing
        return rec.user.id
    return None


def _leaks(text: str, voter: UserState, choice: str) -> bool:
    names_voter = str(voter.id) in text or voter.name in text
    return names_voter and choice in text


async def test_no_voter_to_choice_link_anywhere(
    world: HearthWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    voters = [world.person(f"voter_{w}") for w in ("alpha", "bravo", "charlie", "delta")]
    quiet = world.person("voter_echo")
    await world.create_community("Carers Voice", members={p: "carer" for p in [*voters, quiet]})
    await create_poll(world, question="Which vegetable for the stall?",
                      choices="; ".join(OPTIONS), kind="single", closes="in 3 days")
    msg = poll_message(world)
    choice_of = {v.id: OPTIONS[i] for i, v in enumerate(voters)}
    for i, v in enumerate(voters):
        await world.emu.click(v, msg, f"poll:1:v:{(i + 1) % 4}")  # a first vote...
        r = await world.emu.click(v, msg, f"poll:1:v:{i}")  # ...then the real one
        assert "changed" in r.content
    # facilitators and the server owner look at everything they can
    for who in (world.owner,):
        await world.slash(who, "poll results", poll="1")
        await world.emu.autocomplete(world.guild, who, "poll results", focused="poll", value="")
    await world.advance(timedelta(days=2))  # nudge for voter_echo
    assert world.emu.dms_to(quiet)
    await world.advance(timedelta(days=1))  # close
    assert results_messages(world)
    await world.slash(world.owner, "poll results", poll="1")
    await world.restart()
    await world.slash(world.owner, "poll results", poll="1")

    # 1. every REST call the bot made
    scanned = 0
    for call in world.emu.requests:
        if call.method not in ("POST", "PATCH", "PUT"):
            continue
        text = json.dumps(call.json or {}, ensure_ascii=False)
        viewer = _visible_only_to(world, call.path, call.json)
        for v in voters:
            if viewer == v.id:
                continue
            assert not _leaks(text, v, choice_of[v.id]), (call.path, text[:500])
        scanned += 1
    assert scanned > 20
    # 2. every message the emulator holds (public, ephemeral to someone else, DMs)
    for m in world.emu.messages.values():
        text = json.dumps(
            {"c": m.content, "e": m.embeds, "k": m.components}, ensure_ascii=False
        )
        for v in voters:
            if m.visible_to == v.id:
                continue
            assert not _leaks(text, v, choice_of[v.id]), text[:500]
    # 3. every log record
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + " " + repr(record.args) + " " + (record.exc_text or "")
        for v in voters:
            assert not (str(v.id) in text and choice_of[v.id] in text), text
            assert not (str(v.id) in text and re.search(r"\b(ballot|option|choice)\b", text)), (
                text
            )
    # 4. storage: no user id on ballots, and the ballot key is gone after closing
    assert world.db is not None
    rows = await world.db.fetchall("SELECT user_id FROM poll_final_ballots")
    assert len(rows) == 4 and all(r[0] is None for r in rows)
    assert await world.db.fetchval("SELECT COUNT(*) FROM poll_sealed_ballots") == 0
    assert await world.db.fetchval("SELECT ballot_key FROM polls WHERE id = 1") is None
    # the results themselves are right: one vote per option
    [posted] = results_messages(world)
    fields = {f["name"]: f["value"] for f in posted.embeds[0]["fields"]}
    assert all("1 vote of 4 (25%)" in fields[o] for o in OPTIONS)
