"""Every string a person reads comes from here: Jinja2 templates and per-feature catalogues.

Layout: ``bot/templates/<locale>/<feature>/<name>.html.j2`` for messages (autoescaped for
Telegram's HTML parse mode, so user text is always data) and
``bot/templates/<locale>/<feature>.toml`` for short strings such as button labels, looked up
as ``"<feature>.<key>"``. A key missing in the
active locale falls back to zh_CN, the reference locale.

Jinja2 is imported, and its environment made, at the first template rendered rather than at
start-up: most updates a bot sees need no message at all, and the first one should not wait for
it (issue #15 item 5). Templates are compiled once each and cached by the environment.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

TEMPLATES = Path(__file__).parents[1] / "templates"
REFERENCE_LOCALE = "zh_CN"
log = logging.getLogger(__name__)


class Renderer:
    """Renders templates and catalogue strings for one locale."""

    def __init__(self, locale: str = REFERENCE_LOCALE) -> None:
        if not (TEMPLATES / locale).is_dir():
            raise ValueError(f"unknown locale {locale!r}")
        self.locale = locale

    def render(self, name: str, /, **context: Any) -> str:
        """Render ``<feature>/<name>`` to Telegram HTML, trimmed of surrounding blank lines."""
        template = _template(self.locale, name)
        for key, value in context.items():
            if type(value) is dict:
                context[key] = _Fields(value)
        return template.render(t=self.text, **context).strip()

    def text(self, key: str, /, **values: Any) -> str:
        """Look up a short catalogue string ``"<feature>.<key>"`` and fill ``{placeholders}``."""
        feature, _, item = key.partition(".")
        for locale in (self.locale, REFERENCE_LOCALE):
            found = _catalogue(locale, feature).get(item)
            if found is not None:
                return str(found).format(**values) if values else str(found)
        raise KeyError(f"no catalogue string {key!r}")

    def join(self, items: Iterable[object]) -> str:
        """A list as this locale writes it inline: 甲、乙、丙 / A, B, C."""
        return self.text("app.list_joiner").join(str(item) for item in items)

    def month_day(self, day: date) -> str:
        """A date without its year: 3月20日 / 3/20."""
        return self.text("app.month_day", month=day.month, day=day.day)


class _Fields(dict[str, Any]):
    """A dict whose keys read as attributes too. Jinja reads ``issue.number`` by trying the
    attribute first and the key only after an AttributeError, an exception per field in
    every message rendered; here the attribute lookup finds the key (what the template sees
    is the same: a key, or a dict method of that name as before)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def local_datetime(t: Renderer, key: str, moment: datetime | None, zone: tzinfo) -> str | None:
    """``moment`` on the wall clock of ``zone``, through the catalogue format ``key`` (which
    takes ``month``, ``day``, ``hour`` and ``minute``); None stays None."""
    if moment is None:
        return None
    local = moment.astimezone(zone)
    return t.text(key, month=local.month, day=local.day, hour=local.hour, minute=local.minute)


@cache
def _template(locale: str, name: str) -> jinja2.Template:
    """The template of ``name`` in ``locale``, else in the reference locale, looked up once:
    a report renders two or three, and each lookup asked the loader again (issue #15 item 6's
    profile: a stat of the file per render, and for a locale without its own copy an
    exception first)."""
    return _environment().select_template(
        [f"{locale}/{name}.html.j2", f"{REFERENCE_LOCALE}/{name}.html.j2"]
    )


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        bytecode_cache=_bytecode_cache(),
        # The templates ship with the package and do not change while the bot runs.
        auto_reload=False,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    return env


def _bytecode_cache(directory: str | None = None) -> jinja2.BytecodeCache | None:
    """Compiled templates kept on disk between runs (in ``directory``, by default Jinja's
    per-user folder in the temporary directory), or None when that folder cannot be made.

    Why: compiling a template (lexing, parsing, generating Python) costs ~1.3 ms, loading it
    compiled ~0.1 ms (192 templates: 235-282 ms against 19 ms here). The first report after a
    start compiled its acknowledgement and card on the event loop, one stall of 20-35 ms for
    the messages behind it (bench.latency with BENCH_LOOPWATCH=1). Entries are keyed by the
    template's name and a checksum of its source, and Jinja checks the Python version, so a
    changed template or interpreter is compiled again, never served stale."""
    import jinja2

    class QuietCache(jinja2.FileSystemBytecodeCache):
        """A full disk or a folder gone read-only costs a compilation, never a message."""

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except OSError as exc:
                log.warning("compiled template not read (%s); compiling it", exc)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError as exc:
                log.warning("compiled template not kept (%s)", exc)

    try:
        return QuietCache(directory)
    except (OSError, RuntimeError) as exc:  # Jinja raises RuntimeError for an unsafe folder
        log.warning("templates compiled at every start: no cache folder (%s)", exc)
        return None


@cache
def _catalogue(locale: str, feature: str) -> dict[str, Any]:
    """Flatten ``<locale>/<feature>.toml``: ``[buttons] accept`` becomes ``buttons.accept``."""
    path = TEMPLATES / locale / f"{feature}.toml"
    if not path.is_file():
        return {}
    flat: dict[str, Any] = {}

    def walk(prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                walk(f"{prefix}{key}.", value)
            else:
                flat[f"{prefix}{key}"] = value

    walk("", tomllib.loads(path.read_text(encoding="utf-8")))
    return flat
