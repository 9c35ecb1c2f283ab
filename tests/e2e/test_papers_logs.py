"""Logs of papers for comment: at DEBUG (what ``HEARTH_LOG_LEVEL=DEBUG python -m bot``
writes), no record shows an answer's button, a comment, or the named/anonymous choice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.test_logs_privacy import Records, hearth_log  # noqa: F401 (fixture)
from tests.e2e.test_papers import COMMUNITY, PDF, _answer, _setup

pytestmark = pytest.mark.e2e

SECRET_COMMENT = "Pineapple objection about the night line"


@pytest.fixture
async def world(tmp_path: Path, hearth_log: Records) -> AsyncIterator[HearthWorld]:  # noqa: F811
    async with hearth_world(tmp_path) as w:
        yield w


async def test_no_log_line_shows_an_answer_or_a_comment(
    world: HearthWorld,
    hearth_log: Records,  # noqa: F811
) -> None:
    u = await _setup(world)
    rec = await world.slash(u["gina"], "document comment", community=COMMUNITY,
                            title="Referral letters", closes="in 3 days",
                            file=("draft.pdf", PDF))  # fmt: skip
    assert "Shared" in rec.content
    r = await _answer(world, u["bob"], 1, "c", SECRET_COMMENT)
    assert "anonymously" in r.content
    await _answer(world, u["carol"], 1, "d", "Another thought", named=True)
    await world.advance(timedelta(days=3))
    records = hearth_log.bot_records()
    assert records
    text = "\n".join(records)
    assert "paper:1" in text  # the interactions are logged, redacted
    assert SECRET_COMMENT not in text and "Pineapple" not in text
    assert "paper:1:v:c" not in text and "paper:1:v:d" not in text
    assert '["named"]' not in text and "['named']" not in text  # the select's value
