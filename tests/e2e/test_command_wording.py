"""Discord-native wording (issue 14): every option says what it wants, every fixed choice reads
as words while Discord still sends the code Hearth stores, timezones autocomplete, and replies
name commands as clickable mentions.

The first test walks what Discord was told (the emulator's registered commands), so a new
option without a description, one described as Discord's placeholder, or a choice shown as
its raw code fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from bot.choices import timezone_matches
from tests.e2e.hearth import HearthWorld

PLACEHOLDERS = {"…", "...", "-", "", "todo", "tbd", "description"}


def walk_options(command: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    def walk(prefix: str, options: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
        for option in options:
            where = f"{prefix} {option['name']}"
            if option.get("type") in (1, 2):  # subcommand, subcommand group
                yield where, option
                yield from walk(where, option.get("options") or [])
            else:
                yield where, option

    yield from walk("/" + command["name"], command.get("options") or [])


async def test_every_command_and_option_is_described_and_choices_read_as_words(
    world: HearthWorld,
) -> None:
    problems: list[str] = []
    registered = [c.payload() for c in world.emu.commands.values() if c.type == 1]
    assert len(registered) >= 7
    for command in registered:
        if (command.get("description") or "").strip().lower() in PLACEHOLDERS:
            problems.append(f"/{command['name']}: no description")
        for where, option in walk_options(command):
            text = (option.get("description") or "").strip()
            if text.lower() in PLACEHOLDERS:
                problems.append(f"{where}: description {text!r}")
            for choice in option.get("choices") or []:
                if choice["name"] == str(choice["value"]) or choice["name"].islower():
                    problems.append(f"{where}: choice {choice['value']!r} shown as a code")
    assert not problems, "\n".join(problems)


async def test_choices_show_words_and_send_the_stored_codes(world: HearthWorld) -> None:
    add = world.emu.command("community")
    assert add is not None
    options = {o["name"]: o for o in add.payload()["options"]}
    discipline = next(o for o in options["add"]["options"] if o["name"] == "discipline")
    assert {c["value"]: c["name"] for c in discipline["choices"]}["gp"] == "GP"
    story = world.emu.command("story")
    assert story is not None
    share = next(o for o in story.payload()["options"] if o["name"] == "share")
    consent = next(o for o in share["options"] if o["name"] == "consent")
    assert {c["value"]: c["name"] for c in consent["choices"]}["group"] == "Keep it in the group"
    digest = world.emu.command("digest")
    assert digest is not None
    sched = next(o for o in digest.payload()["options"] if o["name"] == "schedule")
    weekday = next(o for o in sched["options"] if o["name"] == "weekday")
    assert [c["name"] for c in weekday["choices"]][:2] == ["Monday", "Tuesday"]

    # Discord sends the value: the codes are stored exactly as before.
    nurse = world.person("nurse")
    await world.create_community(members={nurse: "nurse"})
    assert await world.db.fetchval(  # type: ignore[union-attr]
        "SELECT discipline FROM memberships WHERE user_id = :user", {"user": nurse.id}
    ) == "nurse"
    rec = await world.slash(world.owner, "digest schedule", community="Carers Voice",
                            weekday="friday", time="10:00", timezone="Europe/Paris")
    assert "Friday" in rec.content or "friday" in rec.content.lower(), rec.content


async def test_timezones_autocomplete_iana_names(world: HearthWorld) -> None:
    await world.create_community()
    offered = await world.emu.autocomplete(
        world.guild, world.owner, "digest schedule", focused="timezone", value="lond",
        community="Carers Voice", weekday="monday", time="09:00",
    )
    names = [c["value"] for c in offered]
    assert names[0] == "Europe/London", names
    wide = await world.emu.autocomplete(
        world.guild, world.owner, "meeting schedule", focused="timezone", value="america",
        community="Carers Voice", title="x", when="2027-03-10 18:30",
    )
    assert len(wide) == 25 and all("America" in c["value"] for c in wide)
    assert timezone_matches("new york") == ["America/New_York"]
    assert timezone_matches("")[0] == "Europe/London"


MENTION = re.compile(r"</community add:(\d+)>")


async def test_replies_mention_commands_as_links(world: HearthWorld) -> None:
    """A reply worded by the domain ("A facilitator can add you with `/community add`") and one
    worded by a cog both carry a clickable mention with the id Discord gave the command."""
    rec = await world.create_community()
    command = world.emu.command("community")
    assert command is not None
    found = MENTION.search(rec.content)
    assert found and int(found.group(1)) == command.id, rec.content
    assert "`/community add`" not in rec.content
    report = await world.slash(world.owner, "statement report", community="Carers Voice")
    statement = world.emu.command("statement")
    assert statement is not None
    assert f"</statement round:{statement.id}>" in report.content, report.content
