"""Memory (issue #7, item 4): peak RSS of gridbot on the big database during ingest and sweeps.

``python -m bench.memory [--issues 1000000] [--messages 500]``

Gridbot (``bench.gridbot_proc``, every handler of bot/app.py) runs against a copy of the cached
``bench.gen_issues`` database (1,000,000 issues by default; the copy keeps the cache clean). Its
config makes every sweep do real work: the daily and weekly digests are due one minute before
launch (so the start-up sweep builds both over the whole database, for one secretary), and the
tick runs every 2 s during the ingest (feedback reminders and expiry, chasing, calendar rules,
votes, consultation). The ingest is ``bench.ingest``'s machinery with fewer messages. The
baseline is the bare PTB echo bot handling the same ingest. Peak RSS is the child's VmHWM from
/proc, read just before it is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import gen_issues
from bench.common import WORKER, gridbot_config, new_sandbox, spawn, stop, table
from bench.ingest import RESIDENTS, Tracker, backlog, warm_up
from bot.schedule.digest_chart import cjk_font


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def sweeping_config(base: str) -> str:
    """``base`` plus a secretary, digests due a minute ago and a 2-second tick, as the
    database's first community (key ``c0``, grids g0–g9 as in ``bench.gen_issues``): its
    digest then has 30 days of activity to draw, so the trend chart is drawn and sent."""
    due = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(minutes=1)
    base = base.replace(
        '[community]\nname = "阅海湾社区"\n',
        f'[[communities]]\nkey = "c0"\nname = "阅海湾社区"\nsecretaries = [{WORKER}]\n',
    ).replace("[[community.", "[[communities.")
    return base + (
        f'\n[schedule]\ntick_seconds = 2\n\n[schedule.digest]\ntime = "{due:%H:%M}"\n'
        f"weekly_weekday = {due.isoweekday()}\n"
    )


async def run_contender(name: str, db: Path | None, args: argparse.Namespace) -> dict:
    server, groups = new_sandbox(args.groups, residents_count=RESIDENTS)
    async with server:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            if name == "echo":
                proc = await spawn("bench.echo_proc", server.base_url)
            else:
                assert db is not None
                copy = Path(tmp) / "gridbot.sqlite3"
                shutil.copyfile(db, copy)
                config = Path(tmp) / "config.toml"
                text = gridbot_config(server, copy, groups, real_limits=False)
                config.write_text(sweeping_config(text), "utf-8")
                started = time.perf_counter()
                proc = await spawn("bench.gridbot_proc", str(config))
            try:
                await warm_up(server, groups, args.start_timeout)
                ready = time.perf_counter() - started
                tracker = Tracker(server, name == "gridbot", args.messages)
                began = await backlog(server, groups, tracker)
                result = {"rate": args.messages / (max(tracker.answered.values()) - began)}
                await asyncio.sleep(args.settle)  # a few more ticks after the ingest
                result["peak"] = peak_rss_mib(proc.pid)
                # The digest's trend chart (a photo to the secretary) must have been drawn:
                # Pillow and the CJK font are part of the peak being measured.
                result["charts"] = sum(
                    r.method == "sendPhoto" and r.chat_id == WORKER for r in server.sent
                )
                result["ready"] = ready
                return result
            finally:
                await stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__)
    gen_issues.add_arguments(parser)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--settle", type=float, default=6.0, help="seconds of ticks after")
    parser.add_argument("--start-timeout", type=float, default=900.0)
    args = parser.parse_args()
    db, seconds = gen_issues.ensure(args)
    if seconds is not None:
        print(f"generated {db.name} in {seconds:.1f} s")
    results = asyncio.run(both(db, args))
    rows = [
        [name, f"{r['peak']:.0f}", f"{r['ready']:.1f}", f"{r['rate']:.0f}", str(r["charts"])]
        for name, r in results.items()
    ]
    size = db.stat().st_size / 2**20
    print(
        f"\nmemory: {args.messages} messages (30% reports) + every sweep, gridbot on "
        f"{args.issues:,} issues ({size:.0f} MiB database)"
    )
    headers = ["bot", "peak RSS MiB", "ready s", "messages answered/s", "charts sent"]
    print(table(headers, rows))
    font = cjk_font()
    print(f"CJK font: {font or 'NONE installed: no chart is drawn, the figure is too low'}")
    peak = results["gridbot"]["peak"]
    # Without the charts the peak leaves out Pillow and the font: not the figure asked for.
    drawn = results["gridbot"]["charts"] > 0
    met = peak * 2**20 < 150e6 and drawn
    print(
        f"ratio gridbot/echo peak RSS: {peak / results['echo']['peak']:.2f}x; "
        f"target < 150 MB with the charts drawn: {'met' if met else 'NOT met'}"
        + ("" if drawn else " (no chart was sent)")
    )


async def both(db: Path, args: argparse.Namespace) -> dict[str, dict]:
    return {name: await run_contender(name, db, args) for name in ("echo", "gridbot")}


if __name__ == "__main__":
    main()
