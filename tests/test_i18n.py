"""Message templates: every language has every key, and substitution is safe."""

from __future__ import annotations

import pytest

from bot import i18n


def test_every_language_has_every_english_key_with_the_same_placeholders() -> None:
    english = i18n.catalog("en")
    for language in i18n.LANGUAGES:
        catalog = i18n.catalog(language)
        assert set(catalog) == set(english), language
        for key, template in english.items():
            assert i18n.placeholders(catalog[key]) == i18n.placeholders(template), (language, key)


@pytest.mark.parametrize("template", ["{user.__class__}", "{0}", "{x[0]}", "{x!r}", "{x:>10}", "{", "}"])
def test_templates_that_reach_into_objects_are_refused(template: str) -> None:
    with pytest.raises(i18n.TemplateError):
        i18n.placeholders(template)


def test_member_text_is_inserted_verbatim_never_reparsed() -> None:
    assert i18n.render("hi {name}", {"name": "{name.__class__}"}) == "hi {name.__class__}"
    assert i18n.render("{a} {b}", {"a": 1}) == "1 {b}"


def test_duration_rounds_up_to_the_minute() -> None:
    assert i18n.duration("en", 3 * 3600 + 11 * 60 + 1) == "3 h 12 min"
    assert i18n.duration("zh", 59) == "1 分钟"
    assert i18n.duration("ru", 7200) == "2 ч 0 мин"
