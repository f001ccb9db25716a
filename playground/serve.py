"""``gridbot play``: start the playground and serve the page until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import sys
import tempfile
import webbrowser
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from playground.runtime import Playground
from playground.scene import load_scene
from playground.web import make_app, strings


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@asynccontextmanager
async def playing(
    scene: str = "community", data: Path | None = None, host: str = "127.0.0.1", port: int = 8080
) -> AsyncIterator[tuple[Playground, str]]:
    """The playground with its page served; yields it and the page's URL."""
    with contextlib.ExitStack() as stack:
        if data is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gridbot-play-")))
        else:
            folder = data
            folder.mkdir(parents=True, exist_ok=True)
        play = Playground(load_scene(scene), folder)
        await play.start()
        runner = web.AppRunner(make_app(play), access_log=None, shutdown_timeout=0.5)
        try:
            await runner.setup()
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = int(runner.addresses[0][1])
            shown = f"[{host}]" if ":" in host else host
            yield play, f"http://{shown}:{bound}/"
        finally:
            await runner.cleanup()
            await play.stop()


async def run_play(scene: str, data: Path | None, host: str, port: int, open_browser: bool) -> int:
    words = strings("zh_CN")
    if not is_loopback(host):
        print(f"warning: serving on {host}: anyone who can reach it can act as every person "
              "in the playground; it has no login.", file=sys.stderr)  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with playing(scene, data, host, port) as (_, url):
        print(f"{words['title']}: {url}", flush=True)
        if open_browser:
            webbrowser.open(url)
        await stop.wait()
    return 0
