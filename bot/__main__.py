"""Command line: ``python -m bot`` (run), ``invite``, ``check``, ``config``,
``db upgrade|status``, ``db copy SQLITE_FILE POSTGRES_URL``, ``sync [--guild ID]``.
``python -m bot --help`` lists them and the settings.

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
from bot.permissions import invite_url
from bot.reach import explain_unreachable
from bot.settings import (
    DeploymentSettings,
    HearthConfig,
    Settings,
    SettingsError,
    default_config_text,
    load_config,
    load_deployment_settings,
    load_settings,
)
from bot.setup_check import application_id, run_check
from bot.tasks import spawn

log = logging.getLogger("bot")


#: Every setting, with its one-line meaning, for ``--help`` (the README's table says more).
SETTINGS_HELP = (
    ("DISCORD_TOKEN", "the bot token (required to run, invite, check, sync)"),
    ("DISCORD_API_BASE", "REST base URL of a proxy in front of Discord (default: Discord)"),
    ("HEARTH_DB", "SQLite database file (default: data/hearth.db)"),
    ("HEARTH_CONFIG", "TOML configuration (default: the one shipped in the package)"),
    ("HEARTH_SMTP_URL", "mail server for e-mailed digests, smtps://user:pass@host"),
    ("HEARTH_SMTP_FROM", "sender address of digest e-mails (default: hearth@localhost)"),
    ("HEARTH_SMTP_CA_FILE", "extra CA certificates (PEM) to trust for the mail server"),
    ("HEARTH_LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR (default: INFO)"),
    ("HEARTH_SECRET", "installation secret sealing anonymous ballots (64 hex digits)"),
    ("HEARTH_KEY_FILE", "where that secret is kept if HEARTH_SECRET is unset"),
    ("HEARTH_SHARDS", "gateway shards this process runs, e.g. 0-3/16 (default: all)"),
)


def _epilog() -> str:
    width = max(len(name) for name, _ in SETTINGS_HELP)
    rows = "\n".join(f"  {name:<{width}}  {meaning}" for name, meaning in SETTINGS_HELP)
    return (
        "settings (from the environment, or a .env file in the working directory):\n"
        f"{rows}\n\n"
        "first time: python -m bot invite (add the bot to your server), python -m bot check,\n"
        "then python -m bot, and /community create in Discord."
    )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bot",
        description="Hearth: a Discord bot for communities of practice.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    sub.add_parser("run", help="run the bot (the default when no command is given)")
    sub.add_parser("invite", help="print the link that adds the bot to a server")
    sub.add_parser(
        "check", help="check the token, the connection and the bot's permissions in each server"
    )
    sub.add_parser("config", help="print the shipped configuration (a start for HEARTH_CONFIG)")
    db = sub.add_parser(
        "db",
        help="database migrations: upgrade, or show their status; copy SQLITE_FILE POSTGRES_URL "
        "moves a database to PostgreSQL",
    )
    db.add_argument("action", choices=["upgrade", "status", "copy"])
    db.add_argument("source", nargs="?", help="copy: the SQLite file to copy from")
    db.add_argument("target", nargs="?", help="copy: the postgresql:// URL to copy into")
    sync = sub.add_parser("sync", help="publish the slash commands to Discord now")
    sync.add_argument("--guild", type=int, help="sync to one guild (instant) instead of globally")
    return p


def _quiet_voice_warnings() -> None:
    """discord.py warns at every start that PyNaCl and davey (voice) are missing. Hearth never
    joins a voice channel; discord.py's own switches turn exactly those two warnings off."""
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False


#: numpy's BLAS would start a thread per core for the statement report's matrix products;
#: beside the event loop on a small machine those threads only contend (a 1,000 x 100 report
#: took twice as long with them, benchmarks/statements.py). Set before numpy is imported.
for _blas in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_blas, "1")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        if command == "db" and args.action == "copy":
            if not (args.source and args.target):
                _parser().error("db copy needs SQLITE_FILE and POSTGRES_URL")
            return asyncio.run(_db_copy(args.source, args.target))
        if command == "db" and (args.source or args.target):
            _parser().error(f"db {args.action} takes no file or URL (it uses HEARTH_DB)")
        if command == "db":
            # The same settings (environment, then .env) as the bot, so `db upgrade` migrates
            # the database the bot will open; no token, as it never talks to Discord.
            return asyncio.run(_db(load_deployment_settings(), args.action))
        if command == "config":
            print(default_config_text(), end="")
            return 0
        settings = load_settings()
        config = load_config(settings.hearth_config)
    except SettingsError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    # Not basicConfig: the handler must carry the privacy filter (no vote, e-mail address
    # or message body in any line, at any level; see bot/log_privacy.py).
    configure_logging(settings.hearth_log_level)
    _quiet_voice_warnings()
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base
    token = settings.discord_token.get_secret_value()
    try:
        if command == "invite":
            print(invite_url(asyncio.run(application_id(token))))
            return 0
        if command == "check":
            return asyncio.run(_check(settings))
        if command == "sync":
            return asyncio.run(_sync(settings, config, args.guild))
        return asyncio.run(_run(settings, config))
    except SealingError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    except Exception as exc:
        # Every failure to reach Discord is one line naming what to check, not a traceback.
        line = explain_unreachable(exc, settings.discord_api_base)
        if line is None:
            raise
        print(f"hearth: {line}", file=sys.stderr)
        return 2


async def _check(settings: Settings) -> int:
    try:
        report = await run_check(
            settings.discord_token.get_secret_value(), settings.database_file or settings.hearth_db
        )
    except discord.LoginFailure:
        print(
            "✗ token: Discord rejected DISCORD_TOKEN; copy it again from the Developer "
            "Portal (your application → Bot → Reset Token)"
        )
        return 1
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


async def _db(settings: DeploymentSettings, action: str) -> int:
    # Warnings only: what `db` did is printed once below (the migrations also log it at INFO,
    # for the bot's own log).
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    path = settings.database_file
    label = settings.database_label()
    if action == "status" and path is not None and not path.exists():
        # Looking must not create: opening would make the file (and the key beside it).
        pending = migrations.available_migrations()
        print(f"database: {label}")
        print(
            "there is no database there yet: `python -m bot db upgrade` (or starting the "
            "bot) creates it"
        )
        print("applied: none")
        print("pending: " + ", ".join(f"{m.version:04d}_{m.name}" for m in pending))
        return 0
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
                print(f"database: {label} ({db.dialect})")
                print(f"applied: {', '.join(f'{v:04d}' for v in done) or 'none'}")
                print(
                    "pending: "
                    + (", ".join(f"{m.version:04d}_{m.name}" for m in pending) or "none")
                )
        except (migrations.MigrationError, SealingError) as exc:
            print(f"hearth: {exc}", file=sys.stderr)
            return 1
    return 0


async def _db_copy(source: str, target: str) -> int:
    from bot.db.copy import CopyError, copy_database, render_report

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        report = await copy_database(source, target)
    except CopyError as exc:
        print(f"hearth: {exc}", file=sys.stderr)
        return 2
    print("\n".join(render_report(report)))
    return 0 if report.ok else 1


async def _run(settings: Settings, config: HearthConfig) -> int:
    async with settings.open_database() as db:
        await migrations.upgrade(db)
        bot = HearthBot(settings=settings, config=config, db=db, freeze_gc=True)
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
