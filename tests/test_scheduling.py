"""The suite's own distribution over pytest-xdist workers (tests/support/scheduling.py)."""

from __future__ import annotations

from tests.bot import test_app_imports
from tests.playground import test_browser
from tests.support import scheduling


def test_a_grouped_module_is_one_unit_and_any_other_test_its_own() -> None:
    units = scheduling.unit_of
    browser = "tests/playground/test_browser.py::test_the_large_font_switch_on_a_phone"
    other = "tests/playground/test_browser.py::test_the_issue_loop_clicked_through_by_four_people"
    assert units(browser) == units(other) == "chromium"
    single = "tests/e2e/test_bind.py::test_civic_pushes_reach_bound_and_upgraded_groups_once"
    assert units(single) == single
    assert units(single + "[x]") == single + "[x]"


def test_the_browser_module_is_marked_with_the_group_it_is_listed_under() -> None:
    marks = [m for m in test_browser.pytestmark if m.name == "xdist_group"]
    assert [m.args[0] for m in marks] == ["chromium"]
    assert scheduling.TOGETHER["tests/playground/test_browser.py"] == "chromium"


def test_the_fresh_interpreter_module_is_one_unit() -> None:
    """Its tests share one interpreter's report, made once per worker."""
    assert test_app_imports.pytestmark.args == ("fresh-interpreter",)
    assert scheduling.unit_of("tests/bot/test_app_imports.py::x") == "fresh-interpreter"
