"""``gridbot import registry FILE`` and ``gridbot export ledger`` (issue #4): the same services
the chat uses, run against the configured database without Telegram."""

from __future__ import annotations

import asyncio
import sys
from datetime import date
from pathlib import Path

from bot.app import build_features
from bot.config import Config
from bot.core.clock import SystemClock
from bot.core.errors import UserError
from bot.core.rendering import Renderer
from bot.issues.ledger import LedgerService
from bot.issues.ledger_xlsx import ledger_xlsx
from bot.registry.importing import ImportRefused, Problem
from bot.registry.service import RegistryService
from storage.backends import open_database


def problem_lines(problems: tuple[Problem, ...], t: Renderer) -> list[str]:
    """Each problem as one line, "第 4 行：…" (file-level problems without a row)."""
    lines = []
    for p in problems:
        message = t.text(f"registry.problem.{p.key}", **p.values)
        lines.append(
            t.text("registry.import.problem_line", row=p.row, message=message)
            if p.row
            else message
        )
    return lines


async def import_registry(config: Config, path: Path) -> int:
    """Import the sheet; print the summary, or every problem (exit status 1)."""
    t = Renderer(config.locale)
    db = await open_database(config.storage.database)
    try:
        service: RegistryService = (await build_features(db, SystemClock(), config, t)).registry
        data = await asyncio.to_thread(path.read_bytes)
        summary = await service.import_sheet(data, path.name, None)
    except ImportRefused as refused:
        # The chat's wording asks to send the file again; here it is a file on disk.
        print(t.text("registry.cli.refused", count=len(refused.problems)), file=sys.stderr)
        for line in problem_lines(refused.problems, t):
            print(f"  - {line}", file=sys.stderr)
        return 1
    finally:
        await db.close()
    print(
        t.text(
            "registry.cli.imported",
            added=summary.added,
            updated=summary.updated,
            unchanged=summary.unchanged,
        )
    )
    return 0


async def export_ledger(
    config: Config, start: date, end: date, out: Path, *, full_names: bool = False
) -> int:
    """Write the 台账 for ``start``..``end`` (inclusive) to ``out``."""
    t = Renderer(config.locale)
    db = await open_database(config.storage.database)
    try:
        service: LedgerService = (await build_features(db, SystemClock(), config, t)).ledger
        ledger = await service.book(start, end, full_names=full_names)
    except UserError as error:
        print(error.render(t.text), file=sys.stderr)
        return 1
    finally:
        await db.close()
    data = ledger_xlsx(ledger.rows, t, ledger.on_time, communities=config.several)
    await asyncio.to_thread(out.write_bytes, data)
    print(t.text("registry.cli.exported", count=len(ledger.rows), path=out))
    return 0
