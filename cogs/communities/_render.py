"""Embeds for /community info and /community list."""

from __future__ import annotations

from collections import Counter

import discord

from bot.domain.communities import Community, Membership
from bot.interactions import mention
from bot.text import escape_inline, plain

COLOUR = discord.Colour(0xD9822B)


def info_embed(
    comm: Community,
    members: list[Membership],
    serves: Community | None,
    served_by: list[Community],
) -> discord.Embed:
    embed = discord.Embed(title=plain(comm.name, 256, empty="Community"), colour=COLOUR)
    status = "archived (read-only)" if comm.archived else "active"
    embed.description = f"A **{comm.kind.value}** community, {status}."
    by_disc = Counter(m.discipline.value for m in members)
    embed.add_field(
        name="Members",
        value=f"{len(members)}"
        + (" — " + ", ".join(f"{d} {n}" for d, n in sorted(by_disc.items())) if by_disc else ""),
        inline=False,
    )
    facs = [m.user_id for m in members if m.is_facilitator]
    embed.add_field(
        name="Facilitators", value=", ".join(f"<@{u}>" for u in facs) or "none", inline=False
    )
    embed.add_field(
        name="Sponsor", value=f"<@{comm.sponsor_id}>" if comm.sponsor_id else "none yet"
    )
    chans = [c for c in (comm.lounge_id, comm.stories_id, comm.voice_id, comm.meetings_id) if c]
    embed.add_field(name="Channels", value=" ".join(f"<#{c}>" for c in chans) or "—")
    if serves:
        embed.add_field(name="Distils the voice of", value=escape_inline(serves.name), inline=False)
    if served_by:
        embed.add_field(
            name="Distilled by",
            value=", ".join(escape_inline(c.name) for c in served_by)[:1024],
            inline=False,
        )
    return embed


def list_embed(comms: list[Community], counts: dict[int, int]) -> discord.Embed:
    embed = discord.Embed(title="Communities", colour=COLOUR)
    if not comms:
        embed.description = (
            f"No communities yet. A server manager can run {mention('community create')}."
        )
        return embed
    lines = []
    for c in comms:
        flag = " · archived" if c.archived else ""
        lines.append(
            f"**{escape_inline(c.name)}** · {c.kind.value} · {counts.get(c.id, 0)} "
            f"members{flag}"
        )
    text = "\n".join(lines)
    if len(text) > 4000:
        text = text[:3990].rsplit("\n", 1)[0] + "\n…"
    embed.description = text
    return embed
