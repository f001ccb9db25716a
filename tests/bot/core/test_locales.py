"""The English locale mirrors the Chinese reference: same templates, same catalogue keys."""

from __future__ import annotations

import re
import string

import pytest

from bot.core.rendering import REFERENCE_LOCALE, TEMPLATES, _catalogue, _environment

OTHER_LOCALE = "en"


def _templates(locale: str) -> set[str]:
    root = TEMPLATES / locale
    return {path.relative_to(root).as_posix() for path in root.rglob("*.html.j2")}


def _features(locale: str) -> set[str]:
    return {path.stem for path in (TEMPLATES / locale).glob("*.toml")}


def _placeholders(text: object) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(str(text)) if field}


def test_every_template_exists_in_both_locales() -> None:
    reference, other = _templates(REFERENCE_LOCALE), _templates(OTHER_LOCALE)
    assert sorted(reference - other) == [], f"missing in {OTHER_LOCALE}"
    assert sorted(other - reference) == [], f"missing in {REFERENCE_LOCALE}"


def test_every_catalogue_exists_in_both_locales() -> None:
    assert _features(REFERENCE_LOCALE) == _features(OTHER_LOCALE)


@pytest.mark.parametrize("feature", sorted(_features(REFERENCE_LOCALE)))
def test_catalogue_keys_match(feature: str) -> None:
    reference, other = _catalogue(REFERENCE_LOCALE, feature), _catalogue(OTHER_LOCALE, feature)
    assert sorted(set(reference) - set(other)) == [], f"not in {OTHER_LOCALE}"
    assert sorted(set(other) - set(reference)) == [], f"not in {REFERENCE_LOCALE}"


@pytest.mark.parametrize("feature", sorted(_features(REFERENCE_LOCALE)))
def test_catalogue_placeholders_match(feature: str) -> None:
    reference, other = _catalogue(REFERENCE_LOCALE, feature), _catalogue(OTHER_LOCALE, feature)
    differing = {
        key: (_placeholders(reference[key]), _placeholders(other[key]))
        for key in set(reference) & set(other)
        if _placeholders(reference[key]) != _placeholders(other[key])
    }
    assert differing == {}


@pytest.mark.parametrize("name", sorted(_templates(OTHER_LOCALE)))
def test_template_parses(name: str) -> None:
    env = _environment()
    source, _, _ = env.loader.get_source(env, f"{OTHER_LOCALE}/{name}")
    env.parse(source)
    # Includes stay inside the locale, so an English message never mixes in Chinese parts.
    for included in re.findall(r"{%-?\s*include\s+\"([^\"]+)\"", source):
        assert included.startswith(f"{OTHER_LOCALE}/"), included
        env.get_template(included)


# What a person must type as it is, whatever the bot's language: the hashtags the bot listens
# for and the agenda-item prefix of a meeting suggestion (bot/consult/meetings_model.py).
TYPED_AS_IS = ("#报事", "#求助", "#投诉", "#举报", "#建议", "#咨询", "#通知", "#接龙", "议题1：")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _english_sources() -> list[tuple[str, str]]:
    """Every English template's source and every English catalogue text, with their names."""
    root = TEMPLATES / OTHER_LOCALE
    found = [(p.relative_to(root).as_posix(), p.read_text("utf-8")) for p in root.rglob("*.j2")]
    for feature in _features(OTHER_LOCALE):
        found += [(f"{feature}.{k}", str(v)) for k, v in _catalogue(OTHER_LOCALE, feature).items()]
    return found


def test_english_texts_have_no_chinese_but_what_people_type() -> None:
    chinese = {}
    for name, text in _english_sources():
        for token in TYPED_AS_IS:
            text = text.replace(token, "")
        text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)  # Jinja comments are for developers
        if _CJK.search(text):
            chinese[name] = _CJK.findall(text)
    assert chinese == {}
