"""Direct clicks (bot.components.ClickRoutes): a routed button is answered from the
INTERACTION_CREATE event itself; every other interaction reaches discord.py's own parser."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord
import pytest

from bot.components import ClickRoutes

ANSWERED: list[tuple[str, int]] = []


class Routed(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"t:(?P<n>[0-9]+):v"):
    def __init__(self, n: int) -> None:
        super().__init__(discord.ui.Button(label="x", custom_id=f"t:{n}:v"))

    @classmethod
    async def answer_click(
        cls, interaction: discord.Interaction[Any], match: re.Match[str], /
    ) -> None:
        ANSWERED.append((match["n"], interaction.user.id))


class Failing(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"t:(?P<n>[0-9]+):f"):
    @classmethod
    async def answer_click(
        cls, interaction: discord.Interaction[Any], match: re.Match[str], /
    ) -> None:
        raise RuntimeError(f"boom for {interaction.user.id} on {match.string}")


def _payload(custom_id: str, *, on_message: str | None = None, ctype: int = 2) -> dict[str, Any]:
    """A DM component interaction on a bot message carrying one button (``on_message``)."""
    shown = custom_id if on_message is None else on_message
    return {
        "id": "11", "application_id": "1", "type": 3, "token": "tok", "version": 1,
        "attachment_size_limit": 8_000_000,
        "data": {"custom_id": custom_id, "component_type": ctype},
        "channel": {"id": "2", "type": 1, "recipients": []},
        "channel_id": "2",
        "user": {"id": "77", "username": "voter", "discriminator": "0", "avatar": None},
        "message": {
            "id": "3", "channel_id": "2", "type": 0, "content": "", "attachments": [],
            "embeds": [], "mentions": [], "mention_roles": [], "pinned": False,
            "mention_everyone": False, "tts": False, "timestamp": "2026-01-01T00:00:00+00:00",
            "edited_timestamp": None, "flags": 0,
            "author": {"id": "1", "username": "bot", "discriminator": "0", "avatar": None},
            "components": [{"type": 1, "components": [
                {"type": 2, "style": 1, "label": "A", "custom_id": shown},
            ]}],
        },
    }  # fmt: skip


class _World:
    def __init__(self) -> None:
        self.client = discord.Client(intents=discord.Intents.default())
        self.state = self.client._connection
        self.to_discord: list[dict[str, Any]] = []
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        self.state.parsers["INTERACTION_CREATE"] = self.to_discord.append
        self.state.dispatch = lambda event, *args: self.events.append((event, args))
        self.routes = ClickRoutes()
        self.routes.install(self.client)
        self.routes.add(Routed, Failing)

    async def click(self, payload: dict[str, Any]) -> None:
        self.state.parsers["INTERACTION_CREATE"](payload)
        for _ in range(5):
            await asyncio.sleep(0)


@pytest.fixture
def world() -> _World:
    ANSWERED.clear()
    return _World()


async def test_a_routed_click_is_answered_without_discord_py(world: _World) -> None:
    await world.click(_payload("t:5:v"))
    assert ANSWERED == [("5", 77)]
    assert world.to_discord == []
    # the interaction event is still dispatched (on_interaction), as discord.py's parser does
    [(event, (interaction,))] = world.events
    assert event == "interaction" and interaction.id == 11


@pytest.mark.parametrize(
    "payload",
    [
        _payload("u:5:v"),  # another prefix
        _payload("t:5:w"),  # the prefix is routed, the template is not
        _payload("t:5:v", on_message="t:6:v"),  # a button the message does not carry
        _payload("t:5:v", ctype=3),  # not a button
    ],
)
async def test_everything_else_goes_to_discord_py(world: _World, payload: dict[str, Any]) -> None:
    await world.click(payload)
    assert ANSWERED == []
    assert world.to_discord == [payload]


async def test_removed_routes_go_back_to_discord_py(world: _World) -> None:
    world.routes.remove(Routed)
    payload = _payload("t:5:v")
    await world.click(payload)
    assert ANSWERED == [] and world.to_discord == [payload]


async def test_other_interaction_types_go_to_discord_py(world: _World) -> None:
    payload = {**_payload("t:5:v"), "type": 2}
    await world.click(payload)
    assert ANSWERED == [] and world.to_discord == [payload]


async def test_a_failing_answer_is_logged_without_custom_id_or_user(
    world: _World, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.components"):
        await world.click(_payload("t:5:f"))
    [record] = [r for r in caplog.records if r.name == "bot.components"]
    assert record.getMessage() == "unexpected error answering a Failing click"
    # (the traceback is redacted by the log filter like every other: tests/test_log_privacy)


def test_a_template_needs_a_literal_first_segment() -> None:
    class Loose(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(a|b):(?P<n>\d+)"):
        pass

    with pytest.raises(ValueError, match="literal first segment"):
        ClickRoutes().add(Loose)  # type: ignore[arg-type]
