"""The suite's own distribution over pytest-xdist workers (tests/support/scheduling.py)."""

from __future__ import annotations

from pathlib import Path

from tests.bot import test_app_imports
from tests.playground import test_browser, test_browser_media
from tests.support import scheduling


def test_a_grouped_module_is_one_unit_and_any_other_test_its_own() -> None:
    units = scheduling.unit_of
    browser = "tests/playground/test_browser.py::test_the_large_font_switch_on_a_phone"
    other = "tests/playground/test_browser.py::test_the_issue_loop_clicked_through_by_four_people"
    assert units(browser) == units(other) == "chromium"
    single = "tests/e2e/test_bind.py::test_civic_pushes_reach_bound_and_upgraded_groups_once"
    assert units(single) == single
    assert units(single + "[x]") == single + "[x]"


def test_the_browser_modules_are_marked_with_the_groups_they_are_listed_under() -> None:
    for module, group in ((test_browser, "chromium"), (test_browser_media, "chromium")):
        marks = [m for m in module.pytestmark if m.name == "xdist_group"]
        assert [m.args[0] for m in marks] == [group]
        assert (
            scheduling.TOGETHER[f"tests/playground/{module.__name__.rsplit('.')[-1]}.py"] == group
        )
    media = "tests/playground/test_browser_media.py::test_a_voice_note_is_sent_heard_and_passed"
    assert scheduling.unit_of(media) == "chromium"  # both modules share the one tab


def test_the_fresh_interpreter_module_is_one_unit() -> None:
    """Its tests share one interpreter's report, made once per worker."""
    assert test_app_imports.pytestmark.args == ("fresh-interpreter",)
    assert scheduling.unit_of("tests/bot/test_app_imports.py::x") == "fresh-interpreter"


def test_every_slow_test_listed_exists() -> None:
    """An entry naming a test that was renamed or moved would quietly stop counting."""
    root = Path(__file__).resolve().parent.parent
    for entry in scheduling.SLOW_FIRST:
        path, _, name = entry.partition("::")
        assert (root / path).is_file(), entry
        assert not name or f"def {name}(" in (root / path).read_text(encoding="utf-8"), entry


def test_slow_tests_are_collected_first_in_their_own_order() -> None:
    class Item:
        def __init__(self, nodeid: str) -> None:
            self.nodeid = nodeid

    crash = "tests/e2e/test_crash_safety.py::test_crash_safety_sigkill_loses_nothing"
    rollups = "tests/storage/test_rollups.py::test_rollups_equal_the_naive_computation"
    rollups += "_over_random_histories[0-Asia/Shanghai]"
    quick = ["tests/bot/a.py::test_a", "tests/bot/b.py::test_b"]
    items = [Item(quick[0]), Item(rollups), Item(quick[1]), Item(crash)]
    scheduling.slow_first(items)  # type: ignore[arg-type]
    assert [i.nodeid for i in items] == [rollups, crash, *quick]
