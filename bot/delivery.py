"""Exactly-once scheduled messages: every scheduled DM and post goes through :class:`Deliveries`.

The rule (issue 11): record the intent with a deterministic nonce, send with that nonce,
mark it sent. Discord's ``enforce_nonce`` ("if another message was created by the same
author with the same nonce, that message will be returned and no new message will be
created") makes the send itself idempotent for a few minutes, so a message that was pending
when the process died is sent again, with the same nonce, when the run resumes: if the first
attempt landed Discord hands back that message, and if it did not the message goes out now.
Either way the member gets it once. A pending record never counts as sent.

discord.py 2.7's :meth:`discord.abc.Messageable.send` takes ``nonce`` and always sends
``enforce_nonce: true`` with it (``discord.http.handle_message_parameters``), so the
supported ``send`` is all this needs: no raw routes, nothing patched.

Messages are grouped in *runs*, one per scheduled effect (a meeting's 1-day reminder, a
poll's nudge, a digest's DM, a prompt). A capability starts the run before it claims the
effect, sends each message with :meth:`Deliveries.send`, and finishes the run when every
message is accounted for; a run found still running after a restart is resumed. Finishing
deletes the run's message rows: what each member got is kept, where Hearth keeps it at all,
by the capability's own tables (which privacy export and erasure cover). A message to a
member is keyed by a digest of the run and the member, never by their id.

Limit: Discord checks nonces only "in the past few minutes". A resend after a longer outage
cannot be told apart from a first send, so a message whose first attempt landed just before
a crash *and* which is resent more than a few minutes later would arrive twice; for meeting
reminders the catch-up rule usually replaces such a stale reminder by the next one instead.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.db.deliveries import DeliveryRepo, RunState

__all__ = ["Deliveries", "Destination", "RunState", "Sent", "member_token", "nonce_for"]

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

NONCE_LENGTH = 25
"""Discord's maximum for a string nonce."""


def nonce_for(key: str) -> str:
    """The nonce a message is always sent with: derived from its key, so a resend after a
    restart uses the same one without having to find it anywhere."""
    return hashlib.sha256(f"hearth-delivery:{key}".encode()).hexdigest()[:NONCE_LENGTH]


def member_token(run: str, user_id: int) -> str:
    """Names a member inside one run's keys without storing their id."""
    return hashlib.sha256(f"{run}|{user_id}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Destination:
    """Where a message goes: a channel, or a member's direct messages."""

    channel_id: int | None = None
    user_id: int | None = None

    @classmethod
    def channel(cls, channel_id: int) -> Destination:
        return cls(channel_id=channel_id)

    @classmethod
    def member(cls, user_id: int) -> Destination:
        return cls(user_id=user_id)

    def key_part(self, run: str) -> str:
        if self.user_id is not None:
            return f"m{member_token(run, self.user_id)}"
        return f"c{self.channel_id}"


@dataclass(frozen=True)
class Sent:
    """A message that is in Discord now, whoever sent it."""

    message_id: int
    channel_id: int | None
    earlier: bool
    """True when it had been sent before (recorded as sent): nothing was sent this time."""


class Deliveries:
    """Runs and exactly-once sends, backed by :class:`~bot.db.deliveries.DeliveryRepo`."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.repo = DeliveryRepo(bot.db)

    # ------------------------------------------------------------------ runs
    async def start(self, run: str) -> RunState:
        """Start (or resume) ``run``; :attr:`RunState.FINISHED` means send nothing."""
        return await self.repo.start(run, self.bot.clock.now())

    async def finish(self, run: str) -> None:
        """Every message of the run is accounted for: it is never resumed again."""
        await self.repo.finish(run, self.bot.clock.now())

    async def forget(self, run: str) -> None:
        """The effect was withdrawn before anything of it went out (a released claim)."""
        await self.repo.forget(run)

    async def is_running(self, run: str) -> bool:
        return await self.repo.state(run) == "running"

    async def running(self, prefix: str) -> list[str]:
        """Unfinished runs whose name starts with ``prefix``: what a restart must resume."""
        return await self.repo.running(prefix)

    # ------------------------------------------------------------------ messages
    def key(self, run: str, to: Destination, part: str = "") -> str:
        return f"{run}/{part}@{to.key_part(run)}" if part else f"{run}/@{to.key_part(run)}"

    async def send(self, run: str, to: Destination, *, part: str = "", **message: Any) -> Sent:
        """Send one message of ``run`` exactly once; ``message`` is what ``send`` takes.

        ``part`` tells apart several messages of one run to one destination (a digest's
        embeds, chunks of mentions). Raises :class:`discord.HTTPException` when Discord
        refuses (a DM that is closed, a channel that is gone): nothing was created then,
        and a later attempt of the run may send it again.
        """
        key = self.key(run, to, part)
        earlier = await self.repo.get(key)
        if earlier is not None and earlier.state == "sent" and earlier.message_id is not None:
            return Sent(earlier.message_id, to.channel_id, earlier=True)
        target = await self._messageable(to)
        # The recorded nonce wins: a resend must repeat exactly what the first attempt sent.
        nonce = earlier.nonce if earlier is not None else nonce_for(key)
        await self.repo.intend(key, run, nonce, self.bot.clock.now())
        if earlier is not None:
            log.info("sending %s again with its nonce (attempt %d)", key, earlier.attempts + 1)
        try:
            msg = await target.send(nonce=nonce, **message)
        except discord.HTTPException as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                await self.repo.failed(key, self.bot.clock.now())
            raise
        await self.repo.sent(key, msg.id, self.bot.clock.now())
        return Sent(msg.id, msg.channel.id, earlier=False)

    async def _messageable(self, to: Destination) -> discord.abc.Messageable:
        if to.user_id is not None:
            return await self.bot.create_dm(discord.Object(to.user_id))
        assert to.channel_id is not None
        channel = self.bot.get_channel(to.channel_id)
        if isinstance(channel, discord.abc.Messageable):
            return channel
        return self.bot.get_partial_messageable(to.channel_id)
