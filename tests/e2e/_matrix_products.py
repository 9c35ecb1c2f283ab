"""The permission matrix's rows for the impact log (``/product``).

Kept beside the matrix so the shared table only lists the rows. A product of community A is
added by the owner once per actor's world (idempotent ``prepare``); the link row links one of
A's polls.
"""

from __future__ import annotations

from typing import Any

from tests.e2e._matrix import A, Ctx
from tests.emulator.interactions import InteractionRecord

TITLE = "Matrix principles"


async def a_product(ctx: Ctx) -> int:
    if "product" not in ctx.ids:
        rec = await ctx.slash(ctx.world.owner, "product add", community=A, title=TITLE,
                              kind="guideline")  # fmt: skip
        assert "as product #" in rec.content, rec.content
        ctx.ids["product"] = int(await ctx.val("SELECT max(id) FROM products"))
    return int(ctx.ids["product"])


async def act_add(ctx: Ctx, _: Any) -> InteractionRecord:
    return await ctx.slash(ctx.actor, "product add", community=A, title="Matrix added",
                           kind="training")  # fmt: skip


async def check_added(ctx: Ctx, rec: InteractionRecord, _: Any) -> None:
    sql = "SELECT count(*) FROM products WHERE community_id = :c AND title = 'Matrix added'"
    assert await ctx.val(sql, {"c": ctx.a_id}) == 1


async def act_link(ctx: Ctx, product: int) -> InteractionRecord:
    return await ctx.slash(ctx.actor, "product link", product=str(product),
                           source=f"poll:{ctx.ids['poll_single']}")  # fmt: skip


async def check_linked(ctx: Ctx, rec: InteractionRecord, product: int) -> None:
    sql = "SELECT count(*) FROM product_sources WHERE product_id = :p AND source_kind = 'poll'"
    assert await ctx.val(sql, {"p": product}) == 1


async def act_status(ctx: Ctx, product: int) -> InteractionRecord:
    return await ctx.slash(ctx.actor, "product status", product=str(product),
                           status="published", note="On the website")  # fmt: skip


async def check_status(ctx: Ctx, rec: InteractionRecord, product: int) -> None:
    assert await ctx.val(
        "SELECT status FROM products WHERE id = :id", {"id": product}
    ) == "published"


async def act_used(ctx: Ctx, product: int) -> InteractionRecord:
    return await ctx.slash(ctx.actor, "product used", product=str(product),
                           where="Matrix training day", setting="training")  # fmt: skip


async def check_used(ctx: Ctx, rec: InteractionRecord, product: int) -> None:
    sql = "SELECT count(*) FROM product_events WHERE product_id = :p AND kind = 'use'"
    assert await ctx.val(sql, {"p": product}) == 1


async def act_show(ctx: Ctx, product: int) -> InteractionRecord:
    return await ctx.slash(ctx.actor, "product show", product=str(product))


async def check_shown(ctx: Ctx, rec: InteractionRecord, product: int) -> None:
    assert TITLE in rec.all_text, rec.all_text
