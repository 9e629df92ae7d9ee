"""``decode``: recorded Bot API payloads (in the documented shapes) → Hearth events, no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiogram.types import Update

from adapters.telegram.decode import (
    Me,
    admin_change,
    chat_status,
    decode,
    decode_all,
    from_service_message,
    invite_name,
    member_from_invite_name,
    migration,
)
from bot.events import EventKind, Image, Invite, Link, Mention, Text

FIXTURES = Path(__file__).parent / "fixtures"
ME = Me(id="7000000001", username="HearthBot")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SUPER = "telegram:-1001234567890"


def load(name: str) -> Update:
    return Update.model_validate(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def one(name: str):
    event = decode(load(name), ME, NOW)
    assert event is not None
    return event


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_every_fixture_is_a_valid_bot_api_update_and_decodes_without_error(path: Path) -> None:
    update = Update.model_validate(json.loads(path.read_text(encoding="utf-8")))
    for event in decode_all(update, ME, NOW):
        assert event.platform == "telegram" and event.self_id == ME.id
        assert event.at.tzinfo is not None
        assert isinstance(event.id, str) and event.id


def test_private_message_is_a_private_chat_keyed_by_the_user_id() -> None:
    event = one("private_message")
    assert event.kind is EventKind.MESSAGE_CREATED
    assert event.chat_key == "telegram:111111111" and event.chat.type == "private"
    assert event.member_key == "telegram:111111111"
    assert event.text == "/start"
    assert event.user.name == "Alice Liddell" and event.user.language == "en"


def test_basic_group_message_keeps_the_negative_id_as_a_string() -> None:
    event = one("group_message")
    assert event.chat_key == "telegram:-4001234567" and event.chat.type == "group"
    assert event.chat.title == "Small group"
    assert event.id == "msg:-4001234567:55" and event.message_id == "55"
    assert event.user.language == "zh"  # zh-hans → zh


def test_big_user_ids_survive_as_exact_strings() -> None:
    event = one("group_message")
    assert event.user.id == "5222222222"  # > 2**32


def test_entities_become_elements_counting_utf16_units() -> None:
    event = one("supergroup_entities")
    assert event.message == (
        Text("☕😀 see "),
        Link("https://example.com", "https://example.com"),
        Text(" and "),
        Link("https://example.com/docs", "docs"),
        Text(", ask "),
        Mention("5222222222", "Bob"),
        Text(" or @carol!"),
    )
    assert event.text == "☕😀 see https://example.com and docs, ask @Bob or @carol!"


def test_reply_points_at_the_replied_message() -> None:
    event = one("reply")
    assert event.reply_to == "1201" and event.message_id == "1202"


def test_commands_with_and_without_our_name_look_the_same_to_the_engine() -> None:
    plain = one("command")
    ours = one("command_at_us")
    assert plain.text == "/checkin"
    assert ours.text == "/checkin today"  # @hearthbot stripped, case-insensitively
    assert plain.kind is ours.kind is EventKind.MESSAGE_CREATED


def test_command_addressed_to_another_bot_is_ignored() -> None:
    assert decode(load("command_at_other"), ME, NOW) is None


def test_edited_message_has_its_own_id_and_is_marked_edited() -> None:
    event = one("edited_message")
    assert event.edited and event.id != one("command").id
    assert event.id == decode(load("edited_message"), ME, NOW).id  # stable


def test_photo_caption_is_text_plus_an_image() -> None:
    event = one("photo_caption")
    assert event.message == (Text("my latte art"), Image("tg-file:AgAD-large"))


def test_message_on_behalf_of_a_chat_is_not_a_member_message() -> None:
    assert decode(load("anonymous_admin"), ME, NOW) is None


def test_join_reported_twice_has_one_id_and_chat_member_carries_the_invite() -> None:
    service = one("new_chat_members_self")
    member = one("chat_member_invite_link")
    assert service.kind is member.kind is EventKind.MEMBER_JOINED
    assert service.id == member.id == "join:-1001234567890:333333333:1772323620"
    assert service.invite is None and from_service_message(service)
    assert not from_service_message(member)
    assert member.invite == Invite(
        code="https://t.me/+AbCdEfGhIjK1",
        creator="telegram:111111111",  # from the link's name: the bot made it for Alice
        name="Spring referral ref:111111111",
        via="link",
        confidence="exact",
    )


def test_link_made_by_an_admin_is_attributed_to_that_admin() -> None:
    event = one("chat_member_admin_link")
    assert event.kind is EventKind.MEMBER_JOINED
    assert event.invite.creator == "telegram:111111111" and event.invite.code == "https://t.me/+XyZ..."


def test_members_added_by_someone_are_each_a_join_and_the_bot_itself_is_skipped() -> None:
    events = decode_all(load("new_chat_members_added"), ME, NOW)
    assert [e.member_key for e in events] == ["telegram:5222222222", "telegram:333333333"]
    assert all(e.invite == Invite(creator="telegram:111111111", via="invited_by") for e in events)


def test_leave_reported_twice_has_one_id() -> None:
    service = one("left_chat_member")
    member = one("chat_member_left")
    assert service.kind is member.kind is EventKind.MEMBER_LEFT
    assert service.id == member.id


def test_promotion_is_no_event_but_changes_the_admin_list() -> None:
    assert decode(load("chat_member_promoted"), ME, NOW) is None
    assert admin_change(load("chat_member_promoted")) == SUPER
    assert admin_change(load("chat_member_left")) is None


def test_button_press_carries_data_and_the_callback_id() -> None:
    event = one("callback_query")
    assert event.kind is EventKind.BUTTON_CLICKED
    assert event.id == "callback:4382736451234567890" and event.callback_id == "4382736451234567890"
    assert event.button_data == "quiz:1:a" and event.message_id == "1300" and event.chat_key == SUPER
    assert event.at == NOW


def test_poll_answer_has_no_chat_until_the_adapter_fills_it() -> None:
    event = one("poll_answer")
    assert event.kind is EventKind.POLL_ANSWERED and event.chat is None
    assert event.poll_id == "5372811234567890123" and event.option_ids == (1,)


def test_only_newly_added_reactions_are_events() -> None:
    [event] = decode_all(load("message_reaction"), ME, NOW)
    assert event.kind is EventKind.REACTION_ADDED and event.reaction == "🔥" and event.message_id == "1201"


def test_migration_is_read_from_either_side() -> None:
    assert migration(load("migrate_to_chat_id")) == ("telegram:-4001234567", "telegram:-1009876543210")
    assert migration(load("migrate_from_chat_id")) == ("telegram:-4001234567", "telegram:-1009876543210")
    assert decode(load("migrate_to_chat_id"), ME, NOW) is None
    assert migration(load("command")) is None


def test_bot_removed_and_readded_flips_the_chat_status() -> None:
    gone = chat_status(load("my_chat_member_kicked"), ME)
    back = chat_status(load("my_chat_member_added"), ME)
    assert gone.chat == back.chat == SUPER
    assert gone.active is False and back.active is True
    assert chat_status(load("command"), ME) is None


def test_invite_link_names_fit_32_characters_and_name_the_member() -> None:
    name = invite_name("A very long campaign title that goes on", "5222222222")
    assert len(name) <= 32 and member_from_invite_name(name) == "telegram:5222222222"
    assert invite_name("", "1") == "ref:1"
    assert member_from_invite_name("my link") is None and member_from_invite_name(None) is None
