"""The impact log end to end: a product linked to a group story, a poll and a meeting, its
status and uses, shown inside the group (titles, who) and to the sponsor (no group story,
no names), and in the sponsor's digest; autocomplete offers only the community's sources;
documents and papers become products once; bad input is refused with nothing stored."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from tests.e2e.hearth import HearthWorld
from tests.e2e.story_draft import submit_and_post
from tests.e2e.test_digest import embed_text, shown_messages, text_file_of
from tests.emulator.state import UserState

COMMUNITY = "Carers Voice"
OTHER = "GP Forum"
GROUP_TITLE = "Going home after surgery"
GROUP_TEXT = "GROUPSTORYTEXT the district nurse came on the second day."


def everything(rec: Any) -> str:
    """All a reply carries: content, embeds and attached text files."""
    parts = [rec.content, json.dumps(rec.embeds, ensure_ascii=False)]
    parts += [a.data.decode("utf-8", "replace") for a in rec.files]
    return "\n".join(parts)


def told_to(world: HearthWorld, user: UserState) -> list[str]:
    """The DMs telling ``user`` that their story became a product's source."""
    return [m.content for m in world.emu.dms_to(user) if "sources of" in m.content]


async def count(world: HearthWorld, sql: str) -> int:
    assert world.db is not None
    return int(await world.db.fetchval(sql))


async def share(world: HearthWorld, user: UserState, community: str, title: str, text: str,
                **options: Any) -> None:  # fmt: skip
    rec = await world.slash(user, "story share", community=community, **options)
    assert rec.modal is not None, rec.content
    done = await submit_and_post(world.emu, user, rec, {"title": title, "text": text})
    assert "is saved as #" in done.content, done.content


async def setup(world: HearthWorld) -> dict[str, UserState]:
    alice, bob, sponsor = world.person("alice"), world.person("bob"), world.person("sponsor")
    outsider = world.person("outsider")
    await world.create_community(COMMUNITY, members={alice: "carer", bob: "nurse"})
    rec = await world.slash(world.owner, "community sponsor", community=COMMUNITY, member=sponsor)
    assert "now the sponsor" in rec.content, rec.content
    await world.create_community(OTHER, members={outsider: "gp"})
    await share(world, alice, COMMUNITY, GROUP_TITLE, GROUP_TEXT)  # story 1, group consent
    await share(world, outsider, OTHER, "OTHERSTORY elsewhere", "Not ours.")  # story 2
    rec = await world.emu.slash(world.guild, world.owner, "poll create", options={
        "community": COMMUNITY, "question": "Which words should we use?", "kind": "single",
        "options": "going home; discharge", "closes": "in 3 days"})  # fmt: skip
    assert "Posted" in rec.content, rec.content
    rec = await world.slash(world.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when="2027-03-10 18:30")  # fmt: skip
    assert "Scheduled" in rec.content, rec.content
    return {"alice": alice, "bob": bob, "sponsor": sponsor, "outsider": outsider}


async def test_product_from_sources_to_sponsor_and_digest(world: HearthWorld) -> None:
    people = await setup(world)
    alice, bob, sponsor = people["alice"], people["bob"], people["sponsor"]

    title = "Our principles of people-centred care"
    rec = await world.slash(world.owner, "product add", community=COMMUNITY, title=title,
                            kind="guideline")  # fmt: skip
    assert "as product #1" in rec.content and rec.ephemeral, rec.content

    # Autocomplete: the community's sources by kind and title, nothing of another community.
    choices = await world.emu.autocomplete(world.guild, world.owner, "product link",
                                           focused="source", value="", product="1")  # fmt: skip
    names = [c["name"] for c in choices]
    assert f"Story: {GROUP_TITLE}" in names, names
    assert "Poll: Which words should we use?" in names, names
    assert "Meeting: Spring gathering" in names, names
    assert not any("OTHERSTORY" in n for n in names), names
    typed = await world.emu.autocomplete(world.guild, world.owner, "product link",
                                         focused="source", value="spring", product="1")  # fmt: skip
    assert [c["name"] for c in typed] == ["Meeting: Spring gathering"]
    for value in ("poll", "Poll: which"):
        typed = await world.emu.autocomplete(world.guild, world.owner, "product link",
                                             focused="source", value=value,
                                             product="1")  # fmt: skip
        assert [c["name"] for c in typed] == ["Poll: Which words should we use?"], value
    # A member who may not link is offered nothing.
    assert await world.emu.autocomplete(world.guild, alice, "product link", focused="source",
                                        value="", product="1") == []  # fmt: skip

    by_name = {c["name"]: c["value"] for c in choices}
    for name in (f"Story: {GROUP_TITLE}", "Poll: Which words should we use?",
                 "Meeting: Spring gathering"):  # fmt: skip
        rec = await world.slash(world.owner, "product link", product="1", source=by_name[name])
        assert rec.content.startswith("Linked"), rec.content
    assert await count(world, "SELECT count(*) FROM product_sources") == 3
    # The teller is told, with how their story appears outside the group (Decidim tells a
    # proposal's author when it is included in a result).
    told = await world.emu.wait_for(lambda: told_to(world, alice), 5, "the teller was not told")
    assert len(told) == 1, told
    assert GROUP_TITLE in told[0] and "Our principles of people-centred care" in told[0]
    assert "only as “a story shared within the group”" in told[0]

    await world.advance(timedelta(days=1))
    rec = await world.slash(world.owner, "product status", product="1", status="published",
                            note="On the trust's website")  # fmt: skip
    assert "from idea to **published**" in rec.content, rec.content
    await world.advance(timedelta(hours=2))
    rec = await world.slash(alice, "product used", product="1", setting="training",
                            where="Practice nurse training day, Leeds")  # fmt: skip
    assert "Recorded" in rec.content, rec.content
    rec = await world.slash(bob, "product used", product="1", where="Patient forum in March",
                            setting="patient_forum",
                            note="Members read two principles aloud")  # fmt: skip
    assert "Recorded" in rec.content, rec.content

    # Inside: titles, the timeline in order, who did what.
    inside = await world.slash(alice, "product show", product="1")
    assert inside.ephemeral
    embed = inside.embeds[0]
    assert embed["title"] == "Our principles of people-centred care"
    desc = embed["description"]
    order = [
        desc.index(w)
        for w in (
            "added to the impact log",
            "· **published**",
            "Practice nurse training day",
            "Patient forum in March",
        )
    ]
    assert order == sorted(order), desc
    assert "On the trust" in desc and f"<@{alice.id}>" in desc and f"<@{bob.id}>" in desc
    came_from = next(f["value"] for f in embed["fields"] if f["name"] == "Came from")
    assert GROUP_TITLE in came_from and "Which words should we use?" in came_from
    assert "Spring gathering" in came_from
    used = next(f["value"] for f in embed["fields"] if f["name"] == "Used")
    assert "twice" in used, used

    # The sponsor: the product without the group story, and no one named.
    outside = await world.slash(sponsor, "product show", product="1")
    seen = everything(outside)
    assert "Our principles of people-centred care" in seen
    assert GROUP_TITLE not in seen and "GROUPSTORYTEXT" not in seen
    assert "a story shared within the group" in seen
    assert "Which words should we use?" in seen and "Spring gathering" in seen
    assert "Practice nurse training day" in seen
    for person in (alice, bob, world.owner):
        assert str(person.id) not in seen, seen
    # Someone who is neither a member nor the sponsor sees nothing.
    refused = await world.slash(people["outsider"], "product show", product="1")
    assert "Only members and the sponsor" in refused.content, refused.content

    # The sponsor's digest: what the group has made, without the group story.
    await world.advance(timedelta(minutes=5))
    preview = await world.slash(world.owner, "digest preview", community=COMMUNITY)
    shown = shown_messages(preview)
    full = text_file_of(shown) + embed_text(shown)
    assert "What the group has made" in full, full
    assert "Our principles of people-centred care" in full
    assert "a story shared within the group" in full
    assert "Practice nurse training day, Leeds" in full, full[full.index("What the group") :]
    assert GROUP_TITLE not in full and "GROUPSTORYTEXT" not in full


async def test_bad_input_is_refused_with_nothing_stored(world: HearthWorld) -> None:
    people = await setup(world)
    alice = people["alice"]
    rec = await world.slash(world.owner, "product add", community=COMMUNITY,
                            title="Ten stages of the cancer journey", kind="document")  # fmt: skip
    assert "as product #1" in rec.content, rec.content

    refusals = [
        (world.owner, "product add", {"community": COMMUNITY, "title": "x" * 201,
                                      "kind": "other"}, "keep it to 200"),
        (world.owner, "product add", {"community": COMMUNITY, "title": "   ",
                                      "kind": "other"}, "Give the product a title"),
        (alice, "product add", {"community": COMMUNITY, "title": "Mine", "kind": "other"},
         "Only a facilitator"),
        (world.owner, "product link", {"product": "1", "source": "story:2"},
         "belongs to another community"),
        (world.owner, "product link", {"product": "1", "source": "story:99"},
         "There is no story #99"),
        (world.owner, "product link", {"product": "1", "source": "Going home"},
         "is not a source I know"),
        (world.owner, "product link", {"product": "77", "source": "story:1"},
         "There is no product #77"),
        (alice, "product link", {"product": "1", "source": "story:1"}, "Only a facilitator"),
        (alice, "product status", {"product": "1", "status": "adopted"}, "Only a facilitator"),
        (world.owner, "product status", {"product": "1", "status": "idea"}, "already idea"),
        (world.owner, "product used", {"product": "1", "where": "  "}, "Say where"),
        (people["outsider"], "product used", {"product": "1", "where": "My surgery"},
         "Only members"),
        (people["sponsor"], "product used", {"product": "1", "where": "Board"}, "Only members"),
    ]  # fmt: skip
    for user, command, options, expected in refusals:
        got = await world.slash(user, command, **options)
        assert got.ephemeral and expected in got.content, (command, options, got.content)
    assert await count(world, "SELECT count(*) FROM products") == 1
    assert await count(world, "SELECT count(*) FROM product_events") == 0
    assert await count(world, "SELECT count(*) FROM product_sources") == 0

    # A duplicate link is refused and stores nothing more.
    ok = await world.slash(world.owner, "product link", product="1", source="story:1")
    assert ok.content.startswith("Linked"), ok.content
    again = await world.slash(world.owner, "product link", product="1", source="story:1")
    assert "already linked" in again.content, again.content
    assert await count(world, "SELECT count(*) FROM product_sources") == 1


async def test_documents_and_papers_become_products_once(world: HearthWorld) -> None:
    await setup(world)
    assert world.bot is not None
    comm = await world.community_row(COMMUNITY)
    from bot.services.products import ProductService

    service = world.bot.services.get(ProductService)
    now = world.clock.now()
    first = await service.record_origin(comm.id, "Our principles", "document", "document", 1,
                                        created_by=world.owner.id, at=now)  # fmt: skip
    again = await service.record_origin(comm.id, "Our principles", "document", "document", 1,
                                        created_by=world.owner.id, at=now)  # fmt: skip
    paper = await service.record_origin(comm.id, "Draft on access", "policy input", "paper", 1,
                                        created_by=None, at=now)  # fmt: skip
    assert first.id == again.id != paper.id
    assert await count(world, "SELECT count(*) FROM products") == 2
    shown = await world.slash(world.owner, "product show", product=str(first.id))
    assert "Made as a collective document." in shown.embeds[0]["description"]
    assert "**drafting**" in shown.embeds[0]["description"]


async def test_each_linked_story_reaches_the_sponsor_only_as_its_teller_agreed(
    world: HearthWorld,
) -> None:
    people = await setup(world)
    alice, bob, sponsor = people["alice"], people["bob"], people["sponsor"]
    await share(world, alice, COMMUNITY, "NAMEDTITLE the hospice", "They made tea.",
                consent="named")  # story 3  # fmt: skip
    await share(world, bob, COMMUNITY, "ANONTITLE night shift", "ANONTEXT he stayed.",
                consent="anonymous")  # story 4  # fmt: skip
    await share(world, bob, COMMUNITY, "GONETITLE a hard day", "GONETEXT nobody came.",
                consent="anonymous")  # story 5  # fmt: skip
    rec = await world.slash(world.owner, "product add", community=COMMUNITY,
                            title="Ten stages", kind="document")  # fmt: skip
    assert "as product #1" in rec.content, rec.content
    for sid in (1, 3, 4, 5):
        done = await world.slash(world.owner, "product link", product="1", source=f"story:{sid}")
        assert done.content.startswith("Linked"), done.content
    await world.emu.wait_for(lambda: len(told_to(world, bob)) == 2, 5, "bob was not told")
    told = told_to(world, bob)
    assert len(told) == 2 and all("by its title, without your name" in t for t in told), told
    gone = await world.slash(bob, "story consent", story=5, level="withdrawn")
    assert "withdrawn" in gone.content, gone.content
    # A withdrawn story can no longer be linked anywhere.
    again = await world.slash(world.owner, "product add", community=COMMUNITY,
                              title="Another", kind="other")  # fmt: skip
    assert "as product #2" in again.content, again.content
    refused = await world.slash(world.owner, "product link", product="2", source="story:5")
    assert "withdrawn" in refused.content, refused.content

    seen = everything(await world.slash(sponsor, "product show", product="1"))
    assert "NAMEDTITLE the hospice (told by alice)" in seen, seen
    assert "ANONTITLE night shift" in seen and "ANONTEXT" not in seen
    assert "a story shared within the group" in seen and GROUP_TITLE not in seen
    assert "a story whose teller withdrew it" in seen and "GONETITLE" not in seen
    assert "bob" not in seen and str(bob.id) not in seen

    inside = everything(await world.slash(alice, "product show", product="1"))
    assert GROUP_TITLE in inside and "ANONTITLE night shift" in inside
    assert "a story whose teller withdrew it" in inside and "GONETITLE" not in inside


async def test_a_long_record_fits_discord_and_the_rest_is_attached(world: HearthWorld) -> None:
    people = await setup(world)
    rec = await world.slash(world.owner, "product add", community=COMMUNITY,
                            title="Training pack", kind="training")  # fmt: skip
    assert "as product #1" in rec.content, rec.content
    assert world.bot is not None
    from bot.services.products import ProductService

    service = world.bot.services.get(ProductService)
    product, _ = await service.in_guild(world.guild.id, "1")
    for i in range(40):
        await service.record_use(product, "training", f"Session {i:02d} " + "x" * 150, None,
                                 people["alice"].id)  # fmt: skip
    shown = await world.slash(people["alice"], "product show", product="1")
    embed = shown.embeds[0]
    assert len(embed["description"]) <= 4096
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000
    assert "earlier entries are in the attached file" in embed["description"]
    assert "Session 39" in embed["description"]  # the newest stay in view
    attached = shown.files[0].data.decode()
    assert all(f"Session {i:02d}" in attached for i in range(40))
    assert "40 times" in next(f["value"] for f in embed["fields"] if f["name"] == "Used")


async def test_product_autocomplete_offers_what_each_person_may_see(world: HearthWorld) -> None:
    people = await setup(world)
    rec = await world.slash(world.owner, "product add", community=COMMUNITY,
                            title="Our principles", kind="guideline")  # fmt: skip
    assert "as product #1" in rec.content, rec.content

    async def offered(user: UserState) -> list[str]:
        got = await world.emu.autocomplete(world.guild, user, "product show", focused="product",
                                           value="princ")  # fmt: skip
        return [c["name"] for c in got]

    # A statement round is offered by its number and the day it opened.
    for text in ("Say going home, not discharge", "Explain every tablet"):
        added = await world.slash(people["alice"], "statement add", community=COMMUNITY,
                                  text=text)  # fmt: skip
        assert "Added" in added.content, added.content
    opened = await world.slash(world.owner, "statement round", community=COMMUNITY)
    assert "Opened" in opened.content, opened.content
    rounds = await world.emu.autocomplete(world.guild, world.owner, "product link",
                                          focused="source", value="round", product="1")  # fmt: skip
    assert [c["name"] for c in rounds] == ["Statement round: round #1 of 11 Jan 2027"], rounds
    linked = await world.slash(world.owner, "product link", product="1",
                               source=rounds[0]["value"])  # fmt: skip
    assert "round \\#1 of 11 Jan 2027”" in linked.content, linked.content  # Markdown-escaped

    assert offered_names(await offered(people["alice"]))
    assert offered_names(await offered(people["sponsor"]))  # the outside view
    assert await offered(people["outsider"]) == []  # a member of another community only


def offered_names(names: list[str]) -> bool:
    return names == [f"#1 Our principles ({COMMUNITY})"]
