"""How a poll's ballots are stored: encoding, sealing, padding, and the poll row.

Split from :mod:`bot.db.polls` (which re-exports all of it) because the privacy export,
the ballot upgrade and the forensic tests open ballots too. See :mod:`bot.db.sealing` for
the threat model.
"""

from __future__ import annotations

import functools
import json

from bot.db.database import Row
from bot.db.rows import from_db, from_db_req
from bot.db.sealing import Sealer, ballot_aad, ballot_aads
from bot.domain.polls import Ballot, Poll, PollKind, as_kind

# --------------------------------------------------------------------------- encoding


def encode_ballot(kind: PollKind, ballot: Ballot) -> str:
    if type(ballot) is int:  # single and agreement: what json.dumps gives, without it
        return str(ballot)
    if kind is PollKind.MULTI:
        assert isinstance(ballot, frozenset)
        return json.dumps(sorted(ballot))
    if kind is PollKind.RANKED:
        assert isinstance(ballot, tuple)
        return json.dumps(list(ballot))
    if kind is PollKind.SURVEY:
        assert isinstance(ballot, dict)
        return json.dumps({str(q): a for q, a in sorted(ballot.items())})
    return json.dumps(ballot)


def decode_ballot(kind: PollKind, raw: str) -> Ballot:
    value = json.loads(raw)
    if kind is PollKind.MULTI:
        return frozenset(int(v) for v in value)
    if kind is PollKind.RANKED:
        return tuple(int(v) for v in value)
    if kind is PollKind.SURVEY:
        return {int(q): bool(a) for q, a in value.items()}
    return int(value)


def voter_key(secret: bytes, user_id: int) -> bytes:
    """Pseudonymous ballot key; unlinkable without the poll key (erased at close)."""
    return Sealer.voter_key(secret, user_id)


@functools.lru_cache(maxsize=128)
def ballot_pad(kind: PollKind, n_options: int) -> int:
    """One sealed length for every ballot of a poll: that of its longest possible ballot.

    Cached: it depends only on the poll's kind and size, and every vote seals one ballot."""
    worst: Ballot
    if kind is PollKind.MULTI:
        worst = frozenset(range(n_options))
    elif kind is PollKind.RANKED:
        worst = tuple(range(n_options))
    elif kind is PollKind.SURVEY:
        worst = dict.fromkeys(range(n_options), False)
    else:
        worst = max(n_options - 1, 0)
    return len(encode_ballot(kind, worst).encode()) + 2


def seal_ballot(poll_key: bytes, poll: Poll, voter: bytes, ballot: Ballot) -> bytes:
    return seal_ballots(poll_key, poll, [(voter, ballot)])[0]


def seal_ballots(
    poll_key: bytes, poll: Poll, voters_and_ballots: list[tuple[bytes, Ballot]]
) -> list[bytes]:
    """:func:`seal_ballot` for each ``(voter key, ballot)`` of one poll, in order (a batch of
    votes: the AAD prefix, the cipher and the padding worked out once)."""
    aad = ballot_aads("poll", poll.id)
    return Sealer.seal_many(
        poll_key,
        [(encode_ballot(poll.kind, b).encode(), aad(k, 0)) for k, b in voters_and_ballots],
        pad_to=ballot_pad(poll.kind, len(poll.options)),
    )


def open_ballot(poll_key: bytes, poll: Poll, voter: bytes, sealed: bytes) -> Ballot:
    raw = Sealer.open(poll_key, sealed, aad=ballot_aad("poll", poll.id, voter))
    return decode_ballot(poll.kind, raw.decode())


def poll_from_row(row: Row) -> Poll:
    return Poll(
        id=row["id"],
        community_id=row["community_id"],
        kind=as_kind(row["kind"]),
        question=row["question"],
        options=tuple(json.loads(row["options"])),
        anonymous=bool(row["anonymous"]),
        created_by=row["created_by"],
        created_at=from_db_req(row["created_at"]),
        closes_at=from_db(row["closes_at"]),
        closed_at=from_db(row["closed_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        nudged_at=from_db(row["nudged_at"]),
        voters=row["voters"],
        eligible=row["eligible"],
        collective_statement=row["collective_statement"],
    )
