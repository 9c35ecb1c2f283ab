"""Persistent voting components: all state lives in ``custom_id`` (``poll:<id>:...``).

This file is longer than 400 lines because seven components for five poll kinds (buttons,
selects, the ranking and survey flows) each need their constructor, template and callback.

They are ``DynamicItem`` s registered at cog load, so a click on a poll posted before a
restart still reaches the bot. A vote button (:class:`ChoiceButton`) is also answered
directly from the click, before discord.py's component dispatch (``bot.click_routes``, the
documented exception in :mod:`bot.components`): the same service call, rules and reply.
Each is a :class:`bot.components.HearthItem` bound to the :class:`PollService`, which it
calls and nothing else. Every callback is ``guarded``: domain errors become ephemeral
answers through the one error handler. Nothing here logs who chose what.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.components import HearthItem, services_of
from bot.domain.polls import (
    AGREEMENT_SCALE,
    MAX_OPTIONS,
    Ballot,
    Poll,
    PollKind,
    merge_survey_answers,
    withdraw_survey_answer,
)
from bot.errors import AlreadyYourVote, InvalidInput
from bot.errors_handler import NO_MENTIONS, guarded, handle_interaction_error
from bot.services.polls import PollService
from bot.text import escape_inline, plain
from cogs.polls._render import describe_ballot

_DIGITS = "0123456789abcdefghijklmno"  # one character per option index 0..24
assert len(_DIGITS) == MAX_OPTIONS


def encode_ranking(ranking: tuple[int, ...]) -> str:
    return "".join(_DIGITS[i] for i in ranking)


def decode_ranking(text: str) -> tuple[int, ...]:
    out = tuple(_DIGITS.index(ch) for ch in text)
    if len(set(out)) != len(out):
        raise InvalidInput("That ranking repeats an option; start the ranking again.")
    return out


def _ack_text(poll: Poll, ballot: Ballot, changed: bool) -> str:
    verb = "changed to" if changed else "recorded:"
    text = f"Your vote is {verb} **{describe_ballot(poll, ballot)}**"[:1700]
    tail = " You can change it until the poll closes."
    if poll.anonymous:
        tail += " No one else can see how you voted."
    return text + "." + tail


#: The reply to a button vote, by (poll, option, changed): a burst of votes on one poll
#: words the same few replies (benchmarks/votes.py). Bounded; only the voter sees a reply.
_ACK_TEXTS: dict[tuple[int, PollKind, tuple[str, ...], bool, int, bool], str] = {}


async def _ack(
    interaction: discord.Interaction[Any], poll: Poll, ballot: Ballot, changed: bool
) -> None:
    if isinstance(ballot, int):
        key = (poll.id, poll.kind, poll.options, poll.anonymous, ballot, changed)
        text = _ACK_TEXTS.get(key)
        if text is None:
            if len(_ACK_TEXTS) >= 512:
                _ACK_TEXTS.clear()
            text = _ACK_TEXTS[key] = _ack_text(poll, ballot, changed)
    else:
        text = _ack_text(poll, ballot, changed)
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


def _option(poll: Poll, i: int) -> discord.SelectOption:
    """Option ``i`` of the poll as a select entry; its value is the option index."""
    label = plain(poll.options[i], 100, empty=f"Option {i + 1}")
    return discord.SelectOption(label=label, value=str(i))


async def _open_flow(
    interaction: discord.Interaction[Any], text: str, view: discord.ui.View, **edit: Any
) -> None:
    """From the public poll message: a new ephemeral flow; from the flow itself: reset it."""
    if interaction.message is not None and interaction.message.flags.ephemeral:
        await interaction.response.edit_message(content=text, view=view, **edit)
    else:
        await interaction.response.send_message(
            text, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )


# --------------------------------------------------------------------------- single / agreement


class ChoiceButton(
    HearthItem[PollService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"poll:(?P<poll_id>[0-9]+):v:(?P<option>[0-9]+)",
):
    service_type = PollService

    def __init__(self, poll_id: int, option: int, label: str = "Vote") -> None:
        super().__init__(
            discord.ui.Button(
                label=plain(label, 80, empty="Vote"),
                style=discord.ButtonStyle.primary,
                custom_id=f"poll:{poll_id}:v:{option}",
            )
        )
        self.poll_id = poll_id
        self.option = option

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> ChoiceButton:
        if isinstance(item, discord.ui.Button):
            # The vote path: wrap the button discord.py has just built from the clicked
            # message instead of building (and re-cleaning the label of) a second one for
            # every vote (benchmarks/votes.py). Only the callback uses it.
            made = cls.__new__(cls)
            discord.ui.DynamicItem.__init__(made, item)
            made.poll_id, made.option = int(match["poll_id"]), int(match["option"])
            return made
        return cls(
            int(match["poll_id"]), int(match["option"]), getattr(item, "label", None) or "Vote"
        )

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        await _vote_by_button(self.service, interaction, self.poll_id, self.option)

    @classmethod
    async def answer_click(
        cls, interaction: discord.Interaction[Any], match: re.Match[str], /
    ) -> None:
        """The same vote as :meth:`callback`, answered by the bot's click routes (the cog
        adds this class to ``bot.click_routes``) without discord.py rebuilding the poll
        message's buttons for every click: see :mod:`bot.components`, "direct clicks"."""
        try:
            service = services_of(interaction).get(cls.service_type)
            await _vote_by_button(service, interaction, int(match["poll_id"]), int(match["option"]))
        except Exception as exc:
            await handle_interaction_error(interaction, exc)


async def _vote_by_button(
    service: PollService, interaction: discord.Interaction[Any], poll_id: int, option: int
) -> None:
    receipt = await service.cast(poll_id, interaction.user.id, lambda _p: option)
    await _ack(interaction, receipt.poll, receipt.ballot, receipt.changed)


# ------------------------------------------------------------------ select (single / multi)


class ChoiceSelect(
    HearthItem[PollService],
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"poll:(?P<poll_id>[0-9]+):s",
):
    service_type = PollService

    def __init__(self, poll_id: int, poll: Poll | None = None) -> None:
        options = []
        max_values = 1
        placeholder = "Choose…"
        if poll is not None:
            options = [_option(poll, i) for i in range(len(poll.options))]
            if poll.kind is PollKind.MULTI:
                max_values = len(options)
                placeholder = "Choose one or more…"
        super().__init__(
            discord.ui.Select(
                custom_id=f"poll:{poll_id}:s",
                options=options or [discord.SelectOption(label="-", value="0")],
                min_values=1,
                max_values=max_values,
                placeholder=placeholder,
            )
        )
        self.poll_id = poll_id

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> ChoiceSelect:
        made = cls(int(match["poll_id"]))
        if isinstance(item, discord.ui.Select):
            made.item.options = list(item.options)
            made.item.max_values = item.max_values
        return made

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        try:
            picked = [int(v) for v in self.item.values]
        except ValueError:
            raise InvalidInput("That choice is not part of this poll.") from None
        poll = await self.service.poll_for_vote(self.poll_id, interaction.user.id)

        def build(_prev: Ballot | None) -> Any:
            if poll.kind is PollKind.MULTI:
                if len(set(picked)) != len(picked):
                    raise InvalidInput("You picked the same option twice; pick each option once.")
                return picked
            if len(picked) != 1:
                raise InvalidInput("Pick exactly one option.")
            return picked[0]

        receipt = await self.service.cast(self.poll_id, interaction.user.id, build)
        await _ack(interaction, receipt.poll, receipt.ballot, receipt.changed)


# --------------------------------------------------------------------------- ranked


def ranking_view(poll: Poll, sofar: tuple[int, ...]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    remaining = [i for i in range(len(poll.options)) if i not in sofar]
    if remaining:
        view.add_item(RankPick(poll.id, sofar, poll, remaining))
    if sofar:
        # Only once something is picked: a "Rank the options" button next to the first pick
        # read as a second way to vote and did nothing but reset an empty ranking.
        view.add_item(RankSubmit(poll.id, sofar))
        view.add_item(RankStart(poll.id, label="Start again"))
    return view


def ranking_text(poll: Poll, sofar: tuple[int, ...]) -> str:
    lines = [
        f"**{escape_inline(poll.question)}**",
        "Rank the options: pick your first choice, then the next.",
    ]
    if sofar:
        lines.append("Your ranking so far:")
        lines += [f"{n}. {escape_inline(poll.options[i])}" for n, i in enumerate(sofar, start=1)]
        lines.append("Submit when you are happy (you need not rank every option).")
    return "\n".join(lines)[:2000]


class RankStart(
    HearthItem[PollService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"poll:(?P<poll_id>[0-9]+):rank",
):
    service_type = PollService

    def __init__(self, poll_id: int, label: str = "Rank the options") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=f"poll:{poll_id}:rank"
            )
        )
        self.poll_id = poll_id

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> RankStart:
        return cls(int(match["poll_id"]), getattr(item, "label", None) or "Rank the options")

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        poll = await self.service.poll_for_vote(self.poll_id, interaction.user.id)
        await _open_flow(interaction, ranking_text(poll, ()), ranking_view(poll, ()), embed=None)


class RankPick(
    HearthItem[PollService],
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"poll:(?P<poll_id>[0-9]+):r:(?P<sofar>[0-9a-o]*)",
):
    service_type = PollService

    def __init__(
        self,
        poll_id: int,
        sofar: tuple[int, ...],
        poll: Poll | None = None,
        remaining: list[int] | None = None,
    ) -> None:
        opts = [_option(poll, i) for i in (remaining or [])] if poll is not None else []
        super().__init__(
            discord.ui.Select(
                custom_id=f"poll:{poll_id}:r:{encode_ranking(sofar)}",
                options=opts or [discord.SelectOption(label="-", value="0")],
                placeholder=f"Your choice number {len(sofar) + 1}",
            )
        )
        self.poll_id = poll_id
        self.sofar = sofar

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> RankPick:
        made = cls(int(match["poll_id"]), decode_ranking(match["sofar"]))
        if isinstance(item, discord.ui.Select):
            made.item.options = list(item.options)
        return made

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        poll = await self.service.poll_for_vote(self.poll_id, interaction.user.id)
        try:
            pick = int(self.item.values[0])
        except (ValueError, IndexError):
            raise InvalidInput("Pick an option from the list.") from None
        if not 0 <= pick < len(poll.options):
            raise InvalidInput("That option is not part of this poll.")
        if pick in self.sofar:
            raise InvalidInput("You already ranked that option; pick another one.")
        sofar = (*self.sofar, pick)
        await interaction.response.edit_message(
            content=ranking_text(poll, sofar), view=ranking_view(poll, sofar)
        )


class RankSubmit(
    HearthItem[PollService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"poll:(?P<poll_id>[0-9]+):rs:(?P<sofar>[0-9a-o]+)",
):
    service_type = PollService

    def __init__(self, poll_id: int, sofar: tuple[int, ...]) -> None:
        super().__init__(
            discord.ui.Button(
                label="Submit ranking",
                style=discord.ButtonStyle.success,
                custom_id=f"poll:{poll_id}:rs:{encode_ranking(sofar)}",
            )
        )
        self.poll_id = poll_id
        self.sofar = sofar

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> RankSubmit:
        return cls(int(match["poll_id"]), decode_ranking(match["sofar"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        ranking = self.sofar
        receipt = await self.service.cast(self.poll_id, interaction.user.id, lambda _p: ranking)
        verb = "changed to" if receipt.changed else "saved:"
        text = (
            f"Your ranking is {verb}\n"
            + "\n".join(
                f"{n}. {escape_inline(receipt.poll.options[i])}"
                for n, i in enumerate(ranking, start=1)
            )
            + "\nYou can rank again until the poll closes."
        )
        if receipt.poll.anonymous:
            text += " No one else can see how you voted."
        view = discord.ui.View(timeout=None)
        view.add_item(RankStart(self.poll_id, label="Rank again"))
        await interaction.response.edit_message(content=text[:2000], view=view)


# --------------------------------------------------------------------------- survey


def survey_page(poll: Poll, q: int, answers: dict[int, bool] | None) -> tuple[str, discord.ui.View]:
    view = discord.ui.View(timeout=None)
    if q >= len(poll.options):
        answered = len(answers or {})
        text = (
            f"**{escape_inline(poll.question)}**\nThank you: you have answered {answered} of "
            f"{len(poll.options)} questions. You can change your answers until the poll closes."
        )
        view.add_item(SurveyStart(poll.id, label="Review my answers"))
        return text[:2000], view
    current = (answers or {}).get(q)
    now = "" if current is None else f"\n(Your answer so far: {'yes' if current else 'no'}.)"
    text = (
        f"**{escape_inline(poll.question)}**\nQuestion {q + 1} of {len(poll.options)}: "
        f"{escape_inline(poll.options[q])}{now}"
    )
    buttons = [
        ("y", "Yes", discord.ButtonStyle.success),
        ("n", "No", discord.ButtonStyle.danger),
        ("s", "Skip", discord.ButtonStyle.secondary),
    ]
    if current is not None:
        buttons.append(("w", "Withdraw my answer", discord.ButtonStyle.secondary))
    for code, label, style in buttons:
        view.add_item(SurveyAnswer(poll.id, q, code, label, style))
    return text[:2000], view


class SurveyStart(
    HearthItem[PollService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"poll:(?P<poll_id>[0-9]+):survey",
):
    service_type = PollService

    def __init__(self, poll_id: int, label: str = "Answer the survey") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"poll:{poll_id}:survey",
            )
        )
        self.poll_id = poll_id

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> SurveyStart:
        return cls(int(match["poll_id"]), getattr(item, "label", None) or "Answer the survey")

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        poll = await self.service.poll_for_vote(self.poll_id, interaction.user.id)
        own = await self.service.own_answers(poll.id, interaction.user.id)
        text, view = survey_page(poll, 0, own)
        await _open_flow(interaction, text, view)


class SurveyAnswer(
    HearthItem[PollService],
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"poll:(?P<poll_id>[0-9]+):sq:(?P<q>[0-9]+):(?P<code>[ynsw])",
):
    service_type = PollService

    def __init__(
        self,
        poll_id: int,
        q: int,
        code: str,
        label: str = "",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or code, style=style, custom_id=f"poll:{poll_id}:sq:{q}:{code}"
            )
        )
        self.poll_id = poll_id
        self.q = q
        self.code = code

    @classmethod
    def from_match(cls, match: re.Match[str], item: discord.ui.Item[Any]) -> SurveyAnswer:
        return cls(
            int(match["poll_id"]), int(match["q"]), match["code"],
            getattr(item, "label", None) or "",
        )  # fmt: skip

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:  # type: ignore[override]
        service = self.service
        poll = await service.poll_for_vote(self.poll_id, interaction.user.id)
        q = self.q
        if not 0 <= q < len(poll.options):
            raise InvalidInput("That question is not part of this survey.")
        answers: dict[int, bool] | None
        if self.code == "s":
            answers = await service.own_answers(poll.id, interaction.user.id)
        elif self.code == "w":
            # Withdrawn through the same sealed write as an answer: no one sees whose.
            def without(prev: Ballot | None) -> Any:
                return withdraw_survey_answer(prev if isinstance(prev, dict) else None, q)

            receipt = await service.cast(poll.id, interaction.user.id, without)
            answers = receipt.ballot if isinstance(receipt.ballot, dict) else None
            text, view = survey_page(poll, q, answers)
            await interaction.response.edit_message(
                content=f"Your answer to question {q + 1} is withdrawn.\n{text}"[:2000], view=view
            )
            return
        else:
            answer = self.code == "y"

            def build(prev: Ballot | None) -> Any:
                return merge_survey_answers(prev if isinstance(prev, dict) else None, {q: answer})

            try:
                receipt = await service.cast(poll.id, interaction.user.id, build)
                answers = receipt.ballot if isinstance(receipt.ballot, dict) else None
            except AlreadyYourVote:
                answers = await service.own_answers(poll.id, interaction.user.id)
        text, view = survey_page(poll, q + 1, answers)
        await interaction.response.edit_message(content=text, view=view)


# --------------------------------------------------------------------------- the poll message


def poll_view(poll: Poll) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if poll.kind is PollKind.AGREEMENT:
        for i, label in enumerate(AGREEMENT_SCALE):
            view.add_item(ChoiceButton(poll.id, i, label))
    elif (
        poll.kind is PollKind.SINGLE
        and len(poll.options) <= 5
        and all(len(o) <= 80 for o in poll.options)
    ):
        for i, label in enumerate(poll.options):
            view.add_item(ChoiceButton(poll.id, i, label))
    elif poll.kind in (PollKind.SINGLE, PollKind.MULTI):
        view.add_item(ChoiceSelect(poll.id, poll))
    elif poll.kind is PollKind.RANKED:
        view.add_item(RankStart(poll.id))
    else:
        view.add_item(SurveyStart(poll.id))
    return view


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    ChoiceButton,
    ChoiceSelect,
    RankStart,
    RankPick,
    RankSubmit,
    SurveyStart,
    SurveyAnswer,
)
