"""How statement votes and rounds are stored: sealed votes, row mappers, the frozen report.

Split from :mod:`bot.db.statements` (which re-exports the public part) because the privacy
export, the ballot upgrade and the forensic tests open votes too.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import TypeAdapter

from bot.db.database import Row
from bot.db.rows import from_db, from_db_req
from bot.db.sealing import Sealer, ballot_aad, ballot_aads
from bot.domain.statements import Statement, StatementReport, StatementRound, Vote

_REPORT = TypeAdapter(StatementReport)
_VOTE_BYTES = {Vote.AGREE: b"a", Vote.DISAGREE: b"d", Vote.PASS: b"p"}
_BYTE_VOTES = {v: k for k, v in _VOTE_BYTES.items()}


def report_to_json(report: StatementReport) -> str:
    return _REPORT.dump_json(report).decode()


def report_from_json(text: str) -> StatementReport:
    return _REPORT.validate_json(text)


def seal_vote(key: bytes, round_id: int, statement_id: int, voter: bytes, vote: Vote) -> bytes:
    # One byte per vote, so every sealed vote has the same length.
    return Sealer.seal(key, _VOTE_BYTES[vote], pad_to=3,
                       aad=ballot_aad("round", round_id, voter, statement_id))


def open_vote(key: bytes, round_id: int, statement_id: int, voter: bytes, sealed: bytes) -> Vote:
    return _BYTE_VOTES[
        Sealer.open(key, sealed, aad=ballot_aad("round", round_id, voter, statement_id))
    ]


def open_votes(
    key: bytes, round_id: int, cells: Iterable[tuple[int, bytes, bytes]]
) -> list[Vote]:
    """:func:`open_vote` for many ``(statement id, voter key, sealed)`` of one round (its
    close): one cipher, each voter's associated data made once (benchmarks/statements.py)."""
    aad = ballot_aads("round", round_id)
    opened = Sealer.open_many(key, ((sealed, aad(voter, sid)) for sid, voter, sealed in cells))
    return [_BYTE_VOTES[raw] for raw in opened]


def statement_from_row(row: Row) -> Statement:
    return Statement(
        id=row["id"],
        community_id=row["community_id"],
        round_id=row["round_id"],
        author_id=row["author_id"],
        text=row["text"],
        created_at=from_db_req(row["created_at"]),
    )


def round_from_row(row: Row) -> StatementRound:
    return StatementRound(
        id=row["id"],
        community_id=row["community_id"],
        opened_by=row["opened_by"],
        opened_at=from_db_req(row["opened_at"]),
        closes_at=from_db_req(row["closes_at"]),
        closed_at=from_db(row["closed_at"]),
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        voters=row["voters"],
        eligible=row["eligible"],
        collective_statement=row["collective_statement"],
    )
