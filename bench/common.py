"""Shared bench plumbing: a sandbox in this process, a bot in a child process, small stats."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
from pathlib import Path
from typing import Any

from sandbox.server import SandboxServer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TOKEN = "123456:bench-token"
# the second bot of bench.ingest --two-bots (a second street office on the same database)
TOKENS = (TOKEN, "654321:bench-token-2")
RESIDENT = 501
WORKER = 101  # the first grid's worker (also the secretary in bench.memory)
MAX_GRIDS = 20


def worker_of(grid: int) -> int:
    """The user id of grid ``grid``'s worker: each grid has its own, as in a community."""
    return WORKER + grid


def gridbot_config(
    server: SandboxServer,
    db: Path | str,
    groups: list[int],
    *,
    real_limits: bool,
    bot: int = 0,
    bots: int = 1,
    in_flight: int | None = None,
) -> str:
    """Gridbot's TOML config for ``server``, one grid per group (at most 20 bound), each with
    its own worker (``worker_of``).

    The outbox limits (overall, per group and per private chat) are raised far above
    Telegram's unless ``real_limits``. With ``bots`` > 1 (several bots on one PostgreSQL
    database, ``new_sandbox(bots=…)``), the config of bot number ``bot``: the groups that bot
    is in (every ``bots``-th), as a community of its own key. ``in_flight``: the sender's
    sends in flight at once (``[outbox] concurrency``; the default, 8, unless given).
    """
    table = "communities" if bots > 1 else "community"
    grids = "".join(
        f'\n[[{table}.grids]]\nkey = "g{n}"\nname = "第{n}网格"\nchat_id = {chat}\n'
        f"workers = [{worker_of(n)}]\n"
        for n, chat in enumerate(groups[:MAX_GRIDS])
        if n % bots == bot
    )
    outbox = (
        ""
        if real_limits
        else "group_per_minute = 1000000\nglobal_per_second = 1000000\n"
        "private_per_second = 1000000\n"
    )
    if in_flight is not None:
        outbox += f"concurrency = {in_flight}\n"
    community = (
        f'[[communities]]\nkey = "office{bot}"\nname = "第{bot}街道社区"'
        if bots > 1
        else '[community]\nname = "阅海湾社区"'
    )
    return f"""
[telegram]
base_url = "{server.base_url}"
base_file_url = "{server.base_file_url}"
poll_timeout = 1

[storage]
{"url" if str(db).startswith("postgresql://") else "path"} = "{db}"

[outbox]
{outbox}
{community}
{grids}"""


async def spawn(
    module: str, *args: str, env: dict[str, str] | None = None, **options: Any
) -> asyncio.subprocess.Process:
    """Run ``python -m module args`` from the project root with the bench token (``env``
    added to the environment, ``options`` passed to ``create_subprocess_exec``)."""
    env = {**os.environ, "GRIDBOT_TOKEN": TOKEN, "PYTHONPATH": str(ROOT), **(env or {})}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, cwd=ROOT, env=env, **options
    )


async def stop(proc: asyncio.subprocess.Process, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    """SIGTERM the child and wait for it (it drains and, if profiling, writes its profile)."""
    if proc.returncode is None:
        proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()


def residents(count: int) -> list[int]:
    """The user ids of ``count`` residents (the first is ``RESIDENT``)."""
    return [RESIDENT + n for n in range(count)]


def new_sandbox(
    groups: int, *, flood: bool = False, residents_count: int = 1, bots: int = 1
) -> tuple[SandboxServer, list[int]]:
    """A sandbox with the bench bot, ``residents_count`` residents, the grid workers (one per
    bound grid) and ``groups`` groups; the bot, every resident and every worker are members
    of each group. With ``bots`` > 1, that many bots (``TOKENS``), group n having bot
    n % bots only."""
    from sandbox.flood import FloodLimits

    server = SandboxServer(flood=FloodLimits() if flood else None)
    for n, token in enumerate(TOKENS[:bots]):
        server.add_bot(token=token, username=f"gridbot{n or ''}")
    people = residents(residents_count)
    for n, user_id in enumerate(people):
        server.add_user("王" if n == 0 else f"居民{n}", "阿姨" if n == 0 else None, id=user_id)
    workers = [worker_of(n) for n in range(min(groups, MAX_GRIDS))]
    for n, user_id in enumerate(workers):
        server.add_user("李" if n == 0 else f"网格员{n}", "网格员" if n == 0 else None, id=user_id)
    members = [*people, *workers]
    ids = [
        server.add_group(f"网格群{n}", members=members, bot_token=TOKENS[n % bots]).id
        for n in range(groups)
    ]
    return server, ids


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A small Markdown table (pasteable into bench/README.md)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    lines += [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    return "\n".join(lines)
