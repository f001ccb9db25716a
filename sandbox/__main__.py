"""Run the sandbox Bot API server standalone: ``python -m sandbox --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from sandbox.flood import FloodLimits
from sandbox.server import SandboxServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--flood", action="store_true", help="enable Telegram-like flood limits")
    parser.add_argument("--token", default="123456:TEST", help="token of the default bot")
    parser.add_argument("--username", default="gridbot")
    parser.add_argument("--first-name", default="网格通")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    server = SandboxServer(args.host, args.port, flood=FloodLimits() if args.flood else None)
    server.add_bot(args.token, args.username, args.first_name)
    await server.start()
    print(f"sandbox Bot API: {server.base_url}", flush=True)
    print(f"file base URL:   {server.base_file_url}", flush=True)
    print(f"control API:     {server.control_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
