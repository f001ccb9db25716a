"""Generate a large, realistic issue database for the scale benches (issue #7, item 2).

``python -m bench.gen_issues [--issues 1000000] [--communities 300] [--grids 3000] [--days 730]``

The schema comes from the project's own migrations (``storage.db.Database.open``); rows are
then bulk-inserted with ``executemany`` in big transactions (``synchronous=OFF`` for the
generation only). The file is cached under ``bench/out/`` keyed by the parameters, so reruns
reuse it; ``--force`` regenerates.

The schema has no community column (one gridbot serves one community), so a community is a
block of consecutive grids: with the defaults, community ``c`` owns grids ``g{10c}`` …
``g{10c+9}`` and four handlers ``c{c}_wy`` (物业), ``c{c}_cgk`` (城管科), ``c{c}_sz`` (市政),
``c{c}_jw`` (居委会). Categories are the default taxonomy of ``bot.config.reader``. States
depend on age: nearly everything older than a couple of weeks is closed (some rejected or
merged, a small backlog left open and overdue); recent issues spread over the open states.
Each resolution round issues one feedback slip per reporter; answered slips follow a realistic
mix (most contacted, most solved, most satisfied), about a quarter expire unanswered, and an
unsolved-and-unsatisfied answer reopens the issue for a second round. The generation day (the
end of the two years) is stored in ``bench_meta``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import OUT
from bot.config.reader import default_categories
from storage.db import Database

CHUNK = 20_000
# The issue columns the generator writes, named so that columns added by later migrations
# (voice, place, community: 0017-0019) take their defaults instead of breaking the INSERT.
ISSUE_COLUMNS = (
    "id number type category grid building unit location description urgent private"
    " anonymous state handler merged_into reason source_chat_id source_message_id"
    " reported_at respond_by resolve_by accepted_at assigned_at contacted_at resolved_at"
    " closed_at round updated_at result"
).split()
# Share of reports per category key (default taxonomy); "other" takes the rest.
CATEGORY_WEIGHTS = {
    "property": 12,
    "leak": 10,
    "elevator": 6,
    "parking": 10,
    "noise": 9,
    "dog": 4,
    "sanitation": 12,
    "ebike": 7,
    "encroachment": 4,
    "greenery": 4,
    "streetlight": 6,
    "utilities": 6,
    "neighbour": 5,
    "committee": 2,
    "other": 3,
}
# Which of a community's handlers usually gets a category (else 物业).
HANDLER_OF = {
    "encroachment": "cgk",
    "streetlight": "sz",
    "greenery": "sz",
    "neighbour": "jw",
    "committee": "jw",
    "ebike": "cgk",
}
HANDLERS = ("wy", "cgk", "sz", "jw")
RESOLVE_DAYS = {"utilities": 1, "elevator": 1, "encroachment": 15, "committee": 15}
TYPES = (("report", 70), ("complaint", 12), ("help", 10), ("suggestion", 5), ("consult", 3))
TEXTS = {
    "property": "物业保洁不到位",
    "leak": "楼上漏水到我家",
    "elevator": "电梯故障困人",
    "parking": "消防通道乱停车",
    "noise": "半夜装修噪音扰民",
    "dog": "遛狗不拴绳",
    "sanitation": "垃圾桶满了没人清运",
    "ebike": "楼道电动车飞线充电",
    "encroachment": "一楼私搭乱建",
    "greenery": "树枝挡住窗户需修剪",
    "streetlight": "路灯不亮",
    "utilities": "停水没有通知",
    "neighbour": "邻居高空抛物",
    "committee": "维修资金使用不公开",
    "other": "其他问题",
}
OPEN_MIX = (
    ("new", 20),
    ("accepted", 15),
    ("assigned", 30),
    ("in_progress", 30),
    ("return_requested", 5),
)
REPORTER_BASE = 7_000_000_000


def db_path(args: argparse.Namespace) -> Path:
    name = f"issues-{args.issues}-c{args.communities}-g{args.grids}-d{args.days}-s{args.seed}"
    return OUT / f"{name}.sqlite3"


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _weighted(pairs: list[tuple[str, int]]) -> tuple[list[str], list[int]]:
    return [k for k, _ in pairs], [w for _, w in pairs]


class Generator:
    """Rows for issues, reporters, events and slips, issue by issue (ids ascending in time)."""

    def __init__(self, args: argparse.Namespace, end: datetime) -> None:
        self.rng = random.Random(args.seed)
        self.args = args
        self.end = end
        self.end_text = stamp(end)
        self.start = end - timedelta(days=args.days)
        self.per_community = args.grids // args.communities
        keys = [c["key"] for c in default_categories()]  # type: ignore[index]
        self.categories = _weighted([(k, CATEGORY_WEIGHTS.get(k, 1)) for k in keys])
        self.types = _weighted(list(TYPES))
        self.open_mix = _weighted(list(OPEN_MIX))
        self.issues: list[tuple] = []
        self.reporters: list[tuple] = []
        self.events: list[tuple] = []
        self.slips: list[tuple] = []

    def issue(self, n: int) -> None:
        rng, args = self.rng, self.args
        span = (self.end - self.start).total_seconds()
        reported = self.start + timedelta(seconds=(n - 1 + rng.random()) * span / args.issues)
        age = (self.end - reported).total_seconds() / 86400
        grid_no = rng.randrange(args.grids)
        community = grid_no // self.per_community
        grid = f"g{grid_no}"
        category = rng.choices(*self.categories)[0]
        kind = rng.choices(*self.types)[0]
        handler = f"c{community}_{HANDLER_OF.get(category, 'wy')}"
        if rng.random() < 0.15:
            handler = f"c{community}_{rng.choice(HANDLERS)}"
        building, unit = str(rng.randint(1, 30)), str(rng.randint(1, 6))
        users = [REPORTER_BASE + rng.randrange(2_000_000)]
        if rng.random() < 0.1:
            users.append(REPORTER_BASE + rng.randrange(2_000_000))
        chat = -1_000_000_000_000 - grid_no
        respond_by = reported + timedelta(hours=2)
        ev = self.events
        first_event = len(ev)
        ev.append((n, users[0], "resident", stamp(reported), None, "new", "report", None))
        self.t = reported
        fields: dict[str, object] = {}

        def step(hours: float, src: str, dst: str, action: str, actor: str = "worker") -> None:
            self.t += timedelta(hours=hours * (0.5 + rng.random()))
            ev.append((n, 100 + grid_no, actor, stamp(self.t), src, dst, action, None))

        # Where the issue ends up: open states only when recent (plus a small stale backlog).
        p_open = 0.004 + 0.9 * pow(2.718, -age / 2.5)
        roll = rng.random()
        if roll < p_open:
            final = rng.choices(*self.open_mix)[0]
        elif roll < p_open + 0.04:
            final = "rejected"
        elif roll < p_open + 0.06:
            final = "merged"
        else:
            final = "closed"
        state = "new"
        if final in ("rejected", "merged"):
            step(3, "new", final, "reject" if final == "rejected" else "merge")
            fields["reason"] = "重复" if final == "merged" else "不属于社区事务"
            state = final
        elif final != "new":
            if rng.random() < 0.3:  # 交办 straight from 已登记 (accepts it too)
                step(2, "new", "assigned", "assign")
                fields["accepted_at"] = fields["assigned_at"] = stamp(self.t)
                state = "assigned"
            else:
                step(1.5, "new", "accepted", "accept")
                fields["accepted_at"] = stamp(self.t)
                state = "accepted"
                if final != "accepted":
                    step(4, "accepted", "assigned", "assign")
                    fields["assigned_at"] = stamp(self.t)
                    state = "assigned"
            days = RESOLVE_DAYS.get(category, 5)
            fields["resolve_by"] = stamp(self.t + timedelta(days=days))
            if state == "assigned" and final != "assigned":
                step(6, "assigned", "in_progress", "contacted", "handler")
                fields["contacted_at"] = stamp(self.t)
                state = "in_progress"
                if final == "return_requested":
                    step(10, state, final, "request_return", "handler")
                    state = final
        if state == "in_progress" and final == "closed":
            self._rounds(n, grid, handler, category, users, fields, step)
        # Clip to the generation moment: the state is the last event's, fields follow events.
        mine = ev[first_event:]
        kept = [e for e in mine if e[3] < self.end_text]
        del ev[first_event + len(kept) :]
        state = kept[-1][5]
        seen = {e[6]: e[3] for e in kept}
        accepted = seen.get("accept") or seen.get("assign")
        row_round = sum(1 for e in kept if e[6] == "reopen")
        for user in users:
            self.reporters.append((n, user, "居民", chat, None, None, stamp(reported)))
        self.issues.append(
            (
                n,
                n,
                kind,
                category,
                grid,
                building,
                unit,
                None,
                f"{building}号楼{unit}单元 {TEXTS.get(category, '其他问题')}",
                int(category in ("elevator", "utilities") and rng.random() < 0.3),
                0,
                0,
                state,
                handler if "assign" in seen else None,
                None,
                fields.get("reason") if state in ("rejected", "merged") else None,
                chat,
                n,
                stamp(reported),
                stamp(respond_by),
                fields.get("resolve_by") if accepted else None,
                accepted,
                seen.get("assign"),
                seen.get("contacted"),
                seen.get("resolve"),
                seen.get("close"),
                row_round,
                kept[-1][3],
                None,  # result (migration 0012): the generator writes no result text
            )
        )

    def _rounds(self, n, grid, handler, category, users, fields, step) -> None:  # type: ignore[no-untyped-def]
        """Resolve, issue slips, answer or expire them, maybe reopen once, then close."""
        rng = self.rng
        for round_no in (0, 1):
            step(30, "in_progress", "resolved", "resolve", "handler")
            resolved_at = self.t
            fields["resolved_at"] = stamp(self.t)
            fields["round"] = round_no
            reopen = False
            done = resolved_at
            for user in users:
                created = stamp(resolved_at)
                if rng.random() < 0.27:  # 未评价: expired after 7 days
                    expired = stamp(resolved_at + timedelta(days=7))
                    self.slips.append(
                        (
                            n,
                            round_no,
                            user,
                            grid,
                            handler,
                            category,
                            "expired",
                            created,
                            stamp(resolved_at + timedelta(days=3)),
                            expired,
                            None,
                            None,
                            None,
                            None,
                            None,
                        )
                    )
                    done = max(done, resolved_at + timedelta(days=7))
                    continue
                solved = rng.choices(("solved", "partly", "not_solved"), (75, 15, 10))[0]
                sat_w = {"solved": (85, 13, 2), "partly": (35, 50, 15), "not_solved": (5, 25, 70)}
                sat = rng.choices(("satisfied", "basic", "unsatisfied"), sat_w[solved])[0]
                answered = resolved_at + timedelta(hours=1 + 60 * rng.random())
                self.slips.append(
                    (
                        n,
                        round_no,
                        user,
                        grid,
                        handler,
                        category,
                        "answered",
                        created,
                        None,
                        None,
                        stamp(answered),
                        int(rng.random() < 0.92),
                        solved,
                        sat,
                        None,
                    )
                )
                done = max(done, answered)
                if solved == "not_solved" and sat == "unsatisfied" and round_no == 0:
                    reopen = True
            self.t = done
            if not reopen:
                break
            step(2, "resolved", "in_progress", "reopen", "system")
        step(0.1, "resolved", "closed", "close", "system")
        fields["closed_at"] = stamp(self.t)


async def create_schema(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


def generate(args: argparse.Namespace, path: Path) -> float:
    started = time.perf_counter()
    tmp = path.with_suffix(".tmp")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    asyncio.run(create_schema(tmp))
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA cache_size=-200000")
    conn.execute("CREATE TABLE bench_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    meta = {**{k: str(v) for k, v in vars(args).items() if k != "force"}, "end": stamp(end)}
    conn.executemany("INSERT INTO bench_meta VALUES (?, ?)", meta.items())
    gen = Generator(args, end)
    end_text = stamp(end)
    for first in range(1, args.issues + 1, CHUNK):
        for n in range(first, min(first + CHUNK, args.issues + 1)):
            gen.issue(n)
        _flush(conn, gen, end_text)
    # The deadline each resolution is judged by (按期办结率; the bot's event writer records it):
    # the generator never moves a deadline, so it is the issue's.
    conn.execute(
        "UPDATE issue_events SET resolve_by ="
        " (SELECT resolve_by FROM issues WHERE issues.id = issue_events.issue_id)"
        " WHERE action = 'resolve'"
    )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    tmp.rename(path)
    return time.perf_counter() - started


def _flush(conn: sqlite3.Connection, gen: Generator, end: str) -> None:
    """Insert the buffered rows in one transaction; slips issued after the end are dropped."""
    events = gen.events
    slips = [_open_if_recent(s, end) for s in gen.slips if s[7] < end]
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO issues ({', '.join(ISSUE_COLUMNS)})"
        f" VALUES ({', '.join('?' * len(ISSUE_COLUMNS))})",
        gen.issues,
    )
    conn.executemany(
        "INSERT INTO issue_reporters (issue_id, user_id, display_name, chat_id, message_id,"
        " via_issue, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",  # report_type, anonymous: defaults
        gen.reporters,
    )
    conn.executemany(
        "INSERT INTO issue_events (issue_id, actor_id, actor_role, at, from_state, to_state,"
        " action, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    conn.executemany(
        "INSERT INTO feedback_slips (issue_id, round, user_id, grid, handler, category, state,"
        " created_at, reminded_at, expired_at, answered_at, contacted, solved, satisfaction,"
        " comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        slips,
    )
    conn.execute("COMMIT")
    for buffer in (gen.issues, gen.reporters, gen.events, gen.slips):
        buffer.clear()


def _open_if_recent(slip: tuple, end: str) -> tuple:
    """A slip whose answer or expiry lies after the generation moment is still open."""
    done = slip[10] or slip[9]  # answered_at or expired_at
    if done is None or done < end:
        return slip
    created = datetime.strptime(slip[7], "%Y-%m-%dT%H:%M:%SZ")
    reminder = (created + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        *slip[:6],
        "open",
        slip[7],
        reminder if reminder < end else None,
        None,
        None,
        None,
        None,
        None,
        None,
    )


def ensure(args: argparse.Namespace) -> tuple[Path, float | None]:
    """The cached database for ``args`` (generated if missing); the generation time or None."""
    path = db_path(args)
    if path.exists() and not getattr(args, "force", False):
        return path, None
    OUT.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    return path, generate(args, path)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--issues", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=300)
    parser.add_argument("--grids", type=int, default=3000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--seed", type=int, default=7)


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        return {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("issues", "issue_reporters", "issue_events", "feedback_slips")
        }
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.gen_issues", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args()
    if args.grids % args.communities:
        parser.error("--grids must be a multiple of --communities")
    path, seconds = ensure(args)
    rows = counts(path)
    made = f"generated in {seconds:.1f} s" if seconds is not None else "cached, reused"
    size = path.stat().st_size / 2**20
    print(f"{path.relative_to(OUT.parents[1])}: {made}, {size:.0f} MiB")
    print(", ".join(f"{table} {n:,}" for table, n in rows.items()))


if __name__ == "__main__":
    main()
