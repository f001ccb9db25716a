"""What a report's write transaction costs on the 1,000,000-issue database, statement by
statement (issue #15 item 6): the figures to iterate on before ``bench.latency``.

``python -m bench.report_cost --cache-dir DIR [--serial 300] [--paced 0] [--tick 10]``

Gridbot alone (no echo bot), run as ``bench.latency`` runs it (a copy of the swept 1M
database, every sweep each ``--tick`` seconds, one message at a time, one in ten a report),
with ``BENCH_STATEMENTS``: ``bench.stmt_trace`` records every write transaction's statements
(wall, thread CPU, and the read system calls each made, i.e. pages SQLite's own cache did not
hold) and its COMMIT. Printed: the latency of reports and of chatter apart, the transactions
of each kind, and the statements of the reports' transactions, costliest first. CPU and page
reads do not move with the machine's load; wall times do.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench import latency
from bench.common import RESIDENT, gridbot_config, new_sandbox, percentile, spawn, stop, table

SAVEPOINT = re.compile(r"^(SAVEPOINT|RELEASE|ROLLBACK TO) sp\d+")


async def run(args: argparse.Namespace, database: Path, trace: Path) -> dict[str, list[float]]:
    server, groups = new_sandbox(1)
    async with server:
        with tempfile.TemporaryDirectory(dir=args.work_dir) as tmp:
            db = Path(tmp) / "gridbot.sqlite3"
            await asyncio.to_thread(latency.copy_synced, database, db)
            config = gridbot_config(server, db, groups, real_limits=False).replace(
                "[outbox]", f"[schedule]\ntick_seconds = {args.tick}\n\n[outbox]"
            )
            (Path(tmp) / "config.toml").write_text(config, "utf-8")
            proc = await spawn(
                "bench.gridbot_proc",
                str(Path(tmp) / "config.toml"),
                env={"BENCH_STATEMENTS": str(trace)},
            )
            try:
                await server.user_sends(groups[0], RESIDENT, f"warm up [{latency.WARMUP}]")
                await server.wait_for(lambda s: len(s.sent) >= 1, 300)
                await asyncio.sleep(args.settle)
                t0 = time.time()
                seen = len(server.sent)
                one = await latency.serial(server, groups[0], args.serial)
                t1 = time.time()
                first_reply(server.sent[seen:], t0, one)
                many = (
                    await latency.paced(server, groups[0], args.paced, args.rate)
                    if args.paced
                    else []
                )
                replies = [(r.at, (r.text or "")[:12]) for r in server.sent[seen:]]
            finally:
                await stop(proc)
    # when each message was sent: serial ones back to back, paced ones on their schedule
    sent, at = [], t0
    for value in one:
        sent.append(at)
        at += value
    sent += [t1 + n / args.rate for n in range(len(many))]
    return {"serial": one, "paced": many, "sent": sent, "replies": replies}  # type: ignore[dict-item]


def first_reply(records: list[Any], t0: float, latencies: list[float]) -> None:
    """A serial report's two replies apart: the group ack (after the report's commit and one
    send) and the probe's ``ack n`` (one send later)."""
    sent, at = [], t0
    for value in latencies:
        sent.append(at)
        at += value
    firsts = []
    for n in range(0, len(latencies), 10):
        ack = next(
            (r.at for r in records if r.at >= sent[n] and not (r.text or "").startswith("ack ")),
            None,
        )
        if ack is not None and ack <= sent[n] + latencies[n]:
            firsts.append(ack - sent[n])
    print(
        f"serial reports: group ack after p50 {ms(firsts, 50)} p90 {ms(firsts, 90)} ms;"
        f" ack n after p50 {ms(latencies[::10], 50)} p90 {ms(latencies[::10], 90)} ms"
    )


def kind(record: dict[str, Any]) -> str:
    sqls = [s[0] for s in record["statements"]]
    if any(sql.startswith("INSERT INTO issues ") for sql in sqls):
        return "report"
    if any("INTO inbox" in sql for sql in sqls):
        return "chatter"
    if any("outbox" in sql and sql.startswith("UPDATE") for sql in sqls):
        return "sender"
    return "other"


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.2f}" if values else "-"


def report(trace: Path, latencies: dict[str, list[float]], worst: int) -> None:
    for load, values in latencies.items():
        if not values or load in ("sent", "replies"):
            continue
        reports = [v for n, v in enumerate(values) if n % 10 == 0]
        chatter = [v for n, v in enumerate(values) if n % 10]
        print(
            f"{load}: all p50 {ms(values, 50)} p99 {ms(values, 99)} max {ms(values, 100)} ms;"
            f" reports p50 {ms(reports, 50)} p90 {ms(reports, 90)} max {ms(reports, 100)};"
            f" chatter p50 {ms(chatter, 50)} p99 {ms(chatter, 99)}"
        )
    records = [json.loads(line) for line in trace.read_text("utf-8").splitlines() if line]
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_kind[kind(record)].append(record)
    rows = []
    for name, group in sorted(by_kind.items()):
        walls = [r["wall"] for r in group]
        cpus = [r["cpu"] for r in group]
        commits = [s[1] for r in group for s in r["statements"] if s[0] == "COMMIT"]
        reads = [sum(s[3] for s in r["statements"] if s[0] != "COMMIT") for r in group]
        row = [name, str(len(group))]
        for values in (walls, cpus, commits):
            row += [ms(values, 50), ms(values, 90), ms(values, 100)]
        rows.append([*row, f"{sum(reads) / len(reads):.1f}", str(max(reads))])
    print("write transactions (wall from BEGIN to the end of COMMIT; cpu of the loop's thread)")
    head = ["kind", "n", "wall p50", "p90", "max", "cpu p50", "p90", "max", "commit p50"]
    print(table([*head, "p90", "max", "reads/tx", "max"], rows))
    commits = [s for r in records for s in r["statements"] if s[0] == "COMMIT"]
    heavy = [s[1] for s in commits if s[3] > 20]
    light = [s[1] for s in commits if s[3] <= 20]
    print(
        f"commits: {len(commits)}; {len(heavy)} wrote more than 20 times (a WAL checkpoint):"
        f" p50 {ms(heavy, 50)} max {ms(heavy, 100)} ms, {sum(heavy) * 1000:.0f} ms in all;"
        f" the others p50 {ms(light, 50)} p99 {ms(light, 99)} max {ms(light, 100)} ms"
        f" ({sum(s[3] for s in commits) / max(1, len(commits)):.1f} writes per commit)"
    )
    statements: dict[str, list[list[Any]]] = defaultdict(list)
    for record in by_kind["report"]:
        for s in record["statements"]:
            statements[SAVEPOINT.sub(r"\1 sp", s[0])].append(s)
    n = max(1, len(by_kind["report"]))
    rows = []
    for sql, group in sorted(statements.items(), key=lambda kv: -sum(s[1] for s in kv[1])):
        walls = [s[1] for s in group]
        cpu = sum(s[2] for s in group) / n * 1000
        reads = sum(s[3] for s in group) / n
        row = [sql[:70], f"{len(group) / n:.1f}", f"{sum(walls) / n * 1000:.3f}"]
        row += [ms(walls, 90), ms(walls, 100), f"{cpu:.3f}", f"{reads:.1f}"]
        rows.append([*row, str(max(s[3] for s in group))])
    print("statements of the reports' transactions, per report (wall and cpu ms, reads)")
    head = ["statement", "calls", "wall/report", "p90", "max", "cpu/report", "reads", "max"]
    print(table(head, rows[:25]))
    ticks = [r["t"] for r in records if any("schedule_bot_clock" in s[0] for s in r["statements"])]
    near_ticks(ticks, latencies)
    if worst:
        slowest(records, latencies, worst)


def near_ticks(ticks: list[float], latencies: dict[str, list[float]]) -> None:
    """How much of the tail the sweeps make: the messages in flight within a second of a
    tick's start apart from the others."""
    values = latencies["serial"] + latencies["paced"]
    serial = len(latencies["serial"])
    for load, span in (("serial", range(serial)), ("paced", range(serial, len(values)))):
        near, far = [], []
        for i in span:
            start, end = latencies["sent"][i], latencies["sent"][i] + values[i]
            hit = any(t - 0.005 < end and start < t + 1.0 for t in ticks)
            (near if hit else far).append(values[i])
        if not span:
            continue
        print(
            f"{load}: {len(ticks)} ticks; {len(near)} messages in flight within 1 s of one:"
            f" p50 {ms(near, 50)} p99 {ms(near, 99)} max {ms(near, 100)};"
            f" the {len(far)} others p50 {ms(far, 50)} p99 {ms(far, 99)} max {ms(far, 100)}"
        )


def slowest(records: list[dict[str, Any]], latencies: dict[str, list[float]], count: int) -> None:
    """The slowest messages, each with the write transactions that overlapped it."""
    values = latencies["serial"] + latencies["paced"]
    sent = latencies["sent"]
    serial = len(latencies["serial"])
    print(f"the {count} slowest messages and the write transactions while they waited")
    order = sorted(range(len(values)), key=lambda i: -values[i])[:count]
    for i in sorted(order):
        start, end = sent[i], sent[i] + values[i]
        n = i if i < serial else i - serial
        what = "report" if n % 10 == 0 else "chat"
        near = [
            f"{kind(r)} {r['wall'] * 1000:.1f}"
            for r in records
            if r["t"] < end and r["t"] + r["wall"] > start - 0.01
        ]
        load = "serial" if i < serial else "paced"
        print(f"  {load} {n:5d} {what:6s} {values[i] * 1000:7.1f} ms: {', '.join(near[:8])}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.report_cost", description=__doc__)
    parser.add_argument("--serial", type=int, default=300)
    parser.add_argument("--paced", type=int, default=0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--tick", type=int, default=10)
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--cache-dir", help="where bench.gen_issues keeps the database")
    parser.add_argument("--work-dir", help="where the database copy goes (default: tmp)")
    parser.add_argument("--worst", type=int, default=0, help="list the slowest messages")
    parser.add_argument("--trace", help="keep the statements' trace here (JSON lines)")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    database = latency.database_for(args)
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(args.trace) if args.trace else Path(tmp) / "statements.jsonl"
        latencies = asyncio.run(run(args, database, trace))
        trace.with_suffix(".latencies.json").write_text(json.dumps(latencies), "utf-8")
        report(trace, latencies, args.worst)


if __name__ == "__main__":
    main()
