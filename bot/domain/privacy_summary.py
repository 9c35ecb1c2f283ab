"""The privacy export in plain words: a Markdown summary sent beside the JSON file.

The JSON is complete and machine-readable, but a patient cannot read it. The summary walks
the same document (so it can never say more or less than the file) under headings in plain
words, and leaves out the numbers only a computer needs (ids, message ids, channel ids).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SECTIONS: list[tuple[str, str, str]] = [
    ("memberships", "Communities you belong to", "You are not in any community."),
    ("sponsor_of", "Communities you sponsor", "You do not sponsor any community."),
    ("stories", "Your stories", "You have not told any stories."),
    ("value_stories", "Your value stories", "You have not told any value stories."),
    ("poll_votes", "Your votes in open polls", "No votes in polls that are still open."),
    ("statements", "Statements you added", "You have not added any statements."),
    ("statement_votes", "Your votes on statements", "No votes on statements."),
    ("meeting_rsvps", "Your answers to meeting invitations", "No answers to meetings."),
    ("meeting_attendance", "Meetings you attended", "No attendance recorded."),
    ("meeting_reminders", "Meeting reminders sent to you", "No reminders."),
    ("annual_report_answers", "Your answers to annual reports", "No annual report answers."),
]
#: Keys a person would not understand or need (computer numbers); the JSON keeps them.
HIDDEN = frozenset({"id", "captured_by", "consent_request"})


def _hidden(key: str) -> bool:
    return key in HIDDEN or key.endswith("_id") or key.startswith("post_")


def _words(key: str) -> str:
    return key.replace("_", " ").capitalize()


def _value(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) >= 16 and value[10:11] == "T":
        return value[:16].replace("T", " at ") + " (UTC)"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "none"
    return str(value).replace("\n", " ")


def _item(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return f"- {_value(entry)}"
    parts = [f"{_words(k)}: {_value(v)}" for k, v in entry.items() if not _hidden(k)]
    return "- " + "; ".join(parts)


def export_summary(doc: Mapping[str, Any]) -> str:
    """Markdown, in plain words, of the JSON export ``doc``."""
    lines = [
        "# What Hearth holds about you",
        "",
        f"Made on {_value(doc.get('generated_at'))}. The file beside this one holds the same "
        "information for computers (JSON).",
        "",
        "Hearth never stores what you write in chat, only how many messages you sent each hour.",
        "",
    ]
    for key, title, empty in SECTIONS:
        entries = doc.get(key) or []
        lines += [f"## {title}", ""]
        lines += [_item(e) for e in entries] if entries else [empty]
        lines.append("")
    activity = (doc.get("message_activity") or {}).get("per_day") or {}
    lines += ["## How many messages you sent", ""]
    if activity:
        for community, days in activity.items():
            total = sum(int(n) for n in days.values())
            lines.append(f"- {community}: {total} messages on {len(days)} days")
    else:
        lines.append("No messages counted.")
    lines += [
        "",
        "## Anonymous votes",
        "",
        str(doc.get("anonymous_votes_note") or ""),
        "",
        "## Erasing all of this",
        "",
        "Use /privacy forget to erase everything Hearth holds about you.",
    ]
    return "\n".join(lines) + "\n"
