"""AnnualRepo on a real database (each engine): one open report per community and year,
answers only while open, the close and the reminder claimed once, and the member's answers in
privacy export and erasure."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.db.database import Database
from bot.db.privacy import PrivacyRepo
from bot.db.value_annual import AlreadyOpen, AnnualRepo
from bot.domain.privacy import ERASED_MEMBER, export_document
from bot.domain.stories import Consent
from tests.db.test_privacy_repo import ME, OTHER, T0, community, scan

CLOSES = T0 + timedelta(days=28)


async def test_one_open_report_per_community_and_year(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = AnnualRepo(db)
    report = await repo.create(cid, 2027, ME, T0, CLOSES, CLOSES - timedelta(days=3))
    with pytest.raises(AlreadyOpen):
        await repo.create(cid, 2027, ME, T0, CLOSES, None)
    assert (await repo.open_for(cid, 2027)) == report
    assert await repo.close(report.id, CLOSES) is True
    assert await repo.close(report.id, CLOSES) is False  # exactly once
    again = await repo.create(cid, 2027, ME, T0, CLOSES, None)  # a closed one does not block
    assert again.id != report.id and [r.id for r in await repo.open_reports()] == [again.id]


async def test_answers_change_until_the_close_and_keep_the_quoting_choice(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = AnnualRepo(db)
    report = await repo.create(cid, 2027, ME, T0, CLOSES, None)
    assert await repo.set_consent(report.id, ME, Consent.NAMED, T0) is False  # no answer yet
    assert await repo.save_answer(report.id, ME, {"contacts": "Dr A"}, T0) is False
    assert await repo.set_consent(report.id, ME, Consent.ANONYMOUS, T0) is True
    assert await repo.save_answer(report.id, ME, {"skills": "CPR"}, T0 + timedelta(hours=1))
    answer = await repo.answer(report.id, ME)
    assert answer is not None and answer.consent is Consent.ANONYMOUS
    assert (answer.text("contacts"), answer.text("skills")) == ("", "CPR")
    assert answer.answered_at == T0 and answer.updated_at == T0 + timedelta(hours=1)
    assert await repo.claim_reminder(report.id, T0) is True
    assert await repo.claim_reminder(report.id, T0) is False
    await repo.close(report.id, CLOSES)
    await repo.save_answer(report.id, OTHER, {"skills": "late"}, CLOSES)
    assert await repo.answered_ids(report.id) == {ME}  # nothing stored after the close
    assert await repo.set_consent(report.id, ME, Consent.GROUP, CLOSES) is False


async def test_privacy_export_and_erasure_cover_annual_answers(db: Database) -> None:
    cid = await community(db, "Carers")
    repo = AnnualRepo(db)
    report = await repo.create(cid, 2027, ME, T0, CLOSES, None)
    await repo.save_answer(report.id, ME, {"feedback": "MYWORDS"}, T0)
    await repo.save_answer(report.id, OTHER, {"feedback": "THEIRWORDS"}, T0)
    privacy = PrivacyRepo(db)
    doc = export_document(await privacy.export_data(ME), T0)
    [mine] = doc["annual_report_answers"]
    assert mine["feedback_and_stories"] == "MYWORDS" and mine["year"] == 2027
    assert mine["quoting"] == "group" and mine["community"] == "Carers"
    assert doc["records_you_created"]["annual_reports.opened_by"] == 1

    result = await privacy.erase(ME)
    assert result.counts["annual_answers"] == 1
    assert await scan(db, ME) == []
    assert await repo.answered_ids(report.id) == {OTHER}  # only their own answer goes
    kept = await repo.get(report.id)
    assert kept is not None and kept.opened_by == ERASED_MEMBER
