"""The sandbox's pure ``decode``: every op, every kind of bad frame, the length limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sandbox.decode import MAX_DATA, MAX_TEXT, BadFrame, decode
from bot.events import EventKind, Invite, Text

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
TITLES = {"g1": "Coffee lovers"}


def test_say_is_a_message_in_the_group_from_the_member() -> None:
    event = decode({"op": "say", "chat": "g1", "user": "alice", "text": "/checkin"}, "7", AT, TITLES)
    assert event.kind is EventKind.MESSAGE_CREATED
    assert event.id == "msg:7" and event.message_id == "7"
    assert (event.platform, event.self_id, event.at) == ("sandbox", "hearth", AT)
    assert event.chat_key == "sandbox:g1" and event.chat is not None and event.chat.title == "Coffee lovers"
    assert event.member_key == "sandbox:alice" and event.user is not None and event.user.name == "alice"
    assert event.message == (Text("/checkin"),)
    assert event.text == "/checkin"


def test_a_display_name_is_kept_and_unknown_groups_are_titled_by_id() -> None:
    event = decode({"op": "say", "chat": "g9", "user": "bob", "name": "Bob 🍵", "text": "签到"}, "1", AT, TITLES)
    assert event.user is not None and event.user.name == "Bob 🍵"
    assert event.chat is not None and event.chat.title == "g9"
    assert event.text == "签到"


def test_the_same_frame_and_platform_id_give_the_same_event_id() -> None:
    frame = {"op": "say", "chat": "g1", "user": "alice", "text": "hi"}
    assert decode(frame, "42", AT, TITLES).dedup_key == decode(dict(frame), "42", AT, TITLES).dedup_key
    assert decode(frame, "42", AT, TITLES).id != decode(frame, "43", AT, TITLES).id


def test_join_without_and_with_an_invite() -> None:
    plain = decode({"op": "join", "chat": "g1", "user": "bob"}, "3", AT, TITLES)
    assert plain.kind is EventKind.MEMBER_JOINED and plain.id == "join:3" and plain.invite is None

    known = decode({"op": "join", "chat": "g1", "user": "bob", "invite": "AbC-12"}, "4", AT, TITLES, "sandbox:alice")
    assert known.invite == Invite(code="AbC-12", creator="sandbox:alice", confidence="exact")

    unknown = decode({"op": "join", "chat": "g1", "user": "bob", "invite": "nope"}, "5", AT, TITLES)
    assert unknown.invite == Invite(code="nope", creator=None, confidence="unknown")


def test_leave() -> None:
    event = decode({"op": "leave", "chat": "g1", "user": "bob"}, "9", AT, TITLES)
    assert event.kind is EventKind.MEMBER_LEFT and event.id == "leave:9" and event.member_key == "sandbox:bob"


@pytest.mark.parametrize("message", [12, "12", None])
def test_press_names_the_button_data_and_the_message(message: object) -> None:
    frame = {"op": "press", "chat": "g1", "user": "carol", "data": "quiz:1:b", "message": message}
    event = decode(frame, "cb1", AT, TITLES)
    assert event.kind is EventKind.BUTTON_CLICKED
    assert event.id == "press:cb1" and event.callback_id == "cb1"
    assert event.button_data == "quiz:1:b"
    assert event.message_id == (None if message is None else "12")


BAD_FRAMES = {
    "not an object (list)": ["say", "g1"],
    "not an object (string)": "say",
    "not an object (null)": None,
    "no op": {"chat": "g1", "user": "alice", "text": "hi"},
    "unknown op": {"op": "shout", "chat": "g1", "user": "alice", "text": "hi"},
    "op of the wrong type": {"op": ["say"], "chat": "g1", "user": "alice", "text": "hi"},
    "no chat": {"op": "say", "user": "alice", "text": "hi"},
    "chat with a space": {"op": "say", "chat": "g 1", "user": "alice", "text": "hi"},
    "chat of 41 characters": {"op": "say", "chat": "g" * 41, "user": "alice", "text": "hi"},
    "chat as a number": {"op": "say", "chat": 1, "user": "alice", "text": "hi"},
    "no user": {"op": "say", "chat": "g1", "text": "hi"},
    "user with markup": {"op": "say", "chat": "g1", "user": "<b>x</b>", "text": "hi"},
    "user as a path": {"op": "say", "chat": "g1", "user": "../admin", "text": "hi"},
    "empty user": {"op": "say", "chat": "g1", "user": "", "text": "hi"},
    "no text": {"op": "say", "chat": "g1", "user": "alice"},
    "blank text": {"op": "say", "chat": "g1", "user": "alice", "text": "  \n "},
    "text as a number": {"op": "say", "chat": "g1", "user": "alice", "text": 5},
    "text too long": {"op": "say", "chat": "g1", "user": "alice", "text": "x" * (MAX_TEXT + 1)},
    "name as a number": {"op": "say", "chat": "g1", "user": "alice", "name": 7, "text": "hi"},
    "name too long": {"op": "say", "chat": "g1", "user": "alice", "name": "n" * 61, "text": "hi"},
    "invite as a number": {"op": "join", "chat": "g1", "user": "bob", "invite": 123},
    "invite too long": {"op": "join", "chat": "g1", "user": "bob", "invite": "c" * 65},
    "press without data": {"op": "press", "chat": "g1", "user": "bob"},
    "press with empty data": {"op": "press", "chat": "g1", "user": "bob", "data": ""},
    "press with long data": {"op": "press", "chat": "g1", "user": "bob", "data": "d" * (MAX_DATA + 1)},
    "press with data object": {"op": "press", "chat": "g1", "user": "bob", "data": {"x": 1}},
    "press naming a message object": {"op": "press", "chat": "g1", "user": "bob", "data": "x", "message": {}},
    "press naming message true": {"op": "press", "chat": "g1", "user": "bob", "data": "x", "message": True},
    "press naming a huge message id": {"op": "press", "chat": "g1", "user": "bob", "data": "x", "message": "9" * 21},
}


@pytest.mark.parametrize("frame", list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
def test_a_bad_frame_is_refused_with_a_short_reason(frame: object) -> None:
    with pytest.raises(BadFrame) as caught:
        decode(frame, "1", AT, TITLES)  # type: ignore[arg-type]
    reason = str(caught.value)
    assert 0 < len(reason) <= 120
    assert "x" * 50 not in reason and "<b>" not in reason  # never echoes the member's input back whole


def test_limits_are_inclusive() -> None:
    longest = "文" * MAX_TEXT
    assert decode({"op": "say", "chat": "c" * 40, "user": "u" * 40, "text": longest}, "1", AT, {}).text == longest
    frame = {"op": "press", "chat": "g1", "user": "bob", "data": "d" * MAX_DATA, "message": "9" * 20}
    assert decode(frame, "2", AT, TITLES).button_data == "d" * MAX_DATA
    named = {"op": "join", "chat": "g1", "user": "bob", "name": "n" * 60, "invite": "c" * 64}
    event = decode(named, "3", AT, TITLES)
    assert event.user is not None and event.user.name == "n" * 60
    assert event.invite is not None and event.invite.code == "c" * 64


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
frames = st.fixed_dictionaries(
    {},
    optional={
        "op": st.sampled_from(["say", "join", "leave", "press"]) | json_values,
        "chat": st.sampled_from(["g1", "g 1", ""]) | json_values,
        "user": st.sampled_from(["alice", "bob", "../x"]) | json_values,
        "text": json_values,
        "name": json_values,
        "invite": json_values,
        "data": json_values,
        "message": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(frame=frames | json_values)
def test_any_json_gives_an_event_or_bad_frame_never_another_error(frame: object) -> None:
    try:
        event = decode(frame, "1", AT, TITLES)  # type: ignore[arg-type]
    except BadFrame as err:
        assert 0 < len(str(err)) <= 120
    else:
        assert event.chat_key is not None and event.member_key is not None
