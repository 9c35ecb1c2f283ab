"""Red-team attacks on papers for comment, end to end: a long typed draft full of Markdown
(which escaping makes longer than an embed holds) must stay readable whole, open and
closed; a form opened before the deadline and sent after it; the count on the paper when
an answer is changed; a member who leaves during the comment period; and a named commenter
erased with `/privacy forget` after the close, whose comment must not survive in the
database, the author's second reading or anyone's export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.e2e.hearth import HearthWorld
from tests.e2e.test_papers import (
    COMMUNITY,
    _answer,
    _paper_message,
    _rows,
    _setup,
)
from tests.e2e.test_privacy import forget
from tests.emulator.state import MessageState

pytestmark = pytest.mark.e2e

LOUNGE = "carers-voice-lounge"


def _readable(m: MessageState) -> str:
    """Everything a member can read on a message: its embeds and its files."""
    parts = [m.content, json.dumps(m.embeds, ensure_ascii=False)]
    parts += [a.data.decode("utf-8", errors="replace") for a in m.attachments]
    return "\n".join(parts).replace("\\", "")


async def test_a_long_typed_draft_full_of_markdown_stays_whole_open_and_closed(
    world: HearthWorld,
) -> None:
    u = await _setup(world)
    lines = [f"- point {i}: *keep* the_night_line (see #{i})" for i in range(90)]
    draft = "\n".join(lines)
    draft = draft[: 4000 - 40] + "\nEND-OF-DRAFT the last words."
    assert len(draft) <= 4000
    rec = await world.slash(u["gina"], "document comment", community=COMMUNITY,
                            title="Night line", closes="in 2 days")  # fmt: skip
    assert rec.modal is not None, rec.content
    done = await world.emu.submit_modal(u["gina"], rec, {"text": draft})
    await done.wait_final()
    assert "Shared" in done.all_text, done.all_text
    msg = _paper_message(world, 1)
    assert len(msg.embeds[0]["description"]) <= 4096
    assert "END-OF-DRAFT the last words." in _readable(msg)
    [whole] = msg.attachments  # escaped, it does not fit: the whole draft comes as a file
    assert whole.filename == "paper-1-draft.md" and whole.data.decode() == draft
    assert "continues in the attached file" in msg.embeds[0]["description"]
    await world.advance(timedelta(days=2))
    closed = world.emu.get_message(world.channel(LOUNGE), msg.id)
    assert "Closed for comment" in closed.embeds[0]["title"]
    shown = _readable(closed)
    assert "END-OF-DRAFT the last words." in shown and "point 89" in shown, shown[-500:]


async def test_late_form_changed_answer_leaver_and_erased_named_commenter(
    world: HearthWorld,
) -> None:
    u = await _setup(world)
    rec = await world.slash(u["gina"], "document comment", community=COMMUNITY,
                            title="Referral letters", closes="in 2 days",
                            file=("draft.pdf", b"%PDF-1.4 draft\n"))  # fmt: skip
    assert "Shared" in rec.content, rec.content
    msg = _paper_message(world, 1)
    # alice opens the form now and sends it after the deadline
    stale = await world.emu.click(u["alice"], msg, "paper:1:v:a")
    assert stale.modal is not None
    await _answer(world, u["bob"], 1, "c", "BOBNAMED say who to call", named=True)
    await _answer(world, u["carol"], 1, "a", "")
    count = json.dumps(_paper_message(world, 1).embeds[0]["fields"])
    assert "2 of 5 members" in count, count
    # a changed answer does not move the count (it would say someone changed their mind)
    await _answer(world, u["carol"], 1, "d", "CAROLANON too long")
    assert json.dumps(_paper_message(world, 1).embeds[0]["fields"]) == count
    # dan answers, then leaves before the close: he is neither counted nor quoted
    await _answer(world, u["dan"], 1, "d", "DANLEFT no")
    removed = await world.slash(world.owner, "community remove", community=COMMUNITY,
                                member=u["dan"])  # fmt: skip
    await removed.wait_final()

    await world.advance(timedelta(days=2, minutes=1))
    late = await world.emu.submit_modal(u["alice"], stale, {"comment": "ALICELATE"})
    assert late.ephemeral and "closed" in late.content, late.content
    paper = (await _rows(world, "SELECT * FROM papers WHERE id = 1"))[0]
    assert (paper["agree"], paper["changes"], paper["disagree"], paper["eligible"]) == (0, 1, 1, 4)
    comments = await _rows(world, "SELECT comment, user_id FROM paper_comments ORDER BY position")
    assert [(c["comment"], c["user_id"]) for c in comments] == [
        ("BOBNAMED say who to call", u["bob"].id),
        ("CAROLANON too long", None),
    ]
    assert await _rows(world, "SELECT * FROM paper_answers") == []

    # bob erases himself after the close: his named comment goes everywhere but the DM
    # the author already received
    await forget(world, u["bob"])
    comments = await _rows(world, "SELECT comment, user_id FROM paper_comments")
    assert [(c["comment"], c["user_id"]) for c in comments] == [("CAROLANON too long", None)]
    closed = world.emu.get_message(world.channel(LOUNGE), msg.id)
    again = await world.emu.click(u["gina"], closed, "paper:1:comments")
    assert "CAROLANON" in again.content and "BOBNAMED" not in again.content, again.content
    assert "bob" not in again.content
    export = await world.slash(u["gina"], "privacy export")
    await export.wait_final()
    exported = export.all_text + "".join(
        a.data.decode("utf-8", errors="replace") for m in world.emu.dms_to(u["gina"])
        for a in m.attachments
    )  # fmt: skip
    assert "BOBNAMED" not in exported and "ALICELATE" not in exported
    assert world.db is not None
    for table in await world.db.table_names():
        for row in await world.db.fetchall(f'SELECT * FROM "{table}"'):
            text = " ".join(str(v) for v in row)
            assert "BOBNAMED" not in text and "ALICELATE" not in text and "DANLEFT" not in text


async def test_forged_buttons_from_another_server_do_nothing(
    world: HearthWorld,
) -> None:
    """The owner of another server the bot is in (a manager there) presses the paper's
    buttons with a forged interaction carrying their own server: refused, nothing stored."""
    u = await _setup(world)
    rec = await world.slash(u["gina"], "document comment", community=COMMUNITY,
                            title="Referral letters", closes="in 2 days",
                            file=("draft.pdf", b"%PDF-1.4 draft\n"))  # fmt: skip
    assert "Shared" in rec.content, rec.content
    await _answer(world, u["bob"], 1, "c", "BOBCOMMENT shorter", named=True)
    msg = _paper_message(world, 1)
    intruder = world.emu.create_user("intruder")
    other = world.emu.create_guild("Elsewhere", owner=intruder)
    close = await world.emu.click(intruder, msg, "paper:1:close", guild=other)
    assert close.ephemeral and "Only the paper's author or a facilitator" in close.content
    answer = await world.emu.click(intruder, msg, "paper:1:v:a", guild=other)
    assert answer.modal is None and "Only members" in answer.content, answer.content
    paper = (await _rows(world, "SELECT closed_at FROM papers WHERE id = 1"))[0]
    assert paper["closed_at"] is None
    assert len(await _rows(world, "SELECT * FROM paper_answers")) == 1
    await world.advance(timedelta(days=2))
    closed = world.emu.get_message(world.channel(LOUNGE), msg.id)
    read = await world.emu.click(intruder, closed, "paper:1:comments", guild=other)
    assert "Only the paper's author" in read.content and "BOBCOMMENT" not in read.content


async def test_an_erased_authors_draft_does_not_stay_in_the_lounge(
    world: HearthWorld,
) -> None:
    u = await _setup(world)
    rec = await world.slash(u["gina"], "document comment", community=COMMUNITY,
                            title="Night line", closes="in 2 days")  # fmt: skip
    assert rec.modal is not None, rec.content
    done = await world.emu.submit_modal(u["gina"], rec, {"text": "GINADRAFT call 111 at night"})
    await done.wait_final()
    msg = _paper_message(world, 1)
    await forget(world, u["gina"])
    assert await _rows(world, "SELECT * FROM papers") == []  # the database forgot it
    # The paper's message went with it: Discord answers 404 for it now.
    lounge_texts = [_readable(m) for m in world.emu.messages_in(world.channel(LOUNGE))]
    assert msg.id not in [m.id for m in world.emu.messages_in(world.channel(LOUNGE))]
    assert not any("GINADRAFT" in t for t in lounge_texts)
