"""A vote button is answered by the bot's click routes (bot/components.py, "direct clicks"):
no view rebuilt by discord.py per click, and the same answers as its DynamicItem callback."""

from __future__ import annotations

import sys
from typing import Any

import discord
import pytest

from tests.e2e.hearth import HearthWorld
from tests.e2e.test_polls import create_poll, poll_message, repo, setup_community


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Message ids whose view discord.py rebuilt (what its DynamicItem dispatch does)."""
    seen: list[int] = []
    real = discord.ui.View.from_message.__func__  # type: ignore[attr-defined]

    def from_message(cls: Any, message: discord.Message, /, **kw: Any) -> Any:
        seen.append(message.id)
        return real(cls, message, **kw)

    monkeypatch.setattr(discord.ui.View, "from_message", classmethod(from_message))
    return seen


async def test_vote_clicks_skip_the_view_rebuild_and_answer_the_same(
    world: HearthWorld, rebuilt: list[int]
) -> None:
    a, b, c = await setup_community(world)
    await create_poll(world, question="Which day?", choices="Monday; Tuesday", kind="single")
    msg = poll_message(world)
    bot = world.bot
    assert bot is not None

    clicks = ("poll:1:v:0", "poll:1:v:1", "poll:1:v:1")  # vote, change, the same again
    routed = [await world.emu.click(a, msg, cid) for cid in clicks]
    assert rebuilt == []
    # the same clicks through discord.py's DynamicItem dispatch (the route removed; the
    # class as loaded now: other tests reload the extensions, and with them this module)
    choice_button = sys.modules["cogs.polls._views"].ChoiceButton
    bot.click_routes.remove(choice_button)
    try:
        plain = [await world.emu.click(b, msg, cid) for cid in clicks]
    finally:
        bot.click_routes.add(choice_button)
    assert rebuilt == [msg.id] * 3
    assert [r.content for r in routed] == [r.content for r in plain]
    assert all(r.ephemeral for r in routed + plain)
    assert "recorded" in routed[0].content and "changed" in routed[1].content
    assert "already your vote" in routed[2].content
    assert await repo(world).voters(1) == {a.id, b.id}

    # a stranger is refused the same way, and nothing is stored
    stranger = world.person("stranger")
    r = await world.emu.click(stranger, msg, "poll:1:v:0")
    assert r.ephemeral and "Only members" in r.content, r.content
    assert await repo(world).voters(1) == {a.id, b.id}
    assert rebuilt == [msg.id] * 3
    del c


async def test_vote_while_polls_are_unavailable_is_answered(world: HearthWorld) -> None:
    """Between a cog's unload and load the service is missing: the member is told so (through
    discord.py's dispatch the click went unanswered: its factory error is only logged)."""
    (a,) = await setup_community(world, 1)
    await create_poll(world, question="Which day?", choices="Monday; Tuesday", kind="single")
    msg = poll_message(world)
    bot = world.bot
    assert bot is not None
    cog: Any = bot.get_cog("PollsCog")
    bot.services.unregister(cog.service)
    try:
        r = await world.emu.click(a, msg, "poll:1:v:0")
    finally:
        bot.services.register(cog.service)
    assert r.ephemeral and "not available right now" in r.content, r.content
    r = await world.emu.click(a, msg, "poll:1:v:0")
    assert "recorded" in r.content, r.content
