"""The permission matrix's rows for collective documents (``/document`` and its components).

Kept beside the matrix so the shared table only lists the rows. A document of community A
is created by the owner once per actor's world (idempotent ``prepare``), with a story told by
the teller that may leave the community (anonymous), so quotes can be proposed.
"""

from __future__ import annotations

from typing import Any

from tests.e2e._matrix import MEMBER, A, Ctx, press
from tests.e2e.story_draft import submit_and_post
from tests.emulator.interactions import InteractionRecord
from tests.emulator.state import MessageState

STORY_TEXT = "The nurse on the night shift explained every tablet to us."


async def a_document(ctx: Ctx) -> int:
    if "document" not in ctx.ids:
        rec = await ctx.slash(
            ctx.world.owner,
            "document create",
            community=A,
            title="Matrix document",
            template="blank",
        )
        assert "Started" in rec.all_text, rec.all_text
        ctx.ids["document"] = int(await ctx.val("SELECT max(id) FROM documents"))
    return int(ctx.ids["document"])


async def _story(ctx: Ctx, teller_key: str) -> int:
    key = f"quotable_{teller_key}"
    if key not in ctx.ids:
        teller = ctx.people[teller_key]
        rec = await ctx.slash(teller, "story share", community=A, consent="anonymous")
        assert rec.modal is not None, rec.all_text
        done = await submit_and_post(
            ctx.emu, teller, rec, {"title": "Night shift", "text": STORY_TEXT}
        )
        assert "Thank you" in done.content, done.content
        ctx.ids[key] = int(await ctx.val("SELECT max(id) FROM stories"))
    return int(ctx.ids[key])


async def a_proposal(ctx: Ctx) -> tuple[int, MessageState]:
    """A fresh proposal by the teller, posted in the document's thread."""
    doc = await a_document(ctx)
    teller = ctx.people["teller"]
    rec = await ctx.slash(teller, "document propose", document=str(doc), section=1)
    assert rec.modal is not None, rec.all_text
    draft = await ctx.emu.submit_modal(teller, rec, {"text": "We explain every tablet."})
    assert draft.reply is not None, draft.all_text
    done = await ctx.emu.click(teller, draft.reply, "doc:draft:submit")
    await done.wait_edits(1)
    pid = int(await ctx.val("SELECT max(id) FROM document_proposals"))
    thread = await ctx.val("SELECT channel_id FROM document_proposals WHERE id = :id", {"id": pid})
    message = await ctx.val("SELECT message_id FROM document_proposals WHERE id = :id", {"id": pid})
    return pid, ctx.emu.get_message(ctx.emu.get_channel(thread), message)


async def act_choice(ctx: Ctx, prep: tuple[int, MessageState]) -> InteractionRecord:
    return await press(ctx, ctx.actor, prep[1], f"doc:p:{prep[0]}:s")


async def check_choice(ctx: Ctx, rec: InteractionRecord, prep: tuple[int, Any]) -> None:
    assert (
        await ctx.val(
            "SELECT count(*) FROM document_choices WHERE proposal_id = :proposal",
            {"proposal": prep[0]},
        ) == 1
    )


async def act_decision(ctx: Ctx, prep: tuple[int, MessageState]) -> InteractionRecord:
    rec = await press(ctx, ctx.actor, prep[1], f"doc:p:{prep[0]}:accept")
    return await rec.wait_final()


async def check_decision(ctx: Ctx, rec: InteractionRecord, prep: tuple[int, Any]) -> None:
    status = await ctx.val("SELECT status FROM document_proposals WHERE id = :id", {"id": prep[0]})
    assert status == "accepted", status


async def quote_request(ctx: Ctx) -> tuple[int, MessageState]:
    """The teller proposes a quote of the member's anonymous story: the member's DM."""
    doc = await a_document(ctx)
    story = await _story(ctx, MEMBER)
    teller = ctx.people["teller"]
    rec = await ctx.slash(teller, "document quote", document=str(doc), story=story, section=1)
    assert rec.modal is not None, rec.all_text
    done = await ctx.emu.submit_modal(teller, rec, {"quote": "explained every tablet"})
    assert "Asked the teller" in done.all_text, done.all_text
    qid = int(await ctx.val("SELECT max(id) FROM document_quotes"))
    return qid, ctx.emu.dms_to(ctx.people[MEMBER])[-1]


async def act_quote_answer(ctx: Ctx, prep: tuple[int, MessageState]) -> InteractionRecord:
    return await press(ctx, ctx.actor, prep[1], f"doc:q:{prep[0]}:yes")


async def check_quote_answer(ctx: Ctx, rec: InteractionRecord, prep: tuple[int, Any]) -> None:
    status = await ctx.val("SELECT status FROM document_quotes WHERE id = :id", {"id": prep[0]})
    assert status == "agreed", status


async def owners_quote_form(ctx: Ctx) -> InteractionRecord:
    doc = await a_document(ctx)
    story = await _story(ctx, "teller")
    rec = await ctx.slash(
        ctx.world.owner, "document quote", document=str(doc), story=story, section=1
    )
    assert rec.modal is not None, rec.all_text
    return rec


async def act_quote_form(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {"quote": "explained every tablet"}
    )
    return done


def quote_proposed(words: str) -> Any:
    async def check(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
        assert (
            await ctx.val(
                "SELECT count(*) FROM document_quotes WHERE proposed_by = :by AND text = :text",
                {"by": ctx.actor.id, "text": words},
            )
            == 1
        ), rec.all_text

    return check


check_quote_form = quote_proposed("explained every tablet")
check_quote_command = quote_proposed("The nurse on the night shift")


async def owners_propose_form(ctx: Ctx) -> InteractionRecord:
    doc = await a_document(ctx)
    rec = await ctx.slash(ctx.world.owner, "document propose", document=str(doc), section=1)
    assert rec.modal is not None, rec.all_text
    return rec


async def act_propose_form(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {"text": "Proposed through the form."}
    )
    return done


async def check_draft_shown(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert "not submitted yet" in rec.all_text, rec.all_text


async def act_quote_command(ctx: Ctx, _: Any) -> InteractionRecord:
    doc = await a_document(ctx)
    story = await _story(ctx, "teller")
    rec = await ctx.slash(ctx.actor, "document quote", document=str(doc), story=story, section=1)
    if rec.modal is None:
        return rec
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, rec, {"quote": "The nurse on the night shift"}
    )
    return done


async def act_propose_command(ctx: Ctx, _: Any) -> InteractionRecord:
    doc = await a_document(ctx)
    rec = await ctx.slash(ctx.actor, "document propose", document=str(doc), section=1)
    if rec.modal is None:
        return rec
    draft = await ctx.emu.submit_modal(ctx.actor, rec, {"text": "Proposed by command."})
    if draft.reply is None or "not submitted yet" not in draft.all_text:
        return draft
    done = await ctx.emu.click(ctx.actor, draft.reply, "doc:draft:submit")
    await done.wait_edits(1)
    return done


async def check_proposed(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert (
        await ctx.val(
            "SELECT count(*) FROM document_proposals WHERE proposed_by = :proposed_by",
            {"proposed_by": ctx.actor.id},
        )
        == 1
    )


async def act_export(ctx: Ctx, _: Any) -> InteractionRecord:
    doc = await a_document(ctx)
    return await ctx.slash(ctx.actor, "document export", document=str(doc), format="markdown")


async def check_exported(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.files and b"# Matrix document" in rec.files[0].data, rec.all_text


async def check_document_created(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val("SELECT count(*) FROM documents WHERE title = 'Matrix created'") == 1
