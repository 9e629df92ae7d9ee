"""The pure decoding of WeCom payloads, on recorded fixtures (shapes from WeCom's docs)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.wecom.decode import Member, chat_change, diff, encrypted_of, group_detail, join_event
from adapters.wecom.joinways import STATE_LIMIT, JoinWay, check_referrer, check_state, invite_for, new_state
from bot.events import EventKind

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_both_member_list_formats_and_dismiss() -> None:
    add = chat_change(fixture("callback_add_member.xml"))
    assert add is not None and (add.chat_id, add.change, add.detail) == ("CHAT_ID", "update", "add_member")
    assert add.members == ("Jack", "Rose") and add.at == datetime.fromtimestamp(1403610513, UTC)
    gone = chat_change(fixture("callback_del_member_csv.xml"))
    assert gone is not None and gone.members == ("Jack", "Rose") and gone.detail == "del_member"
    dismiss = chat_change(fixture("callback_dismiss.xml"))
    assert dismiss is not None and dismiss.change == "dismiss" and dismiss.members == ()


def test_other_or_broken_callbacks_are_none() -> None:
    assert chat_change(b"<xml><Event>change_external_contact</Event></xml>") is None
    assert chat_change(b"<xml><Event>change_external_chat</Event></xml>") is None  # no ChatId
    assert chat_change(b"<xml><unclosed>") is None


def test_the_ciphertext_is_found_without_parsing() -> None:
    assert encrypted_of(b"<xml><Encrypt><![CDATA[QUJD+/==]]></Encrypt></xml>") == "QUJD+/=="
    assert encrypted_of(b"<xml><Encrypt>QUJD</Encrypt></xml>") == "QUJD"
    assert encrypted_of(b"<xml><Encrypt><![CDATA[<script>]]></Encrypt></xml>") is None
    assert encrypted_of(b"<xml/>") is None


def test_group_detail_keeps_unionid_state_and_names() -> None:
    group = group_detail(json.loads(fixture("groupchat_get.json"))["group_chat"])
    assert (group.name, group.owner) == ("销售客服群", "ZhuShengBen")
    assert [m.userid for m in group.members] == ["abel", "wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA", "wmOgQhDgAAbbb"]
    staff, customer, other = group.members
    assert staff.type == 1 and staff.name == "客服小张"
    assert customer.unionid == "ozynqsulJFCZ2z1aYeS8h-nuasdAAA" and customer.state == "hq3kd82m1ab"
    assert other.name == "" and other.join_scene == 3


def test_diff_and_the_events_it_makes() -> None:
    group = group_detail(json.loads(fixture("groupchat_get.json"))["group_chat"])
    stored = {
        "abel": Member("abel", 1, 1572505491),
        "wmGone": Member("wmGone", 2, 1500000000),
        "wmOgQhDgAAbbb": Member("wmOgQhDgAAbbb", 2, 1500000001),  # left and came back since
    }
    joined, left = diff(stored, group)
    assert [m.userid for m in joined] == ["wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA", "wmOgQhDgAAbbb"]
    assert [m.userid for m in left] == ["wmGone", "wmOgQhDgAAbbb"]
    at = datetime(2026, 12, 1, tzinfo=UTC)
    way = JoinWay("cfg1", "hq3kd82m1ab", "bring", "wecom:wmAlice", ("x",), "", at, None, None)
    event = join_event("wwCorp", group, joined[0], at, invite_for(way, joined[0]), admin=False)
    assert (
        event.kind is EventKind.MEMBER_JOINED
        and event.id == "join:wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA:wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA:1572505491"
    )
    assert event.member_key == "wecom:wmOgQhDgAAuXFJGwbve4g4iXknfOAAAA" and event.chat_key.startswith("wecom:wr")
    assert event.invite is not None and (event.invite.creator, event.invite.confidence) == ("wecom:wmAlice", "exact")
    label = JoinWay("cfg2", "hzz", "bring", "poster-shop1", ("x",), "", at, None, None)
    assert invite_for(label, joined[0]).creator is None and invite_for(label, joined[0]).code == "hzz"
    assert invite_for(None, joined[1]).confidence == "unknown" and invite_for(None, joined[1]).via == "qr"


def test_states_fit_wecoms_limit_and_referrers_are_checked() -> None:
    assert STATE_LIMIT == 30 and len(new_state()) <= STATE_LIMIT and new_state() != new_state()
    with pytest.raises(ValueError, match="30"):
        check_state("x" * 31)
    assert check_referrer("wecom:wmAbc") == "wecom:wmAbc" and check_referrer("poster-shop1") == "poster-shop1"
    for bad in ("two words", "", "wecom:", ":x"):
        with pytest.raises(ValueError):
            check_referrer(bad)
