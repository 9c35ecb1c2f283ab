"""A member's private draft: what they wrote, shown to them alone before anything is kept.

Telling a story (``cogs/stories/_draft.py``), a value story (``cogs/value/_views.py``) and a
story of change (``cogs/change/_telling.py``) all end the same way: the form's words come
back as an ephemeral draft with the plain-language suggestions (and, for a value story,
what would be hidden outside the group), a choice of who may hear it, and three buttons:
keep it (**Post**, **Submit**, **Tell it**), **Edit** (the form again, filled in) and
**Cancel**. :class:`PrivateDraftView` is that draft once; a capability says what differs:
its custom ids, its words, how the draft reads (:meth:`~PrivateDraftView.render`), the form
to edit it (:meth:`~PrivateDraftView.edit_form`) and what keeping it does
(:meth:`~PrivateDraftView.keep`).

The draft lives in memory only, in a short-lived view, not in the database: words the teller
has not agreed to keep are stored nowhere, so there is nothing to export, erase or leak. The
cost is that a draft does not survive a restart or 14 minutes without a click (Discord lets a
bot edit an ephemeral message for 15 minutes); the message then says so. These components are
not persistent (their custom ids carry no state): only the open view answers them.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

import discord

from bot.domain.stories.consent import Consent
from bot.errors import NotAllowed
from bot.errors_handler import HearthView, handle_interaction_error
from bot.interactions import NO_MENTIONS

if TYPE_CHECKING:
    from dataclasses import Field

DRAFT_TIMEOUT = 14 * 60
NOT_YOURS = "This draft belongs to someone else."


class Draft(Protocol):
    """What every draft carries: a frozen dataclass with its teller and consent level."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def teller_id(self) -> int: ...

    @property
    def consent(self) -> Consent: ...


D = TypeVar("D", bound=Draft)
S = TypeVar("S")


class PrivateDraftView(HearthView, ABC, Generic[D, S]):
    """The draft's controls; only its teller can use them (checked, not assumed).

    A subclass sets the class attributes below and implements :meth:`render`,
    :meth:`edit_form`, :meth:`keep` and :meth:`expired`. Its custom ids are
    ``<prefix>:draft:consent``, ``<prefix>:draft:<keep_id>``, ``<prefix>:draft:edit`` and
    ``<prefix>:draft:cancel``.
    """

    prefix: ClassVar[str]
    consent_choices: ClassVar[Sequence[tuple[Consent, str, str]]]
    consent_placeholder: ClassVar[str] = "Who may hear it?"
    keep_label: ClassVar[str]
    keep_id: ClassVar[str] = "post"
    edit_label: ClassVar[str] = "Edit the words"
    #: The buttons' row: after the consent menu and any menus :meth:`add_choices` adds.
    button_row: ClassVar[int] = 1
    #: What **Cancel** leaves on the message.
    cancelled: ClassVar[str]

    def __init__(self, draft: D, service: S) -> None:
        super().__init__(timeout=DRAFT_TIMEOUT)
        self.draft = draft
        self.service = service
        self.last: discord.Interaction[Any] | None = None
        self.done = False
        self._build()

    # ------------------------------------------------------------------ what differs

    @abstractmethod
    def render(self, interaction: discord.Interaction[Any]) -> tuple[str, discord.Embed]:
        """The draft as its teller sees it: the message's content and embed."""

    @abstractmethod
    def edit_form(self) -> discord.ui.Modal:
        """The form again, filled in with the draft (its submit calls :func:`revise`)."""

    @abstractmethod
    async def keep(self, interaction: discord.Interaction[Any]) -> None:
        """The keep button (never called twice for one draft): check, store, answer. Store
        inside :meth:`storing` (or set ``done`` and store inside :meth:`undone_on_failure`)."""

    @abstractmethod
    def expired(self) -> str:
        """What the message says when the draft expires unused."""

    def add_choices(self) -> None:
        """More menus between the consent menu and the buttons (none by default)."""

    # ------------------------------------------------------------------ the controls

    def _build(self) -> None:
        self.clear_items()
        consent: discord.ui.Select[PrivateDraftView[D, S]] = discord.ui.Select(
            custom_id=f"{self.prefix}:draft:consent",
            placeholder=self.consent_placeholder,
            options=[
                discord.SelectOption(
                    label=label, value=c.value, description=desc,
                    default=c is self.draft.consent,
                )
                for c, label, desc in self.consent_choices
            ],
            row=0,
        )  # fmt: skip
        self.consent_select = consent
        consent.callback = self._consent_chosen  # type: ignore[method-assign]
        self.add_item(consent)
        self.add_choices()
        for label, name, style, callback in (
            (self.keep_label, self.keep_id, discord.ButtonStyle.success, self._keep),
            (self.edit_label, "edit", discord.ButtonStyle.secondary, self._edit),
            ("Cancel", "cancel", discord.ButtonStyle.danger, self._cancel),
        ):
            button: discord.ui.Button[PrivateDraftView[D, S]] = discord.ui.Button(
                label=label, custom_id=f"{self.prefix}:draft:{name}", style=style,
                row=self.button_row,
            )  # fmt: skip
            button.callback = callback  # type: ignore[method-assign]
            self.add_item(button)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.draft.teller_id:
            await handle_interaction_error(interaction, NotAllowed(NOT_YOURS))
            return False
        self.last = interaction
        return True

    async def open(self, interaction: discord.Interaction[Any]) -> None:
        """Answer ``interaction`` with this new draft (ephemeral); nothing is stored yet."""
        self.last = interaction
        content, embed = self.render(interaction)
        await interaction.response.send_message(
            content, embed=embed, view=self, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def show(self, interaction: discord.Interaction[Any]) -> None:
        """Redraw the draft on the message the interaction came from."""
        content, embed = self.render(interaction)
        self._build()
        await interaction.response.edit_message(
            content=content, embed=embed, view=self, allowed_mentions=NO_MENTIONS
        )

    @contextlib.asynccontextmanager
    async def storing(self, interaction: discord.Interaction[Any]) -> AsyncIterator[None]:
        """Keep the draft (no second click, no expiry) and defer the click while the body
        stores it; if storing fails the draft is not done."""
        self.done = True
        self.stop()
        await interaction.response.defer()
        with self.undone_on_failure():
            yield

    @contextlib.contextmanager
    def undone_on_failure(self) -> Iterator[None]:
        """Storing failed: the draft is not done (the teller may still change it)."""
        try:
            yield
        except BaseException:
            self.done = False
            raise

    async def _consent_chosen(self, interaction: discord.Interaction[Any]) -> None:
        self.draft = replace(self.draft, consent=Consent(self.consent_select.values[0]))
        await self.show(interaction)

    async def _edit(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(self.edit_form())

    async def _cancel(self, interaction: discord.Interaction[Any]) -> None:
        self.done = True
        self.stop()
        await interaction.response.edit_message(content=self.cancelled, embed=None, view=None)

    async def _keep(self, interaction: discord.Interaction[Any]) -> None:
        if self.done:
            return
        await self.keep(interaction)

    async def on_timeout(self) -> None:
        if self.done or self.last is None:
            return
        with contextlib.suppress(discord.HTTPException):
            await self.last.edit_original_response(content=self.expired(), view=None)


async def revise(
    view: PrivateDraftView[Any, Any] | None, interaction: discord.Interaction[Any], **words: Any
) -> bool:
    """The edit form's submit: put the new words into the open draft and redraw it; False
    when there is no open draft (the caller then opens a new one)."""
    if view is None or view.done:
        return False
    if interaction.user.id != view.draft.teller_id:
        raise NotAllowed(NOT_YOURS)
    view.draft = replace(view.draft, **words)
    view.last = interaction
    await view.show(interaction)
    return True
