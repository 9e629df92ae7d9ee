"""``decode`` on recorded payloads of every event the adapter handles."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.qq.decode import decode
from bot.events import EventKind, Invite, Mention, Text
from tests.qq.payloads import GROUP, MEMBER, recorded

APP = "102000000"
NOW = datetime(2026, 12, 1, 2, 0, 30, tzinfo=UTC)


def test_group_at_message_is_a_message_without_the_leading_mention() -> None:
    inc = decode(recorded("group_at_message"), APP, NOW)
    assert inc is not None and inc.event is not None
    e = inc.event
    assert e.kind is EventKind.MESSAGE_CREATED
    assert e.id == "msg:ROBOT1.0_veTm1Wq8Hs2Y3jvVXbEdVw!!"
    assert (e.chat_key, e.member_key) == (f"qq:{GROUP}", f"qq:{MEMBER}")
    assert e.text == "签到" and e.message == (Text("签到"),)
    assert e.at == datetime(2026, 12, 1, 2, 0, tzinfo=UTC) and e.admin is False
    assert e.user is not None and e.user.name == "小明"
    assert inc.window is not None
    assert (inc.window.param, inc.window.value, inc.window.scope, inc.window.target) == (
        "msg_id",
        "ROBOT1.0_veTm1Wq8Hs2Y3jvVXbEdVw!!",
        "group",
        GROUP,
    )
    assert inc.identity is not None and inc.identity.union == "UNION0A1B2C3D4E5F"


def test_the_full_message_copy_of_an_at_message_is_the_same_event() -> None:
    at = decode(recorded("group_at_message"), APP, NOW)
    full = decode(recorded("group_message"), APP, NOW)
    assert at is not None and full is not None and at.event is not None and full.event is not None
    assert full.event.id == at.event.id
    assert full.event.text == "签到"  # the leading <@bot> mention is stripped too


def test_owner_is_admin_and_other_mentions_are_kept() -> None:
    inc = decode(recorded("group_message_admin_mentions"), APP, NOW)
    assert inc is not None and inc.event is not None
    assert inc.event.admin is True
    assert inc.event.message == (
        Text("welcome "),
        Mention("A1B2C3D4E5F60718293A4B5C6D7E8F90", "小红"),
        Text(" to the group"),
    )


def test_c2c_message_is_a_direct_message_that_opens_a_private_window() -> None:
    inc = decode(recorded("c2c_message"), APP, NOW)
    assert inc is not None and inc.event is not None
    assert inc.event.chat is None and inc.event.member_key == "qq:9D8C7B6A5F4E3D2C1B0A998877665544"
    assert inc.window is not None and (inc.window.scope, inc.window.param) == ("c2c", "msg_id")
    assert inc.identity is not None and (inc.identity.scope, inc.identity.union) == ("user", "UNION0A1B2C3D4E5F")


def test_member_add_is_a_join_with_unknown_attribution_and_an_event_id_window() -> None:
    inc = decode(recorded("member_add"), APP, NOW)
    assert inc is not None and inc.event is not None
    e = inc.event
    assert e.kind is EventKind.MEMBER_JOINED and e.member_key == "qq:5566778899AABBCCDDEEFF0011223344"
    assert e.invite == Invite(via="unknown", confidence="unknown")
    assert e.id == "evt:GROUP_MEMBER_ADD:7e2a9c4b1f6d3e8a0b5c2d7f4e1a9b6c"
    assert inc.window is not None and inc.window.param == "event_id"
    assert inc.window.value == "GROUP_MEMBER_ADD:7e2a9c4b1f6d3e8a0b5c2d7f4e1a9b6c"


def test_member_remove_is_a_leave() -> None:
    inc = decode(recorded("member_remove"), APP, NOW)
    assert inc is not None and inc.event is not None
    assert inc.event.kind is EventKind.MEMBER_LEFT and inc.window is None


def test_interaction_is_a_button_click_to_acknowledge() -> None:
    inc = decode(recorded("interaction"), APP, NOW)
    assert inc is not None and inc.event is not None
    e = inc.event
    assert e.kind is EventKind.BUTTON_CLICKED and e.button_data == "quiz:1:a"
    assert e.callback_id == inc.interaction == "b7c3e1a0-2f4d-4e6a-9c8b-1d2e3f4a5b6c"
    assert (e.chat_key, e.member_key) == (f"qq:{GROUP}", f"qq:{MEMBER}")
    assert inc.window is not None and inc.window.param == "event_id"


@pytest.mark.parametrize(
    ("name", "present", "proactive", "window"),
    [
        ("group_add_robot", True, None, True),
        ("group_del_robot", False, None, False),
        ("group_msg_receive", None, True, True),
        ("group_msg_reject", None, False, False),
    ],
)
def test_robot_events_change_the_groups_state(name: str, present: object, proactive: object, window: bool) -> None:
    inc = decode(recorded(name), APP, NOW)
    assert inc is not None and inc.event is None and inc.group is not None
    assert (inc.group.group, inc.group.present, inc.group.proactive) == (GROUP, present, proactive)
    assert inc.group.by == "0F1E2D3C4B5A69788796A5B4C3D2E1F0"
    assert (inc.window is not None) is window


@pytest.mark.parametrize(
    "payload",
    [
        None,
        [],
        {"t": "GROUP_AT_MESSAGE_CREATE"},
        {"t": "GROUP_AT_MESSAGE_CREATE", "d": {"id": 5}},
        {"t": "GROUP_AT_MESSAGE_CREATE", "d": {"id": "x", "group_openid": "g", "author": "nope"}},
        {"t": "GROUP_MEMBER_ADD", "d": {"group_openid": "g"}},
        {"t": "INTERACTION_CREATE", "d": {"id": "i", "data": None}},
        {"t": "SOMETHING_NEW", "d": {}},
    ],
)
def test_malformed_or_unknown_payloads_decode_to_nothing(payload: object) -> None:
    assert decode(payload, APP, NOW) is None


def test_a_message_of_only_the_bot_mention_is_empty_and_odd_timestamps_fall_back() -> None:
    p = recorded("group_message")
    p["d"]["content"] = "<@BOTOPENID00000000>   "
    p["d"]["timestamp"] = "yesterday"
    inc = decode(p, APP, NOW)
    assert inc is not None and inc.event is not None
    assert inc.event.message == () and inc.event.at == NOW
