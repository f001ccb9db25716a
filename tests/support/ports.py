"""A port for a server a test must name before it starts (the metrics server, a webhook):
chosen below the kernel's ephemeral range, where no server started on port 0 (the sandbox,
the playground, the test HTTP servers on the other worker) can take it in the meantime.
Asking the kernel for a free port and closing it left that port to whoever asked next."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def _below_ephemeral() -> range:
    try:
        low = int(_EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    return range(max(1024, low - 12000), low)


def unused_port() -> int:
    """A port on 127.0.0.1 nothing listens on, outside the range port 0 is served from."""
    ports = _below_ephemeral()
    for port in random.sample(ports, 50):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no unused port in {ports.start}-{ports.stop - 1}")
