"""The permission matrix: every slash command, context-menu command and persistent component
of Hearth, run by each of seven actors (see tests/e2e/_matrix.py), through the emulator
against the real bot with every cog loaded.

For each (subject, actor) the table says allowed or refused. Allowed: the action succeeds and
its effect is visible (database rows, messages). Refused: an ephemeral reply saying who may
do it, and NO effect: the database is identical (every table, every row) and the bot made no
mutating REST call other than answering the interaction.

Each actor gets a fresh world; rows run in table order inside it (components and modals
first, then commands, the archive and the erasure last), each row's ``prepare`` done by the
guild owner before the "before" snapshot. Ephemeral flows and modals belong to whoever opened
them, so other actors' clicks and submits there are forged (see _matrix.press): the handlers
must re-check, not trust Discord's visibility. A command, DynamicItem or modal class without a
row fails ``test_the_table_covers_everything``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
import pytest

from bot.db.statements import StatementRepo
from bot.errors_handler import HearthModal
from cogs.digests._views import email_view
from tests.e2e import _matrix_annual as annual
from tests.e2e import _matrix_change as change
from tests.e2e import _matrix_documents as docs
from tests.e2e import _matrix_papers as papers
from tests.e2e import _matrix_products as products
from tests.e2e import _matrix_value_stories as value
from tests.e2e._matrix import (
    ACTORS,
    ASKER,
    EVERYONE,
    FACILITATORS,
    MANAGERS,
    MEMBER,
    PARTICIPANTS,
    READERS,
    SELF,
    SPONSOR,
    SPONSOR_READERS,
    SPONSORS,
    A,
    B,
    Ctx,
    Row,
    allowed_problems,
    build,
    diff,
    is_edit,
    message_with,
    press,
    refusal_problems,
    snapshot,
)
from tests.e2e.hearth import HearthWorld
from tests.e2e.story_draft import post_draft
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import ChannelType, MessageState

LOUNGE = "carers-voice-lounge"


def cmd(command: str, **options: Any) -> Callable[[Ctx, Any], Any]:
    """Run a slash command as the actor; option values may be functions of the context."""

    async def act(ctx: Ctx, _prep: Any) -> InteractionRecord:
        values = {k: (v(ctx) if callable(v) else v) for k, v in options.items()}
        return await ctx.slash(ctx.actor, command, **values)

    return act


def person(key: str) -> Callable[[Ctx], Any]:
    return lambda ctx: ctx.people[key]


def ident(key: str) -> Callable[[Ctx], str]:
    return lambda ctx: str(ctx.ids[key])


async def then_modal(ctx: Ctx, rec: InteractionRecord, values: dict[str, str]) -> InteractionRecord:
    """If the command answered with a modal, fill it in (text fields in order) and submit."""
    if rec.modal is None:
        return rec
    ids = all_custom_ids(rec.modal.get("components") or [])
    filled = dict(zip(ids, values.values(), strict=False))
    # a story's modal answers with a draft: post it (other modals come back unchanged)
    return await post_draft(ctx.emu, ctx.actor, await ctx.emu.submit_modal(ctx.actor, rec, filled))


# ============================================================================ components


async def prompt_message(ctx: Ctx) -> MessageState:
    await ctx.slash(ctx.world.owner, "story prompt", community=A)
    return message_with(ctx, LOUNGE, f"story:share:{ctx.a_id}")


async def act_share_button(ctx: Ctx, msg: MessageState) -> InteractionRecord:
    rec = await press(ctx, ctx.actor, msg, f"story:share:{ctx.a_id}")
    return await then_modal(ctx, rec, {"title": "From the prompt", "text": "It helped."})


async def check_prompt_story(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val(
        "SELECT count(*) FROM stories WHERE teller_id = :teller AND title = 'From the prompt'",
        {"teller": ctx.actor.id},
    ) == 1


async def act_consent_button(ctx: Ctx, _: Any) -> InteractionRecord:
    sid = ctx.ids["member_story"]
    return await press(ctx, ctx.actor, ctx.messages["consent_dm"], f"story:consent:{sid}:anonymous")


async def consent_is(ctx: Ctx, level: str) -> None:
    got = await ctx.val(
        "SELECT consent FROM stories WHERE id = :id", {"id": ctx.ids["member_story"]}
    )
    assert got == level, got


async def members_confined_story(ctx: Ctx) -> tuple[int, MessageState]:
    """The owner saves the member's message from a private thread (narrower than the
    community): stored, not posted, and the member is asked by DM about the audience."""
    thread = ctx.emu.create_channel(ctx.world.guild, "a-private-word",
                                    ChannelType.PRIVATE_THREAD, parent=ctx.world.channel(LOUNGE))
    thread.owner_id = ctx.people[MEMBER].id  # the member's own thread
    said = await ctx.emu.post_message(thread, ctx.people[MEMBER], "Said in a private thread.")
    rec = await ctx.emu.message_command(ctx.world.guild, ctx.world.owner, "Save as story", said)
    assert "not posted" in rec.content, rec.content
    sid = int(await ctx.val("SELECT max(id) FROM stories"))
    dm = ctx.emu.dms_to(ctx.people[MEMBER])[-1]
    assert f"story:audience:{sid}:group" in all_custom_ids(dm.components), dm.components
    return sid, dm


async def act_audience_button(ctx: Ctx, prep: tuple[int, MessageState]) -> InteractionRecord:
    return await press(ctx, ctx.actor, prep[1], f"story:audience:{prep[0]}:group")


async def check_audience_opened(ctx: Ctx, rec: InteractionRecord, prep: Any) -> None:
    row = await ctx.row("SELECT audience_channel_id, post_channel_id FROM stories WHERE id = :id",
                        {"id": prep[0]})
    assert row["audience_channel_id"] is None and row["post_channel_id"], tuple(row)


async def story_list_message(ctx: Ctx) -> MessageState:
    rec = await ctx.slash(ctx.world.owner, "story list", community=A)
    assert rec.reply is not None and "Page 1 of 2" in rec.all_text, rec.all_text
    return rec.reply


async def act_list_page(ctx: Ctx, msg: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, msg, f"story:list:{ctx.a_id}:1:n:")


async def check_list_page(ctx: Ctx, rec: InteractionRecord, msg: MessageState) -> None:
    assert is_edit(rec), rec.response
    assert "Page 2 of 2" in (msg.embeds[0].get("footer") or {}).get("text", ""), msg.embeds


def voted(poll_key: str) -> Callable[[Ctx, InteractionRecord, Any], Any]:
    async def check(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
        assert await ctx.val(
            "SELECT count(*) FROM poll_voters WHERE poll_id = :poll AND user_id = :user",
            {"poll": ctx.ids[f"poll_{poll_key}"], "user": ctx.actor.id},
        ) == 1, "no vote stored"

    return check


def on_poll(poll_key: str, suffix: str, values: list[str] | None = None) -> Any:
    async def act(ctx: Ctx, _: Any) -> InteractionRecord:
        pid = ctx.ids[f"poll_{poll_key}"]
        return await press(ctx, ctx.actor, ctx.messages[f"poll_{poll_key}"],
                           f"poll:{pid}:{suffix}", values)

    return act


async def check_flow_opened(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.ephemeral and rec.components, rec.all_text


async def ranking_flow(ctx: Ctx, first: str | None = None) -> MessageState:
    pid = ctx.ids["poll_ranked"]
    start = await ctx.emu.click(ctx.world.owner, ctx.messages["poll_ranked"], f"poll:{pid}:rank")
    assert start.reply is not None
    if first is not None:
        await ctx.emu.select(ctx.world.owner, start.reply, f"poll:{pid}:r:", [first])
    return start.reply


async def act_rank_pick(ctx: Ctx, flow: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, flow, f"poll:{ctx.ids['poll_ranked']}:r:", ["1"])


async def check_rank_pick(ctx: Ctx, rec: InteractionRecord, flow: MessageState) -> None:
    assert is_edit(rec), rec.response
    assert f"poll:{ctx.ids['poll_ranked']}:rs:1" in all_custom_ids(flow.components)


async def act_rank_submit(ctx: Ctx, flow: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, flow, f"poll:{ctx.ids['poll_ranked']}:rs:0")


async def survey_flow(ctx: Ctx) -> MessageState:
    pid = ctx.ids["poll_survey"]
    start = await ctx.emu.click(ctx.world.owner, ctx.messages["poll_survey"], f"poll:{pid}:survey")
    assert start.reply is not None
    return start.reply


async def act_survey_answer(ctx: Ctx, flow: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, flow, f"poll:{ctx.ids['poll_survey']}:sq:0:y")


async def act_start_voting(ctx: Ctx, _: Any) -> InteractionRecord:
    return await press(ctx, ctx.actor, ctx.messages["round"], f"stmt:{ctx.ids['round']}:start")


async def statement_flow(ctx: Ctx) -> tuple[MessageState, str]:
    rid = ctx.ids["round"]
    start = await ctx.emu.click(ctx.world.owner, ctx.messages["round"], f"stmt:{rid}:start")
    assert start.reply is not None, start.all_text
    [agree] = [c for c in all_custom_ids(start.reply.components) if c.endswith(":a")]
    return start.reply, agree


async def act_statement_vote(ctx: Ctx, prep: tuple[MessageState, str]) -> InteractionRecord:
    return await press(ctx, ctx.actor, prep[0], prep[1])


async def check_statement_vote(ctx: Ctx, rec: InteractionRecord, prep: Any) -> None:
    sid = int(prep[1].split(":")[3])
    assert ctx.world.db is not None
    # Votes are sealed: the repository (holding the round key) finds the actor's own vote.
    round_id = await ctx.val("SELECT round_id FROM statements WHERE id = :id", {"id": sid})
    assert sid in await StatementRepo(ctx.world.db).voted_by(round_id, ctx.actor.id)


async def act_rsvp(ctx: Ctx, _: Any) -> InteractionRecord:
    return await press(ctx, ctx.actor, ctx.messages["rsvp"], f"rsvp:{ctx.ids['meeting']}:going")


async def check_rsvp(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val(
        "SELECT answer FROM meeting_rsvps WHERE meeting_id = :meeting AND user_id = :user",
        {"meeting": ctx.ids["meeting"], "user": ctx.actor.id},
    ) == "going"


async def act_who(ctx: Ctx, _: Any) -> InteractionRecord:
    return await press(ctx, ctx.actor, ctx.messages["rsvp"], f"rsvp:{ctx.ids['meeting']}:who")


async def check_who(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.ephemeral and "Answers for" in rec.content, rec.content


async def notes_reply(ctx: Ctx) -> MessageState:
    owner = ctx.world.owner
    rec = await ctx.slash(owner, "meeting notes", meeting=str(ctx.ids["past_meeting"]))
    assert rec.modal is not None, rec.all_text
    [field] = all_custom_ids(rec.modal["components"])
    saved = await ctx.emu.submit_modal(owner, rec, {field: "We met and talked."})
    assert saved.reply is not None and "Saved the notes" in saved.content, saved.content
    return saved.reply


async def act_attendance(ctx: Ctx, msg: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, msg, f"attend:{ctx.ids['past_meeting']}",
                       [ctx.people[MEMBER]])


async def check_attendance(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    row = await ctx.row(
        "SELECT user_id, marked_by FROM meeting_attendance WHERE meeting_id = :meeting",
        {"meeting": ctx.ids["past_meeting"]},
    )
    assert row is not None and tuple(row) == (ctx.people[MEMBER].id, ctx.actor.id), row


# ============================================================================ commands


async def check_created(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.world.community_row("New Circle") is not None


def text_has(*parts: str) -> Callable[[Ctx, InteractionRecord, Any], Any]:
    async def check(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
        for part in parts:
            assert part in rec.all_text, rec.all_text

    return check


def a_column(column: str, expected: Callable[[Ctx], Any]) -> Any:
    async def check(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
        got = await ctx.val(f"SELECT {column} FROM communities WHERE id = :id", {"id": ctx.a_id})
        assert got == expected(ctx), (column, got)

    return check


def membership_left(key: str, left: bool) -> Any:
    async def check(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
        row = await ctx.row(
            "SELECT left_at FROM memberships WHERE community_id = :community AND user_id = :user",
            {"community": ctx.a_id, "user": ctx.people[key].id},
        )
        assert row is not None and (row["left_at"] is not None) == left, row

    return check


async def act_share(ctx: Ctx, _: Any) -> InteractionRecord:
    rec = await ctx.slash(ctx.actor, "story share", community=A)
    return await then_modal(ctx, rec, {"title": "My own story", "text": "It went well."})


async def check_share(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val(
        "SELECT count(*) FROM stories WHERE teller_id = :teller AND title = 'My own story'",
        {"teller": ctx.actor.id},
    ) == 1


async def own_message(ctx: Ctx) -> MessageState:
    msg: MessageState = await ctx.emu.post_message(
        ctx.world.channel(LOUNGE), ctx.actor, "What I said in the lounge.")
    return msg


async def tellers_message(ctx: Ctx) -> MessageState:
    msg: MessageState = await ctx.emu.post_message(
        ctx.world.channel(LOUNGE), ctx.people["teller"], "What the teller said.")
    return msg


async def act_save(ctx: Ctx, msg: MessageState) -> InteractionRecord:
    rec: InteractionRecord = await ctx.emu.message_command(
        ctx.world.guild, ctx.actor, "Save as story", msg)
    # The author's own words go through the draft: allowed means Post is offered and works.
    return await post_draft(ctx.emu, ctx.actor, rec)


def saved_story_of(key: str | None) -> Any:
    async def check(ctx: Ctx, rec: InteractionRecord, msg: MessageState) -> None:
        teller = ctx.actor if key is None else ctx.people[key]
        got = await ctx.val(
            "SELECT teller_id FROM stories WHERE source_message_id = :source_message",
            {"source_message": msg.id},
        )
        assert got == teller.id, got

    return check


async def count_prompts(ctx: Ctx) -> int:
    return int(await ctx.val("SELECT count(*) FROM story_prompts_posted"))


async def check_prompt(ctx: Ctx, rec: InteractionRecord, before: int) -> None:
    assert await count_prompts(ctx) == before + 1
    message_with(ctx, LOUNGE, f"story:share:{ctx.a_id}")


def a_row_exists(table: str, where: str = "") -> Any:
    async def check(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
        sql = f"SELECT count(*) FROM {table} WHERE community_id = :c {where}"
        assert await ctx.val(sql, {"c": ctx.a_id}), f"no {table} row"

    return check


async def check_poll_closed(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val(
        "SELECT closed_at FROM polls WHERE id = :id", {"id": ctx.ids["poll_to_close"]}
    )


async def check_statement_added(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val(
        "SELECT count(*) FROM statements WHERE author_id = :author AND text = 'We need more time'",
        {"author": ctx.actor.id},
    ) == 1


async def between_rounds(ctx: Ctx) -> int:
    """Close the open round and add two new statements, so a new round can open."""
    cog: Any = ctx.world.bot.get_cog("StatementsCog")  # type: ignore[union-attr]
    assert await cog.close_round(ctx.ids["round"])
    for text in ("Transport costs too much", "Night shifts need cover"):
        await ctx.slash(ctx.people["teller"], "statement add", community=A, text=text)
    return ctx.ids["round"]


async def check_new_round(ctx: Ctx, rec: InteractionRecord, old: int) -> None:
    assert await ctx.val(
        "SELECT count(*) FROM statement_rounds WHERE community_id = :community AND id > :id "
        "AND closed_at IS NULL", {"community": ctx.a_id, "id": old},
    ) == 1


async def an_open_round(ctx: Ctx) -> int:
    """The round `statement close` is aimed at: the one `statement round` opened (for
    facilitators), else one opened now over the statements `between_rounds` added."""
    rid = await ctx.val(
        "SELECT id FROM statement_rounds WHERE community_id = :community AND closed_at IS NULL",
        {"community": ctx.a_id})
    if rid is None:
        rec = await ctx.slash(ctx.world.owner, "statement round", community=A)
        assert "Opened" in rec.all_text, rec.all_text
        rid = await ctx.val("SELECT max(id) FROM statement_rounds")
    return int(rid)


async def check_round_closed(ctx: Ctx, rec: InteractionRecord, rid: int) -> None:
    assert f"Closed statement round #{rid}" in rec.all_text, rec.all_text
    assert await ctx.val("SELECT closed_at FROM statement_rounds WHERE id = :id", {"id": rid})


async def check_statement_report(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    """The full report once the round has closed; turnout only while it is open."""
    is_open = await ctx.val(
        "SELECT closed_at IS NULL FROM statement_rounds WHERE community_id = :community"
        " ORDER BY id DESC LIMIT 1", {"community": ctx.a_id})
    assert rec.ephemeral, rec.all_text
    if is_open:
        assert not rec.embeds and "voted so far" in rec.content, rec.all_text
    else:
        assert rec.embeds and rec.embeds[0]["title"] == "Statement report", rec.all_text


async def check_meeting_scheduled(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val("SELECT count(*) FROM meetings WHERE title = 'Matrix meeting'") == 1


async def act_notes(ctx: Ctx, _: Any) -> InteractionRecord:
    rec = await ctx.slash(ctx.actor, "meeting notes", meeting=str(ctx.ids["past_meeting"]))
    return await then_modal(ctx, rec, {"notes": "Notes by the matrix."})


async def check_notes(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    row = await ctx.row("SELECT notes, notes_by FROM meetings WHERE id = :id",
                        {"id": ctx.ids["past_meeting"]})
    assert tuple(row) == ("Notes by the matrix.", ctx.actor.id), tuple(row)


async def check_cancelled(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val("SELECT status FROM meetings WHERE id = :id",
                         {"id": ctx.ids["cancel_meeting"]}) == "cancelled"


async def check_preview(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.ephemeral and rec.embeds, rec.all_text
    assert A in rec.all_text


async def check_value_report(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.ephemeral and "Your private value report" in rec.all_text, rec.all_text
    assert {f.filename.rsplit(".", 1)[-1] for f in rec.files} == {"html", "md", "png"}


async def check_value_schedule(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.ephemeral and "goes out each month" in rec.content, rec.content
    assert await ctx.val("SELECT cadence FROM value_report_schedules WHERE community_id = :c",
                         {"c": ctx.a_id}) == "monthly"


async def count_digests(ctx: Ctx) -> int:
    return int(await ctx.val(
        "SELECT count(*) FROM digests WHERE community_id = :community", {"community": ctx.a_id}
    ))


async def check_digest_sent(ctx: Ctx, rec: InteractionRecord, before: int) -> None:
    assert "Sent the digest" in rec.content, rec.content
    assert await count_digests(ctx) == before + 1


async def email_button_dm(ctx: Ctx) -> MessageState:
    """The button as it comes under a digest DM, sent to the sponsor directly: the matrix
    world has no mail server (the digest itself is the `digest send` row)."""
    assert ctx.world.bot is not None
    user = await ctx.world.bot.fetch_user(ctx.people[SPONSOR].id)
    sent = await user.send("Your digest", view=email_view(ctx.a_id, stopped=False))
    return next(m for m in ctx.emu.dms_to(ctx.people[SPONSOR]) if m.id == sent.id)


async def act_email_button(ctx: Ctx, msg: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, msg, f"digest:email:{ctx.a_id}:stop")


async def check_emails_stopped(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    await rec.wait_followups(1)
    assert "are stopped" in rec.followups[0].content, rec.all_text
    assert await ctx.val(
        "SELECT sponsor_email_stopped_at FROM communities WHERE id = :id", {"id": ctx.a_id}
    ) is not None


async def check_export(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    [dm] = [m for m in ctx.emu.dms_to(ctx.actor) if m.attachments]
    assert dm.attachments[0].filename.endswith(".json"), dm.attachments


async def check_forget_asked(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert rec.ephemeral, rec.all_text
    assert f"privacy:forget:{ctx.actor.id}:confirm" in all_custom_ids(rec.components)


async def forget_request(ctx: Ctx) -> MessageState:
    rec = await ctx.slash(ctx.people[MEMBER], "privacy forget")
    assert rec.reply is not None
    return rec.reply


async def act_forget_confirm(ctx: Ctx, msg: MessageState) -> InteractionRecord:
    return await press(ctx, ctx.actor, msg, f"privacy:forget:{ctx.people[MEMBER].id}:confirm")


async def check_member_erased(ctx: Ctx, rec: InteractionRecord, msg: MessageState) -> None:
    await rec.wait_edits(1)  # 'Erasing…', then the outcome
    assert "Done." in msg.content, msg.content
    assert await ctx.val("SELECT count(*) FROM memberships WHERE user_id = :user",
                         {"user": ctx.people[MEMBER].id}) == 0


# ---------------------------------------------------------------------------- modals
# A modal is shown only to the person who ran the command, but its submit handler must still
# re-check (the person may have been removed meanwhile): the owner opens it, the actor submits.


async def owners_share_modal(ctx: Ctx) -> InteractionRecord:
    rec = await ctx.slash(ctx.world.owner, "story share", community=A)
    assert rec.modal is not None, rec.all_text
    return rec


async def act_share_modal(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {"title": "Through the modal", "text": "Told in the form."})
    return await post_draft(ctx.emu, ctx.actor, done)


async def members_edit_modal(ctx: Ctx) -> InteractionRecord:
    rec = await ctx.slash(ctx.people[MEMBER], "story edit", story=ctx.ids["member_story"])
    assert rec.modal is not None, rec.all_text
    return rec


async def act_edit_modal(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {"title": "Edited in the form", "text": "New words."})
    return done


def title_is(title: str) -> Any:
    async def check(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
        got = await ctx.val(
            "SELECT title FROM stories WHERE id = :id", {"id": ctx.ids["member_story"]}
        )
        assert got == title, got

    return check


async def act_edit(ctx: Ctx, _: Any) -> InteractionRecord:
    rec = await ctx.slash(ctx.actor, "story edit", story=ctx.ids["member_story"])
    return await then_modal(ctx, rec, {"title": "Edited by command", "text": "Other words."})


async def check_share_modal(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    assert await ctx.val(
        "SELECT count(*) FROM stories WHERE teller_id = :teller AND title = 'Through the modal'",
        {"teller": ctx.actor.id},
    ) == 1


async def owners_notes_modal(ctx: Ctx) -> InteractionRecord:
    rec = await ctx.slash(ctx.world.owner, "meeting notes", meeting=str(ctx.ids["past_meeting"]))
    assert rec.modal is not None, rec.all_text
    return rec


async def act_notes_modal(ctx: Ctx, opened: InteractionRecord) -> InteractionRecord:
    assert opened.modal is not None
    [field] = all_custom_ids(opened.modal["components"])
    done: InteractionRecord = await ctx.emu.submit_modal(
        ctx.actor, opened, {field: "Notes by the matrix."})
    return done


# ============================================================================ the table
# Order matters inside one actor's world: components use the setup's polls, round and
# meetings; `statement round` closes the setup's round and `statement close` the one open then
# (opening one first where `statement round` was refused); `community archive` and then the
# member's confirmed erasure come last.

TABLE: list[Row] = [
    # ---------------------------------------------------------------- components
    Row("ShareButton", PARTICIPANTS, act_share_button, check_prompt_story,
        prepare=prompt_message, note="prompt's Share button, then the modal"),
    Row("ConsentButton", SELF, act_consent_button,
        lambda ctx, rec, _: consent_is(ctx, "anonymous"), note="member's consent DM"),
    Row("AudienceButton", SELF, act_audience_button, check_audience_opened,
        prepare=members_confined_story, note="member's audience DM, story from a private thread"),
    Row("ListPageButton", READERS, act_list_page, check_list_page, prepare=story_list_message),
    Row("ChoiceButton", PARTICIPANTS, on_poll("single", "v:0"), voted("single")),
    Row("ChoiceSelect", PARTICIPANTS, on_poll("multi", "s", ["0", "2"]), voted("multi")),
    Row("RankStart", PARTICIPANTS, on_poll("ranked", "rank"), check_flow_opened),
    Row("RankPick", PARTICIPANTS, act_rank_pick, check_rank_pick, prepare=ranking_flow),
    Row("RankSubmit", PARTICIPANTS, act_rank_submit, voted("ranked"),
        prepare=lambda ctx: ranking_flow(ctx, "0")),
    Row("SurveyStart", PARTICIPANTS, on_poll("survey", "survey"), check_flow_opened),
    Row("SurveyAnswer", PARTICIPANTS, act_survey_answer, voted("survey"), prepare=survey_flow),
    Row("StartVoting", PARTICIPANTS, act_start_voting, check_flow_opened),
    Row("StatementVoteButton", PARTICIPANTS, act_statement_vote, check_statement_vote,
        prepare=statement_flow),
    Row("RSVPButton", PARTICIPANTS, act_rsvp, check_rsvp),
    Row("WhoButton", FACILITATORS, act_who, check_who),
    Row("AttendanceSelect", FACILITATORS, act_attendance, check_attendance, prepare=notes_reply),
    Row("ShareModal", PARTICIPANTS, act_share_modal, check_share_modal,
        prepare=owners_share_modal, note="the owner's share form, submitted by the actor"),
    Row("EditStoryModal", SELF, act_edit_modal, title_is("Edited in the form"),
        prepare=members_edit_modal, note="the teller's edit form, submitted by the actor"),
    Row("NotesModal", FACILITATORS, act_notes_modal, check_notes, prepare=owners_notes_modal,
        note="the owner's notes form, submitted by the actor"),
    Row("TellValueStoryButton", PARTICIPANTS, value.act_invitation, value.check_invitation,
        prepare=value.an_invitation, note="the lounge invitation's button, then the form"),
    Row("ValueStoryModal", PARTICIPANTS, value.act_form, value.check_form,
        prepare=value.owners_form, note="the owner's value-story form, submitted by the actor"),
    Row("AnnualAnswerButton", PARTICIPANTS, annual.act_answer_button, annual.check_form_shown,
        prepare=annual.an_annual_report, note="the annual report's lounge post"),
    Row("AnnualAnswerModal", PARTICIPANTS, annual.act_form, annual.check_answer_saved,
        prepare=annual.owners_form, note="the owner's annual form, submitted by the actor"),
    Row("AnnualQuoteSelect", PARTICIPANTS, annual.act_quote, annual.check_quoted,
        prepare=annual.members_quote_choice,
        note="on the member's reply; it sets the clicker's own answer's quoting"),
    Row("AnnualReportButton", FACILITATORS, annual.act_read_report, annual.check_report_shown,
        prepare=annual.a_closed_report, note="the closed annual report's lounge post"),
    Row("TellButton", PARTICIPANTS, change.act_tell, change.check_tell, prepare=change.a_round,
        note="the round's lounge post"),
    Row("TellDomain", PARTICIPANTS, change.act_domain, change.check_modal,
        prepare=change.owners_domain_menu, note="the owner's domain menu"),
    Row("TellModal", PARTICIPANTS, change.act_tell_form, change.check_draft,
        prepare=change.owners_tell_form, note="the owner's story form, submitted by the actor"),
    Row("ChooseButton", PARTICIPANTS, change.act_choose, change.check_choose,
        prepare=change.selection_open, note="the selection invitation"),
    Row("ChooseDomain", PARTICIPANTS, change.act_choose_domain, change.check_page,
        prepare=change.owners_choice_menu, note="the owner's domain menu"),
    Row("PageButton", PARTICIPANTS, change.act_page, change.check_next_page,
        prepare=change.owners_candidates, note="the owner's candidates, page 2"),
    Row("PickStory", PARTICIPANTS, change.act_pick, change.check_modal,
        prepare=change.owners_candidates, note="the owner's candidates"),
    Row("ReasonModal", PARTICIPANTS, change.act_reason_form, change.check_chosen,
        prepare=change.owners_reason_form, note="the owner's reason form, submitted by the actor"),
    # ---------------------------------------------------------------- /community
    Row("community create", MANAGERS, cmd("community create", name="New Circle",
                                          kind="practice"), check_created),
    Row("community info", EVERYONE, cmd("community info", community=A), text_has(A)),
    Row("community list", EVERYONE, cmd("community list"), text_has(A, B)),
    Row("community add", FACILITATORS,
        cmd("community add", community=A, member=person("newcomer"), discipline="gp"),
        membership_left("newcomer", False)),
    Row("community remove", FACILITATORS,
        cmd("community remove", community=A, member=person("leaver")),
        membership_left("leaver", True)),
    Row("community sponsor", FACILITATORS,
        cmd("community sponsor", community=A, member=person("new_sponsor")),
        a_column("sponsor_id", lambda ctx: ctx.people["new_sponsor"].id)),
    Row("community link", FACILITATORS, cmd("community link", community=A, serves=B),
        a_column("serves_id", lambda ctx: ctx.b_id)),
    # ---------------------------------------------------------------- stories
    Row("story share", PARTICIPANTS, act_share, check_share),
    Row("Save as story", PARTICIPANTS, act_save, saved_story_of(None), prepare=own_message,
        note="on the actor's own message"),
    Row("Save as story", FACILITATORS, act_save, saved_story_of("teller"),
        prepare=tellers_message, note="on a member's message"),
    Row("story list", READERS, cmd("story list", community=A), text_has("Stories in " + A)),
    Row("story consent", SELF,
        cmd("story consent", story=lambda ctx: ctx.ids["member_story"], level="named"),
        lambda ctx, rec, _: consent_is(ctx, "named"), note="the member's story"),
    Row("story edit", SELF, act_edit, title_is("Edited by command"), note="the member's story"),
    Row("story prompt", FACILITATORS, cmd("story prompt", community=A), check_prompt,
        prepare=count_prompts),
    Row("story schedule", FACILITATORS, cmd("story schedule", community=A, cadence="weekly"),
        a_row_exists("story_schedules", "AND cadence = 'weekly'")),
    # ---------------------------------------------------------------- polls
    Row("poll create", FACILITATORS,
        cmd("poll create", community=A, question="Matrix poll?", kind="single",
            options="One; Two"),
        text_has("Posted poll #")),
    Row("poll close", FACILITATORS, cmd("poll close", poll=ident("poll_to_close")),
        check_poll_closed),
    Row("poll results", READERS, cmd("poll results", poll=ident("poll_single")),
        text_has("Poll single?")),
    # ---------------------------------------------------------------- statements
    Row("statement add", PARTICIPANTS,
        cmd("statement add", community=A, text="We need more time"), check_statement_added),
    Row("statement round", FACILITATORS, cmd("statement round", community=A), check_new_round,
        prepare=between_rounds),
    Row("statement close", FACILITATORS, cmd("statement close", community=A),
        check_round_closed, prepare=an_open_round),
    Row("statement report", READERS, cmd("statement report", community=A),
        check_statement_report),
    # ---------------------------------------------------------------- meetings
    Row("meeting schedule", FACILITATORS,
        cmd("meeting schedule", community=A, title="Matrix meeting", when="2027-04-14 18:30"),
        check_meeting_scheduled),
    Row("meeting series", FACILITATORS, cmd("meeting series", community=A),
        a_row_exists("meeting_series")),
    Row("meeting list", READERS, cmd("meeting list", community=A),
        text_has("Spring gathering")),
    Row("meeting notes", FACILITATORS, act_notes, check_notes, note="modal submitted"),
    Row("meeting cancel", FACILITATORS,
        cmd("meeting cancel", meeting=ident("cancel_meeting")), check_cancelled),
    # ---------------------------------------------------------------- digests
    Row("digest preview", FACILITATORS, cmd("digest preview", community=A), check_preview),
    Row("digest send", FACILITATORS, cmd("digest send", community=A), check_digest_sent,
        prepare=count_digests),
    Row("digest schedule", FACILITATORS,
        cmd("digest schedule", community=A, weekday="friday", time="10:00"),
        a_row_exists("digest_schedules", "AND weekday = 4")),
    Row("EmailButton", SPONSORS, act_email_button, check_emails_stopped,
        prepare=email_button_dm, note="the sponsor stops their digest e-mails"),
    # ---------------------------------------------------------------- documents
    Row("ProposalChoice", PARTICIPANTS, docs.act_choice, docs.check_choice,
        prepare=docs.a_proposal, note="support on the teller's proposal"),
    Row("ProposalDecision", FACILITATORS, docs.act_decision, docs.check_decision,
        prepare=docs.a_proposal),
    Row("QuoteAnswer", SELF, docs.act_quote_answer, docs.check_quote_answer,
        prepare=docs.quote_request, note="the member's DM: a quote of their story"),
    Row("QuoteModal", PARTICIPANTS, docs.act_quote_form, docs.check_quote_form,
        prepare=docs.owners_quote_form, note="the owner's quote form, submitted by the actor"),
    Row("ProposeModal", PARTICIPANTS, docs.act_propose_form, docs.check_draft_shown,
        prepare=docs.owners_propose_form, note="the owner's form, submitted by the actor"),
    Row("document create", FACILITATORS,
        cmd("document create", community=A, title="Matrix created"),
        docs.check_document_created),
    Row("document quote", PARTICIPANTS, docs.act_quote_command, docs.check_quote_command),
    Row("document propose", PARTICIPANTS, docs.act_propose_command, docs.check_proposed),
    Row("document export", READERS, docs.act_export, docs.check_exported),
    # ---------------------------------------------------------------- papers for comment
    Row("document comment", PARTICIPANTS, papers.act_comment, papers.check_commented),
    Row("AnswerButton", PARTICIPANTS, papers.act_answer, papers.check_answered,
        prepare=papers.a_paper, note="the teller's paper: answer with changes"),
    Row("AnswerModal", PARTICIPANTS, papers.act_answer_form, papers.check_answer_form,
        prepare=papers.owners_answer_form, note="the owner's answer form, submitted by the actor"),
    Row("PaperTextModal", PARTICIPANTS, papers.act_text_form, papers.check_text_form,
        prepare=papers.owners_text_form, note="the owner's typed draft, submitted by the actor"),
    Row("ClosePaper", FACILITATORS, papers.act_close, papers.check_closed,
        prepare=papers.a_paper, note="the teller's paper, closed early"),
    Row("AuthorComments", SELF, papers.act_read_comments, papers.check_read_comments,
        prepare=papers.members_closed_paper, note="the member's closed paper's comments"),
    # ---------------------------------------------------------------- products
    Row("product add", FACILITATORS, products.act_add, products.check_added),
    Row("product link", FACILITATORS, products.act_link, products.check_linked,
        prepare=products.a_product),
    Row("product status", FACILITATORS, products.act_status, products.check_status,
        prepare=products.a_product),
    Row("product used", READERS, products.act_used, products.check_used,
        prepare=products.a_product),
    Row("product show", SPONSOR_READERS, products.act_show, products.check_shown,
        prepare=products.a_product, note="the sponsor sees the outside view"),
    # ---------------------------------------------------------------- value stories
    Row("value story", PARTICIPANTS, value.act_story, value.check_story),
    Row("value consent", SELF, value.act_consent, value.check_consent,
        prepare=value.members_value_story, note="the member's value story"),
    Row("value prompt", FACILITATORS, cmd("value prompt", community=A, cadence="monthly"),
        value.check_prompt),
    Row("value report", FACILITATORS, cmd("value report", community=A), check_value_report),
    Row("value schedule", FACILITATORS, cmd("value schedule", community=A, cadence="monthly"),
        check_value_schedule),
    # ---------------------------------------------------------------- change rounds
    Row("change status", READERS, cmd("change status", community=A), change.check_status,
        prepare=change.a_round),
    Row("change consent", SELF, change.act_consent, change.check_consent,
        prepare=change.members_story, note="the member's story of change"),
    Row("change close", FACILITATORS, cmd("change close", community=A), change.check_close_asked,
        prepare=change.a_round, note="asks for confirmation only"),
    Row("CloseButton", ASKER, change.act_keep_open, change.check_kept,
        prepare=change.facilitators_close_request,
        note="the facilitator's own confirmation; Keep it open"),
    Row("change round", FACILITATORS, cmd("change round", community=A), change.check_opened,
        prepare=change.no_open_round, note="after the open one is closed"),
    # ---------------------------------------------------------------- annual report
    Row("value annual", FACILITATORS, cmd("value annual", community=A), annual.check_opened,
        prepare=annual.no_open_report, note="after the open one is closed"),
    # ---------------------------------------------------------------- last: archive
    Row("community archive", FACILITATORS, cmd("community archive", community=A),
        lambda ctx, rec, _: check_archived(ctx)),
    # ---------------------------------------------------------------- help (anyone)
    Row("help", EVERYONE, cmd("help"), text_has("Anyone in this server")),
    # ---------------------------------------------------------------- privacy (anyone)
    Row("privacy export", EVERYONE, cmd("privacy export"), check_export),
    Row("privacy forget", EVERYONE, cmd("privacy forget"), check_forget_asked,
        note="asks for confirmation only"),
    Row("ForgetButton", SELF, act_forget_confirm, check_member_erased, prepare=forget_request,
        note="the member's own erase request; erases, so it runs last"),
]


async def check_archived(ctx: Ctx) -> None:
    assert await ctx.val("SELECT archived_at FROM communities WHERE id = :id", {"id": ctx.a_id})


# ============================================================================ the tests


def registered_subjects(world: HearthWorld) -> set[str]:
    """Every command in the bot's tree, every DynamicItem class registered on it, and every
    modal class (HearthModal subclass) the cogs define."""
    bot = world.bot
    assert bot is not None
    names = {c.qualified_name for c in bot.tree.walk_commands()
             if isinstance(c, discord.app_commands.Command)}
    for kind in (discord.AppCommandType.message, discord.AppCommandType.user):
        names |= {c.name for c in bot.tree.get_commands(type=kind)}
    store = bot._connection._view_store  # discord.py keeps the registry here
    names |= {item.__name__ for item in store._dynamic_items.values()}
    return names | {m.__name__ for m in _subclasses(HearthModal)}


def _subclasses(cls: type[Any]) -> set[type[Any]]:
    """Every modal class the loaded cogs define (each has a submit handler to check)."""
    out: set[type[Any]] = set()
    sub: type[Any]
    for sub in cls.__subclasses__():
        out |= {sub} | _subclasses(sub)
    return out


async def test_the_table_covers_everything(world: HearthWorld) -> None:
    registered = registered_subjects(world)
    covered = {row.subject for row in TABLE}
    assert not registered - covered, f"no matrix row for: {sorted(registered - covered)}"
    assert not covered - registered, f"rows for things that no longer exist: " \
        f"{sorted(covered - registered)}"
    # What Discord has registered is what the tree has (so no command escapes the table).
    assert world.bot is not None
    top = {c.name for c in world.bot.tree.get_commands(type=None)}
    assert {c.name for c in world.emu.commands.values()} == top
    assert {row.allowed for row in TABLE} <= {
        EVERYONE, FACILITATORS, READERS, PARTICIPANTS, MANAGERS, SELF, SPONSORS,
        SPONSOR_READERS, ASKER}


@pytest.mark.parametrize("actor_key", ACTORS)
async def test_permission_matrix(world: HearthWorld, actor_key: str) -> None:
    ctx = await build(world, actor_key)
    emu = world.emu
    failures: list[str] = []
    for row in TABLE:
        allowed = actor_key in row.allowed
        prep = await row.prepare(ctx) if row.prepare is not None else None
        before = await snapshot(ctx)
        calls_before = len(emu.mutating_calls())
        try:
            rec = await row.act(ctx, prep)
        except Exception as exc:  # an emulator refusal or a timeout: record, keep going
            failures.append(f"{row.label} as {actor_key}: {type(exc).__name__}: {exc}")
            continue
        problems: list[str]
        if allowed:
            problems = allowed_problems(rec)
            try:
                await row.check(ctx, rec, prep)
            except AssertionError as exc:
                problems.append(f"no effect: {exc}")
        else:
            problems = refusal_problems(rec)
            problems += [f"database changed: {d}" for d in diff(before, await snapshot(ctx))]
            calls = emu.mutating_calls()[calls_before:]
            problems += [f"REST call {c.method} {c.path}" for c in calls]
        if problems:
            verdict = "allowed" if allowed else "refused"
            failures.append(f"{row.label} as {actor_key} (should be {verdict}): "
                            + "; ".join(problems))
    assert not failures, "\n".join(failures)
