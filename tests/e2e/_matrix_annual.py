"""The permission matrix's rows for the members' annual report (``/value annual``).

Kept beside the matrix so the shared table only lists the rows. The owner (community A's
facilitator, so also a member) opens A's annual report once per actor's world (idempotent
``prepare``); the components are used on its lounge post, the owner's form, and the member's
quoting choice. The command's own row closes any open report first, so that it can open one.
"""

from __future__ import annotations

from typing import Any

from tests.e2e._matrix import MEMBER, A, Ctx, message_with
from tests.emulator.interactions import InteractionRecord

LOUNGE = "carers-voice-lounge"


async def an_annual_report(ctx: Ctx) -> int:
    if "annual" not in ctx.ids:
        rec = await ctx.slash(ctx.world.owner, "value annual", community=A, closes="in 3 weeks")
        await rec.wait_final()
        assert "Opened" in rec.all_text, rec.all_text
        ctx.ids["annual"] = int(await ctx.val("SELECT max(id) FROM annual_reports"))
        ctx.messages["annual_lounge"] = message_with(ctx, LOUNGE, f"annual:{ctx.ids['annual']}:")
    return int(ctx.ids["annual"])


async def act_answer_button(ctx: Ctx, report: int) -> InteractionRecord:
    rec: InteractionRecord = await ctx.emu.click(
        ctx.actor, ctx.messages["annual_lounge"], f"annual:{report}:answer"
    )
    return rec


async def check_form_shown(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.modal is not None, rec.all_text


async def owners_form(ctx: Ctx) -> InteractionRecord:
    report = await an_annual_report(ctx)
    rec: InteractionRecord = await ctx.emu.click(
        ctx.world.owner, ctx.messages["annual_lounge"], f"annual:{report}:answer"
    )
    assert rec.modal is not None, rec.all_text
    return rec


async def act_form(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {"annual-skills": "Matrix skill"}
    )
    return done


async def check_answer_saved(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    sql = "SELECT skills FROM annual_answers WHERE user_id = :user"
    assert await ctx.val(sql, {"user": ctx.actor.id}) == "Matrix skill"


async def members_quote_choice(ctx: Ctx) -> int:
    """The member has answered; their reply carries the quoting choice."""
    report = await an_annual_report(ctx)
    if "annual_quote" not in ctx.messages:
        member = ctx.people[MEMBER]
        lounge = ctx.messages["annual_lounge"]
        opened = await ctx.emu.click(member, lounge, f"annual:{report}:answer")
        done = await ctx.emu.submit_modal(member, opened, {"annual-feedback": "Matrix words"})
        assert done.reply is not None and "your answer" in done.content, done.content
        ctx.messages["annual_quote"] = done.reply
    return report


async def act_quote(ctx: Ctx, report: int) -> InteractionRecord:
    from tests.e2e._matrix import press

    return await press(
        ctx, ctx.actor, ctx.messages["annual_quote"], f"annual:{report}:quote", ["anonymous"]
    )


async def check_quoted(ctx: Ctx, rec: InteractionRecord, report: int) -> None:
    sql = "SELECT quote_consent FROM annual_answers WHERE report_id = :report AND user_id = :user"
    assert await ctx.val(sql, {"report": report, "user": ctx.actor.id}) == "anonymous"


async def no_open_report(ctx: Ctx) -> None:
    bot = ctx.world.bot
    assert bot is not None
    cog: Any = bot.get_cog("ValueCog")
    for report_id in [
        r[0]
        for r in await ctx.world.db.fetchall(  # type: ignore[union-attr]
            "SELECT id FROM annual_reports WHERE state = 'open'"
        )
    ]:
        # closed quietly (no report DMs: other rows count the actor's DMs with files)
        await cog.annual_reports.service.close(int(report_id))


async def check_opened(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    await rec.wait_final()
    sql = "SELECT count(*) FROM annual_reports WHERE community_id = :c AND state = 'open'"
    assert await ctx.val(sql, {"c": ctx.a_id}) == 1, rec.all_text


async def a_closed_report(ctx: Ctx) -> int:
    """A's report closed (quietly: no report DMs, which other rows would count) and its lounge
    post turned into the closed notice with the facilitators' button."""
    report_id = await an_annual_report(ctx)
    bot = ctx.world.bot
    assert bot is not None
    cog: Any = bot.get_cog("ValueCog")
    service = cog.annual_reports.service
    await service.close(report_id)
    report = await service.get(report_id)
    await cog.annual_reports.close_lounge_post(report, await service.community_of(report))
    ctx.messages["annual_closed"] = message_with(ctx, LOUNGE, f"annual:{report_id}:read")
    return report_id


async def act_read_report(ctx: Ctx, report: int) -> InteractionRecord:
    rec: InteractionRecord = await ctx.emu.click(
        ctx.actor, ctx.messages["annual_closed"], f"annual:{report}:read"
    )
    await rec.wait_final()
    return rec


async def check_report_shown(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.ephemeral and {f.filename.rsplit(".", 1)[-1] for f in rec.files} == {"md", "html"}
