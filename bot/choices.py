"""The fixed choices of Hearth's slash commands, in words a person reads.

Discord shows a choice's ``name`` and sends its ``value``: the values are the codes Hearth
stores and parses (``gp``, ``group``, ``monday``), the names are what a patient or carer
picks from ("GP", "Keep it in the group", "Monday"). One table per idea, so every command
that asks for a weekday or a consent level offers the same words.

Also the timezone autocomplete (IANA names such as Europe/London), which is a list too long
for choices (Discord allows 25).
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any

from discord import app_commands

Choices = list[app_commands.Choice[str]]


def _choices(*pairs: tuple[str, str]) -> Choices:
    return [app_commands.Choice(name=name, value=value) for value, name in pairs]


COMMUNITY_KINDS = _choices(
    ("reference", "Reference group (about 10-30 people)"),
    ("practice", "Community of practice (about 100-300 people)"),
    ("distilling", "Distilling group (serves another community)"),
)

DISCIPLINES = _choices(
    ("gp", "GP"),
    ("nurse", "Nurse"),
    ("patient", "Patient"),
    ("carer", "Carer"),
    ("other", "Other"),
)

_CONSENT = (
    ("group", "Keep it in the group"),
    ("anonymous", "Share it without my name"),
    ("named", "Share it with my name"),
)
SHARE_CONSENT = _choices(*_CONSENT)
ANY_CONSENT = _choices(*_CONSENT, ("withdrawn", "Withdraw it"))

PROMPT_CADENCES = _choices(
    ("weekly", "Every week"),
    ("fortnightly", "Every two weeks"),
    ("monthly", "Every month"),
    ("off", "Stop the prompts"),
)

WEEKDAYS = _choices(
    ("monday", "Monday"),
    ("tuesday", "Tuesday"),
    ("wednesday", "Wednesday"),
    ("thursday", "Thursday"),
    ("friday", "Friday"),
    ("saturday", "Saturday"),
    ("sunday", "Sunday"),
)

POLL_KINDS = _choices(
    ("single", "Single choice (pick one)"),
    ("multi", "Multiple choice (pick any)"),
    ("ranked", "Ranked choice (put them in order)"),
    ("agreement", "Agreement scale (agree to disagree)"),
    ("survey", "Yes/no survey (several questions)"),
)


@functools.cache
def _timezones() -> tuple[str, ...]:
    """IANA names, read once; the deprecated upper-case aliases (``GB``, ``EST``) left out."""
    return tuple(sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC"))


def timezone_matches(current: str, limit: int = 25) -> list[str]:
    """Timezone names containing what was typed (case and spaces ignored), best first:
    names that start with it, then names where a part starts with it, then the rest."""
    typed = current.strip().lower().replace(" ", "_")
    if not typed:
        usual = ["Europe/London", "UTC", *[z for z in _timezones() if z.startswith("Europe/")]]
        return list(dict.fromkeys(usual))[:limit]
    found = [z for z in _timezones() if typed in z.lower()]

    def rank(zone: str) -> tuple[int, str]:
        low = zone.lower()
        if low.startswith(typed):
            return (0, zone)
        if any(part.startswith(typed) for part in low.split("/")):
            return (1, zone)
        return (2, zone)

    return sorted(found, key=rank)[:limit]


async def timezone_autocomplete(_interaction: Any, current: str) -> Choices:
    return [app_commands.Choice(name=z, value=z) for z in timezone_matches(current)]
