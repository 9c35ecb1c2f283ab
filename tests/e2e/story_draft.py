"""Telling a story in the tests as a person would: the modal, then **Post** on the draft."""

from __future__ import annotations

from typing import Any

from tests.emulator.interactions import InteractionRecord, all_custom_ids
from tests.emulator.server import DiscordEmulator
from tests.emulator.state import UserState

POST = "story:draft:post"


async def post_draft(
    emu: DiscordEmulator, user: UserState, shown: InteractionRecord
) -> InteractionRecord:
    """Press Post on the draft ``shown`` (a modal submit) answered with; the press's record,
    whose content is the "Thank you … saved as #N" reply. An answer without a draft (an
    error, a refusal) is returned as it is."""
    draft = shown.reply
    if draft is None or POST not in all_custom_ids(draft.components):
        return shown
    rec = await emu.click(user, draft, POST)
    if rec.response_type == 6:  # deferred update: the work happens before the edit
        await rec.wait_edits(1)
    return rec


async def submit_and_post(
    emu: DiscordEmulator, user: UserState, modal: InteractionRecord, values: dict[str, Any]
) -> InteractionRecord:
    return await post_draft(emu, user, await emu.submit_modal(user, modal, values))
