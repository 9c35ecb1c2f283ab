"""The way in: what ``/help`` tells a person they can do, and the welcome a server gets when
Hearth joins it.

Worded here, without Discord: the caller passes ``mention`` (which turns "community create"
into a clickable command, or ``/community create`` when the id is unknown), the person's
communities and roles, and the permissions Hearth's role lacks (Discord's own names, from
:func:`bot.permissions.missing`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Mention = Callable[[str], str]

#: (command, what it does), in the order a newcomer meets them.
EVERYONE: tuple[tuple[str, str], ...] = (
    ("help", "this list"),
    ("community list", "the communities in this server"),
    ("community info", "about one community: its kind, members and sponsor"),
    ("privacy export", "everything Hearth holds about you, sent to your DMs"),
    ("privacy forget", "erase everything Hearth holds about you"),
)
MEMBER: tuple[tuple[str, str], ...] = (
    ("story share", "tell a story (you choose who may hear it); or right-click a message "
                    "› Apps › Save as story"),
    ("story list", "read the community's stories"),
    ("story consent", "change or withdraw consent on one of your stories"),
    ("poll results", "see how a poll went"),
    ("statement add", "add a short statement for others to vote on"),
    ("statement report", "where members agree and where they differ"),
    ("meeting list", "upcoming meetings and who is coming"),
    ("product show", "what the group made, where it came from and where it was used"),
    ("product used", "record where one of the group's products was used"),
)
FACILITATOR: tuple[tuple[str, str], ...] = (
    ("community add", "add a member (and their discipline)"),
    ("community remove", "remove a member"),
    ("community sponsor", "set who receives the weekly digest"),
    ("community link", "link a distilling group to the community it serves"),
    ("community archive", "lock the channels, keep everything"),
    ("story prompt", "post a story prompt now"),
    ("story schedule", "how often prompts are posted"),
    ("poll create", "ask the community a question"),
    ("poll close", "close a poll and post its results"),
    ("statement round", "open a round of statements"),
    ("statement close", "close the round and post what carries consensus"),
    ("meeting schedule", "plan a meeting (with a Discord event and reminders)"),
    ("meeting series", "the twice-yearly meetings"),
    ("meeting notes", "record what was discussed and who came"),
    ("meeting cancel", "cancel a meeting and tell those coming"),
    ("digest preview", "see exactly what the sponsor would get"),
    ("digest send", "send the digest now"),
    ("digest schedule", "when the weekly digest goes out"),
    ("product add", "add something the group made to its impact log"),
    ("product link", "link the stories, polls and meetings a product came from"),
    ("product status", "record a product's progress: drafting, published, adopted"),
    ("value annual", "ask every member for their annual report; you and the sponsor get the "
                     "summary"),
)
MANAGER: tuple[tuple[str, str], ...] = (
    ("community create", "start a community: Hearth makes its channels and roles, and you "
                         "become its facilitator"),
)


def commands_named() -> set[str]:
    """Every command the guide names (a test keeps them all real commands)."""
    return {name for table in (EVERYONE, MEMBER, FACILITATOR, MANAGER) for name, _ in table}


@dataclass(frozen=True)
class Person:
    """Who is asking, in this server: the communities they belong to and facilitate."""

    member_of: Sequence[str] = field(default_factory=tuple)
    facilitator_of: Sequence[str] = field(default_factory=tuple)
    is_manager: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str]


def _names(names: Sequence[str]) -> str:
    shown = [f"**{n}**" for n in names[:5]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _lines(table: Sequence[tuple[str, str]], mention: Mention) -> list[str]:
    return [f"{mention(name)}: {does}" for name, does in table]


def help_sections(person: Person, mention: Mention) -> list[Section]:
    """What the person can do, by role: everyone, member, facilitator, server manager.

    Community names are passed already escaped for Markdown.
    """
    sections = [Section("Anyone in this server", _lines(EVERYONE, mention))]
    if person.member_of or person.is_manager:
        where = (
            f"in {_names(person.member_of)}" if person.member_of else "in any community"
        )
        sections.append(Section(f"As a member {where}", _lines(MEMBER, mention)))
    if person.facilitator_of or person.is_manager:
        if person.is_manager:
            where = "of any community (you manage this server)"
        else:
            where = f"of {_names(person.facilitator_of)}"
        sections.append(Section(f"As a facilitator {where}", _lines(FACILITATOR, mention)))
    if person.is_manager:
        sections.append(Section("As a server manager", _lines(MANAGER, mention)))
    if not person.member_of and not person.is_manager:
        sections.append(
            Section(
                "Not in a community yet",
                [
                    "A facilitator adds you with "
                    f"{mention('community add')}; {mention('community list')} shows who runs "
                    "each community."
                ],
            )
        )
    return sections


#: Why Hearth asks for each permission, in plain words (keyed by Discord's name for it).
WHY = {
    "Manage Roles": "to give members their community roles, which keep its channels private",
    "Manage Channels": "to make each community's category and channels, and lock them when "
    "archived",
    "Manage Events": "to put meetings in the server's Events list",
    "View Channels": "to see the channels it posts in",
    "Send Messages": "to post prompts, polls and meeting announcements",
    "Send Messages in Threads": "to post in story threads",
    "Create Public Threads": "to post each story as its own thread",
    "Manage Threads": "to remove a story when its teller withdraws it",
    "Embed Links": "to show polls, results and digests as cards",
    "Attach Files": "to attach calendar files, charts and exports",
    "Read Message History": "to update its own earlier posts",
    "Add Reactions": "to let members react in community channels",
}


def permission_report(missing: Sequence[str]) -> str:
    """What the permissions check found, in plain words."""
    if not missing:
        return "**Permissions check:** Hearth has every permission it needs. ✅"
    lines = [
        f"**Permissions check:** Hearth is missing {len(missing)} permission"
        f"{'' if len(missing) == 1 else 's'} it needs:"
    ]
    lines += [f"- **{name}**, {WHY.get(name, 'which Hearth uses')}" for name in missing]
    lines.append(
        "A server manager can add them in Server Settings › Roles › Hearth (or invite Hearth "
        "again with the link from `python -m bot invite`)."
    )
    return "\n".join(lines)


def welcome_text(server: str, missing: Sequence[str], mention: Mention) -> str:
    """The message a server gets once, when Hearth joins it (``server`` already escaped)."""
    return "\n".join(
        [
            f"**Hello from Hearth!** Thank you for adding me to **{server}**. Three steps to "
            "your first community:",
            "1. Invite Hearth to the server: done.",
            f"2. A server manager runs {mention('community create')} with a name and a kind. "
            "Hearth makes the community's channels and roles, and makes you its facilitator.",
            f"3. Add people with {mention('community add')}: each gets the community's role "
            "and a welcome message.",
            f"Anyone can use {mention('help')} to see what they can do.",
            "",
            permission_report(missing),
        ]
    )
