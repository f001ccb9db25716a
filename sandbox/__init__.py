"""A local stand-in for the Telegram Bot API server (see ``server.SandboxServer``).

Quick start::

    from sandbox import SandboxServer
    server = SandboxServer()
    server.add_bot("123456:TEST", username="gridbot")
    await server.start()
    app = ApplicationBuilder().token("123456:TEST").base_url(server.base_url)...

Standalone: ``python -m sandbox --port 8081 [--flood]``; drive it with
``sandbox.client.SandboxClient``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.client import SandboxClient
    from sandbox.flood import FloodLimits
    from sandbox.server import SandboxServer

__all__ = ["FloodLimits", "SandboxClient", "SandboxServer"]


def __getattr__(name: str) -> Any:
    if name == "SandboxServer":
        from sandbox.server import SandboxServer

        return SandboxServer
    if name == "FloodLimits":
        from sandbox.flood import FloodLimits

        return FloodLimits
    if name == "SandboxClient":
        from sandbox.client import SandboxClient

        return SandboxClient
    raise AttributeError(name)
