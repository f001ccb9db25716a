"""A local stand-in for the Telegram Bot API server (see ``server.SandboxServer``).

Quick start::

    from bot.sandbox import SandboxServer
    server = SandboxServer()
    server.add_bot("123456:TEST", username="gridbot")
    await server.start()
    app = ApplicationBuilder().token("123456:TEST").base_url(server.base_url)...

Standalone: ``python -m bot.sandbox --port 8081 [--flood]``; drive it with
``bot.sandbox.client.SandboxClient``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.sandbox.client import SandboxClient
    from bot.sandbox.flood import FloodLimits
    from bot.sandbox.server import SandboxServer

__all__ = ["FloodLimits", "SandboxClient", "SandboxServer"]


def __getattr__(name: str) -> Any:
    if name == "SandboxServer":
        from bot.sandbox.server import SandboxServer

        return SandboxServer
    if name == "FloodLimits":
        from bot.sandbox.flood import FloodLimits

        return FloodLimits
    if name == "SandboxClient":
        from bot.sandbox.client import SandboxClient

        return SandboxClient
    raise AttributeError(name)
