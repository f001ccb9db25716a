"""``gridbot play``: start the playground and serve the page until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import sys
import tempfile
import webbrowser
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from playground.runtime import Playground, Saved
from playground.scene import SceneError, load_scene
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
    scene: str = "community",
    data: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8080,
    saved: Saved | None = None,
) -> AsyncIterator[tuple[Playground, str]]:
    """The playground with its page served; yields it and the page's URL. With ``saved``
    (:meth:`Playground.saved`), a new ``data`` folder starts where that playground stood."""
    with contextlib.ExitStack() as stack:
        if data is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gridbot-play-")))
        else:
            folder = data
            folder.mkdir(parents=True, exist_ok=True)
        play = Playground(load_scene(scene), folder, saved)
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


async def run_play(
    scene: str,
    data: Path | None,
    host: str,
    port: int,
    open_browser: bool,
    *,
    stop: asyncio.Event | None = None,
    out: Callable[[str], None] = print,
    err: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> int:
    """Serve until SIGINT/SIGTERM (or ``stop``); print the page's URL when it answers."""
    words = strings("zh_CN")
    if not is_loopback(host):
        err(str(words["cli"]["not_loopback"]).format(host=host))
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with playing(scene, data, host, port) as (_, url):
            out(str(words["cli"]["ready"]).format(url=url))
            if open_browser:
                webbrowser.open(url)
            await stop.wait()
    except SceneError as exc:
        err(str(exc))
        return 2
    return 0
