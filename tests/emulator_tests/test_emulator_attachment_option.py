"""Slash-command attachment options (type 11), as ``/document comment file:`` uses them: the
interaction carries the attachment in ``data.resolved.attachments`` (id, filename, size, url,
content_type labelled from the name as Discord does), discord.py hands the command a
:class:`discord.Attachment`, and ``Attachment.read()`` downloads the uploaded bytes."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from tests.emulator.harness import run_client
from tests.emulator_tests.bot_under_test import hearth_intents
from tests.emulator_tests.conftest import World

pytestmark = pytest.mark.e2e


class UploadBot(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=hearth_intents())
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="upload", description="Upload a file")
        @app_commands.describe(file="The file", note="A note")
        async def upload(
            interaction: discord.Interaction, file: discord.Attachment, note: str | None = None
        ) -> None:
            data = await file.read()
            await interaction.response.send_message(
                f"{file.filename}|{file.size}|{file.content_type}|{data.decode()}|{note}",
                ephemeral=True,
            )

    async def setup_hook(self) -> None:
        await self.tree.sync()


async def test_attachment_option_reaches_the_command_and_downloads(world: World) -> None:
    emu = world.emu
    async with run_client(emu, UploadBot()):
        await emu.wait_for(lambda: emu.command("upload"))
        spec = emu.command("upload")
        assert spec is not None
        assert [o["type"] for o in spec.data["options"]] == [11, 3]  # attachment, string
        rec = await emu.slash(world.guild, world.alice, "upload", file=("draft.txt", b"hello"))
        assert rec.ephemeral
        assert rec.content == "draft.txt|5|text/plain; charset=utf-8|hello|None"
        pdf = await emu.slash(world.guild, world.alice, "upload",
                              file=("paper.pdf", b"%PDF"), note="x")  # fmt: skip
        assert pdf.content == "paper.pdf|4|application/pdf|%PDF|x"
