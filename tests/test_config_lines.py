"""bot.config_lines finds the line of every TOML key, so config errors can name it."""

from __future__ import annotations

import json
import re
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config_lines import context_at, key_lines, line_of


def lines_of(text: str) -> dict:
    tomllib.loads(text)  # every sample is valid TOML
    return key_lines(text)


def test_table_headers_and_their_keys() -> None:
    found = lines_of('[bot]\nname = "x"\n\n[platforms.sandbox]\nport = 1\n')
    assert found[("bot",)] == 1
    assert found[("bot", "name")] == 2
    assert found[("platforms",)] == 4
    assert found[("platforms", "sandbox")] == 4
    assert found[("platforms", "sandbox", "port")] == 5


def test_arrays_of_tables_are_counted_per_path() -> None:
    text = "\n".join(
        [
            "[[campaigns.a.streak_rewards]]",  # 1
            "days = 7",  # 2
            "[[campaigns.b.streak_rewards]]",  # 3
            "days = 1",  # 4
            "[[campaigns.a.streak_rewards]]",  # 5
            "days = 30",  # 6
            "bonus = 1",  # 7
        ]
    )
    found = lines_of(text)
    assert found[("campaigns", "a", "streak_rewards", 0, "days")] == 2
    assert found[("campaigns", "b", "streak_rewards", 0, "days")] == 4
    assert found[("campaigns", "a", "streak_rewards", 1)] == 5
    assert found[("campaigns", "a", "streak_rewards", 1, "bonus")] == 7
    assert found[("campaigns", "a", "streak_rewards")] == 1


def test_nested_arrays_of_tables_belong_to_the_current_element() -> None:
    text = "[[groups]]\nid = 1\n[[groups.rules]]\nx = 1\n"
    text += "[[groups]]\nid = 2\n[[groups.rules]]\nx = 2\n[groups.extra]\ny = 3\n"
    found = lines_of(text)
    assert found[("groups", 0, "rules", 0, "x")] == 4
    assert found[("groups", 1, "id")] == 6
    assert found[("groups", 1, "rules", 0, "x")] == 8
    assert found[("groups", 1, "extra", "y")] == 10


def test_dotted_keys_record_every_prefix() -> None:
    found = lines_of('title = "t"\nplatforms.sandbox.port = 8080\n[campaigns.m]\ntexts.ru = "x"\n')
    assert found[("platforms",)] == 2
    assert found[("platforms", "sandbox")] == 2
    assert found[("platforms", "sandbox", "port")] == 2
    assert found[("campaigns", "m", "texts", "ru")] == 4


def test_quoted_keys_are_unquoted_and_unescaped() -> None:
    text = '[campaigns."summer sale"]\n"a.b" = 1\n\'lit.\\eral\' = 2\n"say \\"hi\\"" = 3\n"\\u00e9t\\u00e9" = 4\n'
    found = lines_of(text)
    assert found[("campaigns", "summer sale")] == 1
    assert found[("campaigns", "summer sale", "a.b")] == 2
    assert found[("campaigns", "summer sale", "lit.\\eral")] == 3
    assert found[("campaigns", "summer sale", 'say "hi"')] == 4
    assert found[("campaigns", "summer sale", "été")] == 5


def test_multi_line_arrays_map_each_element_to_its_line() -> None:
    text = "\n".join(
        [
            "groups = [",  # 1
            '  "sandbox:g1",  # a comment, with ] and ,',  # 2
            "",  # 3
            '  "sandbox:g2", "sandbox:g3",',  # 4
            "  [1,",  # 5
            "   2],",  # 6
            "]",  # 7
            "after = 1",  # 8
        ]
    )
    found = lines_of(text)
    assert found[("groups",)] == 1
    assert [found[("groups", i)] for i in range(4)] == [2, 4, 4, 5]
    assert found[("groups", 3, 1)] == 6
    assert found[("after",)] == 8


def test_multi_line_strings_hide_what_looks_like_keys_and_headers() -> None:
    text = "\n".join(
        [
            "[a]",  # 1
            'text = """',  # 2
            "fake = 1",  # 3
            "[not.a.table]",  # 4
            'ends with quotes""""',  # 5
            "lit = '''",  # 6
            "x = '' still inside",  # 7
            "'''",  # 8
            'escaped = """a \\""" b"""',  # 9
            "real = 2",  # 10
        ]
    )
    found = lines_of(text)
    assert found[("a", "text")] == 2
    assert found[("a", "lit")] == 6
    assert found[("a", "escaped")] == 9
    assert found[("a", "real")] == 10
    assert ("a", "fake") not in found and ("not",) not in found and ("a", "x") not in found


def test_inline_tables_and_inline_tables_in_arrays() -> None:
    text = "\n".join(
        [
            "[platforms]",  # 1
            'sandbox = { host = "127.0.0.1", port = 70000, limits.burst = 3 }',  # 2
            "[campaigns.d]",  # 3
            "streak_rewards = [",  # 4
            "  { days = 7, points = 50 },",  # 5
            '  { days = 30, "points" = -1, extra = { deep = [1, 2] } },',  # 6
            "]",  # 7
        ]
    )
    found = lines_of(text)
    assert found[("platforms", "sandbox", "port")] == 2
    assert found[("platforms", "sandbox", "limits", "burst")] == 2
    assert found[("campaigns", "d", "streak_rewards", 1)] == 6
    assert found[("campaigns", "d", "streak_rewards", 1, "points")] == 6
    assert found[("campaigns", "d", "streak_rewards", 1, "extra", "deep", 1)] == 6
    assert found[("campaigns", "d", "streak_rewards", 0, "days")] == 5


def test_line_of_falls_back_to_the_longest_known_prefix() -> None:
    found = lines_of("[campaigns.morning]\ntype = 'announcement'\n")
    assert line_of(found, ("campaigns", "morning", "schedule")) == 1
    assert line_of(found, ("campaigns", "morning", "type")) == 2
    assert line_of(found, ("platforms",)) is None


def test_context_of_a_broken_line() -> None:
    text = '[bot]\nlanguage = "en"\nname = "Hearth\n\n[[groups]]\n[[groups]]\nid = \n'
    assert context_at(text, 3) == ("bot", "name")
    assert context_at(text, 7) == ("groups", 1, "id")
    assert context_at("[bot\n", 1) == ()
    assert context_at('[bot]\nname "x"\n', 2) == ("bot",)  # no "=": not a key yet
    in_array = '[campaigns.d]\naliases = [\n  "a",\n  "b" "c",\n]\n'
    assert context_at(in_array, 4) == ("campaigns", "d", "aliases")


_PIECES = [*"[]{}\"'=.,#\n \\abc123", '"""', "'''", "[[", "]]", "a = "]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=80).map("".join))
def test_any_text_is_scanned_without_error(text: str) -> None:
    key_lines(text)
    for line in range(1, text.count("\n") + 2):
        context_at(text, line)


_CHARS = st.characters(blacklist_characters="\x7f", blacklist_categories=("Cs",))  # what TOML strings may hold
_KEY = st.one_of(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), st.text(_CHARS, min_size=1, max_size=8))
_SCALAR = st.one_of(st.integers(-(2**63), 2**63 - 1), st.booleans(), st.text(_CHARS, max_size=12))


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        _KEY,
        st.tuples(
            st.dictionaries(_KEY, st.one_of(_SCALAR, st.lists(_SCALAR, max_size=3)), max_size=4),
            st.integers(min_value=0, max_value=2),
        ),
        max_size=4,
    )
)
def test_every_written_key_is_found_on_the_line_it_was_written(tables) -> None:
    """Write tables (some as arrays of tables, arrays spread over lines), then find every key."""
    out: list[str] = []
    expected: dict[tuple, int] = {}

    def key(k: str) -> str:
        return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k, ensure_ascii=False)

    def body(path: tuple, values: dict) -> None:
        for k, v in values.items():
            if isinstance(v, list):
                out.append(f"{key(k)} = [")
                expected[(*path, k)] = len(out)
                for i, item in enumerate(v):
                    out.append(f"  {json.dumps(item, ensure_ascii=False)},  # element {i}")
                    expected[(*path, k, i)] = len(out)
                out.append("]")
            else:
                out.append(f"{key(k)} = {json.dumps(v, ensure_ascii=False)}")
                expected[(*path, k)] = len(out)

    for name, (values, copies) in tables.items():
        if copies == 0:
            out.append(f"[{key(name)}]")
            expected[(name,)] = len(out)
            body((name,), values)
        for i in range(copies):
            out.append(f"[[{key(name)}]]")
            expected.setdefault((name,), len(out))
            expected[(name, i)] = len(out)
            body((name, i), values)
    text = "\n".join(out)
    tomllib.loads(text)
    found = key_lines(text)
    for path, line in expected.items():
        assert found.get(path) == line, (path, text)
