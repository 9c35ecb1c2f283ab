"""Database faults: a write that fails mid-transaction leaves no partial state.

Each test runs a real multi-statement repository write with an error injected at its 1st,
2nd, ... statement (and at its COMMIT), checks after every fault that every table is exactly
as before and no transaction was left open, and finally that the same call, run normally,
succeeds (see :func:`tests.faults._dbfault.fail_at_every_statement`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from bot.db import migrations
from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import Database
from bot.db.digests import DigestRepo
from bot.db.group_commit import GroupCommitter
from bot.db.meetings import MeetingRepo, NewMeeting
from bot.db.polls import PollRepo
from bot.db.privacy import PrivacyRepo
from bot.db.statements import StatementRepo
from bot.db.stories import StoryRepo
from bot.domain.communities import Discipline, Kind
from bot.domain.digest import Period
from bot.domain.meetings import RSVP
from bot.domain.polls import parse_poll, poll_outcome
from bot.domain.stories import Consent
from tests.faults._dbfault import InjectedFault, fail_at_every_statement, faulty_writer, snapshot

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
FAC = 100
MEMBERS = (1, 2, 3, 4)


def pick(option: int, _previous: object) -> int:
    return option


@dataclass
class Seeded:
    db: Database
    community: int
    poll: int
    meeting: int


def new_community(name: str, base: int = 900, *, circles: bool = False) -> NewCommunity:
    """Channel, role and tag ids are ``base + k`` (distinct per community, as on Discord)."""
    return NewCommunity(
        guild_id=1, name=name, slug=name.lower().replace(" ", "-"), kind=Kind.PRACTICE,
        timezone="Europe/London", created_by=FAC, created_at=T0, category_id=base,
        lounge_id=base + 1, stories_id=base + 2, stories_is_forum=True, voice_id=base + 3,
        meetings_id=base + 4, member_role_id=base + 5, facilitator_role_id=base + 6,
        sponsor_id=None,
        circles=((Discipline.CARER, base + 7), (Discipline.NURSE, base + 8)) if circles else (),
        stage_tags=(("diagnosis", base + 10), ("caring", base + 11)) if circles else (),
    )


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[Seeded]:
    """A community with members, an open poll with votes, a story, a meeting with RSVPs
    and statements: every table the writes below touch has rows to lose."""
    async with Database(tmp_path / "faults.db") as db:
        await migrations.upgrade(db)
        communities = CommunityRepo(db)
        c = await communities.create(new_community("Carers Voice"), Discipline.OTHER)
        for uid in MEMBERS:
            await communities.upsert_member(c.id, uid, Discipline.CARER, None, T0)
        polls = PollRepo(db)
        poll = await polls.create(
            c.id, parse_poll("single", "Which day?", "Mon; Tue"), anonymous=True,
            created_by=FAC, created_at=T0, closes_at=None,
        )
        committer = GroupCommitter(db)
        for uid in MEMBERS[:3]:
            await committer.submit(polls.vote_op(poll.id, uid, partial(pick, uid % 2), T0))
        await committer.close()
        await StoryRepo(db).add(
            community_id=c.id, teller_id=1, title="Night shifts", text="It was hard.",
            stage=None, stage_label=None, consent=Consent.GROUP, now=T0,
        )
        meetings = MeetingRepo(db)
        m = await meetings.create(NewMeeting(
            community_id=c.id, title="Monthly", start_utc=T0 + timedelta(days=3),
            end_utc=T0 + timedelta(days=3, hours=1), timezone="Europe/London",
            location="Online", channel_id=904, region=None, in_series=False, created_by=FAC,
            created_at=T0,
        ))
        for uid in MEMBERS:
            await meetings.set_rsvp(m.id, uid, RSVP.GOING, T0)
        await meetings.set_event(m.id, 5555, None)
        statements = StatementRepo(db)
        for uid in MEMBERS[:3]:
            await statements.add(c.id, uid, f"Statement from {uid}", T0)
        yield Seeded(db, c.id, poll.id, m.id)


async def test_community_create_is_all_or_nothing(seeded: Seeded) -> None:
    repo = CommunityRepo(seeded.db)
    n, made = await fail_at_every_statement(
        seeded.db, lambda: repo.create(new_community("Nurses Forum", 800, circles=True),
                                       Discipline.NURSE),
    )
    assert n >= 5  # community, channels, tags, facilitator, COMMIT
    assert made.name == "Nurses Forum"
    assert len(await repo.channels(made.id)) == 6
    assert await repo.stage_tags(made.id) == {"diagnosis": 810, "caring": 811}
    membership = await repo.membership(made.id, FAC)
    assert membership is not None and membership.is_facilitator


async def test_poll_close_tally_and_key_erasure_are_atomic(seeded: Seeded) -> None:
    repo = PollRepo(seeded.db)
    n, closed = await fail_at_every_statement(
        seeded.db, lambda: repo.close(seeded.poll, T0 + timedelta(hours=1), FAC, poll_outcome)
    )
    assert n >= 5
    assert closed is not None and closed.result.voters == 3
    row = await seeded.db.fetchone("SELECT * FROM polls WHERE id = :id", {"id": seeded.poll})
    assert row is not None
    assert row["ballot_key"] is None and row["voters"] == 3 and row["eligible"] == 5
    assert row["collective_statement"]
    # a second close is a no-op, not a second tally
    assert await repo.close(seeded.poll, T0 + timedelta(hours=2), FAC, poll_outcome) is None


async def test_poll_creation_then_votes_survive_faults(seeded: Seeded) -> None:
    repo = PollRepo(seeded.db)
    _, poll = await fail_at_every_statement(
        seeded.db, lambda: repo.create(
            seeded.community, parse_poll("multi", "Snacks?", "Tea; Cake; Fruit"),
            anonymous=True, created_by=FAC, created_at=T0, closes_at=T0 + timedelta(days=1),
        ),
    )
    assert poll.question == "Snacks?" and poll.is_open


async def statements_per_vote(db: Database, community: int) -> int:
    """How many statements one vote runs (counted, so a change to vote_op keeps the test
    honest), measured on a throwaway poll that is then deleted."""
    repo = PollRepo(db)
    poll = await repo.create(
        community, parse_poll("single", "Count?", "A; B"), anonymous=True,
        created_by=FAC, created_at=T0, closes_at=None,
    )
    committer = GroupCommitter(db)
    with faulty_writer(db, None) as proxy:
        await committer.submit(repo.vote_op(poll.id, MEMBERS[0], partial(pick, 0), T0))
    await committer.close()
    await repo.delete(poll.id)
    return proxy.count - 1  # the batch's COMMIT


@pytest.mark.parametrize("fail_in", ["first", "second", "third", "commit"])
async def test_group_commit_fault_inside_one_vote_spares_the_others(
    seeded: Seeded, fail_in: str
) -> None:
    """Three votes in one batch; a fault in one vote's statements rolls back that vote
    alone (its savepoint); a fault on COMMIT fails all three and stores none."""
    db = seeded.db
    repo = PollRepo(db)
    poll = await repo.create(
        seeded.community, parse_poll("single", "Venue?", "Hall; Online"), anonymous=True,
        created_by=FAC, created_at=T0, closes_at=None,
    )
    voters = MEMBERS[:3]
    per_vote = await statements_per_vote(db, seeded.community)
    assert per_vote >= 2
    for step in range(1, per_vote + 1):
        fail_at = {"first": step, "second": per_vote + step, "third": 2 * per_vote + step,
                   "commit": 3 * per_vote + 1}[fail_in]
        committer = GroupCommitter(db)
        before = await snapshot(db)
        with faulty_writer(db, fail_at):
            outcomes = await asyncio.gather(
                *(committer.submit(repo.vote_op(poll.id, uid, lambda _p: 0, T0))
                  for uid in voters),
                return_exceptions=True,
            )
        await committer.close()
        assert not db.writer.in_transaction
        stored = await repo.voters(poll.id)
        if fail_in == "commit":
            assert list(committer.batches) == []
            assert all(isinstance(o, InjectedFault) for o in outcomes), outcomes
            assert await snapshot(db) == before, "a failed COMMIT stored part of the batch"
            break
        assert list(committer.batches) == [3], "the three votes must share one batch"
        failed = ("first", "second", "third").index(fail_in)
        assert isinstance(outcomes[failed], InjectedFault), outcomes
        assert [i for i, o in enumerate(outcomes) if isinstance(o, BaseException)] == [failed]
        assert stored == {v for i, v in enumerate(voters) if i != failed}
        assert len(await repo.ballots(await repo.get(poll.id))) == 2  # type: ignore[arg-type]
        # the member whose vote failed votes again, normally, and it counts once
        again = GroupCommitter(db)
        await again.submit(repo.vote_op(poll.id, voters[failed], lambda _p: 1, T0))
        await again.close()
        assert await repo.voters(poll.id) == set(voters)
        # reset for the next step: a fresh poll
        poll = await repo.create(
            seeded.community, parse_poll("single", f"Venue {step}?", "Hall; Online"),
            anonymous=True, created_by=FAC, created_at=T0, closes_at=None,
        )


async def test_prompt_claim_and_schedule_bookkeeping_are_atomic(seeded: Seeded) -> None:
    repo = StoryRepo(seeded.db)
    due = T0 + timedelta(days=1)
    n, claim = await fail_at_every_statement(
        seeded.db, lambda: repo.claim_prompt(seeded.community, "What helped?", due, due)
    )
    assert n >= 2 and claim is not None
    assert await repo.prompt_history(seeded.community) == ["What helped?"]
    # the claim is the at-most-once guard: the same due run is not claimed twice
    assert await repo.claim_prompt(seeded.community, "Again?", due, due) is None


async def test_story_capture_is_atomic(seeded: Seeded) -> None:
    repo = StoryRepo(seeded.db)
    _, story = await fail_at_every_statement(
        seeded.db, lambda: repo.add(
            community_id=seeded.community, teller_id=2, title="Respite", text="A week off.",
            stage=None, stage_label=None, consent=Consent.ANONYMOUS, now=T0, captured_by=FAC,
            source=(901, 12345),
        ),
    )
    assert (await repo.by_source_message(12345)) == story


async def test_statement_round_opening_is_atomic(seeded: Seeded) -> None:
    repo = StatementRepo(seeded.db)
    n, rnd = await fail_at_every_statement(
        seeded.db, lambda: repo.create_round(seeded.community, FAC, T0, T0 + timedelta(days=2))
    )
    assert n >= 4
    assert len(await repo.round_statements(rnd.id)) == 3
    assert await repo.pool_size(seeded.community) == 0
    # and undoing it (two statements) is atomic too
    await fail_at_every_statement(seeded.db, lambda: repo.undo_round(rnd.id))
    assert await repo.pool_size(seeded.community) == 3
    assert await repo.get_round(rnd.id) is None


async def test_meeting_attendance_and_event_bookkeeping_are_atomic(seeded: Seeded) -> None:
    repo = MeetingRepo(seeded.db)
    n, _ = await fail_at_every_statement(
        seeded.db, lambda: repo.set_attendance(seeded.meeting, [1, 2, 2, 3], FAC, T0)
    )
    assert n >= 3
    assert sorted(await repo.attendance(seeded.meeting)) == [1, 2, 3]
    n, ids = await fail_at_every_statement(seeded.db, lambda: repo.forget_event(5555))
    assert n >= 2 and ids == [seeded.meeting]
    meeting = await repo.get(seeded.meeting)
    assert meeting is not None and meeting.event_id is None


async def test_digest_claim_is_recorded_once_or_not_at_all(seeded: Seeded) -> None:
    repo = DigestRepo(seeded.db)
    period = Period(T0 - timedelta(days=7), T0)
    _, record = await fail_at_every_statement(
        seeded.db, lambda: repo.claim(seeded.community, period, late=False, now=T0)
    )
    assert record is not None
    assert await repo.claim(seeded.community, period, late=False, now=T0) is None


async def test_privacy_erasure_is_all_or_nothing(seeded: Seeded) -> None:
    repo = PrivacyRepo(seeded.db)
    n, result = await fail_at_every_statement(seeded.db, lambda: repo.erase(1))
    assert n >= 5 and result.anything
    assert await CommunityRepo(seeded.db).membership(seeded.community, 1) is None
    assert 1 not in await PollRepo(seeded.db).voters(seeded.poll)
    assert 1 not in await MeetingRepo(seeded.db).rsvps(seeded.meeting)


async def test_a_vote_whose_write_fails_is_not_acknowledged_and_can_be_cast_again(
    tmp_path: Path,
) -> None:
    """End to end: the database fails under a member's click. They are told it did not
    work (never "recorded"), nothing is stored, and their next click counts once."""
    from tests.e2e.hearth import hearth_world

    async with hearth_world(tmp_path, engine="sqlite") as world:  # wraps the SQLite writer
        alice = world.person("alice")
        await world.create_community("Carers Voice", members={alice: "carer"})
        rec = await world.slash(world.owner, "poll create", options={
            "community": "Carers Voice", "question": "Tea?", "kind": "single",
            "options": "Yes; No"})
        assert "Posted" in rec.content, rec.content
        [msg] = [m for m in world.emu.messages_in(world.channel("carers-voice-voice"))
                 if m.components]
        assert world.db is not None
        before = await snapshot(world.db)
        with faulty_writer(world.db, 4):  # inside the vote, after its reads
            failed = await world.emu.click(alice, msg, "poll:1:v:0")
        assert failed.ephemeral and "recorded" not in failed.content
        assert failed.content.startswith("Sorry"), failed.content
        assert await snapshot(world.db) == before
        again = await world.emu.click(alice, msg, "poll:1:v:0")
        assert "recorded" in again.content, again.content
        assert await PollRepo(world.db).voters(1) == {alice.id}
