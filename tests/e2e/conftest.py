"""The e2e world fixture. The core flows (:data:`CORE_FLOWS`, and any module marked
``pytest.mark.both_engines``) run every test that uses ``world`` (or asks for ``engine``) on
SQLite and on PostgreSQL; the others run on SQLite (their subject is not the engine: the
emulator, wording, permissions, or SQLite's own files)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.e2e.hearth import HearthWorld, hearth_world
from tests.engines import DEFAULT_ENGINE, ENGINES, pop_engine, push_engine

#: What a community does from start to finish, per capability: the tests that run on
#: PostgreSQL too (each flow with its restarts, refusals that must store nothing, and
#: consent). A module maps to the names of its core-flow tests; None takes the whole module.
#: The rest of each module runs on SQLite (the engine-specific behaviour is in tests/db).
CORE_FLOWS: dict[str, frozenset[str] | None] = {
    "test_smoke": None,
    "test_statements": None,
    "test_privacy": None,
    "test_communities": frozenset({
        "test_create_builds_private_space_with_forum_roles_and_facilitator",
        "test_failure_midway_rolls_back_everything",
        "test_add_assigns_roles_records_and_welcomes",
        "test_archive_locks_keeps_data_and_refuses_later_changes",
        "test_restart_loses_nothing",
        "test_concurrent_creates_of_one_name_leave_one_community",
    }),
    "test_stories": frozenset({
        "test_share_posts_a_tagged_forum_thread_and_suggests_plain_words",
        "test_bad_share_input_is_refused_and_nothing_stored",
        "test_facilitator_saves_a_members_message_and_the_teller_is_asked_by_dm",
        "test_consent_changes_only_by_the_teller_and_withdrawal_leaves_a_tombstone",
        "test_group_story_never_appears_in_anything_for_a_sponsor",
    }),
    "test_polls": frozenset({
        "test_single_choice_poll_votes_changes_and_closes_on_time",
        "test_ranked_poll_instant_runoff_round_by_round",
        "test_survey_per_question_answers_skips_and_changes",
        "test_buttons_work_and_poll_closes_after_restarts",
        "test_poll_due_while_bot_was_down_closes_at_start",
        "test_burst_of_votes_is_group_committed_and_all_acknowledged",
        "test_bad_input_is_refused_clearly_and_nothing_is_stored",
    }),
    "test_meetings": frozenset({
        "test_schedule_creates_event_announcement_and_ics",
        "test_rsvp_buttons_update_counts_and_survive_restart",
        "test_cancel_updates_event_announcement_and_tells_going_and_maybe",
        "test_notes_modal_and_attendance_feed_the_digest",
    }),
    "test_digest": frozenset({
        "test_scheduled_digest_is_delivered_with_consent_and_redaction",
        "test_preview_is_exactly_what_send_delivers",
        "test_restart_neither_repeats_nor_skips_and_catches_up_late",
    }),
    "test_value_stories": frozenset({
        "test_form_preview_submit_and_post",
        "test_consent_change_and_withdrawal",
        "test_quarterly_by_default_and_a_restart_catches_up_once",
        "test_privacy_export_and_forget_cover_value_stories",
    }),
    "test_change_rounds": frozenset({
        "test_a_round_collects_selects_and_feeds_back",
        "test_a_distilling_group_selects_only_what_may_leave",
        "test_the_sponsors_digest_carries_only_what_may_leave",
        "test_erasure_takes_a_selected_story_out_of_the_feedback",
    }),
    "test_documents": frozenset({
        "test_document_from_two_quotes_and_an_amendment_then_a_withdrawal",
        "test_a_teller_who_asks_to_be_forgotten_leaves_the_document",
    }),
    "test_papers": frozenset({
        "test_paper_with_file_named_and_anonymous_comments",
        "test_typed_paper_restart_across_deadline_closes_once",
    }),
    "test_products": frozenset({
        "test_product_from_sources_to_sponsor_and_digest",
        "test_each_linked_story_reaches_the_sponsor_only_as_its_teller_agreed",
    }),
}


def _core_flow(metafunc: pytest.Metafunc) -> bool:
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if module not in CORE_FLOWS:
        return False
    names = CORE_FLOWS[module]
    return names is None or metafunc.function.__name__ in names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if (
        "engine" in metafunc.fixturenames
        and (_core_flow(metafunc) or metafunc.definition.get_closest_marker("both_engines"))
        and not metafunc.definition.get_closest_marker("sqlite_only")
    ):
        metafunc.parametrize("engine", ENGINES)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    if request.node.get_closest_marker("sqlite_only"):
        return "sqlite"
    return DEFAULT_ENGINE


@pytest.fixture(autouse=True)
def _world_engine(engine: str) -> Iterator[None]:
    """Every world a test opens (this module's ``world``, a module's own fixture, or
    ``hearth_world`` called in the test) is on the test's engine."""
    push_engine(engine)
    try:
        yield
    finally:
        pop_engine()


@pytest.fixture
async def world(tmp_path: Path, engine: str) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path, engine=engine) as w:
        yield w
