"""``${ENV_VAR}`` substitution in the config: secrets come from the environment."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse

BASE = "[platforms.sandbox]\n"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as err:
        parse(text, "hearth.toml")
    return [str(p) for p in err.value.problems]


def test_a_variable_fills_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_TEST_DB", "postgresql+asyncpg://hearth:s3cret@db/hearth")
    config = parse('[bot]\ndatabase = "${HEARTH_TEST_DB}"\nname = "Bot of ${HEARTH_TEST_NAME:-nobody}"\n' + BASE)
    assert config.bot.database == "postgresql+asyncpg://hearth:s3cret@db/hearth"
    assert config.bot.name == "Bot of nobody"


def test_a_fallback_is_used_when_the_variable_is_unset_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARTH_TEST_TZ", raising=False)
    assert parse('[bot]\ntimezone = "${HEARTH_TEST_TZ:-Asia/Shanghai}"\n' + BASE).bot.timezone == "Asia/Shanghai"
    monkeypatch.setenv("HEARTH_TEST_TZ", "")
    assert parse('[bot]\ntimezone = "${HEARTH_TEST_TZ:-Asia/Shanghai}"\n' + BASE).bot.timezone == "Asia/Shanghai"
    monkeypatch.setenv("HEARTH_TEST_TZ", "Europe/Riga")
    assert parse('[bot]\ntimezone = "${HEARTH_TEST_TZ:-Asia/Shanghai}"\n' + BASE).bot.timezone == "Europe/Riga"


def test_a_whole_reference_takes_the_type_of_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_TEST_PORT", "9090")
    monkeypatch.setenv("HEARTH_TEST_RATE", "3")
    text = '[platforms.sandbox]\nport = "${HEARTH_TEST_PORT}"\nmessages_per_second = "${HEARTH_TEST_RATE}"\n'
    sandbox = parse(text).platforms.sandbox
    assert sandbox is not None
    assert sandbox.port == 9090
    assert sandbox.messages_per_second == 3.0
    # a number-like value stays a string where the key wants a string
    monkeypatch.setenv("HEARTH_TEST_NAME", "12345")
    assert parse('[bot]\nname = "${HEARTH_TEST_NAME}"\n' + BASE).bot.name == "12345"


def test_a_value_that_is_not_of_the_type_is_an_error_that_hides_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_TEST_PORT", "eighty-eighty")
    found = problems('[platforms.sandbox]\nport = "${HEARTH_TEST_PORT}"\n')
    assert found == ["hearth.toml:2: platforms.sandbox.port: expected a whole number, got a string ('${...}')"]


def test_a_missing_variable_is_one_error_at_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARTH_TEST_NOPE", raising=False)
    found = problems('[bot]\nname = "x"\ndatabase = "${HEARTH_TEST_NOPE}"\n' + BASE)
    assert found == ["hearth.toml:3: bot.database: environment variable HEARTH_TEST_NOPE is not set"]


def test_dollar_dollar_writes_a_literal_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARTH_TEST_NOPE", raising=False)
    assert parse('[bot]\nname = "costs $${HEARTH_TEST_NOPE} $5"\n' + BASE).bot.name == "costs ${HEARTH_TEST_NOPE} $5"


def test_keys_are_never_substituted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTH_TEST_KEY", "name")
    found = problems('[bot]\n"${HEARTH_TEST_KEY}" = "x"\n' + BASE)
    assert len(found) == 1
    assert found[0].startswith("hearth.toml:2: bot.\"${HEARTH_TEST_KEY}\": unknown key '${HEARTH_TEST_KEY}'")
