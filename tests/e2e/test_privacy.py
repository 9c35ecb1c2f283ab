"""Privacy end to end: /privacy export and /privacy forget, driven as members would, with
every cog loaded; plus the retention job on the fake clock.

The erasure test builds a member with a bit of everything (memberships, a sponsorship,
stories, votes in open and closed polls and statement rounds, statements, an RSVP, a
reminder, attendance, message counts), erases them, then scans EVERY column of EVERY table
for their id.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.db.activity import ActivityRepo
from bot.db.meetings import MeetingRepo
from bot.db.polls import PollRepo
from bot.db.statements import StatementRepo
from bot.domain.privacy import ANONYMOUS_CLOSED_NOTE, EXPORT_SCHEMA
from bot.services.polls import PollService
from bot.services.statements import StatementService
from bot.settings import PrivacyConfig
from tests.db.test_privacy_repo import scan
from tests.e2e.hearth import HearthWorld
from tests.e2e.story_draft import submit_and_post
from tests.emulator.errors import ApiError
from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.state import MessageState, UserState

CARERS = "Carers Voice"
GPS = "GP Forum"


# --------------------------------------------------------------------------- helpers


def db(world: HearthWorld) -> Any:
    assert world.db is not None
    return world.db


async def share_story(world: HearthWorld, user: UserState, title: str, text: str) -> None:
    rec = await world.slash(user, "story share", community=CARERS, consent="named")
    assert rec.modal is not None, rec.content
    done = await submit_and_post(world.emu, user, rec, {"title": title, "text": text})
    assert "Sorry" not in done.all_text, done.all_text


def last_with_components(world: HearthWorld, channel_name: str) -> MessageState:
    msgs = [m for m in world.emu.messages_in(world.channel(channel_name)) if m.components]
    assert msgs
    return msgs[-1]


async def make_poll(world: HearthWorld, question: str, *, anonymous: bool) -> MessageState:
    rec = await world.slash(
        world.owner, "poll create",
        options={"community": CARERS, "question": question, "options": "Yes; No; Unsure",
                 "kind": "single", "anonymous": anonymous},
    )
    assert "Posted" in rec.content, rec.content
    return last_with_components(world, "carers-voice-voice")


async def vote(world: HearthWorld, user: UserState, msg: MessageState, option: int) -> None:
    ids = all_custom_ids(msg.components)
    r = await world.emu.click(user, msg, ids[option])
    assert "recorded" in r.content, r.content


async def vote_statements(
    world: HearthWorld, user: UserState, round_id: int, code: str = "a"
) -> None:
    start = await world.emu.click(
        user, last_with_components(world, "carers-voice-voice"), f"stmt:{round_id}:start"
    )
    assert start.reply is not None, start.content
    flow = start.reply
    while flow.components:
        sid = int(all_custom_ids(flow.components)[0].split(":")[3])
        await world.emu.click(user, flow, f"stmt:{round_id}:v:{sid}:{code}")


async def poll_counts(world: HearthWorld, poll_id: int) -> tuple[int, tuple[int, ...]]:
    voters, counts, _ = await poll_result(world, poll_id)
    return voters, counts


async def poll_result(world: HearthWorld, poll_id: int) -> tuple[int, tuple[int, ...], int]:
    """(voters, count per option, eligible) as /poll results computes them."""
    service = world.bot.services.get(PollService)  # type: ignore[union-attr]
    poll = await service.get(poll_id)
    assert poll is not None
    result = await service.current_result(poll)
    return result.voters, tuple(o.count for o in result.option_results), result.eligible


async def statement_counts(world: HearthWorld, round_id: int) -> dict[int, int]:
    """Votes per statement: live while open, from the report frozen at close afterwards."""
    repo = StatementRepo(db(world))
    rnd = await repo.get_round(round_id)
    assert rnd is not None
    if rnd.closed_at is None:
        return await repo.vote_counts(round_id)
    report = await world.bot.services.get(StatementService).report(rnd)  # type: ignore[union-attr]
    return {t.statement_id: t.counts.total for t in report.statements if t.counts.total}


def channel_exists(world: HearthWorld, channel_id: int) -> bool:
    try:
        world.emu.get_channel(channel_id)
    except ApiError:
        return False
    return True


def exports_outside_dms(world: HearthWorld) -> list[MessageState]:
    return [
        m for c in world.emu.channels_in(world.guild) for m in world.emu.messages_in(c)
        if any(a.filename.startswith("hearth-data-") for a in m.attachments)
    ]


async def scan_for(world: HearthWorld, user_id: int) -> list[str]:
    """Every (table.column) in which any row holds ``user_id``, as an integer or in text
    (the repository test's scan: one text comparison, on either engine)."""
    assert len(await db(world).table_names()) >= 15
    return await scan(db(world), user_id)


async def forget(world: HearthWorld, user: UserState, *, in_dm: bool = False) -> InteractionRecord:
    rec = await world.emu.slash(None if in_dm else world.guild, user, "privacy forget")
    assert rec.ephemeral and "Erase everything" in rec.content, rec.content
    assert rec.reply is not None
    ids = all_custom_ids(rec.reply.components)
    assert ids == [f"privacy:forget:{user.id}:confirm", f"privacy:forget:{user.id}:cancel"]
    done = await world.emu.click(user, rec.reply, ids[0])
    await world.emu.wait_for(
        lambda: done.reply is not None and done.reply.content.startswith("Done"),
        message="erasure finished",
    )
    return done


async def export(world: HearthWorld, user: UserState, **kw: Any) -> tuple[InteractionRecord,
                                                                            dict[str, Any] | None]:
    before = len(world.emu.dms_to(user))
    rec = await world.emu.slash(kw.get("guild", world.guild), user, "privacy export")
    await rec.wait_final()
    dms = world.emu.dms_to(user)[before:]
    files = [a for m in dms for a in m.attachments]
    if not files:
        return rec, None
    [f, summary] = files  # the JSON, and beside it the same in plain words
    assert f.filename.startswith("hearth-data-") and f.filename.endswith(".json")
    assert summary.filename.endswith("-summary.md") and summary.description
    return rec, json.loads(f.data)


# --------------------------------------------------------------------------- the big one


async def test_export_then_forget_erases_everything_and_keeps_closed_results(
    world: HearthWorld,
) -> None:
    alice, bob, cara = world.person("alice"), world.person("bob"), world.person("cara")
    sam = world.person("sam")
    await world.create_community(CARERS, members={alice: "carer", bob: "nurse", cara: "gp"})
    # alice also sponsors another community she is not a member of
    await world.create_community(GPS, "reference", members={sam: "gp"})
    r = await world.slash(world.owner, "community sponsor", community=GPS, member=alice,
                          email="alice@example.org")
    assert "sponsor" in r.content, r.content
    gps = await world.community_row(GPS)
    assert gps.sponsor_id == alice.id

    # a story (posted as a forum thread)
    await share_story(world, alice, "The night shift", "My mother came home at 3 a.m.")
    [story] = await db(world).fetchall("SELECT * FROM stories")
    assert channel_exists(world, story["post_channel_id"])

    # polls: 1 anonymous closed, 2 named closed, 3 anonymous open
    p1 = await make_poll(world, "Evening meetings?", anonymous=True)
    await vote(world, alice, p1, 0)
    await vote(world, bob, p1, 1)
    p2 = await make_poll(world, "Share minutes publicly?", anonymous=False)
    await vote(world, alice, p2, 0)
    await vote(world, bob, p2, 0)
    for pid in ("1", "2"):
        closed = await world.slash(world.owner, "poll close", poll=pid)
        assert "Sorry" not in closed.all_text, closed.all_text
    p3 = await make_poll(world, "Move to Thursdays?", anonymous=True)
    await vote(world, alice, p3, 2)
    await vote(world, bob, p3, 2)

    # statement round 1 (closed): alice wrote one and voted on the others
    for who, text in ((alice, "Carers need respite"), (world.owner, "Letters are unclear"),
                      (world.owner, "Parking costs too much")):
        r = await world.slash(who, "statement add", community=CARERS, text=text)
        assert "Added" in r.content, r.content
    r = await world.slash(world.owner, "statement round", community=CARERS, closes="in 1 day")
    assert "Opened statement round #1" in r.content, r.content
    await vote_statements(world, alice, 1, "a")
    await vote_statements(world, bob, 1, "d")
    # a meeting in 9 days: alice goes
    r = await world.slash(world.owner, "meeting schedule", community=CARERS,
                          title="Winter gathering", when="2027-01-20 18:30", location="Leeds")
    assert "Scheduled" in r.content, r.content
    meeting_msg = last_with_components(world, "carers-voice-meetings")
    mid = int(all_custom_ids(meeting_msg.components)[0].split(":")[1])
    await world.emu.click(alice, meeting_msg, f"rsvp:{mid}:going")
    await world.advance(timedelta(days=1, hours=1))  # closes round 1
    round1 = await statement_counts(world, 1)
    assert round1 and all(n >= 1 for n in round1.values())

    # statement round 2 (open): alice wrote one and voted
    for who, text in ((alice, "We want evening surgeries"), (world.owner, "Transport is hard")):
        r = await world.slash(who, "statement add", community=CARERS, text=text)
        assert "Added" in r.content, r.content
    r = await world.slash(world.owner, "statement round", community=CARERS, closes="in 5 days")
    assert "Opened statement round #2" in r.content, r.content
    await vote_statements(world, alice, 2, "a")
    await vote_statements(world, bob, 2, "a")

    await world.advance_to(datetime(2027, 1, 13, 19, 0, tzinfo=UTC))  # the 7-day reminder
    assert await db(world).fetchval(
        "SELECT COUNT(*) FROM meeting_reminder_deliveries WHERE user_id = :user", {"user": alice.id}
    ) == 1
    await MeetingRepo(db(world)).set_attendance(mid, [alice.id, bob.id], world.owner.id,
                                                world.clock.now())
    # alice chats (counted, never stored)
    cog: Any = world.bot.get_cog("DigestsCog")  # type: ignore[union-attr]
    for i in range(3):
        await world.emu.post_message(world.channel("carers-voice-lounge"), alice, f"hi {i}")
    await world.emu.wait_for(lambda: cog.counter.total_seen >= 3, message="counted")

    # ------------------------------------------------------------------ export
    rec, doc = await export(world, alice)
    assert rec.ephemeral and "sent your data to your DMs" in rec.all_text, rec.all_text
    assert "README" not in rec.all_text  # members have no README to look at
    assert doc is not None
    assert doc["schema"] == EXPORT_SCHEMA and doc["user_id"] == str(alice.id)
    assert doc["generated_at"] == world.clock.now().isoformat()
    assert "explanation" in doc and doc["anonymous_votes_note"] == ANONYMOUS_CLOSED_NOTE
    assert [(m["community"], m["discipline"], m["facilitator"]) for m in doc["memberships"]] == [
        (CARERS, "carer", False)
    ]
    assert doc["sponsor_of"] == [{"community": GPS, "email": "alice@example.org"}]
    [s] = doc["stories"]
    assert (s["title"], s["text"], s["consent"]) == (
        "The night shift", "My mother came home at 3 a.m.", "named")
    votes = {v["poll_id"]: v for v in doc["poll_votes"]}
    assert set(votes) == {2, 3}  # poll 1 is anonymous and closed: unlinkable by design
    assert votes[2]["ballot"] == "Yes" and not votes[2]["open"]
    assert votes[3]["ballot"] == "Unsure" and votes[3]["open"] and votes[3]["anonymous"]
    assert doc["polls_voted_in"] == [1, 2, 3]
    assert sorted(st["text"] for st in doc["statements"]) == [
        "Carers need respite", "We want evening surgeries"]
    # Only the open round's votes: a closed round keeps its report, no one's votes.
    assert {v["statement"] for v in doc["statement_votes"]} == {"Transport is hard"}
    assert [(x["meeting"], x["answer"]) for x in doc["meeting_rsvps"]] == [
        ("Winter gathering", "going")]
    assert [x["meeting"] for x in doc["meeting_attendance"]] == ["Winter gathering"]
    assert [x["before_seconds"] for x in doc["meeting_reminders"]] == [7 * 86400]
    activity = doc["message_activity"]
    assert sum(activity["per_day"][CARERS].values()) == 3
    assert sum(activity["per_hour_of_day_utc"][CARERS].values()) == 3
    # nothing but the export in the DM; the file went nowhere else
    assert not exports_outside_dms(world)

    # ------------------------------------------------------------------ forget
    before_p1 = await poll_result(world, 1)
    before_p2 = await poll_result(world, 2)
    before_p3 = await poll_counts(world, 3)
    assert before_p3 == (2, (0, 0, 2))
    owner_dms = len(world.emu.dms_to(world.owner))

    # cancel first: nothing happens
    rec = await world.slash(alice, "privacy forget")
    assert rec.reply is not None
    cancel = await world.emu.click(alice, rec.reply, f"privacy:forget:{alice.id}:cancel")
    assert "Nothing was erased" in cancel.reply.content  # type: ignore[union-attr]
    assert await scan_for(world, alice.id)

    done = await forget(world, alice)
    assert "no longer holds any data" in done.reply.content  # type: ignore[union-attr]

    hits = await scan_for(world, alice.id)
    assert hits == [], hits
    # closed results unchanged; the open poll dropped the vote
    assert await poll_result(world, 1) == before_p1  # counts and turnout "of N" frozen
    assert await poll_result(world, 2) == before_p2
    assert await poll_counts(world, 3) == (1, (0, 0, 1))
    assert await PollRepo(db(world)).voter_count(3) == 1
    assert await statement_counts(world, 1) == round1
    # alice's round-1 statement survives without author; her round-2 statement is gone
    texts = {r[0]: r[1] for r in await db(world).fetchall("SELECT text, author_id FROM statements")}
    assert texts["Carers need respite"] == 0
    assert "We want evening surgeries" not in texts
    assert all(n == 1 for n in (await statement_counts(world, 2)).values())  # bob's only
    # Discord: the story's thread is deleted, roles gone, sponsor overwrite gone
    assert not channel_exists(world, story["post_channel_id"])
    assert not [r for r in world.emu.roles_of(world.guild, alice) if "Carers" in r.name]
    lounge_gps = world.channel("gp-forum-lounge")
    assert alice.id not in world.emu.overwrites(lounge_gps)
    assert (await world.community_row(GPS)).sponsor_id is None
    # the facilitator is told a member left, never who or why
    notes = [m.content for m in world.emu.dms_to(world.owner)[owner_dms:]]
    assert f"A member left **{CARERS}**." in notes
    assert any(f"**{GPS}** has no sponsor now" in n for n in notes)
    for n in notes:
        assert "alice" not in n.lower() and str(alice.id) not in n
        assert "forget" not in n.lower() and "erase" not in n.lower()
    # a later export holds nothing
    _, after = await export(world, alice)
    assert after is not None
    assert not any(after[k] for k in ("memberships", "stories", "poll_votes", "statements",
                                      "statement_votes", "meeting_rsvps", "sponsor_of",
                                      "polls_voted_in", "meeting_attendance"))
    assert after["message_activity"]["rows"] == []
    # the bot still works for everyone else after a restart
    await world.restart()
    assert await scan_for(world, alice.id) == []
    assert await poll_result(world, 1) == before_p1


# --------------------------------------------------------------------------- smaller cases


async def test_export_refuses_closed_dms_and_works_from_dms(world: HearthWorld) -> None:
    shy = world.person("shy", dms_open=False)
    await world.create_community(CARERS, members={shy: "patient"})
    rec, doc = await export(world, shy)
    assert doc is None and rec.ephemeral
    assert "could not send you a DM" in rec.all_text and "nothing was sent" in rec.all_text
    # the file was not posted anywhere else
    assert not exports_outside_dms(world)
    # from a DM with the bot, for someone in no community: an (almost) empty export
    loner = world.person("loner")
    rec, doc = await export(world, loner, guild=None)
    assert doc is not None and doc["memberships"] == [] and doc["schema"] == EXPORT_SCHEMA


async def test_forget_buttons_belong_to_their_member_and_survive_restart(
    world: HearthWorld,
) -> None:
    alice, mallory = world.person("alice"), world.person("mallory")
    await world.create_community(CARERS, members={alice: "carer", mallory: "carer"})
    rec = await world.slash(alice, "privacy forget")
    assert rec.reply is not None
    # a forged click by someone else (Discord would not even show them the message)
    forged = world.emu._new_interaction(  # crafting a hostile payload
        3, mallory, world.guild, world.emu.get_channel(rec.reply.channel_id),
        {"custom_id": f"privacy:forget:{alice.id}:confirm", "component_type": 2},
        message=rec.reply,
    )
    forged = await world.emu._finish(forged, True, 5.0)
    assert forged.ephemeral and "belongs to someone else" in forged.content
    assert await db(world).fetchval(
        "SELECT COUNT(*) FROM memberships WHERE user_id = :user", {"user": alice.id}) == 1
    # after a restart the original buttons still work
    await world.restart()
    done = await world.emu.click(alice, rec.reply, f"privacy:forget:{alice.id}:confirm")
    await world.emu.wait_for(
        lambda: done.reply is not None and done.reply.content.startswith("Done"),
        message="erasure finished",
    )
    assert await scan_for(world, alice.id) == []
    assert await db(world).fetchval(
        "SELECT COUNT(*) FROM memberships WHERE user_id = :user", {"user": mallory.id}) == 1


async def test_undeletable_story_post_is_reported_and_lounge_fallback(
    world: HearthWorld,
) -> None:
    alice = world.person("alice")
    await world.create_community(CARERS, members={alice: "carer"})
    await share_story(world, alice, "Waiting rooms", "Four hours on a plastic chair.")
    [story] = await db(world).fetchall("SELECT * FROM stories")
    world.emu.fail_route("DELETE", rf"/channels/{story['post_channel_id']}$", 403,
                         json={"code": 50013, "message": "Missing Permissions"})
    world.owner.dms_open = False  # the only facilitator cannot be DMed: lounge fallback
    done = await forget(world, alice, in_dm=True)
    text = done.reply.content  # type: ignore[union-attr]
    assert "would not let me delete the post of 1" in text and "Waiting rooms" in text
    assert await scan_for(world, alice.id) == []
    lounge = [m.content for m in world.emu.messages_in(world.channel("carers-voice-lounge"))]
    assert f"A member left **{CARERS}**." in lounge


async def test_forget_with_nothing_stored(world: HearthWorld) -> None:
    nobody = world.person("nobody")
    done = await forget(world, nobody)
    assert "held nothing about you" in done.reply.content  # type: ignore[union-attr]


# --------------------------------------------------------------------------- retention


async def test_retention_job_deletes_old_aggregates_daily(world: HearthWorld) -> None:
    alice = world.person("alice")
    await world.create_community(CARERS, members={alice: "carer"})
    cid = (await world.community_row(CARERS)).id
    world.config = world.config.model_copy(update={"privacy": PrivacyConfig(retention_days=30)})
    await world.restart()
    assert world.bot is not None and "privacy:retention" in world.bot.scheduler.jobs()
    now = world.clock.now()
    hour = int(now.timestamp()) // 3600
    await ActivityRepo(db(world)).add_counts({
        (cid, alice.id, hour - 24 * 40): 5,   # 40 days ago: beyond the window
        (cid, alice.id, hour - 24 * 29): 2,   # 29 days ago: kept
        (cid, alice.id, hour): 1,
    })
    ran = await world.advance(timedelta(minutes=1))  # the start-up catch-up run
    assert "privacy:retention" in ran
    days = [r[0] for r in await db(world).fetchall(
        "SELECT day FROM message_activity ORDER BY day")]
    assert len(days) == 2 and min(days) == (now - timedelta(days=29)).date().isoformat()
    # the job re-arms for the next day at 03:30 UTC and runs again as time passes
    nxt = world.bot.scheduler.jobs()["privacy:retention"]
    assert nxt == datetime(2027, 1, 12, 3, 30, tzinfo=UTC)
    ran = await world.advance(timedelta(days=1))  # Jan 12 03:30: the 29-day row is 30 days old
    assert ran.count("privacy:retention") == 1
    assert await db(world).fetchval("SELECT COUNT(*) FROM message_activity") == 2
    ran = await world.advance(timedelta(days=1))
    assert ran.count("privacy:retention") == 1
    days = [r[0] for r in await db(world).fetchall("SELECT day FROM message_activity")]
    assert len(days) == 1  # the 29-day-old row is now 31 days old
