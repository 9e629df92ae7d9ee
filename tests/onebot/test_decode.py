"""``decode`` on recorded OneBot v11 payloads (NapCat, the spec's examples, a WeChat bridge)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.onebot import errors
from adapters.onebot.decode import FACE, decode, is_meta, is_response, when
from bot.events import Chat, EventKind, Image, Invite, Mention, Text, User

PAYLOADS = Path(__file__).parent / "payloads"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def test_group_message_as_an_array_drops_the_leading_at_of_the_bot() -> None:
    event = decode(load("group_message_array"), "qq", NOW)
    assert event is not None
    assert event.kind is EventKind.MESSAGE_CREATED
    assert event.chat == Chat("qq", "123456", "", "group")
    assert event.user == User("qq", "20002000", "Bob@Shanghai")  # the group card before the nickname
    assert event.message == (Text("hi"),)
    assert event.message_id == "-1093221376"  # negative ids stay as they are
    assert event.self_id == "10001000" and event.admin is False
    assert event.at == NOW  # received (Hearth's clock); the payload's time is in the id
    assert event.id == "m:123456:-1093221376:1718000000"


def test_napcat_message_with_reply_face_and_image() -> None:
    event = decode(load("group_message_napcat_rich"), "qq", NOW)
    assert event is not None
    assert event.reply_to == "7654321"
    assert event.message == (
        Text(f"{FACE}看图"),
        Image("https://multimedia.nt.qq.com.cn/download?appid=1407&fileid=x"),
    )
    assert event.admin is True and event.chat is not None and event.chat.title == "Coffee lovers"


def test_cq_string_message_is_unescaped_and_keeps_mentions() -> None:
    event = decode(load("group_message_string"), "onebot", NOW)
    assert event is not None
    assert event.message == (Text("签到 [x] a&b @全体成员 "), Mention("40004000"))
    assert event.admin is True  # owner
    assert event.text == "签到 [x] a&b @全体成员 @40004000"


def test_private_message_is_its_own_chat_never_a_group_of_the_same_number() -> None:
    event = decode(load("private_message"), "qq", NOW)
    assert event is not None
    assert event.chat == Chat("qq", "private:20002000", "Bob", "private")
    assert event.chat_key == "qq:private:20002000" and event.member_key == "qq:20002000"


@pytest.mark.parametrize(
    "name", ["group_message_anonymous", "message_sent", "group_decrease_kick_me", "heartbeat", "lifecycle"]
)
def test_payloads_that_are_no_campaign_event(name: str) -> None:
    assert decode(load(name), "qq", NOW) is None


def test_meta_events_and_responses_are_told_apart() -> None:
    assert is_meta(load("heartbeat")) and is_meta(load("lifecycle"))
    assert not is_meta(load("group_message_array"))
    assert is_response(load("response_failed")) and not is_response(load("heartbeat"))


def test_invite_join_names_the_operator_as_inviter() -> None:
    event = decode(load("group_increase_invite"), "qq", NOW)
    assert event is not None and event.kind is EventKind.MEMBER_JOINED
    assert event.user == User("qq", "50005000")
    assert event.invite == Invite(creator="qq:20002000", via="invited_by", confidence="exact")


@pytest.mark.parametrize(
    ("name", "via"), [("group_increase_approve", "approved"), ("group_increase_napcat_unknown", "invite")]
)
def test_joins_without_a_known_inviter_credit_nobody(name: str, via: str) -> None:
    event = decode(load(name), "qq", NOW)
    assert event is not None and event.invite is not None
    assert event.invite.creator is None and event.invite.confidence == "unknown" and event.invite.via == via


def test_kick_is_a_member_leaving() -> None:
    event = decode(load("group_decrease_kick"), "qq", NOW)
    assert event is not None and event.kind is EventKind.MEMBER_LEFT
    assert event.chat_key == "qq:123456" and event.member_key == "qq:20002000"


def test_wechat_bridge_with_text_ids_and_milliseconds() -> None:
    event = decode(load("wechat_bridge_ms"), "wechat", NOW)
    assert event is not None
    assert event.chat_key == "wechat:34567@chatroom" and event.member_key == "wechat:wxid_abc123"
    assert event.id == f"m:34567@chatroom:wxid_abc123:{NOW.timestamp():.6f}"  # no message id: by receipt
    assert event.message == (Text("打卡"),) and event.message_id is None


def test_milliseconds_from_a_bridge_are_read_as_such() -> None:
    assert when(load("wechat_bridge_ms"), NOW) == datetime.fromtimestamp(1718001100.123, UTC)
    assert when({"time": "soon"}, NOW) == NOW


def test_event_ids_differ_for_the_same_message_id_in_two_groups() -> None:
    a, b = load("group_message_array"), load("group_message_array")
    b["group_id"] = 654321
    ea, eb = decode(a, "qq", NOW), decode(b, "qq", NOW)
    assert ea is not None and eb is not None and ea.id != eb.id


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"post_type": "message"},
        {"post_type": "message", "self_id": 1, "message_type": "group", "user_id": 2},
        {"post_type": "message", "self_id": 1, "message_type": "group", "user_id": 2, "group_id": 3, "message": 5},
        {"post_type": "message", "self_id": 1, "message_type": "group", "user_id": 2, "group_id": 3, "message": [{}]},
        {"post_type": "notice", "self_id": 1, "notice_type": "group_increase", "group_id": 3},
        {"post_type": "message", "self_id": 1, "message_type": "x", "user_id": 2, "time": 10**30},
        {"post_type": "message", "self_id": True, "sender": "not a dict"},
    ],
)
def test_malformed_payloads_never_raise(payload: dict[str, Any]) -> None:
    decode(payload, "qq", NOW)


def test_a_risk_control_timeout_pauses_instead_of_retrying_at_once() -> None:
    with pytest.raises(errors.ActionFailed) as failed:
        errors.result("send_group_msg", load("response_failed"))
    mapped = errors.classify(failed.value)
    assert mapped.retry_after == errors.RISK_CONTROL_PAUSE  # type: ignore[union-attr]
    refused = errors.classify(errors.ActionFailed("delete_msg", 1400, "bad id"))
    assert type(refused).__name__ == "PermanentError"
