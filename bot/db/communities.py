"""Community and membership storage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.db.database import INTEGRITY_ERRORS, Database, Row
from bot.db.rows import from_db, from_db_req, to_db
from bot.domain.communities import Community, Discipline, Kind, Membership
from bot.errors import DuplicateCommunity


@dataclass(frozen=True)
class NewCommunity:
    guild_id: int
    name: str
    slug: str
    kind: Kind
    timezone: str
    created_by: int
    created_at: datetime
    category_id: int | None
    lounge_id: int | None
    stories_id: int | None
    stories_is_forum: bool
    voice_id: int | None
    meetings_id: int | None
    member_role_id: int | None
    facilitator_role_id: int | None
    sponsor_id: int | None
    circles: Sequence[tuple[Discipline, int]]
    stage_tags: Sequence[tuple[str, int]]


def _community(row: Row) -> Community:
    return Community(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        slug=row["slug"],
        kind=Kind(row["kind"]),
        timezone=row["timezone"],
        category_id=row["category_id"],
        lounge_id=row["lounge_id"],
        stories_id=row["stories_id"],
        stories_is_forum=bool(row["stories_is_forum"]),
        voice_id=row["voice_id"],
        meetings_id=row["meetings_id"],
        member_role_id=row["member_role_id"],
        facilitator_role_id=row["facilitator_role_id"],
        sponsor_id=row["sponsor_id"],
        sponsor_email=row["sponsor_email"],
        serves_id=row["serves_id"],
        created_by=row["created_by"],
        created_at=from_db_req(row["created_at"]),
        archived_at=from_db(row["archived_at"]),
    )


def _membership(row: Row) -> Membership:
    return Membership(
        community_id=row["community_id"],
        user_id=row["user_id"],
        discipline=Discipline(row["discipline"]),
        region=row["region"],
        is_facilitator=bool(row["is_facilitator"]),
        joined_at=from_db_req(row["joined_at"]),
        left_at=from_db(row["left_at"]),
    )


class CommunityRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, new: NewCommunity, facilitator_discipline: Discipline) -> Community:
        """Store the community, its channels, tags and the creator as facilitator, atomically.

        :class:`DuplicateCommunity` if the server already has a community of that name or
        slug (the unique indexes decide, so a race between two creates cannot slip by)."""
        async with self.db.transaction() as conn:
            try:
                cur = await conn.execute(
                    """INSERT INTO communities (guild_id, name, slug, kind, timezone,
                       category_id, lounge_id, stories_id, stories_is_forum, voice_id,
                       meetings_id, member_role_id, facilitator_role_id, sponsor_id,
                       created_by, created_at)
                       VALUES (:guild_id, :name, :slug, :kind, :timezone, :category_id,
                       :lounge_id, :stories_id, :stories_is_forum, :voice_id, :meetings_id,
                       :member_role_id, :facilitator_role_id, :sponsor_id, :created_by,
                       :created_at)
                       RETURNING id""",
                    {
                        "guild_id": new.guild_id, "name": new.name, "slug": new.slug,
                        "kind": new.kind.value, "timezone": new.timezone,
                        "category_id": new.category_id, "lounge_id": new.lounge_id,
                        "stories_id": new.stories_id,
                        "stories_is_forum": int(new.stories_is_forum),
                        "voice_id": new.voice_id, "meetings_id": new.meetings_id,
                        "member_role_id": new.member_role_id,
                        "facilitator_role_id": new.facilitator_role_id,
                        "sponsor_id": new.sponsor_id, "created_by": new.created_by,
                        "created_at": to_db(new.created_at),
                    },
                )
                row = await cur.fetchone()
            except INTEGRITY_ERRORS as exc:
                # The row's unique constraints are the per-server name and slug indexes
                # (SQLite says "UNIQUE constraint failed", PostgreSQL "violates unique
                # constraint"). Raising here ends (rolls back) the transaction.
                if "unique" not in str(exc).lower():
                    raise
                raise DuplicateCommunity() from exc
            assert row is not None
            cid = int(row[0])
            channels = [
                (new.lounge_id, "lounge", None),
                (new.stories_id, "stories", None),
                (new.voice_id, "voice", None),
                (new.meetings_id, "meetings", None),
                *((ch, "circle", d.value) for d, ch in new.circles),
            ]
            await conn.executemany(
                "INSERT INTO community_channels (channel_id, community_id, purpose, discipline)"
                " VALUES (:channel_id, :community_id, :purpose, :discipline)",
                [
                    {"channel_id": ch, "community_id": cid, "purpose": purpose,
                     "discipline": disc}
                    for ch, purpose, disc in channels
                    if ch is not None
                ],
            )
            await conn.executemany(
                "INSERT INTO story_stage_tags (community_id, stage, tag_id)"
                " VALUES (:community_id, :stage, :tag_id)",
                [
                    {"community_id": cid, "stage": stage, "tag_id": tag}
                    for stage, tag in new.stage_tags
                ],
            )
            await conn.execute(
                "INSERT INTO memberships (community_id, user_id, discipline, is_facilitator,"
                " joined_at) VALUES (:community_id, :user_id, :discipline, 1, :joined_at)",
                {
                    "community_id": cid, "user_id": new.created_by,
                    "discipline": facilitator_discipline.value,
                    "joined_at": to_db(new.created_at),
                },
            )
        got = await self.get(cid)
        assert got is not None
        return got

    async def get(self, community_id: int) -> Community | None:
        row = await self.db.fetchone(
            "SELECT * FROM communities WHERE id = :id", {"id": community_id}
        )
        return _community(row) if row else None

    async def by_name(self, guild_id: int, name: str) -> Community | None:
        row = await self.db.fetchone(
            "SELECT * FROM communities WHERE guild_id = :guild_id"
            " AND lower(name) = lower(:name)",
            {"guild_id": guild_id, "name": name.strip()},
        )
        return _community(row) if row else None

    async def slug_taken(self, guild_id: int, slug: str) -> bool:
        return bool(
            await self.db.fetchval(
                "SELECT 1 FROM communities WHERE guild_id = :guild_id AND slug = :slug",
                {"guild_id": guild_id, "slug": slug},
            )
        )

    async def in_guild(self, guild_id: int, *, include_archived: bool = True) -> list[Community]:
        sql = "SELECT * FROM communities WHERE guild_id = :guild_id"
        if not include_archived:
            sql += " AND archived_at IS NULL"
        rows = await self.db.fetchall(
            sql + " ORDER BY lower(name), name, id", {"guild_id": guild_id}
        )
        return [_community(r) for r in rows]

    async def all_active(self) -> list[Community]:
        rows = await self.db.fetchall(
            "SELECT * FROM communities WHERE archived_at IS NULL ORDER BY id"
        )
        return [_community(r) for r in rows]

    async def for_channel(self, channel_id: int) -> Community | None:
        row = await self.db.fetchone(
            "SELECT c.* FROM community_channels cc JOIN communities c ON c.id = cc.community_id"
            " WHERE cc.channel_id = :channel_id",
            {"channel_id": channel_id},
        )
        return _community(row) if row else None

    async def channels(self, community_id: int) -> list[tuple[int, str, str | None]]:
        rows = await self.db.fetchall(
            "SELECT channel_id, purpose, discipline FROM community_channels"
            " WHERE community_id = :community_id ORDER BY channel_id",
            {"community_id": community_id},
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def circle_channel(self, community_id: int, discipline: Discipline) -> int | None:
        value = await self.db.fetchval(
            "SELECT channel_id FROM community_channels WHERE community_id = :community_id"
            " AND purpose = 'circle' AND discipline = :discipline",
            {"community_id": community_id, "discipline": discipline.value},
        )
        return int(value) if value is not None else None

    async def stage_tags(self, community_id: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT stage, tag_id FROM story_stage_tags WHERE community_id = :community_id",
            {"community_id": community_id},
        )
        return {r[0]: r[1] for r in rows}

    async def membership(self, community_id: int, user_id: int) -> Membership | None:
        row = await self.db.fetchone(
            "SELECT * FROM memberships WHERE community_id = :community_id"
            " AND user_id = :user_id",
            {"community_id": community_id, "user_id": user_id},
        )
        return _membership(row) if row else None

    async def members(self, community_id: int, *, active_only: bool = True) -> list[Membership]:
        sql = "SELECT * FROM memberships WHERE community_id = :community_id"
        if active_only:
            sql += " AND left_at IS NULL"
        rows = await self.db.fetchall(
            sql + " ORDER BY joined_at, user_id", {"community_id": community_id}
        )
        return [_membership(r) for r in rows]

    async def member_count(self, community_id: int) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM memberships WHERE community_id = :community_id"
                " AND left_at IS NULL",
                {"community_id": community_id},
            )
        )

    async def memberships_of(self, user_id: int) -> list[Membership]:
        rows = await self.db.fetchall(
            "SELECT * FROM memberships WHERE user_id = :user_id ORDER BY community_id",
            {"user_id": user_id},
        )
        return [_membership(r) for r in rows]

    async def upsert_member(
        self,
        community_id: int,
        user_id: int,
        discipline: Discipline,
        region: str | None,
        now: datetime,
        *,
        facilitator: bool | None = None,
    ) -> None:
        """Add or re-add a member; re-adding keeps the facilitator flag unless given."""
        # The flag's update is chosen here, not with a "parameter IS NULL" test in SQL
        # (PostgreSQL cannot type a parameter that only meets IS NULL).
        flag = (
            "memberships.is_facilitator" if facilitator is None else "excluded.is_facilitator"
        )
        async with self.db.transaction() as conn:
            await conn.execute(
                f"""INSERT INTO memberships (community_id, user_id, discipline, region,
                       is_facilitator, joined_at)
                   VALUES (:community_id, :user_id, :discipline, :region, :is_facilitator,
                       :joined_at)
                   ON CONFLICT (community_id, user_id) DO UPDATE SET
                       discipline = excluded.discipline,
                       region = excluded.region,
                       is_facilitator = {flag},
                       joined_at = CASE WHEN memberships.left_at IS NULL
                                        THEN memberships.joined_at ELSE excluded.joined_at END,
                       left_at = NULL""",
                {
                    "community_id": community_id, "user_id": user_id,
                    "discipline": discipline.value, "region": region,
                    "is_facilitator": int(bool(facilitator)), "joined_at": to_db(now),
                },
            )

    async def mark_left(self, community_id: int, user_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE memberships SET left_at = :left_at, is_facilitator = 0"
            " WHERE community_id = :community_id AND user_id = :user_id",
            {"left_at": to_db(now), "community_id": community_id, "user_id": user_id},
        )

    async def set_sponsor(self, community_id: int, user_id: int, email: str | None) -> None:
        await self.db.execute(
            "UPDATE communities SET sponsor_id = :sponsor_id, sponsor_email = :sponsor_email"
            " WHERE id = :id",
            {"sponsor_id": user_id, "sponsor_email": email, "id": community_id},
        )

    async def set_serves(self, community_id: int, serves_id: int | None) -> None:
        await self.db.execute(
            "UPDATE communities SET serves_id = :serves_id WHERE id = :id",
            {"serves_id": serves_id, "id": community_id},
        )

    async def served_by(self, community_id: int) -> list[Community]:
        rows = await self.db.fetchall(
            "SELECT * FROM communities WHERE serves_id = :serves_id ORDER BY name, id",
            {"serves_id": community_id},
        )
        return [_community(r) for r in rows]

    async def archive(self, community_id: int, now: datetime) -> None:
        await self.db.execute(
            "UPDATE communities SET archived_at = :archived_at WHERE id = :id"
            " AND archived_at IS NULL",
            {"archived_at": to_db(now), "id": community_id},
        )

    async def search(self, guild_id: int, prefix: str, limit: int = 25) -> list[Community]:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.fetchall(
            # lower() on both sides: LIKE ignores (ASCII) case on SQLite, not on PostgreSQL.
            "SELECT * FROM communities WHERE guild_id = :guild_id"
            " AND lower(name) LIKE lower(:pattern) ESCAPE '\\'"
            " ORDER BY CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END, lower(name), name, id"
            " LIMIT :limit",
            {"guild_id": guild_id, "pattern": f"%{escaped}%", "limit": limit},
        )
        return [_community(r) for r in rows]
