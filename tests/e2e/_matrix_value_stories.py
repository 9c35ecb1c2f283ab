"""The permission matrix's rows for value-creation stories (``/value story``,
``/value consent``, ``/value prompt``, the invitation button and the form).

Kept beside the matrix so the shared table only lists the rows. The invitation is posted
once per actor's world (idempotent ``prepare``) through the cog's own poster, as the
scheduler would; the member's value story (for ``/value consent``) likewise.
"""

from __future__ import annotations

from typing import Any

from tests.e2e._matrix import MEMBER, A, Ctx, message_with
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import UserState

LOUNGE = "carers-voice-lounge"
SUBMIT = "value:draft:submit"
ANSWERS = {"immediate": "The matrix call.", "potential": "A matrix idea."}


async def _submit_preview(ctx: Ctx, user: UserState, shown: InteractionRecord) -> InteractionRecord:
    """Press Submit on the preview a form answered with (a refusal is returned as it is)."""
    preview = shown.reply
    if preview is None or SUBMIT not in all_custom_ids(preview.components):
        return shown
    rec: InteractionRecord = await ctx.emu.click(user, preview, SUBMIT)
    await rec.wait_edits(1)
    return rec


async def _told_by(ctx: Ctx, user: UserState, words: str) -> int:
    sql = "SELECT count(*) FROM value_stories WHERE teller_id = :teller AND potential = :words"
    return int(await ctx.val(sql, {"teller": user.id, "words": words}))


# ---------------------------------------------------------------------- /value story


async def act_story(ctx: Ctx, _: Any) -> InteractionRecord:
    rec = await ctx.slash(ctx.actor, "value story", community=A)
    if rec.modal is None:
        return rec
    shown = await ctx.emu.submit_modal(ctx.actor, rec, ANSWERS)
    return await _submit_preview(ctx, ctx.actor, shown)


async def check_story(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await _told_by(ctx, ctx.actor, ANSWERS["potential"]) == 1, rec.all_text


# ---------------------------------------------------------------------- the form


async def owners_form(ctx: Ctx) -> InteractionRecord:
    rec = await ctx.slash(ctx.world.owner, "value story", community=A)
    assert rec.modal is not None, rec.all_text
    return rec


async def act_form(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    shown = await ctx.emu.submit_modal(
        ctx.actor, opened, {**ANSWERS, "potential": "From the owner's form."}
    )
    return await _submit_preview(ctx, ctx.actor, shown)


async def check_form(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await _told_by(ctx, ctx.actor, "From the owner's form.") == 1, rec.all_text


# ---------------------------------------------------------------------- the invitation


async def an_invitation(ctx: Ctx) -> int:
    if "value_invitation" not in ctx.ids:
        bot = ctx.world.bot
        assert bot is not None
        cog: Any = bot.get_cog("ValueCog")
        community = await bot.communities.get(ctx.a_id)
        claim = await cog.stories.invitations.post(community, bot.clock.now())
        assert claim is not None
        ctx.ids["value_invitation"] = claim
        ctx.messages["value_invitation"] = message_with(ctx, LOUNGE, f"value:invite:{claim}")
    return int(ctx.ids["value_invitation"])


async def act_invitation(ctx: Ctx, invitation: int) -> InteractionRecord:
    rec: InteractionRecord = await ctx.emu.click(
        ctx.actor, ctx.messages["value_invitation"], f"value:invite:{invitation}"
    )
    if rec.modal is None:
        return rec
    shown = await ctx.emu.submit_modal(
        ctx.actor, rec, {**ANSWERS, "potential": "From the invitation."}
    )
    return await _submit_preview(ctx, ctx.actor, shown)


async def check_invitation(ctx: Ctx, rec: InteractionRecord, invitation: int) -> None:
    sql = "SELECT invitation_id FROM value_stories WHERE teller_id = :teller AND potential = :words"
    params = {"teller": ctx.actor.id, "words": "From the invitation."}
    assert await ctx.val(sql, params) == invitation, rec.all_text


# ---------------------------------------------------------------------- /value consent


async def members_value_story(ctx: Ctx) -> int:
    if "member_value_story" not in ctx.ids:
        member = ctx.people[MEMBER]
        rec = await ctx.slash(member, "value story", community=A)
        assert rec.modal is not None, rec.all_text
        shown = await ctx.emu.submit_modal(
            member, rec, {**ANSWERS, "potential": "The member's value story."}
        )
        await _submit_preview(ctx, member, shown)
        sql = "SELECT id FROM value_stories WHERE teller_id = :teller AND potential = :words"
        ctx.ids["member_value_story"] = int(
            await ctx.val(sql, {"teller": member.id, "words": "The member's value story."})
        )
    return int(ctx.ids["member_value_story"])


async def act_consent(ctx: Ctx, story: int) -> InteractionRecord:
    return await ctx.slash(ctx.actor, "value consent", story=story, level="named")


async def check_consent(ctx: Ctx, rec: InteractionRecord, story: int) -> None:
    assert await ctx.val(
        "SELECT consent FROM value_stories WHERE id = :id", {"id": story}
    ) == "named"


# ---------------------------------------------------------------------- /value prompt


async def check_prompt(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    sql = "SELECT cadence FROM value_prompt_schedules WHERE community_id = :c"
    assert await ctx.val(sql, {"c": ctx.a_id}) == "monthly", rec.all_text
