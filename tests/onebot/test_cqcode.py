"""CQ codes: the protocol's escaping, parsing edge cases, and an encode/decode round trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.onebot import cqcode

# text with the characters the protocol escapes over-represented
tricky = st.text(alphabet=st.sampled_from("&[],=;#:CQ a1签到\n") | st.characters(), max_size=30)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
text_segments = st.builds(cqcode.text, tricky.filter(bool))
code_segments = st.builds(
    lambda kind, data: {"type": kind, "data": data},
    names.filter(lambda n: n != "text"),
    st.dictionaries(names, tricky, max_size=3),
)
messages = st.lists(text_segments | code_segments, max_size=8)


@given(messages)
def test_render_then_parse_gives_the_segments_back(segments: list[cqcode.Segment]) -> None:
    assert cqcode.parse(cqcode.render(segments)) == cqcode.normalize(segments)


@given(st.text(max_size=60) | tricky)
def test_any_string_parses_and_renders_stably(message: str) -> None:
    parsed = cqcode.parse(message)
    assert cqcode.parse(cqcode.render(parsed)) == parsed


@given(tricky)
def test_escape_unescape_round_trip(value: str) -> None:
    assert cqcode.unescape(cqcode.escape(value)) == value
    assert cqcode.unescape(cqcode.escape(value, comma=True)) == value
    assert "," not in cqcode.escape(value, comma=True) and "[" not in cqcode.escape(value)


def test_the_protocols_escapes() -> None:
    assert cqcode.escape("a&b[c]d,e") == "a&amp;b&#91;c&#93;d,e"
    assert cqcode.escape("a&b[c]d,e", comma=True) == "a&amp;b&#91;c&#93;d&#44;e"
    assert cqcode.unescape("&amp;#91;") == "&#91;"  # &amp; is undone last


def test_parse_follows_the_spec() -> None:
    assert cqcode.parse("hi [CQ:image,file=http://x/a.jpg?a=1&amp;b=2,type=flash]&#91;ok&#93;") == [
        cqcode.text("hi "),
        {"type": "image", "data": {"file": "http://x/a.jpg?a=1&b=2", "type": "flash"}},
        cqcode.text("[ok]"),
    ]
    assert cqcode.parse("[CQ:face,id=178,]") == [{"type": "face", "data": {"id": "178"}}]  # trailing comma
    assert cqcode.parse("[CQ:share,url=a=b&#44;c]") == [{"type": "share", "data": {"url": "a=b,c"}}]


def test_unclosed_or_broken_codes_stay_text() -> None:
    for message in ("[CQ:at,qq=1", "[CQ:]", "[CQ:at,qq=[1]]", "[[CQ:x]"):
        text = "".join(s["data"]["text"] for s in cqcode.parse(message) if s["type"] == "text")
        assert text  # nothing lost, nothing raised


def test_normalize_accepts_arrays_strings_and_junk() -> None:
    assert cqcode.normalize([{"type": "at", "data": {"qq": 10001000}}, {"type": "text", "data": {"text": "x"}}]) == [
        {"type": "at", "data": {"qq": "10001000"}},
        cqcode.text("x"),
    ]
    assert cqcode.normalize({"type": "text", "data": {"text": "one"}}) == [cqcode.text("one")]
    assert cqcode.normalize([1, None, {"type": 5}, {"type": "text"}]) == []
    assert cqcode.normalize(42) == []
