"""Command line: ``python -m bot`` (run), ``python -m bot db upgrade|status``,
``python -m bot sync [--guild ID]``.

The entrypoint stays thin: it builds settings, database and bot, wires signals for a
clean shutdown, and hands over.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

import discord

from bot.app import HearthBot
from bot.db import migrations
from bot.db.sealing import SealingError
from bot.log_privacy import configure_logging
from bot.settings import (
    DeploymentSettings,
    HearthConfig,
    Settings,
    SettingsError,
    load_config,
    load_deployment_settings,
    load_settings,
)
from bot.tasks import spawn

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bot", description="Hearth Discord bot")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default)")
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "status"])
    sync = sub.add_parser("sync", help="sync slash commands with Discord")
    sync.add_argument("--guild", type=int, help="sync to one guild (instant) instead of globally")
    return p


#: numpy's BLAS would start a thread per core for the statement report's matrix products;
#: beside the event loop on a small machine those threads only contend (a 1,000 x 100 report
#: took twice as long with them, benchmarks/statements.py). Set before numpy is imported.
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        if command == "db":
            # The same settings (environment, then .env) as the bot, so `db upgrade` migrates
            # the database the bot will open; no token, as it never talks to Discord.
            return asyncio.run(_db(load_deployment_settings(), args.action))
        settings = load_settings()
        config = load_config(settings.hearth_config)
    except SettingsError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    # Not basicConfig: the handler must carry the privacy filter (no vote, e-mail address
    # or message body in any line, at any level; see bot/log_privacy.py).
    configure_logging(settings.hearth_log_level)
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base
    try:
        if command == "sync":
            return asyncio.run(_sync(settings, config, args.guild))
        return asyncio.run(_run(settings, config))
    except discord.LoginFailure:
        print("hearth: Discord rejected DISCORD_TOKEN; check the bot token.", file=sys.stderr)
        return 2
    except SealingError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


async def _db(settings: DeploymentSettings, action: str) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = settings.hearth_db
    async with settings.open_database() as db:
        try:
            if action == "upgrade":
                applied = await migrations.upgrade(db)
                if applied:
                    for mig in applied:
                        print(f"applied {mig.version:04d}_{mig.name}")
                else:
                    print("database is up to date")
            else:
                done, pending = await migrations.status(db)
                print(f"database: {path}")
                print(f"applied: {', '.join(f'{v:04d}' for v in done) or 'none'}")
                print(
                    "pending: "
                    + (", ".join(f"{m.version:04d}_{m.name}" for m in pending) or "none")
                )
        except (migrations.MigrationError, SealingError) as exc:
            print(f"hearth: {exc}", file=sys.stderr)
            return 1
    return 0


async def _run(settings: Settings, config: HearthConfig) -> int:
    async with settings.open_database() as db:
        await migrations.upgrade(db)
        bot = HearthBot(settings=settings, config=config, db=db)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, _stop, bot, sig)
        async with bot:
            await bot.start(settings.discord_token.get_secret_value())
    log.info("stopped cleanly")
    return 0


def _stop(bot: HearthBot, sig: signal.Signals) -> None:
    log.info("received %s, shutting down", sig.name)
    spawn(bot.close(), name=f"shutdown on {sig.name}")


async def _sync(settings: Settings, config: HearthConfig, guild_id: int | None) -> int:
    async with settings.open_database() as db:
        await migrations.upgrade(db)
        bot = HearthBot(settings=settings, config=config, db=db, auto_sync=False)
        async with bot:
            # login() runs setup_hook, which loads every cog and so builds the tree.
            await bot.login(settings.discord_token.get_secret_value())
            if guild_id is not None:
                guild = discord.Object(id=guild_id)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
            else:
                synced = await bot.tree.sync()
                await bot.record_synced_commands()
            where = f" to guild {guild_id}" if guild_id else " globally"
            print(f"synced {len(synced)} command(s){where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
