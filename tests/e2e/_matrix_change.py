"""The permission matrix's rows for significant-change rounds (``/change``).

Kept beside the matrix so the shared table only lists the rows. Community A (kind
distilling, so it selects for itself) gets one round per actor's world, opened by the owner
(idempotent ``prepare``); the teller tells three long stories (two pages of candidates) and
the member one of their own. Selection is opened by running the round's scheduled step
directly (no clock moves, so nothing else in the world falls due).
"""

from __future__ import annotations

from typing import Any

from bot.services.change_rounds import ChangeRoundService
from tests.e2e._matrix import FACILITATOR, MEMBER, A, Ctx, message_with, press
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState

LOUNGE = "carers-voice-lounge"
LONG = "The clinic now calls every carer the day before an appointment. " * 30


def _rid(ctx: Ctx) -> int:
    return int(ctx.ids["change_round"])


async def _tell(ctx: Ctx, who: str, changed: str, title: str) -> int:
    ann = ctx.messages["change_ann"]
    user = ctx.people[who]
    pressed = await ctx.emu.click(user, ann, f"chg:{_rid(ctx)}:tell")
    assert pressed.reply is not None, pressed.content
    picked = await ctx.emu.select(user, pressed.reply, f"chg:{_rid(ctx)}:td", ["0"])
    draft = await ctx.emu.submit_modal(
        user, picked, {"changed": changed[:2400], "why": "It matters.", "title": title}
    )
    assert draft.reply is not None, draft.content
    done = await ctx.emu.click(user, draft.reply, "chg:draft:post")
    assert "kept as #" in done.content, done.content
    return int(await ctx.val("SELECT max(id) FROM change_stories"))


async def a_round(ctx: Ctx) -> MessageState:
    """The round's announcement (opened once per world, with the member's and teller's
    stories)."""
    if "change_round" not in ctx.ids:
        rec = await ctx.slash(ctx.world.owner, "change round", community=A,
                              collect_until="in 2 hours", select_until="in 2 days")  # fmt: skip
        assert "Opened significant-change round" in rec.content, rec.content
        ctx.ids["change_round"] = int(await ctx.val("SELECT max(id) FROM change_rounds"))
        ctx.messages["change_ann"] = message_with(ctx, LOUNGE, f"chg:{_rid(ctx)}:tell")
        for i in range(3):
            ctx.ids[f"change_teller_{i}"] = await _tell(ctx, "teller", LONG, f"Long {i}")
        ctx.ids["change_member_story"] = await _tell(ctx, MEMBER, "We talk now.", "Mine")
    return ctx.messages["change_ann"]


async def act_tell(ctx: Ctx, ann: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, ann, f"chg:{_rid(ctx)}:tell")


async def check_tell(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.reply is not None and f"chg:{_rid(ctx)}:td" in all_custom_ids(rec.components)


async def owners_domain_menu(ctx: Ctx) -> MessageState:
    ann = await a_round(ctx)
    pressed = await ctx.emu.click(ctx.world.owner, ann, f"chg:{_rid(ctx)}:tell")
    assert pressed.reply is not None, pressed.content
    return pressed.reply


async def act_domain(ctx: Ctx, menu: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, menu, f"chg:{_rid(ctx)}:td", ["0"])


async def check_modal(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.modal is not None, rec.all_text


async def owners_tell_form(ctx: Ctx) -> InteractionRecord:
    menu = await owners_domain_menu(ctx)
    rec: InteractionRecord = await ctx.emu.select(ctx.world.owner, menu, f"chg:{_rid(ctx)}:td",
                                                  ["0"])  # fmt: skip
    assert rec.modal is not None, rec.all_text
    return rec


async def act_tell_form(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {"changed": "Matrix change", "why": "Matrix why"}
    )
    return done


async def check_draft(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert "not kept yet" in rec.content, rec.all_text


# ---------------------------------------------------------------------------- selection


async def selection_open(ctx: Ctx) -> MessageState:
    await a_round(ctx)
    if "change_selecting" not in ctx.ids:
        cog: Any = ctx.world.bot.get_cog("ChangeCog")  # type: ignore[union-attr]
        await cog.selection_due(_rid(ctx))
        ctx.ids["change_selecting"] = 1
    return message_with(ctx, LOUNGE, f"chg:{_rid(ctx)}:choose")


async def act_choose(ctx: Ctx, invitation: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, invitation, f"chg:{_rid(ctx)}:choose")


async def check_choose(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert f"chg:{_rid(ctx)}:cd" in all_custom_ids(rec.components), rec.all_text


async def owners_choice_menu(ctx: Ctx) -> MessageState:
    invitation = await selection_open(ctx)
    pressed = await ctx.emu.click(ctx.world.owner, invitation, f"chg:{_rid(ctx)}:choose")
    assert pressed.reply is not None, pressed.content
    return pressed.reply


async def act_choose_domain(ctx: Ctx, menu: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, menu, f"chg:{_rid(ctx)}:cd", ["0"])


async def check_page(ctx: Ctx, rec: InteractionRecord, menu: MessageState) -> None:
    assert "stories" in menu.content and menu.embeds, menu.content


async def owners_candidates(ctx: Ctx) -> MessageState:
    menu = await owners_choice_menu(ctx)
    await ctx.emu.select(ctx.world.owner, menu, f"chg:{_rid(ctx)}:cd", ["0"])
    assert f"chg:{_rid(ctx)}:pg:0:1" in all_custom_ids(menu.components), menu.content
    return menu


async def act_page(ctx: Ctx, page: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, page, f"chg:{_rid(ctx)}:pg:0:1")


async def check_next_page(ctx: Ctx, rec: InteractionRecord, page: MessageState) -> None:
    assert "page 2 of" in page.content, page.content


async def act_pick(ctx: Ctx, page: MessageState) -> InteractionRecord:
    story = str(ctx.ids["change_teller_0"])
    return await press(ctx, ctx.actor, page, f"chg:{_rid(ctx)}:pk:0", [story])


async def owners_reason_form(ctx: Ctx) -> InteractionRecord:
    page = await owners_candidates(ctx)
    story = str(ctx.ids["change_teller_0"])
    rec: InteractionRecord = await ctx.emu.select(
        ctx.world.owner, page, f"chg:{_rid(ctx)}:pk:0", [story]
    )
    assert rec.modal is not None, rec.all_text
    return rec


async def act_reason_form(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {"reason": "It changes how carers are treated."}
    )
    return done


async def check_chosen(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    sql = "SELECT count(*) FROM change_choices WHERE round_id = :round AND user_id = :user"
    assert await ctx.val(sql, {"round": _rid(ctx), "user": ctx.actor.id}) == 1


# ---------------------------------------------------------------------------- commands


async def no_open_round(ctx: Ctx) -> None:
    """Close this world's round (if any) so `/change round` has nothing in its way."""
    service = ctx.world.bot.services.get(ChangeRoundService)  # type: ignore[union-attr]
    for rnd in await service.unfinished_rounds():
        if rnd.community_id == ctx.a_id:
            await service.open_selection(rnd.id)
            await service.close(rnd.id)


async def check_opened(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    sql = "SELECT count(*) FROM change_rounds WHERE community_id = :c AND state = 'collecting'"
    assert await ctx.val(sql, {"c": ctx.a_id}) == 1, rec.all_text


async def members_story(ctx: Ctx) -> int:
    await a_round(ctx)
    return int(ctx.ids["change_member_story"])


async def act_consent(ctx: Ctx, story: int) -> InteractionRecord:
    return await ctx.slash(ctx.actor, "change consent", story=str(story), level="named")


async def check_consent(ctx: Ctx, rec: InteractionRecord, story: int) -> None:
    assert await ctx.val(
        "SELECT consent FROM change_stories WHERE id = :id", {"id": story}
    ) == "named"


async def check_status(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert f"Significant-change round #{_rid(ctx)}" in rec.content, rec.all_text


# ---------------------------------------------------------------------------- closing early



async def check_close_asked(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    """``/change close`` only asks: the confirmation, its buttons, nothing closed."""
    assert rec.ephemeral and "now?" in rec.content, rec.all_text
    assert any(":close:" in c for c in all_custom_ids(rec.components)), rec.all_text
    assert await ctx.val(
        "SELECT state FROM change_rounds WHERE id = :id", {"id": _rid(ctx)}
    ) != "closed"


async def facilitators_close_request(ctx: Ctx) -> MessageState:
    """The facilitator's own ``/change close`` confirmation (asking closes nothing)."""
    await a_round(ctx)
    rec = await ctx.slash(ctx.people[FACILITATOR], "change close", community=A)
    assert rec.reply is not None and "now?" in rec.content, rec.all_text
    return rec.reply


async def act_keep_open(ctx: Ctx, asked: MessageState) -> InteractionRecord:
    [keep] = [c for c in all_custom_ids(asked.components) if c.endswith(":no")]
    return await press(ctx, ctx.actor, asked, keep)


async def check_kept(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert "Nothing was closed" in rec.all_text, rec.all_text
