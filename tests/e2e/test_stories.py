"""Stories end to end: sharing, saving from messages, consent, listing, withdrawal and what
may leave a community. Prompts and restarts are in test_stories_prompts.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db.communities import NewCommunity
from bot.db.stories import StoryRepo
from bot.domain.communities import Discipline, Kind
from bot.domain.stories import Consent, shareable_view
from bot.services.story_offers import shareable_stories_for_digest
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.story_draft import post_draft, submit_and_post
from tests.emulator.interactions import all_custom_ids
from tests.emulator.state import MessageState, UserState

COMMUNITY = "Carers Voice"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[HearthWorld]:
    async with hearth_world(tmp_path) as w:
        yield w


async def _setup(world: HearthWorld, **people: bool) -> dict[str, UserState]:
    """alice (carer) and bob (nurse) plus any extra people given as name=dms_open."""
    users = {"alice": world.person("alice"), "bob": world.person("bob")}
    for name, dms_open in people.items():
        users[name] = world.person(name, dms_open=dms_open)
    await world.create_community(
        COMMUNITY, members={u: ("carer" if n != "bob" else "nurse") for n, u in users.items()}
    )
    return users


async def _rows(world: HearthWorld) -> list[Any]:
    assert world.db is not None
    return await world.db.fetchall("SELECT * FROM stories ORDER BY id")


async def _share(
    world: HearthWorld, user: UserState, title: str, text: str, **options: Any
) -> Any:
    rec = await world.slash(user, "story share", community=COMMUNITY, **options)
    assert rec.modal is not None, rec.content
    return await submit_and_post(world.emu, user, rec, {"title": title, "text": text})


def _forum(world: HearthWorld) -> Any:
    return world.channel("carers-voice-stories")


# --------------------------------------------------------------------------- share


async def test_share_posts_a_tagged_forum_thread_and_suggests_plain_words(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    alice = users["alice"]
    text = "After the biopsy they talked about discharge on Friday. Call me on 07700 900123."
    rec = await world.slash(alice, "story share", community=COMMUNITY, stage="treatment",
                            consent="named")
    draft = await world.emu.submit_modal(alice, rec, {"title": "Going home", "text": text})
    # the plain-language suggestions come on the draft, before anything is posted
    assert draft.ephemeral and "not posted yet" in draft.content, draft.content
    jargon = draft.content
    assert "**biopsy**" in jargon and "taking a small sample" in jargon
    assert "**discharge**" in jargon and "going home from hospital" in jargon
    assert "Nothing has been changed" in jargon and "Edit the words" in jargon
    assert await _rows(world) == [] and not world.emu.threads_in(_forum(world))
    sub = await post_draft(world.emu, alice, draft)
    assert sub.ephemeral and "saved as #1" in sub.content, sub.content

    rows = await _rows(world)
    assert len(rows) == 1
    row = rows[0]
    assert (row["title"], row["text"], row["stage"], row["consent"]) == (
        "Going home", text, "treatment", "named",
    )
    assert row["teller_id"] == alice.id

    forum = _forum(world)
    threads = world.emu.threads_in(forum)
    assert len(threads) == 1
    thread = threads[0]
    assert thread.name == "Going home"
    comm = await world.community_row(COMMUNITY)
    tags = await world.bot.communities.stage_tags(comm.id)  # type: ignore[union-attr]
    assert thread.applied_tags == [tags["treatment"]]
    starter = world.emu.messages_in(thread)[0]
    assert "alice" in starter.content and "Treatment" in starter.content
    assert starter.embeds[0]["description"] == text  # inside the community: unredacted
    assert row["post_channel_id"] == thread.id


async def test_stage_autocomplete_offers_configured_stages(world: HearthWorld) -> None:
    users = await _setup(world)
    choices = await world.emu.autocomplete(
        world.guild, users["alice"], "story share", focused="stage", value="treat",
        community=COMMUNITY,
    )
    assert [c["value"] for c in choices][:2] == ["treatment", "planning"]
    assert choices[0]["name"] == "Treatment"
    all_choices = await world.emu.autocomplete(
        world.guild, users["alice"], "story share", focused="stage", value="",
        community=COMMUNITY,
    )
    assert len(all_choices) == 10


async def test_modal_limits_match_the_story_limits(world: HearthWorld) -> None:
    users = await _setup(world)
    rec = await world.slash(users["alice"], "story share", community=COMMUNITY)
    assert rec.modal is not None
    fields: dict[str, Any] = {}

    def walk(components: list[dict[str, Any]]) -> None:
        for c in components:
            if c.get("type") == 4:
                fields[c["custom_id"]] = c
            walk(c.get("components") or [])
            if c.get("component"):
                walk([c["component"]])

    walk(rec.modal["components"])
    assert fields["title"]["max_length"] == 100
    assert fields["text"]["max_length"] == 4000


async def test_bad_share_input_is_refused_and_nothing_stored(world: HearthWorld) -> None:
    users = await _setup(world)
    alice = users["alice"]
    outsider = world.person("outsider")

    unknown = await world.slash(alice, "story share", community=COMMUNITY, stage="Chemo week")
    assert unknown.modal is None and unknown.ephemeral
    assert "not one of this community's story stages" in unknown.content

    blank = await _share(world, alice, "A title", "   \n\t  ")
    assert blank.ephemeral and "Your story is empty" in blank.content

    blank_title = await _share(world, alice, "   ", "Some words")
    assert blank_title.ephemeral and "needs a title" in blank_title.content

    refused = await world.slash(outsider, "story share", community=COMMUNITY)
    assert refused.modal is None and refused.ephemeral
    assert "Only members of **Carers Voice**" in refused.content

    nowhere = await world.slash(alice, "story share", community="No Such Group")
    assert nowhere.modal is None and "no community called" in nowhere.content

    assert await _rows(world) == []
    assert world.emu.threads_in(_forum(world)) == []


# --------------------------------------------------------------------------- save as story


async def test_author_saves_own_message_content_arrives_without_the_intent(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    alice = users["alice"]
    assert world.emu.granted_intents == 0  # no message content intent
    lounge = world.channel("carers-voice-lounge")
    text = "The palliative team sat with us for an hour.\nIt changed everything."
    msg = await world.emu.post_message(lounge, alice, text)
    rec = await world.emu.message_command(world.guild, alice, "Save as story", msg)
    # Her own words go through the draft first: nothing is kept until she presses Post, and
    # the plain-language suggestion comes before posting, with a chance to edit.
    assert rec.ephemeral and "not posted yet" in rec.content, rec.content
    assert "palliative" in rec.content  # plain-language suggestion, in the draft
    assert await _rows(world) == []
    assert world.emu.threads_in(_forum(world)) == []
    # She chooses, inside the flow, that it may travel without her name.
    assert rec.reply is not None
    await world.emu.select(alice, rec.reply, "story:draft:consent", ["anonymous"])
    posted = await post_draft(world.emu, alice, rec)
    assert posted.reply is not None and "saved as #1" in posted.reply.content, posted.describe()
    # Commands in replies are clickable mentions, not `code`.
    assert "</story consent:" in posted.reply.content and "`/story" not in posted.reply.content
    row = (await _rows(world))[0]
    assert row["text"] == text
    assert row["title"] == "The palliative team sat with us for an hour."
    assert row["consent"] == "anonymous" and row["consent_request"] is None
    assert row["source_message_id"] == msg.id
    thread = world.emu.threads_in(_forum(world))[0]
    assert thread.applied_tags == []

    again = await world.emu.message_command(world.guild, alice, "Save as story", msg)
    assert again.ephemeral and "already saved as story #1" in again.content
    assert len(await _rows(world)) == 1


async def test_facilitator_saves_a_members_message_and_the_teller_is_asked_by_dm(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    bob = users["bob"]
    lounge = world.channel("carers-voice-lounge")
    msg = await world.emu.post_message(lounge, bob, "The night nurse explained every step.")
    rec = await world.emu.message_command(world.guild, world.owner, "Save as story", msg)
    assert "asked bob by direct message" in rec.content, rec.content
    row = (await _rows(world))[0]
    assert row["teller_id"] == bob.id and row["captured_by"] == world.owner.id
    assert row["consent"] == "group" and row["consent_request"] == "dm"

    dm = world.emu.dms_to(bob)[-1]
    assert "story #1" in dm.content
    ids = all_custom_ids(dm.components)
    assert ids == [f"story:consent:1:{c}" for c in ("group", "anonymous", "named", "withdrawn")]
    thread = world.emu.threads_in(_forum(world))[0]
    starter = world.emu.messages_in(thread)[0]
    assert "bob" in starter.content  # group: named inside the community

    # Only the teller can answer.
    alice_try = await world.emu.click(world.owner, dm, "story:consent:1:named")
    assert alice_try.ephemeral and "Only the person who told story #1" in alice_try.content

    answer = await world.emu.click(bob, dm, "story:consent:1:anonymous")
    await _settled(answer)
    row = (await _rows(world))[0]
    assert row["consent"] == "anonymous" and row["consent_request"] is None
    assert "bob" not in starter.content and "a member of the community" in starter.content
    assert "now **anonymous**" in world.emu.get_message(
        world.emu.dm_channel(bob), dm.id  # type: ignore[arg-type]
    ).content


async def test_closed_dms_mean_the_teller_is_asked_at_their_next_story_command(
    world: HearthWorld,
) -> None:
    users = await _setup(world, carol=False)
    carol = users["carol"]
    voice = world.channel("carers-voice-voice")
    msg = await world.emu.post_message(voice, carol, "My neighbour drove me to every session.")
    rec = await world.emu.message_command(world.guild, world.owner, "Save as story", msg)
    assert "direct messages are closed" in rec.content, rec.content
    assert world.emu.dms_to(carol) == []
    row = (await _rows(world))[0]
    assert row["consent"] == "group" and row["consent_request"] == "inline"

    listing = await world.slash(carol, "story list", community=COMMUNITY)
    await listing.wait_followups(1)
    ask = listing.followups[-1]
    assert ask.ephemeral and "story #1" in ask.content
    chosen = await world.emu.click(carol, ask, "story:consent:1:named")
    await _settled(chosen)
    assert "now **named**" in world.emu.get_message(msg_channel(world, ask), ask.id).content
    row = (await _rows(world))[0]
    assert row["consent"] == "named" and row["consent_request"] is None

    # Answered: the next story command does not ask again.
    later = await world.slash(carol, "story list", community=COMMUNITY)
    assert later.followups == [] or all("story #1 " not in f.content for f in later.followups)


async def test_context_menu_refusals_store_nothing(world: HearthWorld) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    lounge = world.channel("carers-voice-lounge")
    general = world.emu.create_channel(world.guild, "general-chat")
    outside = await world.emu.post_message(general, alice, "A story outside any community.")
    r1 = await world.emu.message_command(world.guild, alice, "Save as story", outside)
    assert r1.ephemeral and "not in one" in r1.content

    prompt = await world.slash(world.owner, "story prompt", community=COMMUNITY)
    assert "Posted" in prompt.content
    bot_msg = [m for m in world.emu.messages_in(lounge) if m.author.bot][-1]
    r2 = await world.emu.message_command(world.guild, alice, "Save as story", bot_msg)
    assert r2.ephemeral and "not messages from bots" in r2.content

    bobs = await world.emu.post_message(lounge, bob, "Bob's own words.")
    r3 = await world.emu.message_command(world.guild, alice, "Save as story", bobs)
    assert r3.ephemeral and "Only a facilitator" in r3.content

    empty = await world.emu.post_message(lounge, alice, "   ")
    r4 = await world.emu.message_command(world.guild, alice, "Save as story", empty)
    assert r4.ephemeral and "no text to save" in r4.content

    huge = await world.emu.post_message(lounge, alice, "word " * 900)
    r5 = await world.emu.message_command(world.guild, alice, "Save as story", huge)
    assert r5.ephemeral and "at most 4000" in r5.content

    assert await _rows(world) == []
    assert world.emu.threads_in(_forum(world)) == []


# --------------------------------------------------------------------------- list


async def test_list_pages_with_buttons_and_hides_withdrawn(world: HearthWorld) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    for i in range(7):
        sub = await _share(world, alice if i % 2 else bob, f"Story {i}", f"Text {i}",
                           stage="diagnosis" if i < 3 else None,
                           consent="anonymous" if i == 1 else "group")
        assert "saved as" in sub.content
    gone = await world.slash(alice, "story consent", story=4, level="withdrawn")
    assert "withdrawn" in gone.content

    page1 = await world.slash(bob, "story list", community=COMMUNITY)
    assert page1.ephemeral
    embed = page1.embeds[0]
    names = [f["name"] for f in embed["fields"]]
    assert names == ["#7 Story 6", "#6 Story 5", "#5 Story 4", "#3 Story 2", "#2 Story 1"]
    assert "Page 1 of 2 · 6 stories" in embed["footer"]["text"]
    anon = next(f for f in embed["fields"] if f["name"] == "#2 Story 1")
    assert "alice" not in anon["value"] and "a member of the community" in anon["value"]
    assert "(yours)" in next(f for f in embed["fields"] if f["name"] == "#7 Story 6")["value"]

    msg = page1.reply
    assert msg is not None
    nxt = await world.emu.click(bob, msg, f"story:list:{(await _cid(world))}:1:n:")
    await nxt.wait_response()
    page2 = world.emu.get_message(msg_channel(world, msg), msg.id).embeds[0]
    assert [f["name"] for f in page2["fields"]] == ["#1 Story 0"]
    assert "Page 2 of 2" in page2["footer"]["text"]

    staged = await world.slash(bob, "story list", community=COMMUNITY, stage="diagnosis")
    assert [f["name"] for f in staged.embeds[0]["fields"]] == [
        "#3 Story 2", "#2 Story 1", "#1 Story 0",
    ]
    outsider = world.person("outsider")
    refused = await world.slash(outsider, "story list", community=COMMUNITY)
    assert refused.ephemeral and "Only members" in refused.content and not refused.embeds


async def _settled(click: Any) -> None:
    """A button answered with a deferred update finishes when the message is edited."""
    await click.wait_response()
    if click.response_type == 6:
        await click.wait_edits()


def msg_channel(world: HearthWorld, msg: MessageState) -> Any:
    return world.emu.get_channel(msg.channel_id)


async def _cid(world: HearthWorld) -> int:
    return int((await world.community_row(COMMUNITY)).id)


# --------------------------------------------------------------------------- consent


async def test_consent_changes_only_by_the_teller_and_withdrawal_leaves_a_tombstone(
    world: HearthWorld,
) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    await _share(world, alice, "Holding hands", "She held my hand all through it.",
                 consent="named")
    thread = world.emu.threads_in(_forum(world))[0]

    by_bob = await world.slash(bob, "story consent", story=1, level="withdrawn")
    assert by_bob.ephemeral and "Only the person who told story #1" in by_bob.content
    missing = await world.slash(alice, "story consent", story=99, level="group")
    assert missing.ephemeral and "no story #99 in this server" in missing.content
    assert (await _rows(world))[0]["consent"] == "named"

    choices = await world.emu.autocomplete(
        world.guild, alice, "story consent", focused="story", value="hold"
    )
    assert [c["value"] for c in choices] == [1]
    assert await world.emu.autocomplete(
        world.guild, bob, "story consent", focused="story", value=""
    ) == []

    anon = await world.slash(alice, "story consent", story=1, level="anonymous")
    assert "now **anonymous**" in anon.content
    starter = world.emu.messages_in(thread)[0]
    assert "alice" not in starter.content

    gone = await world.slash(alice, "story consent", story=1, level="withdrawn")
    assert "withdrawn" in gone.content
    assert world.emu.threads_in(_forum(world)) == []
    row = (await _rows(world))[0]
    assert row["consent"] == "withdrawn" and row["withdrawn_at"] is not None
    for col in ("teller_id", "title", "text", "stage", "stage_label", "post_channel_id",
                "post_message_id", "source_message_id"):
        assert row[col] is None, col
    assert row["id"] == 1 and row["community_id"] == await _cid(world)

    again = await world.slash(alice, "story consent", story=1, level="named")
    assert again.ephemeral and "was withdrawn" in again.content
    listing = await world.slash(alice, "story list", community=COMMUNITY)
    assert "Holding hands" not in listing.all_text
    assert world.db is not None
    shared, kept = await shareable_stories_for_digest(
        world.db, await _cid(world), world.clock.now() - timedelta(days=1),
        world.clock.now() + timedelta(days=1), _names(world),
    )
    assert shared == [] and kept == 0


async def test_story_id_from_another_server_is_not_found(world: HearthWorld) -> None:
    users = await _setup(world)
    assert world.bot is not None and world.db is not None
    now = world.clock.now()
    other = await world.bot.communities.create(
        NewCommunity(
            guild_id=4242, name="Elsewhere", slug="elsewhere", kind=Kind.PRACTICE,
            timezone="Europe/London", created_by=users["alice"].id, created_at=now,
            category_id=None, lounge_id=None, stories_id=None, stories_is_forum=False,
            voice_id=None, meetings_id=None, member_role_id=None, facilitator_role_id=None,
            sponsor_id=None, circles=[], stage_tags=[],
        ),
        facilitator_discipline=Discipline.CARER,
    )
    story = await StoryRepo(world.db).add(
        community_id=other.id, teller_id=users["alice"].id, title="Far away", text="Words",
        stage=None, stage_label=None, consent=Consent.GROUP, now=now,
    )
    rec = await world.slash(users["alice"], "story consent", story=story.id, level="named")
    assert rec.ephemeral and f"no story #{story.id} in this server" in rec.content
    got = await StoryRepo(world.db).get(story.id)
    assert got is not None and got.consent is Consent.GROUP


# --------------------------------------------------------------------------- leaving


def _names(world: HearthWorld) -> Any:
    async def display_name(user_id: int) -> str | None:
        for user in world.people.values():
            if user.id == user_id:
                return user.name
        return None

    return display_name


async def test_group_story_never_appears_in_anything_for_a_sponsor(world: HearthWorld) -> None:
    users = await _setup(world)
    alice, bob = users["alice"], users["bob"]
    secret = "GROUPSECRET the ward sister stayed late"
    await _share(world, alice, "Kept in the group GROUPTITLE", secret)
    await _share(world, bob, "Shared without a name",
                 "Write to me at bob@example.org or 07700 900123 about it.", consent="anonymous")
    await _share(world, alice, "Shared with my name", "Born 12/03/1956, NHS 943 476 5919.",
                 consent="named", stage="diagnosis")
    lounge = world.channel("carers-voice-lounge")
    msg = await world.emu.post_message(lounge, bob, "GROUPCAPTURE a facilitator kept this")
    await world.emu.message_command(world.guild, world.owner, "Save as story", msg)

    assert world.db is not None
    start = world.clock.now() - timedelta(hours=1)
    end = world.clock.now() + timedelta(hours=1)
    shared, kept = await shareable_stories_for_digest(
        world.db, await _cid(world), start, end, _names(world)
    )
    assert kept == 2
    everything = repr(shared)
    for leak in ("GROUPSECRET", "GROUPTITLE", "GROUPCAPTURE", "bob@example.org", "07700",
                 "12/03/1956", "943 476 5919", str(alice.id), str(bob.id)):
        assert leak not in everything, leak
    by_title = {s.title: s for s in shared}
    assert set(by_title) == {"Shared without a name", "Shared with my name"}
    assert by_title["Shared without a name"].credit is None
    assert by_title["Shared without a name"].text.count("[redacted]") == 2
    assert by_title["Shared with my name"].credit == "alice"
    assert by_title["Shared with my name"].stage_label == "Tests and diagnosis"
    assert by_title["Shared with my name"].text == "Born [redacted], NHS [redacted]."

    # The single exit function says the same for every stored story.
    for story in await StoryRepo(world.db).created_between(await _cid(world), start, end):
        view = shareable_view(story, teller_display_name="someone")
        assert (view is None) == (story.consent is Consent.GROUP)

    # Outside the window: nothing.
    none, zero = await shareable_stories_for_digest(
        world.db, await _cid(world), end, end + timedelta(days=7), _names(world)
    )
    assert none == [] and zero == 0


# --------------------------------------------------------------------------- no forums


async def test_text_channel_fallback_posts_and_withdraws_a_message(tmp_path: Path) -> None:
    async with hearth_world(tmp_path, features=()) as world:
        users = await _setup(world)
        alice = users["alice"]
        comm = await world.community_row(COMMUNITY)
        assert not comm.stories_is_forum
        stories = world.channel("carers-voice-stories")
        sub = await _share(world, alice, "On the ward", "The ward was quiet that night.",
                           consent="anonymous", stage="treatment")
        assert "saved as #1" in sub.content
        posts = [m for m in world.emu.messages_in(stories) if m.author.bot]
        assert len(posts) == 1
        assert posts[0].embeds[0]["title"] == "On the ward"
        assert "alice" not in posts[0].content and "Treatment" in posts[0].content
        row = (await _rows(world))[0]
        assert row["post_channel_id"] == stories.id and row["post_message_id"] == posts[0].id
        assert row["post_is_thread"] == 0

        gone = await world.slash(alice, "story consent", story=1, level="withdrawn")
        assert "withdrawn" in gone.content
        assert [m for m in world.emu.messages_in(stories) if m.author.bot] == []
        assert (await _rows(world))[0]["text"] is None
