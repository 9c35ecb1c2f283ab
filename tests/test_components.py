"""The base of Hearth's persistent components: template groups to arguments, typed services."""

from __future__ import annotations

import re
from typing import Any

import discord
import pytest

from bot.components import HearthItem, ServiceRegistry, match_arguments, services_of
from bot.errors import Conflict


class PollsService:
    pass


class SpecialPolls(PollsService):
    pass


class Vote(
    HearthItem[PollsService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"t:(?P<poll_id>\d+):v:(?P<option>\d+):(?P<word>[a-z]+)",
):
    service_type = PollsService

    def __init__(self, poll_id: int, option: int, word: str) -> None:
        super().__init__(discord.ui.Button(label="x", custom_id=f"t:{poll_id}:v:{option}:{word}"))
        self.poll_id, self.option, self.word = poll_id, option, word


class _Client:
    def __init__(self, registry: Any) -> None:
        self.services = registry


class _Interaction:
    def __init__(self, registry: Any) -> None:
        self.client = _Client(registry)


def test_match_arguments_turns_digits_into_ints() -> None:
    m = re.fullmatch(r"(?P<a>\d+):(?P<b>\w+):(?P<c>x)?", "12:ab:")
    assert m is not None
    assert match_arguments(m) == {"a": 12, "b": "ab"}


def test_registry_by_type_and_subtype() -> None:
    reg = ServiceRegistry()
    with pytest.raises(Conflict, match="not available"):
        reg.get(PollsService)
    special = SpecialPolls()
    reg.register(special)
    assert reg.get(PollsService) is special and reg.get(SpecialPolls) is special
    reg.unregister(special)
    with pytest.raises(Conflict):
        reg.get(SpecialPolls)


async def test_from_custom_id_builds_the_item_and_resolves_the_service_once() -> None:
    reg = ServiceRegistry()
    service = PollsService()
    reg.register(service)
    button = discord.ui.Button[Any](label="x", custom_id="t:7:v:2:yes")
    m = Vote.__discord_ui_compiled_template__.fullmatch("t:7:v:2:yes")
    assert m is not None
    made = await Vote.from_custom_id(_Interaction(reg), button, m)  # type: ignore[arg-type]
    assert (made.poll_id, made.option, made.word) == (7, 2, "yes")
    assert made.service is service
    with pytest.raises(Conflict, match="starting"):
        services_of(_Interaction(None))  # type: ignore[arg-type]
