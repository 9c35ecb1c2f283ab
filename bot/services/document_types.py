"""What the documents service asks of Discord, and the results it returns (no Discord here).

:class:`DocumentPublisher` is implemented by ``cogs/documents/_publisher.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.domain.communities import Community
from bot.domain.documents import Document, Proposal, Quote, Section, ShownDocument

DRAFT_HEAD = (
    "A few words in your proposal may be unfamiliar to some readers. If you like, use "
    "**Edit** to put plainer ones before you submit:"
)
DRAFT_FOOT = "Nothing has been changed: it is your choice."


class DocumentPublisher(Protocol):
    """The Discord side of documents (``cogs/documents/_publisher.py``)."""

    async def open_place(self, community: Community, doc: ShownDocument) -> tuple[int, int]:
        """Create the document's thread with its first message; (thread id, message id)."""
        ...

    async def update_head(self, document: Document, doc: ShownDocument) -> None: ...

    async def announce(self, document: Document, text: str) -> None: ...

    async def ask_teller(
        self, quote: Quote, document: Document, section: Section, community: Community
    ) -> bool:
        """DM the teller the quote with Agree / Decline; False if DMs are closed."""
        ...

    async def post_proposal(
        self, document: Document, proposal: Proposal, section: Section
    ) -> tuple[int, int]: ...

    async def close_proposal(
        self, document: Document, proposal: Proposal, section: Section, version: int | None
    ) -> None: ...

    async def tell(self, user_id: int, text: str) -> bool: ...

    async def consent_notice(
        self, user_id: int, community: Community, effect: ConsentEffect
    ) -> bool:
        """DM a facilitator what a teller's consent change did to the document."""
        ...

    async def display_name(self, guild_id: int, user_id: int) -> str | None: ...


@dataclass(frozen=True)
class QuoteOutcome:
    quote: Quote | None
    asked: bool
    """False when the teller's DMs are closed (then nothing was kept)."""
    own: bool = False
    """The proposer is the teller: asked all the same, so the choice is deliberate."""


@dataclass(frozen=True)
class Decision:
    proposal: Proposal
    version: int | None
    section: Section


@dataclass(frozen=True)
class ConsentEffect:
    """What a teller's consent change did to one document (for the facilitator's DM)."""

    document: Document
    version: int
    removed: bool
    versions_with_quote: tuple[int, ...]
