"""Command line: ``gridbot run --config FILE`` and ``gridbot demo``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


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
    args = parser.parse_args(argv)

    logging.basicConfig(level=getattr(args, "log_level", "INFO"), format=LOG_FORMAT)
    if args.command == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(locale=args.locale))
    from bot.config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.command == "check-config":
        print(f"{args.config}: OK")
        return 0
    return asyncio.run(_run(config))


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
