"""PollRepo, StatementRepo and the digest read-outs, on every engine (the shared ``db``
fixture in tests/db/conftest.py)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import Database
from bot.db.group_commit import GroupCommitter
from bot.db.polls import PollRepo, ballot_pad
from bot.db.statements import StatementRepo
from bot.domain.communities import Discipline, Kind
from bot.domain.digest import Finding, OpenPoll, Place
from bot.domain.polls import (
    Ballot,
    PollKind,
    merge_survey_answers,
    parse_poll,
    poll_outcome,
    tally,
)
from bot.domain.statements import Vote, round_outcome
from bot.errors import Conflict, NotAllowed, NotFound
from bot.services.polls import open_polls_for_digest, poll_outcomes_for_digest

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)


def pick(level: int, _previous: object) -> int:
    return level
FAC = 100


async def community(db: Database, name: str = "Carers", members: int = 4) -> int:
    repo = CommunityRepo(db)
    c = await repo.create(
        NewCommunity(
            guild_id=1, name=name, slug=name.lower(), kind=Kind.PRACTICE,
            timezone="Europe/London", created_by=FAC, created_at=T0, category_id=None,
            lounge_id=None, stories_id=None, stories_is_forum=False, voice_id=None,
            meetings_id=None, member_role_id=None, facilitator_role_id=None, sponsor_id=None,
            circles=(), stage_tags=(),
        ),
        Discipline.OTHER,
    )  # fmt: skip
    for uid in range(1, members):
        await repo.upsert_member(c.id, uid, Discipline.CARER, None, T0)
    return c.id


async def test_votes_are_pseudonymous_changeable_and_unlinkable_after_close(
    db: Database,
) -> None:
    cid = await community(db)
    repo, gc = PollRepo(db), GroupCommitter(db)
    poll = await repo.create(
        cid, parse_poll("single", "Day?", "Mon; Tue; Wed"), anonymous=True, created_by=FAC,
        created_at=T0, closes_at=T0 + timedelta(days=1),
    )
    assert poll.kind is PollKind.SINGLE and poll.options == ("Mon", "Tue", "Wed")
    r = await gc.submit(repo.vote_op(poll.id, 1, lambda _p: 0, T0))
    assert r.ballot == 0 and not r.changed
    r = await gc.submit(repo.vote_op(poll.id, 1, lambda _p: 2, T0))
    assert r.changed
    await gc.submit(repo.vote_op(poll.id, 2, lambda _p: 2, T0))
    with pytest.raises(Conflict, match="already your vote"):
        await gc.submit(repo.vote_op(poll.id, 2, lambda _p: 2, T0))
    with pytest.raises(NotAllowed):
        await gc.submit(repo.vote_op(poll.id, 999, lambda _p: 0, T0))
    assert await repo.own_ballot(poll.id, 1) == 2
    assert await repo.voters(poll.id) == {1, 2}
    rows = await db.fetchall("SELECT voter_key, user_id, sealed FROM poll_sealed_ballots")
    assert len(rows) == 2 and all(r["user_id"] is None for r in rows)
    naive = {hashlib.sha256(str(u).encode()).digest() for u in (1, 2)}
    assert not naive & {bytes(r["voter_key"]) for r in rows}
    # Sealed: one length for every ballot, and no ballot text in the clear.
    assert len({len(r["sealed"]) for r in rows}) == 1
    assert all(len(bytes(r["sealed"])) >= 12 + 16 + ballot_pad(poll.kind, 3) for r in rows)
    counted = tally(poll.kind, poll.options, await repo.ballots(poll), await repo.eligible(cid))
    assert counted.option_results[2].count == 2

    closed = await repo.close(
        poll.id, T0 + timedelta(hours=1), closed_by=FAC, decide=poll_outcome
    )
    assert closed is not None and closed.result.voters == 2 and closed.result.eligible == 4
    assert closed.item.collective_statement and "“Wed”" in closed.item.collective_statement
    assert await db.fetchval("SELECT ballot_key FROM polls") is None
    assert await db.fetchval("SELECT COUNT(*) FROM poll_sealed_ballots") == 0
    finals = await db.fetchall(
        "SELECT seq, user_id, ballot FROM poll_final_ballots ORDER BY seq"
    )
    assert [(r["seq"], r["user_id"], r["ballot"]) for r in finals] == [(1, None, "2"),
                                                                       (2, None, "2")]
    assert await repo.ballots(closed.item) == [2, 2]
    assert await repo.own_ballot(poll.id, 1) is None
    again = await repo.close(poll.id, T0 + timedelta(hours=2), closed_by=FAC, decide=poll_outcome)
    assert again is None
    with pytest.raises(Conflict, match="closed"):
        await gc.submit(repo.vote_op(poll.id, 3, lambda _p: 0, T0 + timedelta(hours=2)))
    await repo.delete(poll.id)
    with pytest.raises(NotFound):
        await gc.submit(repo.vote_op(poll.id, 3, lambda _p: 0, T0))
    await gc.close()


async def test_deadline_refuses_votes_before_the_close_job(db: Database) -> None:
    cid = await community(db)
    repo, gc = PollRepo(db), GroupCommitter(db)
    poll = await repo.create(cid, parse_poll("multi", "Q", "A; B"), anonymous=True,
                             created_by=FAC, created_at=T0, closes_at=T0 + timedelta(hours=1))
    await gc.submit(repo.vote_op(poll.id, 1, lambda _p: [0, 1], T0))
    with pytest.raises(Conflict):
        await gc.submit(repo.vote_op(poll.id, 2, lambda _p: [0], T0 + timedelta(hours=1)))
    assert await repo.ballots(poll) == [frozenset({0, 1})]
    await gc.close()


async def test_survey_answers_merge_per_question(db: Database) -> None:
    cid = await community(db)
    repo, gc = PollRepo(db), GroupCommitter(db)
    poll = await repo.create(cid, parse_poll("survey", "S", "Q1; Q2; Q3"), anonymous=True,
                             created_by=FAC, created_at=T0, closes_at=None)

    def answer(q: int, a: bool) -> Callable[[Ballot | None], Ballot]:
        def build(prev: Ballot | None) -> Ballot:
            return merge_survey_answers(prev if isinstance(prev, dict) else None, {q: a})

        return build

    await gc.submit(repo.vote_op(poll.id, 1, answer(0, True), T0))
    await gc.submit(repo.vote_op(poll.id, 1, answer(2, False), T0))
    await gc.submit(repo.vote_op(poll.id, 1, answer(0, False), T0))
    assert await repo.ballots(poll) == [{0: False, 2: False}]
    assert await repo.voter_count(poll.id) == 1
    await gc.close()


async def test_named_ballots_only_for_polls_that_are_not_anonymous(db: Database) -> None:
    cid = await community(db)
    repo, gc = PollRepo(db), GroupCommitter(db)
    anon = await repo.create(cid, parse_poll("single", "A", "x; y"), anonymous=True,
                             created_by=FAC, created_at=T0, closes_at=None)
    named = await repo.create(cid, parse_poll("ranked", "N", "x; y; z"), anonymous=False,
                              created_by=FAC, created_at=T0, closes_at=None)
    await gc.submit(repo.vote_op(named.id, 2, lambda _p: (2, 0), T0))
    assert await repo.named_ballots(named) == [(2, (2, 0))]
    with pytest.raises(NotAllowed):
        await repo.named_ballots(anon)
    await gc.close()


async def test_visible_to_lists_polls_of_the_users_communities(db: Database) -> None:
    a = await community(db, "Carers")
    b = await community(db, "Nurses", members=1)
    repo = PollRepo(db)
    pa = await repo.create(a, parse_poll("single", "Carers day?", "x; y"), anonymous=True,
                           created_by=FAC, created_at=T0, closes_at=None)
    await repo.create(b, parse_poll("single", "Nurses day?", "x; y"), anonymous=True,
                      created_by=FAC, created_at=T0, closes_at=None)
    assert [p.id for p, _ in await repo.visible_to(1, 1, "")] == [pa.id]
    assert [n for _, n in await repo.visible_to(1, 1, "day")] == ["Carers"]
    # case-insensitive on every engine (LIKE alone is not, on PostgreSQL), wildcards literal
    assert [p.id for p, _ in await repo.visible_to(1, 1, "CARERS DAY")] == [pa.id]
    assert await repo.visible_to(1, 1, "%") == [] and await repo.visible_to(1, 1, "_") == []
    assert [p.id for p, _ in await repo.visible_to(1, 1, f"#{pa.id}")] == [pa.id]
    assert len(await repo.visible_to(1, FAC, "")) == 2
    assert await repo.visible_to(2, FAC, "") == []


async def test_digest_outcomes_and_open_polls(db: Database) -> None:
    cid = await community(db, members=5)
    repo, srepo, gc = PollRepo(db), StatementRepo(db), GroupCommitter(db)
    p1 = await repo.create(cid, parse_poll("agreement", "We should meet monthly", None),
                           anonymous=True, created_by=FAC, created_at=T0, closes_at=None)
    for uid, level in ((1, 0), (2, 1), (3, 4)):
        await gc.submit(repo.vote_op(p1.id, uid, partial(pick, level), T0))
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=8)
    await repo.close(p1.id, start, closed_by=None, decide=poll_outcome)  # at start: included
    p2 = await repo.create(cid, parse_poll("single", "Late?", "x; y"), anonymous=True,
                           created_by=FAC, created_at=T0, closes_at=None)
    await repo.close(p2.id, end, closed_by=None, decide=poll_outcome)  # at end: excluded
    p3 = await repo.create(cid, parse_poll("single", "Still open?", "x; y"), anonymous=True,
                           created_by=FAC, created_at=T0, closes_at=end + timedelta(days=1))
    await gc.submit(repo.vote_op(p3.id, 1, lambda _p: 0, T0))
    # a statement round closed in the period
    await srepo.add(cid, 1, "Meetings should be in the evening", T0)
    await srepo.add(cid, 2, "Letters should be plainer", T0)
    rnd = await srepo.create_round(cid, FAC, T0, T0 + timedelta(days=2))
    for uid in (2, 3, 4, FAC):
        await gc.submit(srepo.vote_op(rnd.id, 1, uid, Vote.AGREE, T0))
    closed_round = await srepo.close_round(
        rnd.id, T0 + timedelta(days=2), partial(round_outcome, min_votes=3)
    )
    assert closed_round is not None

    outcomes = await poll_outcomes_for_digest(db, cid, start, end)
    assert [o.question for o in outcomes] == [
        "We should meet monthly", "Statement round (2 statements)",
    ]
    first = outcomes[0]
    assert first.voters == 3 and first.eligible == 5 and first.closed_at == start
    assert first.collective_statement.startswith(
        "2 of 5 members (40%) agree that we should meet monthly"
    )
    assert "4 of 5 members (80%) agree that meetings should be in the evening" in (
        outcomes[1].collective_statement
    )
    assert outcomes[1].voters == 4 and outcomes[1].eligible == 5
    # What each found, as counts for the digest's own plain wording (one claim a sentence).
    assert first.findings[0].kind == "agree" and first.findings[0].count == 2
    assert first.findings[0].of == 5 and not first.is_round
    assert outcomes[1].is_round
    assert outcomes[1].findings[0] == Finding("agree", "Meetings should be in the evening", 4, 5)
    open_now = await open_polls_for_digest(db, cid, end)
    assert open_now == [
        OpenPoll("Still open?", 1, 5, end + timedelta(days=1), place=Place(None, None))
    ]
    await gc.close()


async def test_statement_votes_checks(db: Database) -> None:
    cid = await community(db)
    srepo, gc = StatementRepo(db), GroupCommitter(db)
    s1 = await srepo.add(cid, 1, "One point", T0)
    await srepo.add(cid, 2, "Another point", T0)
    assert s1.round_id is None
    rnd = await srepo.create_round(cid, FAC, T0, T0 + timedelta(days=1))
    s3 = await srepo.add(cid, 3, "Added during the round", T0)
    assert s3.round_id == rnd.id
    with pytest.raises(NotAllowed, match="You wrote"):
        await gc.submit(srepo.vote_op(rnd.id, s1.id, 1, Vote.AGREE, T0))
    with pytest.raises(NotAllowed, match="Only members"):
        await gc.submit(srepo.vote_op(rnd.id, s1.id, 77, Vote.AGREE, T0))
    r = await gc.submit(srepo.vote_op(rnd.id, s1.id, 2, Vote.AGREE, T0))
    assert not r.changed
    r = await gc.submit(srepo.vote_op(rnd.id, s1.id, 2, Vote.PASS, T0))
    assert r.changed
    with pytest.raises(Conflict):
        await gc.submit(srepo.vote_op(rnd.id, s1.id, 2, Vote.PASS, T0))
    with pytest.raises(Conflict, match="closed"):
        await gc.submit(srepo.vote_op(rnd.id, s1.id, 3, Vote.PASS, T0 + timedelta(days=1)))
    assert await srepo.voted_by(rnd.id, 2) == {s1.id}
    assert await srepo.turnout(rnd.id) == 1
    assert await srepo.vote_counts(rnd.id) == {s1.id: 1}
    # Sealed: no user id column at all, one length per vote.
    rows = await db.fetchall("SELECT * FROM statement_sealed_votes")
    assert len(rows) == 1 and "user_id" not in rows[0].keys()  # noqa: SIM118
    closed = await srepo.close_round(rnd.id, T0 + timedelta(days=1), round_outcome)
    assert closed is not None and closed.result.voters == 1
    tally = {t.statement_id: t.counts for t in closed.result.statements}
    assert tally[s1.id].passed == 1
    # The report is frozen; the votes and the round key are gone.
    assert await db.fetchval("SELECT COUNT(*) FROM statement_sealed_votes") == 0
    assert await db.fetchval("SELECT ballot_key FROM statement_rounds") is None
    assert await srepo.frozen_report(closed.item.id) == closed.result
    await gc.close()
