"""Communities and memberships: the service every capability asks "which community, who is in it".

It lives on the bot as ``bot.communities`` (the core's interaction helpers need it whichever
cogs are loaded), and the communities cog registers it on ``bot.services`` too. Reads pass
straight to :class:`~bot.db.communities.CommunityRepo`; the rules of creating, joining,
leaving, sponsoring and linking are here, so the cog only does the Discord side.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.db.communities import CommunityRepo, NewCommunity
from bot.db.database import Database
from bot.db.leases import community_guilds
from bot.domain.communities import (
    Community,
    Discipline,
    Membership,
    clean_email,
    clean_name,
    clean_region,
    slugify,
    validate_link,
)
from bot.errors import DuplicateCommunity, InvalidInput, NotFound
from bot.sharding import UNKNOWN_GUILD
from bot.text import echo, escape_inline

#: Longest text that can be a community id (SQLite's INTEGER; 20+ digits overflow it).
_MAX_ID_DIGITS = 18


@dataclass(frozen=True)
class NamePlan:
    """A new community's cleaned name and the slug its channels will be named with."""

    name: str
    slug: str


@dataclass(frozen=True)
class Joining:
    """What adding someone to a community means given what is stored about them."""

    previous: Membership | None
    region: str | None

    @property
    def rejoining(self) -> bool:
        """Already an active member: the add updates them rather than welcoming them."""
        return self.previous is not None and self.previous.active


@dataclass(frozen=True)
class CommunityInfo:
    community: Community
    members: list[Membership]
    serves: Community | None
    served_by: list[Community]


class CommunityService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.repo = CommunityRepo(db)
        self.db = db
        self.clock = clock
        #: community id -> guild id, for deciding synchronously which process owns a job
        #: (a community never changes guild): loaded at start, kept by create and get.
        self._guilds: dict[int, int] = {}

    # ------------------------------------------------------------------ reads
    async def load_guilds(self) -> None:
        self._guilds.update(await community_guilds(self.db))

    def guild_of(self, community_id: int) -> int:
        """The community's guild; :data:`~bot.sharding.UNKNOWN_GUILD` for one created by
        another process since this one started (on a guild this process does not own)."""
        return self._guilds.get(community_id, UNKNOWN_GUILD)

    async def get(self, community_id: int) -> Community | None:
        found = await self.repo.get(community_id)
        if found is not None:
            self._guilds[found.id] = found.guild_id
        return found

    async def by_name(self, guild_id: int, name: str) -> Community | None:
        return await self.repo.by_name(guild_id, name)

    async def in_guild(self, guild_id: int, *, include_archived: bool = True) -> list[Community]:
        return await self.repo.in_guild(guild_id, include_archived=include_archived)

    async def all_active(self) -> list[Community]:
        return await self.repo.all_active()

    async def search(self, guild_id: int, prefix: str, limit: int = 25) -> list[Community]:
        return await self.repo.search(guild_id, prefix, limit)

    async def for_channel(self, channel_id: int) -> Community | None:
        return await self.repo.for_channel(channel_id)

    async def channels(self, community_id: int) -> list[tuple[int, str, str | None]]:
        """(channel id, purpose, discipline) of each of the community's channels."""
        return await self.repo.channels(community_id)

    async def circles(self, community_id: int) -> list[int]:
        """The community's circle channels (private, one per discipline)."""
        return [cid for cid, purpose, _ in await self.repo.channels(community_id)
                if purpose == "circle"]

    async def circle_channel(self, community_id: int, discipline: Discipline) -> int | None:
        return await self.repo.circle_channel(community_id, discipline)

    async def stage_tags(self, community_id: int) -> dict[str, int]:
        return await self.repo.stage_tags(community_id)

    async def membership(self, community_id: int, user_id: int) -> Membership | None:
        return await self.repo.membership(community_id, user_id)

    async def members(self, community_id: int, *, active_only: bool = True) -> list[Membership]:
        return await self.repo.members(community_id, active_only=active_only)

    async def facilitators(self, community_id: int) -> list[int]:
        return [m.user_id for m in await self.repo.members(community_id) if m.is_facilitator]

    async def member_count(self, community_id: int) -> int:
        return await self.repo.member_count(community_id)

    async def memberships_of(self, user_id: int) -> list[Membership]:
        return await self.repo.memberships_of(user_id)

    async def served_by(self, community_id: int) -> list[Community]:
        return await self.repo.served_by(community_id)

    async def info(self, community: Community) -> CommunityInfo:
        serves = await self.repo.get(community.serves_id) if community.serves_id else None
        return CommunityInfo(
            community,
            await self.repo.members(community.id),
            serves,
            await self.repo.served_by(community.id),
        )

    async def listing(self, guild_id: int) -> tuple[list[Community], dict[int, int]]:
        """The server's communities and each one's member count."""
        comms = await self.repo.in_guild(guild_id)
        return comms, {c.id: await self.repo.member_count(c.id) for c in comms}

    # ------------------------------------------------------------------ resolving
    async def resolve(self, guild_id: int, value: str | None) -> Community:
        """The community named in this server (autocomplete sends its name; an id works)."""
        text = (value or "").strip()
        if not text:
            raise InvalidInput("Name a community; start typing and pick one from the list.")
        found = await self.repo.by_name(guild_id, text)
        # an id only if SQLite can hold it ("²".isdigit() is True; 20+ digits overflow)
        if found is None and text.isascii() and text.isdigit() and len(text) <= _MAX_ID_DIGITS:
            by_id = await self.repo.get(int(text))
            if by_id is not None and by_id.guild_id == guild_id:
                found = by_id
        if found is None:
            raise NotFound(
                f"There is no community called `{echo(text, 100)}` in this server. "
                "Use `/community list` to see them."
            )
        return found

    # ------------------------------------------------------------------ create
    async def plan_name(self, guild_id: int, raw_name: str) -> NamePlan:
        """Clean a new community's name; :class:`DuplicateCommunity` if it (or the channel
        prefix it gives) is taken in this server."""
        name = clean_name(raw_name)
        slug = slugify(name)
        if await self.repo.by_name(guild_id, name) or await self.repo.slug_taken(guild_id, slug):
            raise DuplicateCommunity(
                f"A community called **{escape_inline(name)}** (or one whose channels would "
                "be named "
                f"`{slug}-…`) already exists here. Choose another name."
            )
        return NamePlan(name, slug)

    async def create(
        self, new: NewCommunity, facilitator_discipline: Discipline = Discipline.OTHER
    ) -> Community:
        """Store a community whose Discord side is built. :class:`DuplicateCommunity` if
        another create with the same name won the race since :meth:`plan_name`."""
        try:
            created = await self.repo.create(new, facilitator_discipline=facilitator_discipline)
        except DuplicateCommunity as exc:
            raise DuplicateCommunity(
                f"A community called **{escape_inline(new.name)}** was created a moment ago. "
                "Choose another name."
            ) from exc
        self._guilds[created.id] = created.guild_id
        return created

    # ------------------------------------------------------------------ members
    @staticmethod
    def clean_region(raw: str | None) -> str | None:
        return clean_region(raw)

    async def plan_join(
        self, community: Community, user_id: int, region: str | None, *, region_given: bool
    ) -> Joining:
        """``region`` is the cleaned region given (see :meth:`clean_region`). Re-adding an
        active member without one keeps theirs: it decides who regional meetings mention and
        remind, and re-running add to change a discipline must not silently drop it."""
        previous = await self.repo.membership(community.id, user_id)
        if not region_given and previous is not None and previous.active:
            region = previous.region
        return Joining(previous, region)

    async def join(
        self,
        community: Community,
        user_id: int,
        discipline: Discipline,
        region: str | None,
        *,
        facilitator: bool,
    ) -> None:
        """Add or update the member; the facilitator flag is only ever added here."""
        await self.repo.upsert_member(
            community.id, user_id, discipline, region, self.clock.now(),
            facilitator=True if facilitator else None,
        )

    async def active_membership(
        self, community: Community, user_id: int, display_name: str
    ) -> Membership:
        """The membership of someone about to be removed; InvalidInput if they are not in."""
        existing = await self.repo.membership(community.id, user_id)
        if existing is None or not existing.active:
            raise InvalidInput(
                f"{escape_inline(display_name)} is not a member of "
                f"**{escape_inline(community.name)}**; check you picked "
                "the right person and community."
            )
        return existing

    async def leave(self, community: Community, user_id: int) -> None:
        await self.repo.mark_left(community.id, user_id, self.clock.now())

    # ------------------------------------------------------------------ sponsor, link, archive
    @staticmethod
    def sponsor_email(raw: str | None) -> str | None:
        return clean_email(raw)

    async def set_sponsor(self, community: Community, user_id: int, email: str | None) -> None:
        await self.repo.set_sponsor(community.id, user_id, email)

    async def link(self, community: Community, serves: Community) -> None:
        """Make ``community`` (a distilling group) distil the voice of ``serves``."""
        validate_link(community, serves)
        await self.repo.set_serves(community.id, serves.id)

    async def archive(self, community: Community) -> None:
        await self.repo.archive(community.id, self.clock.now())


__all__ = ["CommunityInfo", "CommunityService", "Joining", "NamePlan", "NewCommunity"]
