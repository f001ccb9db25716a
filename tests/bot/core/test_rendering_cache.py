"""Compiled templates are kept on disk between processes, and a cache that fails costs a
compilation, never a message (bot/core/rendering.py, _bytecode_cache)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import jinja2
import pytest

from bot.core.rendering import TEMPLATES, _bytecode_cache


def _env(directory: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=_bytecode_cache(str(directory)),
        autoescape=True,
    )


def _a_template() -> str:
    return next(
        path.relative_to(TEMPLATES).as_posix() for path in sorted(TEMPLATES.rglob("*.html.j2"))
    )


def test_a_template_compiled_once_is_loaded_compiled_by_the_next_environment(
    tmp_path: Path,
) -> None:
    name = _a_template()
    source = _env(tmp_path).get_template(name)
    kept = list(tmp_path.iterdir())
    assert len(kept) == 1, "the compiled template is written to the cache folder"

    compiled = jinja2.Environment.compile
    calls: list[str | None] = []

    def counting(self: jinja2.Environment, *args: object, **kwargs: object) -> object:
        calls.append(str(args[1]) if len(args) > 1 else None)
        return compiled(self, *args, **kwargs)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jinja2.Environment, "compile", counting)
        again = _env(tmp_path).get_template(name)
    assert calls == [], "the second environment loads the compiled code, compiling nothing"
    assert again.name == source.name and sorted(again.blocks) == sorted(source.blocks)


def test_a_cache_folder_gone_costs_a_compilation_and_a_warning_not_a_render(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    env = _env(folder)
    shutil.rmtree(folder)  # the folder vanished (a cleaned /tmp) after the bot started
    with caplog.at_level(logging.WARNING, logger="bot.core.rendering"):
        template = env.get_template(_a_template())
    assert template is not None
    assert "compiled template not kept" in caplog.text
