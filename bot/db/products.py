"""Storage of the impact log: products, their sources and their timeline (migration 0020).

SQL only; returns domain dataclasses. The candidate sources (stories, polls, statement
rounds, meetings) are read here as (kind, id, community, title) rows for the link checks
and autocomplete; what of a story may leave the community is decided in the service through
``shareable_view`` and :func:`bot.domain.products.outside_source`, never here.
"""

from __future__ import annotations

from datetime import datetime

from bot.db.database import Conn, Database, Row
from bot.db.rows import from_db_req, to_db
from bot.domain.products import (
    Product,
    ProductEvent,
    ProductKind,
    ProductStatus,
    SourceChoice,
    SourceKind,
    SourceRef,
    StatusChange,
    Use,
    UseSetting,
)


def _product(row: Row) -> Product:
    return Product(
        id=row["id"],
        community_id=row["community_id"],
        title=row["title"],
        kind=ProductKind(row["kind"]),
        status=ProductStatus(row["status"]),
        created_at=from_db_req(row["created_at"]),
        created_by=row["created_by"],
        origin_kind=row["origin_kind"],
        origin_id=row["origin_id"],
    )


def _event(row: Row) -> ProductEvent:
    if row["kind"] == "status":
        return StatusChange(
            product_id=row["product_id"],
            status=ProductStatus(row["status"]),
            note=row["note"],
            actor_id=row["recorded_by"],
            at=from_db_req(row["at"]),
        )
    return Use(
        product_id=row["product_id"],
        setting=UseSetting(row["setting"]),
        place=row["place"],
        note=row["note"],
        actor_id=row["recorded_by"],
        at=from_db_req(row["at"]),
    )


def _contains(text: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching any text that contains ``text``."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


#: Per source kind: the table and the column members know it by. Statement rounds have no
#: title of their own; the service names them by number and date.
_SOURCE_SQL: dict[SourceKind, str] = {
    SourceKind.STORY: ("SELECT id, community_id, title FROM stories WHERE id = :id"),
    SourceKind.POLL: "SELECT id, community_id, question AS title FROM polls WHERE id = :id",
    SourceKind.STATEMENT_ROUND: (
        "SELECT id, community_id, opened_at AS title FROM statement_rounds WHERE id = :id"
    ),
    SourceKind.MEETING: "SELECT id, community_id, title FROM meetings WHERE id = :id",
}


class ProductRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ------------------------------------------------------------------ products
    async def add(
        self,
        *,
        community_id: int,
        title: str,
        kind: ProductKind,
        status: ProductStatus,
        created_by: int | None,
        at: datetime,
        origin: tuple[str, int] | None = None,
    ) -> tuple[Product, bool]:
        """Insert a product; with an ``origin`` already recorded, return that product
        instead (``False``: nothing new). One transaction, so two callers racing on the
        same origin still record one product."""
        async with self.db.transaction() as conn:
            if origin is not None:
                async with conn.execute(
                    "SELECT * FROM products WHERE origin_kind = :kind AND origin_id = :id",
                    {"kind": origin[0], "id": origin[1]},
                ) as cur:
                    row = await cur.fetchone()
                if row is not None:
                    return _product(row), False
            cur2 = await conn.execute(
                """INSERT INTO products (community_id, title, kind, status, origin_kind,
                       origin_id, created_by, created_at)
                   VALUES (:c, :title, :kind, :status, :origin_kind, :origin_id, :by, :at)
                   RETURNING *""",
                {
                    "c": community_id,
                    "title": title,
                    "kind": kind.value,
                    "status": status.value,
                    "origin_kind": origin[0] if origin else None,
                    "origin_id": origin[1] if origin else None,
                    "by": created_by,
                    "at": to_db(at),
                },
            )
            row = await cur2.fetchone()
        assert row is not None
        return _product(row), True

    async def get(self, product_id: int) -> Product | None:
        row = await self.db.fetchone("SELECT * FROM products WHERE id = :id", {"id": product_id})
        return _product(row) if row else None

    async def by_origin(self, origin_kind: str, origin_id: int) -> Product | None:
        row = await self.db.fetchone(
            "SELECT * FROM products WHERE origin_kind = :kind AND origin_id = :id",
            {"kind": origin_kind, "id": origin_id},
        )
        return _product(row) if row else None

    async def of_communities(
        self, community_ids: list[int], text: str = "", limit: int = 25
    ) -> list[Product]:
        """Products of these communities whose title contains ``text``, newest first."""
        if not community_ids:
            return []
        params: dict[str, object] = {f"c{i}": c for i, c in enumerate(community_ids)}
        marks = ", ".join(f":{name}" for name in params)
        params.update(t=_contains(text), n=limit)
        rows = await self.db.fetchall(
            f"""SELECT * FROM products WHERE community_id IN ({marks})
                  AND lower(title) LIKE lower(:t) ESCAPE '\\'
                ORDER BY created_at DESC, id DESC LIMIT :n""",
            params,
        )
        return [_product(r) for r in rows]

    async def visible_to(
        self, guild_id: int, user_id: int, text: str, *, manager: bool, limit: int = 25
    ) -> list[tuple[Product, str]]:
        """(product, community name) of the communities in this server the user is an
        active member or the sponsor of (all of them for a manager), title containing
        ``text`` (or the id typed), newest first."""
        rows = await self.db.fetchall(
            """SELECT p.*, c.name AS community_name FROM products p
                 JOIN communities c ON c.id = p.community_id
                WHERE c.guild_id = :g
                  AND (:m = 1 OR c.sponsor_id = :u OR EXISTS (
                        SELECT 1 FROM memberships m WHERE m.community_id = c.id
                           AND m.user_id = :u AND m.left_at IS NULL))
                  AND (lower(p.title) LIKE lower(:like) ESCAPE '\\' OR CAST(p.id AS TEXT) = :t)
                ORDER BY p.created_at DESC, p.id DESC LIMIT :n""",
            {
                "g": guild_id,
                "u": user_id,
                "m": int(manager),
                "like": _contains(text),
                "t": text,
                "n": limit,
            },
        )
        return [(_product(r), r["community_name"]) for r in rows]

    async def created_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[Product]:
        rows = await self.db.fetchall(
            """SELECT * FROM products WHERE community_id = :c AND created_at >= :start
                 AND created_at < :end ORDER BY created_at, id""",
            {"c": community_id, "start": to_db(start), "end": to_db(end)},
        )
        return [_product(r) for r in rows]

    async def active_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[Product]:
        """Products created, changed or used in ``[start, end)``."""
        rows = await self.db.fetchall(
            """SELECT * FROM products p WHERE p.community_id = :c AND (
                   (p.created_at >= :start AND p.created_at < :end)
                   OR EXISTS (SELECT 1 FROM product_events e WHERE e.product_id = p.id
                              AND e.at >= :start AND e.at < :end))
               ORDER BY p.created_at, p.id""",
            {"c": community_id, "start": to_db(start), "end": to_db(end)},
        )
        return [_product(r) for r in rows]

    # ------------------------------------------------------------------ timeline
    async def set_status(
        self,
        product_id: int,
        status: ProductStatus,
        note: str | None,
        actor_id: int,
        at: datetime,
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE products SET status = :status WHERE id = :id",
                {"status": status.value, "id": product_id},
            )
            await conn.execute(
                """INSERT INTO product_events (product_id, kind, status, note, recorded_by, at)
                   VALUES (:p, 'status', :status, :note, :by, :at)""",
                {
                    "p": product_id,
                    "status": status.value,
                    "note": note,
                    "by": actor_id,
                    "at": to_db(at),
                },
            )

    async def add_use(
        self,
        product_id: int,
        setting: UseSetting,
        place: str,
        note: str | None,
        actor_id: int,
        at: datetime,
    ) -> None:
        await self.db.execute(
            """INSERT INTO product_events (product_id, kind, setting, place, note, recorded_by, at)
               VALUES (:p, 'use', :setting, :place, :note, :by, :at)""",
            {
                "p": product_id,
                "setting": setting.value,
                "place": place,
                "note": note,
                "by": actor_id,
                "at": to_db(at),
            },
        )

    async def events(self, product_id: int) -> list[ProductEvent]:
        rows = await self.db.fetchall(
            "SELECT * FROM product_events WHERE product_id = :p ORDER BY at, id", {"p": product_id}
        )
        return [_event(r) for r in rows]

    # ------------------------------------------------------------------ sources
    async def link(
        self, product_id: int, kind: SourceKind, source_id: int, linked_by: int, at: datetime
    ) -> bool:
        """Link a source; ``False`` when it was already linked (nothing changes)."""
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                """INSERT INTO product_sources (product_id, source_kind, source_id, linked_by,
                       linked_at) VALUES (:p, :kind, :source, :by, :at)
                   ON CONFLICT DO NOTHING""",
                {
                    "p": product_id,
                    "kind": kind.value,
                    "source": source_id,
                    "by": linked_by,
                    "at": to_db(at),
                },
            )
            return cur.rowcount == 1

    async def sources(self, product_id: int) -> list[SourceRef]:
        rows = await self.db.fetchall(
            """SELECT source_kind, source_id, linked_at FROM product_sources
               WHERE product_id = :p ORDER BY linked_at, source_kind, source_id""",
            {"p": product_id},
        )
        return [
            SourceRef(SourceKind(r["source_kind"]), r["source_id"], from_db_req(r["linked_at"]))
            for r in rows
        ]

    async def source_row(self, kind: SourceKind, source_id: int) -> tuple[int, str] | None:
        """(community id, title) of a poll, statement round (its opening time) or meeting;
        ``None`` when no such record exists. Stories go through the stories repository."""
        sql = _SOURCE_SQL.get(kind)
        if sql is None:
            return None
        row = await self.db.fetchone(sql, {"id": source_id})
        if row is None:
            return None
        return row["community_id"], row["title"] or ""

    async def candidates(
        self, community_id: int, text: str = "", limit: int = 25
    ) -> list[SourceChoice]:
        """Sources of one community whose title contains ``text`` (newest first, kinds
        interleaved by time): stories the whole community can see (not withdrawn, not kept
        to a circle), polls and meetings not cancelled; every statement round (named by
        number and date, which the service matches)."""
        rows = await self.db.fetchall(
            """SELECT kind, id, title, at FROM (
                 SELECT 'story' AS kind, id, title, created_at AS at FROM stories
                  WHERE community_id = :c AND consent <> 'withdrawn'
                    AND audience_channel_id IS NULL
                 UNION ALL
                 SELECT 'poll', id, question, created_at FROM polls WHERE community_id = :c
                 UNION ALL
                 SELECT 'statement_round', id, opened_at, opened_at FROM statement_rounds
                  WHERE community_id = :c
                 UNION ALL
                 SELECT 'meeting', id, title, start_at FROM meetings
                  WHERE community_id = :c AND status = 'scheduled'
               ) AS s WHERE kind = 'statement_round' OR lower(title) LIKE lower(:t) ESCAPE '\\'
               ORDER BY at DESC, kind, id DESC LIMIT :n""",
            {"c": community_id, "t": _contains(text), "n": limit},
        )
        return [SourceChoice(SourceKind(r["kind"]), r["id"], r["title"] or "") for r in rows]


# ---------------------------------------------------------------------- privacy
async def export_rows(db: Database, user_id: int) -> list[dict[str, object]]:
    """What the member did in the impact log: products they added, sources they linked, and
    the status changes and uses they recorded (with their notes)."""
    found: list[dict[str, object]] = []
    for r in await db.fetchall(
        "SELECT p.id, p.title, p.kind, p.created_at, c.name FROM products p"
        " JOIN communities c ON c.id = p.community_id WHERE p.created_by = :u ORDER BY p.id",
        {"u": user_id},
    ):
        found.append({"kind": "product you added", "product_id": r["id"], "title": r["title"],
                      "product_kind": r["kind"], "community": r["name"],
                      "at": r["created_at"]})  # fmt: skip
    for r in await db.fetchall(
        "SELECT s.*, p.title FROM product_sources s JOIN products p ON p.id = s.product_id"
        " WHERE s.linked_by = :u ORDER BY s.product_id, s.source_kind, s.source_id",
        {"u": user_id},
    ):
        found.append({"kind": "source you linked", "product_id": r["product_id"],
                      "title": r["title"], "source": f"{r['source_kind']}:{r['source_id']}",
                      "at": r["linked_at"]})  # fmt: skip
    for r in await db.fetchall(
        "SELECT e.*, p.title FROM product_events e JOIN products p ON p.id = e.product_id"
        " WHERE e.recorded_by = :u ORDER BY e.id",
        {"u": user_id},
    ):
        what = "status you recorded" if r["kind"] == "status" else "use you recorded"
        found.append({"kind": what, "product_id": r["product_id"], "title": r["title"],
                      "status": r["status"], "setting": r["setting"], "place": r["place"],
                      "note": r["note"], "at": r["at"]})  # fmt: skip
    return found


async def erase_rows(conn: Conn, user_id: int) -> dict[str, int]:
    """Inside the privacy erasure's transaction. The impact log is the group's record, so
    products, links, status changes and uses stay, without the person: the notes they wrote
    on uses are deleted (their own words); a status note stays (the group's account of the
    product), detached. Who added a product or linked a source is forgotten by the erasure's
    actor columns (``products.created_by``, ``product_sources.linked_by``)."""
    counts: dict[str, int] = {}
    cur = await conn.execute(
        "UPDATE product_events SET note = NULL WHERE recorded_by = :u AND kind = 'use'",
        {"u": user_id},
    )
    counts["product_use_notes_deleted"] = max(cur.rowcount, 0)
    cur = await conn.execute(
        "UPDATE product_events SET recorded_by = NULL WHERE recorded_by = :u", {"u": user_id}
    )
    counts["product_events_detached"] = max(cur.rowcount, 0)
    return counts
