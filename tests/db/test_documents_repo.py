"""DocumentRepo on every engine: versions, sealed choices, quotes and privacy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.db.database import Database
from bot.db.documents import DocumentRepo
from bot.db.privacy import PrivacyRepo
from bot.db.rows import to_db
from bot.domain.documents import Choice, Credit, ProposalStatus, QuoteStatus, Template
from bot.errors import Conflict
from tests.db.test_privacy_repo import community, scan

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
ME = 555_000_000_000_000_001
OTHER = 555_000_000_000_000_002
FAC = 555_000_000_000_000_003


async def _story(db: Database, cid: int, teller: int) -> int:
    async with db.transaction() as conn:
        cur = await conn.execute(
            "INSERT INTO stories (community_id, teller_id, title, text, consent, created_at)"
            " VALUES (:c, :teller, 'T', 'Words of the story.', 'named', :at) RETURNING id",
            {"c": cid, "teller": teller, "at": to_db(T0)},
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def test_versions_quotes_and_sealed_choices(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = DocumentRepo(db)
    doc = await repo.create(
        cid, "Principles", Template.BLANK, FAC, ["Intro", "Home"], T0, "Version 1: started."
    )
    sections = await repo.sections(doc.id)
    assert [(s.position, s.heading) for s in sections] == [(1, "Intro"), (2, "Home")]
    story = await _story(db, cid, ME)
    quote = await repo.add_quote(
        doc.id, sections[1].id, story, ME, OTHER, "Words", Credit.NAMED, "Me", T0
    )
    assert quote.status is QuoteStatus.ASKED
    assert (await repo.latest_version(doc.id)).quote_ids == set()
    number = await repo.answer_quote(quote.id, True, T0, lambda n: f"Version {n}: quote.")
    assert number == 2
    assert (await repo.latest_version(doc.id)).quote_ids == {quote.id}
    with pytest.raises(Conflict):
        await repo.answer_quote(quote.id, True, T0, lambda n: "again")

    proposal = await repo.add_proposal(doc.id, sections[0].id, "New intro.", OTHER, T0)
    assert await repo.choose(proposal.id, ME, Choice.SUPPORT) == 1
    assert await repo.choose(proposal.id, OTHER, Choice.OPPOSE) == 2
    assert await repo.choose(proposal.id, ME, Choice.PASS) == 2  # a changed mind
    assert await repo.my_choice(proposal.id, ME) is Choice.PASS
    # sealed at rest: no choice word, and no member id, in the choices table
    raw = await db.fetchall("SELECT * FROM document_choices")
    assert all(b"pass" not in bytes(r["sealed"]) for r in raw)
    assert "document_choices.voter_key" not in await scan(db, ME)
    decided, number = await repo.decide(
        proposal.id, True, FAC, T0, lambda n, t: f"Version {n}: {t.passed} pass."
    )
    assert decided.status is ProposalStatus.ACCEPTED and number == 3
    assert (decided.tally.support, decided.tally.oppose, decided.tally.passed) == (0, 1, 1)
    assert await db.fetchval("SELECT COUNT(*) FROM document_choices") == 0
    assert await repo.my_choice(proposal.id, ME) is None
    latest = await repo.latest_version(doc.id)
    assert latest.summary == "Version 3: 1 pass." and latest.sections[0].body == "New intro."
    assert await repo.versions_with_quote(quote.id) == [2, 3]
    with pytest.raises(Conflict):
        await repo.choose(proposal.id, ME, Choice.SUPPORT)

    removed = await repo.change_quotes(
        [quote.id],
        remove=True,
        document_id=doc.id,
        now=T0,
        summary_for=lambda n: f"Version {n}: removed.",
    )
    assert removed == 4 and (await repo.latest_version(doc.id)).quote_ids == set()
    gone = await repo.quote(quote.id)
    assert gone is not None and gone.text is None and gone.teller_id is None


async def test_privacy_export_and_erasure_of_document_contributions(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = DocumentRepo(db)
    doc = await repo.create(cid, "Principles", Template.BLANK, ME, ["Intro"], T0, "v1")
    section = (await repo.sections(doc.id))[0]
    story = await _story(db, cid, ME)
    quote = await repo.add_quote(
        doc.id, section.id, story, ME, ME, "My words", Credit.NAMED, "Me", T0
    )
    await repo.answer_quote(quote.id, True, T0, lambda n: "v2")
    accepted = await repo.add_proposal(doc.id, section.id, "Accepted words.", ME, T0)
    await repo.decide(accepted.id, True, FAC, T0, lambda n, t: "v3")
    open_one = await repo.add_proposal(doc.id, section.id, "Open words.", ME, T0)
    other = await repo.add_proposal(doc.id, section.id, "Other's words.", OTHER, T0)
    await repo.choose(other.id, ME, Choice.OPPOSE)

    privacy = PrivacyRepo(db)
    exported = (await privacy.export_data(ME)).documents
    kinds = sorted(str(d["kind"]) for d in exported)
    assert kinds == [
        "quote of your story",
        "your choice on an open proposal",
        "your proposal",
        "your proposal",
    ]
    assert {"choice": "oppose"}.items() <= next(
        d for d in exported if d["kind"] == "your choice on an open proposal"
    ).items()

    result = await privacy.erase(ME)
    assert result.counts["document_quotes_removed"] == 1
    assert result.counts["document_proposals_detached"] == 1
    assert result.counts["document_proposals_deleted"] == 1
    assert result.counts["document_choices_dropped"] == 1
    hits = [h for h in await scan(db, ME) if h.startswith("document")]
    assert hits == []
    assert await repo.proposal(open_one.id) is None
    kept = await repo.proposal(accepted.id)
    assert kept is not None and kept.proposed_by is None and kept.text is None
    assert (await repo.sections(doc.id))[0].body == "Accepted words."  # the group's record
    q = await repo.quote(quote.id)
    assert q is not None and q.status is QuoteStatus.REMOVED and q.text is None
    assert await repo.responses(other.id) == 0
