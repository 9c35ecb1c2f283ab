"""The README documents the `/privacy export` file field by field (issue 7): every key the
export can hold, nested ones included, appears in the README's "Export field reference"."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain.privacy import (
    ActivityExport,
    AttendanceExport,
    ExportData,
    MembershipRecord,
    PollVoteExport,
    ReminderExport,
    RsvpExport,
    SponsorExport,
    StatementExport,
    StatementVoteExport,
    StoryExport,
    ValueStoryExport,
    export_document,
)

README = Path(__file__).resolve().parents[2] / "README.md"
T = datetime(2027, 1, 11, 9, tzinfo=UTC)


def full_export() -> dict[str, Any]:
    """An export with one record of every kind, so every nested key is present."""
    data = ExportData(
        user_id=42,
        memberships=[MembershipRecord("C", "gp", "North", False, T, None)],
        stories=[StoryExport(1, "C", T, "named", "t", "x", "Diagnosis", False, True, None)],
        value_stories=[ValueStoryExport(1, "C", T, "named", "i", "p", "a", "r", "f")],
        poll_votes=[PollVoteExport(1, "C", "q?", True, True, "Yes")],
        voted_in_polls=[1],
        statements=[StatementExport(1, "C", "s", T, 1)],
        statement_votes=[StatementVoteExport(1, "C", "s", "agree", False)],
        rsvps=[RsvpExport(1, "C", "m", T, "going", T)],
        attendance=[AttendanceExport(1, "C", "m", T, T)],
        reminders=[ReminderExport(1, "C", "m", 3600, "dm")],
        activity=[ActivityExport("C", "2027-01-11", 9, 3)],
        sponsor_of=[SponsorExport("C", None)],
        created={"polls.created_by": 1},
    )
    return export_document(data, T)


def field_reference() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("**Export field reference**")
    return text[start : text.index("How it is tested", start)]


def test_every_export_field_is_documented_in_the_readme() -> None:
    ref = field_reference()
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `([^`]+)` \|(.*)\|$", ref, re.M)}
    doc = full_export()
    for key, value in doc.items():
        if key == "message_activity":
            for sub, subvalue in value.items():
                name = f"message_activity.{sub}" + ("[]" if isinstance(subvalue, list) else "")
                assert name in rows, f"{name} is not documented"
            for column in value["rows"][0]:
                assert f"`{column}`" in rows["message_activity.rows[]"], column
            continue
        name = key + ("[]" if isinstance(value, list) and value and isinstance(value[0], dict)
                      else "")  # fmt: skip
        assert name in rows, f"{name} is not documented in README"
        if name.endswith("[]"):
            for column in value[0]:
                assert f"`{column}`" in rows[name], f"{name}.{column} is not documented"
    # ...and nothing documented that the export does not hold.
    documented = {n.removesuffix("[]").split(".")[0] for n in rows}
    assert documented == set(doc), documented ^ set(doc)
