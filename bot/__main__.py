"""Command line: ``gridbot run --config FILE``, ``gridbot demo``, ``gridbot play``,
``gridbot import registry FILE`` and
``gridbot export ledger --from DATE --to DATE --out FILE.xlsx``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from datetime import date
from pathlib import Path

from bot import logs
from bot.core import collector


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gridbot", description="网格通 gridbot")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the bot (polling or webhook, from the config)")
    run.add_argument("--config", type=Path, default=Path("config.toml"))
    run.add_argument("--log-level", default="INFO")
    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("--config", type=Path, default=Path("config.toml"))
    demo = commands.add_parser(
        "demo", help="play a scripted community offline, print a transcript"
    )
    demo.add_argument("--locale", default="zh_CN")
    demo.add_argument("--log-level", default="ERROR")
    _play_command(commands)
    _registry_commands(commands)
    _ops_commands(commands)
    for sub in commands.choices.values():
        sub.add_argument("--log-format", choices=logs.FORMATS, default="text")
    args = parser.parse_args(argv)
    if args.command == "run":
        collector.pause()  # resumed once the bot is built (bot.app.run_until_stopped)

    # Commands without --log-level (import, export, check-config) print an answer: only
    # warnings may join it on stderr, not the INFO lines of migrations (issue #13 item 24).
    log_handler = logs.setup_cli_logging(getattr(args, "log_level", "WARNING"), args.log_format)
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(locale=args.locale))
    if args.command == "migrate-db":
        from bot.ops.cli import migrate_db_command

        return asyncio.run(
            migrate_db_command(args.source, args.target, force=args.force, locale=args.locale)
        )
    if args.command == "play":
        from playground.serve import run_play  # the bot never needs the playground otherwise

        return asyncio.run(run_play(args.scene, args.data, args.host, args.port, args.open))
    from bot.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    logs.hide_secrets(log_handler, config.telegram.token, config.telegram.webhook.secret_token)
    if args.command in ("run", "check-config"):
        _warn_if_token_file_exposed(args.config, config)
    if args.command == "check-config":
        print(f"{args.config}: OK")
        return 0
    if args.command in ("import", "export"):
        return _registry_command(args, config)
    if args.command in ("backup", "restore", "status", "dead", "rollups"):
        return _ops_command(args, config)
    return asyncio.run(_run(config))


def _play_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    play = commands.add_parser(
        "play", help="the whole product in a browser: sandbox, bot and a WeChat-style page"
    )
    play.add_argument("--port", type=int, default=8080)
    play.add_argument("--host", default="127.0.0.1", help="anything but loopback warns")
    play.add_argument("--scene", default="community", help="community, empty or a .toml file")
    play.add_argument("--data", type=Path, default=None, help="keep the database here")
    play.add_argument("--open", action="store_true", help="open the page in the browser")
    play.add_argument("--log-level", default="ERROR")


def _registry_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    imp = commands.add_parser("import", help="import the household sheet (.xlsx or .csv)")
    imp.add_argument("what", choices=["registry"])
    imp.add_argument("file", type=Path)
    imp.add_argument("--config", type=Path, default=Path("config.toml"))
    exp = commands.add_parser("export", help="export the ledger (台账) as .xlsx")
    exp.add_argument("what", choices=["ledger"])
    exp.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    exp.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
    exp.add_argument("--out", type=Path, required=True)
    exp.add_argument("--full-names", action="store_true", help="requesters' names unmasked")
    exp.add_argument("--config", type=Path, default=Path("config.toml"))


def _ops_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser("backup", help="an online, checked copy of the database")
    backup.add_argument("--out", type=Path, help="folder (default: [backup] folder)")
    restore = commands.add_parser("restore", help="restore a backup to a path that is free")
    restore.add_argument("file", type=Path)
    restore.add_argument("--to", type=Path, required=True)
    migrate = commands.add_parser(
        "migrate-db", help="copy a SQLite database into PostgreSQL, verified table by table"
    )
    migrate.add_argument("--from", dest="source", required=True, help="sqlite:///FILE")
    migrate.add_argument("--to", dest="target", required=True, help="postgresql://…")
    migrate.add_argument("--force", action="store_true", help="empty a non-empty target first")
    migrate.add_argument("--locale", choices=["zh_CN", "en"], default="zh_CN")
    migrate.add_argument("--log-level", default="WARNING")
    commands.add_parser("status", help="queues, failed updates, backups: one screen")
    dead = commands.add_parser("dead", help="failed updates: list, retry N, drop N")
    dead.add_argument("action", choices=["list", "retry", "drop"])
    dead.add_argument("update_id", type=int, nargs="?")
    rollups = commands.add_parser(
        "rollups", help="the digest's counters: rebuild from the issues, or check against them"
    )
    rollups.add_argument("action", choices=["rebuild", "check"])
    for sub in (backup, restore, dead, rollups, commands.choices["status"]):
        sub.add_argument("--config", type=Path, default=Path("config.toml"))
        sub.add_argument("--log-level", default="WARNING")


def _ops_command(args: argparse.Namespace, config: object) -> int:
    from bot.config import Config
    from bot.ops import cli

    assert isinstance(config, Config)
    if args.command == "backup":
        return asyncio.run(cli.backup_command(config, args.out))
    if args.command == "restore":
        return cli.restore_command(config, args.file, args.to)
    if args.command == "status":
        return asyncio.run(cli.status_command(config))
    if args.command == "rollups":
        return asyncio.run(cli.rollups_command(config, args.action))
    if args.action != "list" and args.update_id is None:
        print(
            "gridbot dead retry|drop N: N is an update id from 'gridbot dead list'",
            file=sys.stderr,
        )
        return 2
    return asyncio.run(cli.dead_command(config, args.action, args.update_id))


def _warn_if_token_file_exposed(path: Path, config: object) -> None:
    """Issue #17 item 6: a token in a file other users can read is a stolen bot waiting."""
    from bot.config import Config
    from bot.ops.token_file import token_file_warning

    assert isinstance(config, Config)
    warning = token_file_warning(path, config.locale)
    if warning:
        logging.getLogger("bot").warning(warning)


def _registry_command(args: argparse.Namespace, config: object) -> int:
    from bot.cli import export_ledger, import_registry
    from bot.config import Config

    assert isinstance(config, Config)
    if args.command == "import":
        return asyncio.run(import_registry(config, args.file))
    return asyncio.run(
        export_ledger(config, args.start, args.end, args.out, full_names=args.full_names)
    )


async def _run(config: object) -> int:
    from bot.app import run_until_stopped
    from bot.config import Config

    assert isinstance(config, Config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_until_stopped(config, stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
