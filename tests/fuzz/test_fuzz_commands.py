"""Bad input through every slash command, modal and the message context menu.

Each test owns one Hearth world (all cogs) and runs a fixed sweep of the nastiest values
(see driver.nasty_values) plus hypothesis-generated mixes through the emulator; after every
interaction the invariants in tests/fuzz/harness.py are checked, and once more after the
clock is moved on so scheduled work (poll closes, reminders, prompts, digests) also runs
over whatever the fuzzing stored.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import errors_handler
from tests.e2e.story_draft import post_draft
from tests.fuzz.commands import COMMANDS, DESTRUCTIVE, by_group
from tests.fuzz.driver import FUZZ_SETTINGS, fuzz, sweep
from tests.fuzz.harness import COMMUNITY, FuzzWorld, fuzz_world, read_back, standard_setup
from tests.fuzz.strategies import MESSAGE_MAX, hostile_text

pytestmark = pytest.mark.e2e


def _after_time_passes(fw: FuzzWorld) -> None:
    """Render what the fuzzing stored, run a few weeks of scheduled work; check again."""
    mark = fw.mark()
    fw.run(read_back(fw))
    fw.check_since(mark, "reading back what the fuzzing stored")
    mark = fw.mark()
    fw.run(fw.advance(timedelta(days=8), steps=3))
    fw.check_since(mark, "scheduled work after the fuzzing")
    fw.check_since(type(mark)(0, 0, 0, 0), "the whole run")


@pytest.mark.parametrize(
    ("groups", "examples"),
    [
        (("community",), 35),
        (("digest", "statement"), 35),
        (("meeting",), 40),
        (("poll", "story"), 40),
        (("document",), 30),
        (("product",), 30),
        (("value",), 25),
        (("change",), 25),
    ],
    ids=["community", "digest+statement", "meeting", "poll+story", "document", "product",
         "value", "change"],
)
def test_slash_commands_survive_bad_input(
    tmp_path: Path, groups: tuple[str, ...], examples: int
) -> None:
    cmds = [c for g in groups for c in by_group(g)]
    with fuzz_world(tmp_path, standard_setup) as fw:
        assert sweep(fw, cmds) > 0
        fuzz(fw, cmds, max_examples=examples)
        _after_time_passes(fw)


def test_destructive_commands_survive_bad_input(tmp_path: Path) -> None:
    with fuzz_world(tmp_path, standard_setup) as fw:
        sweep(fw, DESTRUCTIVE)
        fuzz(fw, DESTRUCTIVE, max_examples=25)
        _after_time_passes(fw)


def test_every_free_text_and_integer_option_is_fuzzed(tmp_path: Path) -> None:
    """A new command or option cannot slip past this suite unfuzzed."""
    covered = {(c.path, o) for c in [*COMMANDS, *DESTRUCTIVE] for o in (*c.strings, *c.ints)}
    with fuzz_world(tmp_path) as fw:
        missing = []

        def walk(prefix: str, options: list[dict[str, Any]]) -> None:
            for o in options:
                if o["type"] in (1, 2):
                    walk(f"{prefix} {o['name']}", o.get("options") or [])
                elif (o["type"] in (3, 4, 10) and not o.get("choices")
                      and (prefix, o["name"]) not in covered):
                    missing.append(f"/{prefix} {o['name']}")

        for cmd in fw.emu.commands.values():
            if cmd.type == 1:
                walk(cmd.name, cmd.data.get("options") or [])
        assert not missing, f"add these to tests/fuzz/commands.py: {missing}"


def test_modals_survive_bad_input(tmp_path: Path) -> None:
    """The story form (title, text) and the meeting notes form, filled with hostile text."""
    with fuzz_world(tmp_path, standard_setup) as fw:
        t = fw.targets()
        title = hostile_text(t, max_size=100)
        body = hostile_text(t, max_size=4000)
        p = fw.people

        async def story(user_name: str, values: dict[str, str], stage: str | None,
                        consent: str) -> None:
            user = p[user_name]
            opts: dict[str, Any] = {"community": COMMUNITY, "consent": consent}
            if stage:
                opts["stage"] = stage
            rec = await fw.slash(user, "story share", opts)
            assert rec.modal is not None, rec.content
            await fw.emu.submit_modal(user, rec, values)
            await fw.settle()

        async def notes(user_name: str, text: str) -> None:
            user = fw.world.owner if user_name == "owner" else p[user_name]
            rec = await fw.slash(user, "meeting notes", {"meeting": str(fw.meeting_id)})
            if rec.modal is None:  # refused before the form (not a facilitator)
                return
            await fw.emu.submit_modal(user, rec, {"notes": text})
            await fw.settle()

        @settings(FUZZ_SETTINGS, max_examples=40)
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            mark = fw.mark()
            if data.draw(st.booleans(), label="story form"):
                who = data.draw(st.sampled_from(["alice", "fran", "carol", "mallory"]),
                                label="teller")
                values = {"title": data.draw(title, label="title"),
                          "text": data.draw(body, label="text")}
                stage = data.draw(st.sampled_from([None, "diagnosis"]), label="stage")
                consent = data.draw(st.sampled_from(["group", "anonymous", "named"]),
                                    label="consent")
                fw.run(story(who, values, stage, consent))
                fw.check_since(mark, f"story form as {who}: {values!r:.300}")
            else:
                who = data.draw(st.sampled_from(["owner", "fran"]), label="facilitator")
                text = data.draw(body, label="notes")
                fw.run(notes(who, text))
                fw.check_since(mark, f"notes form as {who}: {text!r:.300}")

        example()
        _after_time_passes(fw)


def test_save_as_story_survives_bad_messages(tmp_path: Path) -> None:
    """People's own messages (up to 2000 characters) saved as stories by them or a
    facilitator; the teller is then asked for consent by DM, echoing their words."""
    with fuzz_world(tmp_path, standard_setup) as fw:
        content = hostile_text(fw.targets(), max_size=MESSAGE_MAX)
        lounge = fw.world.channel("carers-voice-lounge")
        p = fw.people

        async def save(author: str, saver: str, text: str) -> None:
            msg = await fw.emu.post_message(lounge, p[author], text)
            rec = await fw.emu.message_command(fw.world.guild, p[saver], "Save as story", msg)
            await post_draft(fw.emu, p[saver], rec)  # the author's own: Post on the draft
            await fw.settle()

        @settings(FUZZ_SETTINGS, max_examples=30)
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            author = data.draw(st.sampled_from(["alice", "mallory", "outsider"]),
                               label="author")
            saver = data.draw(st.sampled_from([author, "fran"]), label="saver")
            text = data.draw(content, label="content")
            mark = fw.mark()
            fw.run(save(author, saver, text))
            fw.check_since(mark, f"{saver} saves {author}'s message {text!r:.300}")

        example()
        _after_time_passes(fw)


def test_autocomplete_survives_bad_input(tmp_path: Path) -> None:
    """Whatever is typed into an autocomplete option, the bot answers with valid choices."""
    fields = [(c, o) for c in [*COMMANDS, *DESTRUCTIVE] for o in c.strings]
    with fuzz_world(tmp_path, standard_setup) as fw:
        auto = []
        for cmd, name in fields:
            _, _, specs = fw.emu._resolve_command(fw.world.guild, cmd.path)
            if any(s["name"] == name and s.get("autocomplete") for s in specs):
                auto.append((cmd.path, name))
        assert len(auto) >= 20, auto
        typed = hostile_text(fw.targets())

        @settings(FUZZ_SETTINGS, max_examples=40)
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            path, name = data.draw(st.sampled_from(auto), label="option")
            who = data.draw(st.sampled_from(["owner", "alice", "outsider"]), label="who")
            value = data.draw(typed, label="typed")
            user = fw.world.owner if who == "owner" else fw.people[who]
            mark = fw.mark()
            choices = fw.run(fw.emu.autocomplete(fw.world.guild, user, path, focused=name,
                                                 value=value))
            fw.check_since(mark, f"autocomplete /{path} {name} as {who}: {value!r:.200}")
            assert all(1 <= len(c["name"]) <= 100 for c in choices)

        example()


def test_the_checks_catch_what_they_guard_against(tmp_path: Path) -> None:
    """Negative control: a mass mention, an unexpected error and an apology are reported."""
    with fuzz_world(tmp_path, standard_setup) as fw:
        bot = fw.world.bot
        assert bot is not None
        lounge = bot.get_channel(fw.world.channel("carers-voice-lounge").id)
        assert isinstance(lounge, discord.TextChannel)
        mark = fw.mark()
        fw.run(lounge.send("@everyone look", allowed_mentions=discord.AllowedMentions.all()))
        fw.run(lounge.send(f"<@{fw.people['alice'].id}>",
                           allowed_mentions=discord.AllowedMentions(users=True)))
        problems = fw.problems_since(mark)
        assert any("mass mention" in p for p in problems), problems
        assert any("users pinged from parsed text" in p for p in problems), problems

        mark = fw.mark()
        fw.run(lounge.send(f"<@{fw.people['alice'].id}>", allowed_mentions=discord.AllowedMentions(
            users=[discord.Object(fw.people["alice"].id)])))
        assert fw.problems_since(mark) == []  # an explicitly listed user is intended

        mark = fw.mark()
        with contextlib.suppress(discord.HTTPException):
            fw.run(lounge.send("x" * 2001))
        fw.run(lounge.send(errors_handler.APOLOGY))
        logging.getLogger("cogs.fuzz_probe").error("boom")
        problems = fw.problems_since(mark)
        assert any(p.startswith("Discord refused POST") for p in problems), problems
        assert any(p.startswith("apology sent") for p in problems), problems
        assert any("ERROR log cogs.fuzz_probe: boom" in p for p in problems), problems
