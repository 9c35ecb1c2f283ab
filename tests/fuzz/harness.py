"""A Hearth world that a synchronous hypothesis test can drive, and the invariants every
fuzzed interaction must keep.

Hypothesis runs ``@given`` functions synchronously, so the world lives on a private event
loop owned by this module: each example calls :meth:`FuzzWorld.run` which runs one coroutine
to completion (the bot, the emulator and the database all share that loop; between examples
nothing is waiting on a timer, so pausing the loop is invisible to them). One world serves
every example of a test function, which keeps a property with dozens of examples fast.

The invariants (checked after every example, and once more over the whole run):

- no log record at ERROR or above (the one error handler logs every unexpected exception;
  discord.py logs anything that escapes a view or an event);
- no apology ("Sorry, something went wrong...") in anything the bot sent;
- no request the emulator refused with 400 (the bot sent something Discord would refuse,
  e.g. over a length limit, because it trusted user input);
- every refusal (a ``HearthError`` turned into a reply by the one handler) is ephemeral,
  a readable sentence, and arrived in the emulator as an ephemeral message; it carries no
  control, bidi or invisible character and no unbalanced backtick (user text echoed in it
  went through ``bot.text``);
- no message the bot created or edited would notify @everyone, @here or a role, and every
  user it would notify was named explicitly in ``allowed_mentions.users``;
- no text the bot sent to a place Discord shows literally (embed titles, field names,
  footers and author names; button and select labels, select option descriptions and
  placeholders; modal titles; autocomplete choice names; thread names; scheduled-event
  names, descriptions and locations; attachment file names) carries a control, bidi or
  invisible character, or a line break where the place has one line (user text went through
  ``bot.text.plain``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import discord

from bot import errors_handler
from bot.interactions import linkify
from tests.e2e.hearth import HearthWorld, hearth_world
from tests.e2e.story_draft import submit_and_post
from tests.emulator.interactions import InteractionRecord
from tests.emulator.state import UserState
from tests.fuzz.strategies import Targets

T = TypeVar("T")
COMMUNITY = "Carers Voice"
OTHER = "Nurses Network"
APOLOGY_START = "Sorry, something went wrong"


@dataclass
class Refusal:
    interaction_id: int
    content: str


@dataclass
class Mark:
    requests: int
    mentions: int
    errors: int
    refusals: int


class _Collect(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        # asyncio reports through the loop's exception handler (collected per loop below);
        # its logger also carries other tests' leftovers (a task of a closed loop being
        # garbage-collected now), which say nothing about this world
        if record.name != "asyncio":
            self.into.append(record)


@dataclass
class FuzzWorld:
    loop: asyncio.AbstractEventLoop
    world: HearthWorld
    people: dict[str, UserState] = field(default_factory=dict)
    errors: list[logging.LogRecord] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    #: ids of things made during setup, for the commands' valid base values
    story_id: int = 0
    meeting_id: int = 0
    poll_id: int = 0

    # -- running -------------------------------------------------------------------------
    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)

    @property
    def emu(self) -> Any:
        return self.world.emu

    def targets(self) -> Targets:
        guild = self.world.guild
        return Targets(
            users=tuple(u.id for u in [self.world.owner, *self.people.values()]),
            roles=tuple(sorted(guild.roles))[:12],
            channels=tuple(sorted(guild.channels))[:6],
        )

    async def settle(self) -> None:
        """Let follow-ups the bot sends after answering (and their REST calls) land."""
        for _ in range(5):
            await asyncio.sleep(0.005)

    async def advance(self, delta: timedelta, steps: int = 1) -> None:
        for _ in range(steps):
            await self.world.advance(delta)
            await self.settle()

    # -- invariants ------------------------------------------------------------------------
    def mark(self) -> Mark:
        return Mark(len(self.emu.requests), len(self.emu.mention_log), len(self.errors),
                    len(self.refusals))

    def problems_since(self, mark: Mark) -> list[str]:
        emu = self.emu
        out: list[str] = []
        for rec in self.errors[mark.errors:]:
            exc = f" {rec.exc_info[1]!r}" if rec.exc_info else ""
            out.append(f"ERROR log {rec.name}: {rec.getMessage()}{exc}")
        for req in emu.requests[mark.requests:]:
            if req.status == 400:
                out.append(f"Discord refused {req.method} {req.path}: {req.json!r:.300}")
        for m in emu.mention_log[mark.mentions:]:
            if APOLOGY_START in m.text:
                out.append(f"apology sent in message {m.message_id}")
            if m.mentions.mass:
                out.append(f"mass mention ({m.action}) {m.mentions} allowed="
                           f"{m.allowed_mentions} text={m.text[:200]!r}")
            if m.mentions.unlisted_users:
                out.append(f"users pinged from parsed text {set(m.mentions.unlisted_users)} "
                           f"allowed={m.allowed_mentions} text={m.text[:200]!r}")
        for r in self.refusals[mark.refusals:]:
            out += refusal_problems(r, emu.interactions.get(r.interaction_id))
        for req in emu.requests[mark.requests:]:
            out += plain_text_problems(req.method, req.path, req.json, req.files)
        return out

    def check_since(self, mark: Mark, context: str) -> None:
        problems = self.problems_since(mark)
        assert not problems, f"{context}:\n- " + "\n- ".join(problems)

    # -- driving ----------------------------------------------------------------------------
    async def slash(self, user: UserState, command: str, options: dict[str, Any]
                    ) -> InteractionRecord:
        rec = await self.emu.slash(self.world.guild, user, command, options=options)
        await self.settle()
        return rec


SENTENCE_END = re.compile(r"[.!?)`*\]”\"]\s*$")
#: a refusal says what to do: an instruction, an example, a command to use instead, or the
#: rule that was broken ("Only facilitators of X can do that.") -- a heuristic, not a proof
GUIDANCE = re.compile(
    r"\b(use|try|give|pick|choose|write|keep|shorten|ask|add|remove|type|start|check|"
    r"separate|merge|split|leave|wait|vote|reword|put|select|change|tell|join|run|make|"
    r"only|cannot|can't|must|at most|at least|or fewer|the \w+ are|once|usual|allowed|needs?)\b"
    r"|/[a-z]+|e\.g\.|for example|such as|like \"",
    re.IGNORECASE,
)


#: characters that only reach a refusal if user input skipped bot.text: C0/C1 controls (a
#: newline is the bot's own layout), bidi embeddings/overrides/isolates/marks, and invisible
#: spaces (a ZWSP straight after "@" is bot.text defusing a mention, so it is allowed)
LAYOUT_HAZARD = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2060\ufeff]|(?<!@)\u200b"
)
#: a backtick that Markdown would read (not backslash-escaped)
LIVE_BACKTICK = re.compile(r"(?<!\\)(?:\\\\)*`")


def markdown_problems(text: str) -> list[str]:
    """Echoed user text must not reorder or hide part of the line nor leave a code span open."""
    out: list[str] = []
    hazards = sorted({f"U+{ord(m.group()[-1]):04X}" for m in LAYOUT_HAZARD.finditer(text)})
    if hazards:
        out.append(f"refusal carries control/bidi/invisible characters {hazards}: {text[:200]!r}")
    if len(LIVE_BACKTICK.findall(text)) % 2:
        out.append(f"refusal has an unbalanced backtick (an open code span): {text[:200]!r}")
    return out


#: in a place that shows text literally on one line, a line break is a hazard too, and a
#: zero-width space is never the bot's own (no mention needs defusing there)
PLAIN_HAZARD = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2066-\u2069\u2060\ufeff]"
)
#: the same for multi-line plain places (event descriptions): the bot's own line breaks pass
PLAIN_BLOCK_HAZARD = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e"
    "\u2066-\u2069\u2060\ufeff]"
)
_THREAD_PATH = re.compile(r"^/channels/\d+(/messages/\d+)?/threads$")
_EVENT_PATH = re.compile(r"^/guilds/\d+/scheduled-events(/\d+)?$")
_CALLBACK_PATH = re.compile(r"^/interactions/\d+/[^/]+/callback$")


def _component_texts(components: Any, where: str) -> Iterator[tuple[str, str]]:
    for comp in components if isinstance(components, list) else []:
        if not isinstance(comp, dict):
            continue
        for key in ("label", "placeholder"):
            if isinstance(comp.get(key), str):
                yield f"{where} component {key}", comp[key]
        for opt in comp.get("options") or []:
            if isinstance(opt, dict):
                for key in ("label", "description"):
                    if isinstance(opt.get(key), str):
                        yield f"{where} select option {key}", opt[key]
        yield from _component_texts(comp.get("components"), where)
        if isinstance(comp.get("component"), dict):  # a label wrapping one component
            yield from _component_texts([comp["component"]], where)


def _message_texts(body: dict[str, Any], where: str) -> Iterator[tuple[str, str]]:
    for embed in body.get("embeds") or []:
        if not isinstance(embed, dict):
            continue
        if isinstance(embed.get("title"), str):
            yield f"{where} embed title", embed["title"]
        for key in ("footer", "author"):
            part = embed.get(key)
            text_key = "text" if key == "footer" else "name"
            if isinstance(part, dict) and isinstance(part.get(text_key), str):
                yield f"{where} embed {key}", part[text_key]
        for fld in embed.get("fields") or []:
            if isinstance(fld, dict) and isinstance(fld.get("name"), str):
                yield f"{where} embed field name", fld["name"]
    yield from _component_texts(body.get("components"), where)
    for att in body.get("attachments") or []:
        if isinstance(att, dict) and isinstance(att.get("filename"), str):
            yield f"{where} attachment filename", att["filename"]


def plain_text_values(method: str, path: str, body: dict[str, Any] | None,
                      files: list[str] | None = None) -> Iterator[tuple[str, str, bool]]:
    """(where, text, multi_line_allowed) for every literal-text place in one REST call."""
    where = f"{method} {path}"
    for name in files or []:
        yield f"{where} file name", name, False
    if not isinstance(body, dict) or method not in ("POST", "PATCH", "PUT"):
        return
    if _CALLBACK_PATH.match(path):
        data = body.get("data")
        if not isinstance(data, dict):
            return
        if body.get("type") == 9 and isinstance(data.get("title"), str):
            yield f"{where} modal title", data["title"], False
        if body.get("type") == 8:
            for choice in data.get("choices") or []:
                if isinstance(choice, dict) and isinstance(choice.get("name"), str):
                    yield f"{where} autocomplete choice", choice["name"], False
        for w, text in _message_texts(data, where):
            yield w, text, False
        return
    if _THREAD_PATH.match(path) and isinstance(body.get("name"), str):
        yield f"{where} thread name", body["name"], False
        message = body.get("message")
        if isinstance(message, dict):  # a forum post's first message
            for w, text in _message_texts(message, where):
                yield w, text, False
    if _EVENT_PATH.match(path):
        if isinstance(body.get("name"), str):
            yield f"{where} event name", body["name"], False
        if isinstance(body.get("description"), str):
            yield f"{where} event description", body["description"], True
        meta = body.get("entity_metadata")
        if isinstance(meta, dict) and isinstance(meta.get("location"), str):
            yield f"{where} event location", meta["location"], False
        return
    for w, text in _message_texts(body, where):
        yield w, text, False


def plain_text_problems(method: str, path: str, body: dict[str, Any] | None,
                        files: list[str] | None = None) -> list[str]:
    """Text in places Discord shows literally must be clean (see the module docstring)."""
    out: list[str] = []
    for where, text, multi in plain_text_values(method, path, body, files):
        pattern = PLAIN_BLOCK_HAZARD if multi else PLAIN_HAZARD
        hazards = sorted({f"U+{ord(m.group()):04X}" for m in pattern.finditer(text)})
        if hazards:
            out.append(f"{where} carries control/bidi/invisible characters {hazards}: "
                       f"{text[:200]!r}")
    return out


def refusal_problems(refusal: Refusal, rec: InteractionRecord | None) -> list[str]:
    """A refusal must be a readable, ephemeral sentence that arrived as such."""
    text = refusal.content
    out: list[str] = []
    if rec is None:
        return [f"refusal for an unknown interaction: {text!r}"]
    if text.startswith(APOLOGY_START):
        return []  # reported once, via the message scan
    if len(text.strip()) < 20:
        out.append(f"refusal too short to say what to do: {text!r}")
    if not SENTENCE_END.search(text[:2000]) and len(text) < 2000:
        out.append(f"refusal is not a finished sentence: {text[-120:]!r}")
    if len(text) > 2000:
        out.append(f"refusal is {len(text)} chars: Discord cuts it at 2000, losing the advice")
    if not GUIDANCE.search(text):
        out.append(f"refusal does not say what to do: {text[:200]!r}")
    if "Traceback" in text or "Error(" in text:
        out.append(f"refusal leaks internals: {text[:200]!r}")
    out += markdown_problems(text)
    # Sent as the error handler sends it: commands named in code become clickable mentions.
    shown = linkify(text)[:2000]
    sent = [m for m in [rec.original, *rec.followups] if m is not None
            and m.content == shown]
    if not sent:
        out.append(f"refusal never reached Discord: {text[:120]!r}")
    elif not all(m.ephemeral for m in sent):
        out.append(f"refusal was not ephemeral: {text[:120]!r}")
    return out


@contextlib.contextmanager
def fuzz_world(tmp_path: Path, setup: Callable[[FuzzWorld], Awaitable[None]] | None = None
               ) -> Iterator[FuzzWorld]:
    """Start a full Hearth world (every cog) on a private loop; spy on refusals and errors."""
    loop = asyncio.new_event_loop()
    errors: list[logging.LogRecord] = []
    handler = _Collect(errors)
    root = logging.getLogger()
    root.addHandler(handler)
    refusals: list[Refusal] = []
    original = errors_handler.reply_ephemeral

    async def spy(interaction: discord.Interaction[Any], content: str) -> None:
        refusals.append(Refusal(interaction.id, content))
        await original(interaction, content)

    errors_handler.reply_ephemeral = spy

    def on_loop_error(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        record = logging.LogRecord("asyncio", logging.ERROR, __file__, 0,
                                   str(context.get("message")), None,
                                   (type(exc), exc, None) if exc else None)
        errors.append(record)
        lp.default_exception_handler(context)

    loop.set_exception_handler(on_loop_error)
    cm = hearth_world(tmp_path)
    try:
        world = loop.run_until_complete(cm.__aenter__())
        world.emu.clock = world.clock.now
        fw = FuzzWorld(loop=loop, world=world, errors=errors, refusals=refusals)
        try:
            if setup is not None:
                fw.run(setup(fw))
            yield fw
        finally:
            loop.run_until_complete(cm.__aexit__(None, None, None))
    finally:
        errors_handler.reply_ephemeral = original
        root.removeHandler(handler)
        # like asyncio.run: cancel what is left (views' timeout tasks) so nothing pending is
        # garbage-collected later, in someone else's test
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def standard_setup(fw: FuzzWorld) -> None:
    """Two communities, a facilitator, members, a sponsor, a meeting, a poll and a story."""
    w = fw.world
    for name in ("alice", "fran", "bob", "carol", "sam", "outsider", "mallory"):
        fw.people[name] = w.person(name)
    p = fw.people
    # display names are user text too: the bot echoes them in replies, posts and digests
    # ... and may carry a bidi override and a zero-width space (Discord allows both)
    p["mallory"].global_name = "@everyone\u202e\u200b"
    w.guild.members[p["mallory"].id].nick = f"@here <@&{w.guild.id}> ||x||"
    await w.create_community(COMMUNITY, members={p["alice"]: "carer", p["fran"]: "nurse",
                                                 p["carol"]: "gp", p["mallory"]: "patient"})
    fac = await w.slash(w.owner, "community add", community=COMMUNITY, member=p["fran"],
                        discipline="nurse", facilitator=True)
    assert "Sorry" not in fac.content, fac.content
    sponsor = await w.slash(w.owner, "community sponsor", community=COMMUNITY, member=p["sam"])
    assert "Sorry" not in sponsor.content, sponsor.content
    await w.create_community(OTHER, kind="distilling", members={p["fran"]: "nurse"})
    mark = fw.mark()
    meeting = await w.slash(w.owner, "meeting schedule", community=COMMUNITY,
                            title="Spring gathering", when="2027-03-10 18:30")
    assert "Scheduled" in meeting.content, meeting.content
    poll = await w.slash(w.owner, "poll create", options={
        "community": COMMUNITY, "question": "Which day suits?", "kind": "single",
        "options": "Monday;Tuesday"})
    assert not poll.content.startswith("Sorry"), poll.content
    share = await w.slash(p["alice"], "story share", community=COMMUNITY)
    assert share.modal is not None, share.content
    done = await submit_and_post(w.emu, p["alice"], share, {"title": "First week",
                                                            "text": "We found our feet."})
    await fw.settle()
    assert "saved as #" in done.content, done.content
    fw.story_id = int(done.content.split("saved as #", 1)[1].split()[0])
    assert w.db is not None
    fw.meeting_id = int(await w.db.fetchval("SELECT max(id) FROM meetings"))
    fw.poll_id = int(await w.db.fetchval("SELECT max(id) FROM polls"))
    fw.check_since(mark, "setup")


async def read_back(fw: FuzzWorld) -> None:
    """Every command that renders stored text, with valid options, after the fuzzing stored
    whatever it could: lists, reports, results, a statement round and the sponsor's digest."""
    w = fw.world
    assert w.db is not None
    alice = fw.people["alice"]
    runs: list[tuple[UserState, str, dict[str, Any]]] = [
        (w.owner, "community info", {"community": COMMUNITY}),
        (w.owner, "community list", {}),
        (w.owner, "meeting list", {"community": COMMUNITY}),
        (w.owner, "statement round", {"community": COMMUNITY}),
        # closed first: an open round's report is turnout only, without the statements
        (w.owner, "statement close", {"community": COMMUNITY}),
        (w.owner, "statement report", {"community": COMMUNITY}),
        (alice, "story list", {"community": COMMUNITY}),
        (w.owner, "digest preview", {"community": COMMUNITY}),
        (w.owner, "digest send", {"community": COMMUNITY}),
        (alice, "privacy export", {}),
        (fw.people["mallory"], "privacy export", {}),
    ]
    for row in await w.db.fetchall("SELECT id FROM polls ORDER BY id"):
        runs.append((alice, "poll results", {"poll": str(row[0])}))
    for user, command, options in runs:
        await fw.slash(user, command, options)
