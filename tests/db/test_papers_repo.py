"""PaperRepo on every engine: sealed answers, changing one's answer, the close (counts,
canonical comments, key and sealed rows gone, once only), and a member who left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.db.database import Database
from bot.db.papers import PaperRepo
from bot.domain.papers import Answer, Comment, SealedAnswer, Tally
from tests.db.test_privacy_repo import community

T0 = datetime(2027, 1, 11, 9, tzinfo=UTC)
AUTHOR, A, B, C, LEFT = 101, 102, 103, 104, 105


async def test_answers_are_sealed_changed_and_closed_once(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = PaperRepo(db)
    paper = await repo.create(cid, AUTHOR, "Leaflet", "Draft text", None, T0,
                              T0 + timedelta(days=2))  # fmt: skip
    assert paper.is_open and paper.tally is None and paper.body == "Draft text"
    await repo.set_place(paper.id, 1, 2)
    assert [p.id for p in await repo.open_papers()] == [paper.id]

    s = await repo.answer(paper.id, A, SealedAnswer(Answer.AGREE, "Good", True, A))
    assert (s.changed, s.answered) == (False, 1)
    await repo.answer(paper.id, B, SealedAnswer(Answer.DISAGREE, "No", False, None))
    s = await repo.answer(paper.id, B, SealedAnswer(Answer.CHANGES, "Shorter", False, None))
    assert (s.changed, s.answered) == (True, 2)
    await repo.answer(paper.id, LEFT, SealedAnswer(Answer.DISAGREE, "Bye", False, None))
    assert await repo.my_answer(paper.id, B) == SealedAnswer(Answer.CHANGES, "Shorter", False, None)
    assert await repo.my_answer(paper.id, C) is None
    rows = await db.fetchall("SELECT * FROM paper_answers")
    assert len({len(r["sealed"]) for r in rows}) == 1
    assert all(b"Shorter" not in bytes(r["sealed"]) for r in rows)

    closed = await repo.close(paper.id, T0 + timedelta(days=2), None, [A, B, C])
    assert closed is not None and not closed.is_open
    assert closed.tally == Tally(1, 1, 0, 3)  # LEFT is not counted
    assert await repo.comments(paper.id) == [
        Comment(Answer.AGREE, "Good", A),
        Comment(Answer.CHANGES, "Shorter", None),
    ]
    assert await db.fetchall("SELECT * FROM paper_answers") == []
    assert (
        await db.fetchval("SELECT ballot_key FROM papers WHERE id = :id", {"id": paper.id}) is None
    )
    assert await repo.close(paper.id, T0 + timedelta(days=3), None, [A]) is None
    assert [p.id for p in await repo.unannounced()] == [paper.id]
    await repo.mark_announced(paper.id, T0)
    assert await repo.unannounced() == []
    with pytest.raises(LookupError):
        await repo.answer(paper.id, C, SealedAnswer(Answer.AGREE, "", False, None))


async def test_discard_leaves_nothing(db: Database) -> None:
    cid = await community(db, "Nurses")
    repo = PaperRepo(db)
    paper = await repo.create(cid, AUTHOR, "Plan", None, "plan.pdf", T0, T0 + timedelta(days=1))
    assert paper.file_name == "plan.pdf" and paper.body is None
    await repo.discard(paper.id)
    assert await repo.get(paper.id) is None


async def test_privacy_export_and_erase(db: Database) -> None:
    from bot.db.privacy import PrivacyRepo

    cid = await community(db, "Patients")
    repo = PaperRepo(db)
    mine_open = await repo.create(cid, A, "Open draft", "my words", None, T0, T0 + timedelta(1))
    mine_closed = await repo.create(cid, A, "Closed", "my closed words", None, T0,
                                    T0 + timedelta(1))  # fmt: skip
    other = await repo.create(cid, AUTHOR, "Other's", "theirs", None, T0, T0 + timedelta(1))
    other_open = await repo.create(cid, AUTHOR, "Other open", "x", None, T0, T0 + timedelta(1))
    await repo.answer(mine_closed.id, B, SealedAnswer(Answer.AGREE, "for A", True, B))
    await repo.answer(other.id, A, SealedAnswer(Answer.AGREE, "named by A", True, A))
    await repo.answer(other.id, B, SealedAnswer(Answer.DISAGREE, "anon by B", False, None))
    await repo.answer(other_open.id, A, SealedAnswer(Answer.CHANGES, "open by A", False, None))
    await repo.close(mine_closed.id, T0, None, [B, C])
    await repo.close(other.id, T0, A, [A, B, C])

    data = await PrivacyRepo(db).export_data(A)
    kinds = [(p["kind"], p.get("title") or p.get("paper")) for p in data.papers]
    assert ("your paper for comment", "Open draft") in kinds
    assert ("your paper for comment", "Closed") in kinds
    assert ("your named comment", "Other's") in kinds
    assert ("your answer on an open paper", "Other open") in kinds
    assert "anon by B" not in str(data.papers)

    result = await PrivacyRepo(db).erase(A)
    assert result.counts["papers_deleted"] == 1 and result.counts["papers_detached"] == 1
    assert result.counts["paper_answers_dropped"] == 1
    assert await repo.get(mine_open.id) is None
    kept = await repo.get(mine_closed.id)
    assert kept is not None and kept.author_id is None and kept.body is None
    assert kept.tally == Tally(1, 0, 0, 2)  # the group's statement does not change
    assert await repo.comments(mine_closed.id) == []
    assert await repo.comments(other.id) == [Comment(Answer.DISAGREE, "anon by B", None)]
    assert await repo.answered(other_open.id) == 0
    closed_other = await repo.get(other.id)
    assert closed_other is not None and closed_other.closed_by is None
    assert (await PrivacyRepo(db).export_data(A)).papers == []
