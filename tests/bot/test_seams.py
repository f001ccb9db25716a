"""The seams of issue #12 items 3 and 4: presenters never touch storage, and features meet
only through declared interfaces.

Presenters render what services hand out and ask the Outbox what was delivered; the
import-linter contract "Presenters never import storage" forbids the imports, and these tests
catch what a contract cannot see (a repository reached through an attribute) and a new
presenter module or feature package that a contract does not list.
"""

from __future__ import annotations

import ast
import fnmatch
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.transport.outbox import Outbox
from storage.db import Database
from storage.transport.outbox import OutboxRepo
from tests.support.factories import FakeClock

ROOT = Path(__file__).resolve().parents[2]
PRESENTERS = sorted(p for p in (ROOT / "bot").glob("*/*.py") if p.stem.endswith("presenter"))
NOW = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_presenters_never_reach_a_repository_through_an_attribute() -> None:
    found = [
        f"{_module(path)}:{node.lineno}"
        for path in PRESENTERS
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in {"repo", "repos", "db"}
    ]
    assert found == []


# Packages under bot/ that are not features: shared parts every feature may use.
SHARED = {"core", "config", "transport", "templates"}


def _contract(name: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == name]
    return dict(contract)


def test_every_feature_package_is_under_the_independence_contract() -> None:
    """A new feature folder must join the contract, so its imports are declared too."""
    contract = _contract("Features are independent except through the interfaces declared here")
    features = {
        f"bot.{p.parent.name}"
        for p in (ROOT / "bot").glob("*/__init__.py")
        if p.parent.name not in SHARED
    }
    assert contract["type"] == "independence"
    assert {"bot.issues", "bot.todo"} <= features
    assert set(contract["modules"]) == features
    # Each declared edge leaves one feature for another (or is the one named core debt).
    for edge in contract["ignore_imports"]:
        source, target = (side.split(".")[1] for side in edge.split(" -> "))
        assert source != target, edge


def test_every_presenter_module_is_under_the_no_storage_contract() -> None:
    contract = _contract("Presenters never import storage")
    assert contract["forbidden_modules"] == ["storage"]
    patterns = contract["source_modules"]
    # import-linter's "*" stands for one whole module name, as fnmatch's does within a segment.
    uncovered = [
        _module(p)
        for p in PRESENTERS
        if not any(
            fnmatch.fnmatchcase(_module(p), pat) and _module(p).count(".") == pat.count(".")
            for pat in patterns
        )
    ]
    assert PRESENTERS and uncovered == []


async def test_outbox_answers_what_was_delivered(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "g.sqlite3")
    try:
        repo = OutboxRepo(db)
        outbox = Outbox(db, repo, FakeClock(NOW), lambda: None)
        await outbox.send_message(7, "a", ref="card:1:7")
        await outbox.send_message(8, "b", ref="card:1:8")
        assert await outbox.message_of("card:1:7") is None
        assert await outbox.delivered(["card:1:7", "card:1:8"]) == set()
        assert not await outbox.has_reached(7)
        first, _ = await repo.pending(100)
        await repo.mark_sent(first.id, 41, NOW, first.revision)
        assert await outbox.message_of("card:1:7") == (7, 41)
        assert await outbox.delivered(["card:1:7", "card:1:8"]) == {"card:1:7"}
        assert await outbox.has_reached(7) and not await outbox.has_reached(8)
    finally:
        await db.close()
