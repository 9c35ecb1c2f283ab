"""Every slash command, with valid base options and the free-text/integer options to fuzz.

A value written ``@name`` is the person of that name in the fuzz world. Options with
choices are drawn from their choices (a Discord client cannot send anything else);
autocomplete options are free text (a person can type anything and press enter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fuzz.harness import COMMUNITY, OTHER


@dataclass(frozen=True)
class Cmd:
    path: str
    strings: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()
    base: dict[str, Any] = field(default_factory=dict)
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    actor: str = "owner"


C = {"community": COMMUNITY}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

COMMANDS: list[Cmd] = [
    # communities
    Cmd("community create", ("name", "circles"), base={"name": "Fuzz Group"},
        choices={"kind": ("reference", "practice", "distilling")}),
    Cmd("community add", ("community", "region"), base={**C, "member": "@bob"},
        choices={"discipline": ("gp", "nurse", "patient", "carer", "other"),
                 "facilitator": (False, True)}),
    Cmd("community remove", ("community",), base={**C, "member": "@sam"}),
    Cmd("community sponsor", ("community", "email"), base={**C, "member": "@sam"}),
    Cmd("community link", ("community", "serves"), base={"community": OTHER, "serves": COMMUNITY}),
    Cmd("community info", ("community",)),
    # digests
    Cmd("digest preview", ("community",)),
    Cmd("digest send", ("community",)),
    Cmd("digest schedule", ("community", "time", "timezone"), base={**C, "time": "09:00"},
        choices={"weekday": WEEKDAYS}),
    # meetings
    Cmd("meeting schedule", ("community", "title", "when", "location", "region", "timezone"),
        ("duration",), base={**C, "title": "Summer gathering", "when": "2027-06-10 18:30"}),
    Cmd("meeting series", ("community", "months", "weekday", "time", "location", "timezone"),
        ("duration",), base=dict(C)),
    Cmd("meeting list", ("community",)),
    Cmd("meeting notes", ("meeting",)),
    # polls
    Cmd("poll create", ("community", "question", "options", "closes"),
        base={**C, "question": "Which evening?", "options": "Monday;Tuesday"},
        choices={"kind": ("single", "multi", "ranked", "agreement", "survey"),
                 "anonymous": (True, False)}),
    Cmd("poll results", ("poll",), actor="alice"),
    # statements
    Cmd("statement add", ("community", "text"), base={**C, "text": "Evening meetings help"},
        actor="alice"),
    Cmd("statement round", ("community", "closes"), base=dict(C)),
    Cmd("statement report", ("community",)),
    # stories
    Cmd("story share", ("community", "stage"), base=dict(C), actor="alice",
        choices={"consent": ("group", "anonymous", "named")}),
    Cmd("story list", ("community", "stage"), base=dict(C), actor="alice"),
    Cmd("story consent", (), ("story",), actor="alice",
        choices={"level": ("group", "anonymous", "named", "withdrawn")}),
    Cmd("story edit", (), ("story",), actor="alice"),
    Cmd("story prompt", ("community",)),
    Cmd("story schedule", ("community", "time"), base=dict(C),
        choices={"cadence": ("weekly", "fortnightly", "monthly", "off"), "weekday": WEEKDAYS}),
    # products (the impact log)
    Cmd("product add", ("community", "title"), base={**C, "title": "Our principles"},
        choices={"kind": ("document", "guideline", "standard", "programme", "training",
                          "policy_input", "other")}),
    Cmd("product link", ("product", "source"), base={"product": "1", "source": "story:1"}),
    Cmd("product status", ("product", "note"), base={"product": "1"},
        choices={"status": ("idea", "drafting", "published", "adopted", "retired")}),
    Cmd("product used", ("product", "where", "note"),
        base={"product": "1", "where": "Training day, Leeds"}, actor="alice",
        choices={"setting": ("training", "meeting", "publication", "patient_forum",
                             "conference", "practice", "other")}),
    Cmd("product show", ("product",), base={"product": "1"}, actor="alice"),
    # documents
    Cmd("document create", ("community", "title", "sections"),
        base={**C, "title": "Our principles"},
        choices={"template": ("journey", "blank")}),
    Cmd("document quote", ("document",), ("story", "section"),
        base={"document": "1", "story": 1, "section": 1}, actor="alice"),
    Cmd("document propose", ("document",), ("section",), base={"document": "1", "section": 1},
        actor="alice"),
    Cmd("document export", ("document",), base={"document": "1"}, actor="alice",
        choices={"format": ("markdown", "html", "pdf")}),
    Cmd("document comment", ("community", "title", "closes"),
        base={**C, "title": "Referral letters", "closes": "in 3 days",
              "file": ("draft.pdf", b"%PDF-1.4 fuzz\n")}, actor="alice"),
    # value-creation stories
    Cmd("value story", ("community",), base=dict(C), actor="alice",
        choices={"consent": ("group", "anonymous", "named")}),
    Cmd("value consent", (), ("story",), actor="alice",
        choices={"level": ("group", "anonymous", "named", "withdrawn")}),
    Cmd("value prompt", ("community",), base=dict(C),
        choices={"cadence": ("quarterly", "monthly", "off")}),
    # the value report
    Cmd("value report", ("community", "from", "to"), base=dict(C)),
    Cmd("value schedule", ("community",), base=dict(C),
        choices={"cadence": ("quarterly", "monthly", "half-yearly", "yearly", "off")}),
    # the members' annual report
    Cmd("value annual", ("community", "closes"), base=dict(C)),
    # significant-change rounds
    Cmd("change round", ("community", "domains", "period", "collect_until", "select_until"),
        base=dict(C)),
    Cmd("change status", ("community",)),
    Cmd("change close", ("community",)),
    Cmd("change consent", ("story",), base={"story": "1"}, actor="alice",
        choices={"level": ("group", "anonymous", "named", "withdrawn")}),
]

#: commands that end or remove the shared things the others need (a fuzzed "1" is a valid
#: id): fuzzed in a world of their own
DESTRUCTIVE: list[Cmd] = [
    Cmd("community archive", ("community",)),
    Cmd("meeting cancel", ("meeting",)),
    Cmd("poll close", ("poll",)),
    Cmd("statement close", ("community",)),
]


def by_group(group: str) -> list[Cmd]:
    return [c for c in COMMANDS if c.path.split()[0] == group]
