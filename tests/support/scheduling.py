"""How pytest-xdist shares the suite between its workers (``-n 3``, pyproject's addopts).

Every test is a work unit of its own, except the modules that share a costly module-scoped
resource: all of such a module's tests go to one worker, so the resource starts once. They are
named here, by file, because pytest-xdist's own ``--dist loadgroup`` stopped grouping under
pytest 9 (it renames ``item._nodeid``, which pytest 9 no longer reads): the browser tests were
spread over both workers, each starting its own chromium, the two competing for the CPUs.

The controlling process sees only test ids, never markers, so the modules are listed by path;
``check_groups`` fails the run when a module's ``xdist_group`` mark and this table disagree.
"""

from __future__ import annotations

from typing import Any

import pytest

# module (its path from the repository root) -> the group its tests run in together
TOGETHER: dict[str, str] = {
    # one chromium tab for the browser tests (its start costs ~1.7 s of CPU, each test ~1-2 s)
    "tests/playground/test_browser.py": "chromium",
    "tests/playground/test_browser_media.py": "chromium",
    # one fresh interpreter's list of loaded modules for both tests
    "tests/bot/test_app_imports.py": "fresh-interpreter",
}


# Tests that take a second or more of a worker (``python -m pytest --durations=40``), by module
# or by test: they go first, after the grouped modules, so that none starts near the end of a
# run and holds it up while the other workers have finished (issue #12 item 6).
SLOW_FIRST: tuple[str, ...] = (
    "tests/e2e/test_crash_safety.py",  # bots killed and restarted in processes of their own
    "tests/e2e/test_failover.py",  # PostgreSQL: standbys taking over
    "tests/e2e/test_district.py",  # PostgreSQL: several bots on one database
    "tests/bot/schedule/test_schedule.py::test_sweep_october_2026_opinion_days_follow_the_holiday_rule",
    "tests/bot/ops/test_backup.py::test_a_backup_taken_while_reports_are_written_restores_every_earlier_issue",
    "tests/e2e/test_durability.py::test_outbox_respects_flood_limits_and_delivers_everything",
    "tests/bot/test_cli.py",  # `python -m bot` in a subprocess, twice
    "tests/storage/test_rollups.py::test_rollups_equal_the_naive_computation_over_random_histories",
    "tests/storage/test_rollups.py::test_a_rebuild_rewrites_the_days_unless_they_are_the_zones_already",
    "tests/playground/test_web.py",  # a playground (its scene replayed) per test
    "tests/e2e/test_demo.py",
    "tests/sandbox/test_control.py::test_cli_runs_standalone",
    "tests/bot/ops/test_rollups_cli.py",
    "tests/bot/schedule/test_digest_rollups.py",
)


def is_slow(nodeid: str) -> bool:
    return any(nodeid == s or nodeid.startswith((s + "::", s + "[")) for s in SLOW_FIRST)


def slow_first(items: list[pytest.Item]) -> None:
    """Collect the slow tests first (otherwise in pytest's order): xdist hands out work in
    the order collected, after the grouped modules (the largest units)."""
    items.sort(key=lambda item: not is_slow(item.nodeid))


def group_of(nodeid: str) -> str | None:
    return TOGETHER.get(nodeid.split("::", 1)[0])


def unit_of(nodeid: str) -> str:
    """The work unit a test goes in: its module's group, or a unit of its own."""
    return group_of(nodeid) or nodeid


def check_groups(items: list[pytest.Item]) -> None:
    """Each test's ``xdist_group`` mark names the group ``TOGETHER`` gives its module."""
    wrong = []
    for item in items:
        marks = {str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args}
        listed = group_of(item.nodeid)
        if marks != ({listed} if listed else set()):
            wrong.append(f"{item.nodeid}: marked {sorted(marks)}, listed {listed}")
    if wrong:
        raise pytest.UsageError(
            "xdist groups out of step with tests/support/scheduling.py:\n" + "\n".join(wrong)
        )


def make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Load scheduling by units: a grouped module is one unit, any other test one of its own.
    xdist hands out the largest units first (``--loadscope-reorder``, its default), so the
    browser module starts at once on one worker while the others take the rest; a group that
    started last would finish alone after everything else."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupedScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

    return GroupedScheduling(config, log)
