"""Permission-matrix rows' steps for papers for comment (`/document comment`, its buttons
and forms). Papers are shared by the teller (a member who is never an actor), so the actors
answer someone else's paper; forms opened by the owner are submitted by the actor (forged),
which the handlers must re-check."""

from __future__ import annotations

from typing import Any

from tests.e2e._matrix import MEMBER, A, Ctx, message_with, press
from tests.emulator.interactions import InteractionRecord
from tests.emulator.state import MessageState

PDF = ("draft.pdf", b"%PDF-1.4 matrix draft\n")
LOUNGE = "carers-voice-lounge"


async def _paper(ctx: Ctx, title: str) -> tuple[int, MessageState]:
    rec = await ctx.slash(ctx.people["teller"], "document comment", community=A, title=title,
                          closes="in 3 days", file=PDF)  # fmt: skip
    assert "Shared" in rec.all_text, rec.all_text
    pid = int(await ctx.val("SELECT max(id) FROM papers"))
    return pid, message_with(ctx, LOUNGE, f"paper:{pid}:")


async def a_paper(ctx: Ctx) -> tuple[int, MessageState]:
    return await _paper(ctx, "Matrix paper")


async def act_comment(ctx: Ctx, _: Any) -> InteractionRecord:
    rec: InteractionRecord = await ctx.slash(
        ctx.actor, "document comment", community=A, title="Actor's paper", closes="in 3 days",
        file=PDF,
    )  # fmt: skip
    return rec


async def check_commented(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    n = await ctx.val(
        "SELECT count(*) FROM papers WHERE author_id = :author AND title = 'Actor''s paper'",
        {"author": ctx.actor.id},
    )
    assert n == 1, rec.all_text


async def _my_answer(ctx: Ctx, pid: int) -> Any:
    from bot.db.papers import PaperRepo

    assert ctx.world.db is not None
    return await PaperRepo(ctx.world.db).my_answer(pid, ctx.actor.id)


async def act_answer(ctx: Ctx, prep: tuple[int, MessageState]) -> InteractionRecord:
    pid, msg = prep
    rec = await press(ctx, ctx.actor, msg, f"paper:{pid}:v:c")
    if rec.modal is None:
        return rec
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, rec, {"comment": "Shorter, please."}
    )
    return done


async def check_answered(ctx: Ctx, rec: InteractionRecord, prep: tuple[int, Any]) -> None:
    mine = await _my_answer(ctx, prep[0])
    assert mine is not None and mine.comment == "Shorter, please.", rec.all_text


async def owners_answer_form(ctx: Ctx) -> tuple[int, InteractionRecord]:
    pid, msg = await _paper(ctx, "Form paper")
    rec = await ctx.emu.click(ctx.world.owner, msg, f"paper:{pid}:v:a")
    assert rec.modal is not None, rec.all_text
    return pid, rec


async def act_answer_form(ctx: Ctx, prep: tuple[int, InteractionRecord]) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, prep[1], {"comment": "From the owner's form."}
    )
    return done


async def check_answer_form(ctx: Ctx, rec: InteractionRecord, prep: tuple[int, Any]) -> None:
    mine = await _my_answer(ctx, prep[0])
    assert mine is not None and mine.comment == "From the owner's form.", rec.all_text


async def owners_text_form(ctx: Ctx) -> InteractionRecord:
    rec: InteractionRecord = await ctx.slash(
        ctx.world.owner, "document comment", community=A, title="Typed paper",
        closes="in 3 days",
    )  # fmt: skip
    assert rec.modal is not None, rec.all_text
    return rec


async def act_text_form(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {"text": "A typed draft."}
    )
    return done


async def check_text_form(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    n = await ctx.val(
        "SELECT count(*) FROM papers WHERE author_id = :author AND body = 'A typed draft.'",
        {"author": ctx.actor.id},
    )
    assert n == 1, rec.all_text


async def act_close(ctx: Ctx, prep: tuple[int, MessageState]) -> InteractionRecord:
    return await press(ctx, ctx.actor, prep[1], f"paper:{prep[0]}:close")


async def check_closed(ctx: Ctx, rec: InteractionRecord, prep: tuple[int, Any]) -> None:
    closed = await ctx.val("SELECT closed_at FROM papers WHERE id = :id", {"id": prep[0]})
    assert closed is not None, rec.all_text


async def members_closed_paper(ctx: Ctx) -> tuple[int, MessageState]:
    """The member's own paper, answered by the teller, closed by the owner."""
    rec = await ctx.slash(ctx.people[MEMBER], "document comment", community=A,
                          title="Member's paper", closes="in 3 days", file=PDF)  # fmt: skip
    assert "Shared" in rec.all_text, rec.all_text
    pid = int(await ctx.val("SELECT max(id) FROM papers"))
    lounge = ctx.world.channel(LOUNGE)
    msg = message_with(ctx, LOUNGE, f"paper:{pid}:")
    answer = await ctx.emu.click(ctx.people["teller"], msg, f"paper:{pid}:v:d")
    await ctx.emu.submit_modal(ctx.people["teller"], answer, {"comment": "Not yet."})
    closed = await ctx.emu.click(ctx.world.owner, msg, f"paper:{pid}:close")
    assert "Closed" in closed.all_text, closed.all_text
    return pid, ctx.emu.get_message(lounge, msg.id)


async def act_read_comments(ctx: Ctx, prep: tuple[int, MessageState]) -> InteractionRecord:
    return await press(ctx, ctx.actor, prep[1], f"paper:{prep[0]}:comments")


async def check_read_comments(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.ephemeral and "Not yet." in rec.all_text, rec.all_text
