"""Opening many sealed votes at once (a round's close) gives what opening each one gives.

``Sealer.open_many`` / ``open_votes`` exist for speed (benchmarks/statements.py: 100,000
votes opened in the close thread); they must keep every check of :meth:`Sealer.open`: a
ballot moved to another voter, statement or round, or altered, does not open.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from cryptography.exceptions import InvalidTag

from bot.db.sealing import Sealer, ballot_aad, ballot_aads
from bot.db.statement_rows import open_vote, open_votes, seal_vote
from bot.domain.statements import Vote


def _cells(key: bytes, round_id: int) -> list[tuple[int, bytes, bytes]]:
    cells = []
    for user in (1, 2, 10**17 + 3):
        voter = Sealer.voter_key(key, user)
        for sid, vote in ((4, Vote.AGREE), (5, Vote.PASS), (123, Vote.DISAGREE)):
            cells.append((sid, voter, seal_vote(key, round_id, sid, voter, vote)))
    return cells


def test_ballot_aads_equal_ballot_aad() -> None:
    aad = ballot_aads("round", 42)
    for voter in (b"\x00" * 32, secrets.token_bytes(32)):
        for extra in (0, 7, 10**6):
            assert aad(voter, extra) == ballot_aad("round", 42, voter, extra)
            assert aad(voter, extra) == ballot_aad("round", 42, voter, extra)  # cached hex


def test_open_votes_equals_opening_one_by_one() -> None:
    key = secrets.token_bytes(32)
    cells = _cells(key, 9)
    one_by_one = [open_vote(key, 9, sid, voter, sealed) for sid, voter, sealed in cells]
    assert open_votes(key, 9, cells) == one_by_one
    assert one_by_one[:3] == [Vote.AGREE, Vote.PASS, Vote.DISAGREE]


@pytest.mark.parametrize(
    "attack", ["other round", "swapped voter", "swapped statement", "altered", "other key"]
)
def test_open_votes_refuses_what_open_vote_refuses(attack: str) -> None:
    key = secrets.token_bytes(32)
    cells = _cells(key, 9)
    round_id = 9
    if attack == "other round":
        round_id = 10
    elif attack == "swapped voter":
        sid, voter, sealed = cells[0]
        cells[0] = (sid, cells[3][1], sealed)
    elif attack == "swapped statement":
        sid, voter, sealed = cells[0]
        cells[0] = (cells[1][0], voter, sealed)
    elif attack == "altered":
        sid, voter, sealed = cells[-1]
        cells[-1] = (sid, voter, sealed[:-1] + bytes([sealed[-1] ^ 1]))
    else:
        key = secrets.token_bytes(32)
    with pytest.raises(InvalidTag):
        open_votes(key, round_id, cells)


def test_open_many_matches_open_for_padded_ballots() -> None:
    key = secrets.token_bytes(32)
    aad = ballot_aads("poll", 3)
    plain = [b"0", b"[0, 2, 4]", b""]
    sealed = [
        (Sealer.seal(key, p, pad_to=24, aad=aad(b"v%d" % i, 0)), aad(b"v%d" % i, 0))
        for i, p in enumerate(plain)
    ]
    assert Sealer.open_many(key, sealed) == plain
    assert [Sealer.open(key, s, aad=a) for s, a in sealed] == plain


def test_seal_many_seals_as_seal_does() -> None:
    """A batch of votes seals its ballots in one call: each opens with :meth:`Sealer.open`
    under its own AAD and no other, every one has the poll's one padded length, and no two
    share a nonce (they are drawn together, so a slicing mistake would repeat one)."""
    from bot.db.poll_ballots import open_ballot, seal_ballot, seal_ballots
    from bot.domain.polls import Poll, PollKind

    key = secrets.token_bytes(32)
    poll = Poll(id=7, community_id=1, kind=PollKind.MULTI, question="Which?",
                options=("A", "B", "C", "D"), anonymous=True, created_by=1,
                created_at=datetime(2027, 1, 1, tzinfo=UTC), closes_at=None, closed_at=None)
    voters = [Sealer.voter_key(key, u) for u in range(1, 41)]
    ballots = [frozenset(range(u % 4 + 1)) for u in range(1, 41)]
    sealed = seal_ballots(key, poll, list(zip(voters, ballots, strict=True)))
    assert [open_ballot(key, poll, v, s) for v, s in zip(voters, sealed, strict=True)] == ballots
    one = seal_ballot(key, poll, voters[0], ballots[0])
    assert {len(s) for s in sealed} == {len(one)}
    assert len({s[:12] for s in sealed}) == len(sealed)
    with pytest.raises(InvalidTag):  # bound to its voter: another voter's AAD does not open it
        open_ballot(key, poll, voters[1], sealed[0])
    assert Sealer.seal_many(key, [], pad_to=8) == []
