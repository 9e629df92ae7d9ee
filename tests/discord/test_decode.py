"""``decode``: gateway dispatches (recorded in the shapes Discord sends, API v10) → Hearth events, no network."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.discord.decode import Me, decode, is_admin, rejoined, snowflake_time
from bot import builtins, command_menu
from bot.events import EventKind, Image, Mention, Text

FIXTURES = Path(__file__).parent / "fixtures"
BOT, GUILD = "1170000000000000001", "1180000000000000001"
GENERAL, EVENTS = "1180000000000000010", "1180000000000000011"
ALICE, BOB, CAROL = "1160000000000000101", "1160000000000000102", "1160000000000000103"
NOW = datetime(2026, 3, 1, 12, 9, 30, tzinfo=UTC)


def menu() -> dict[str, command_menu.MenuCommand]:
    builtins.load_all()
    return {c.name: c for c in command_menu.registry([], [b.spec for b in builtins.REGISTRY.values()])}


ME = Me(BOT, {GENERAL: GUILD, EVENTS: GUILD}, {GUILD: GENERAL}, menu())


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def one(name: str):
    event = decode(load(name), ME, NOW)
    assert event is not None, name
    return event


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
def test_every_fixture_is_a_dispatch_and_decodes_without_error(path: Path) -> None:
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["op"] == 0 and payload["t"] and isinstance(payload["d"], dict)
    event = decode(payload, ME, NOW)
    if event is not None:
        assert event.platform == "discord" and event.self_id == BOT
        assert event.at.tzinfo is not None and event.id
        assert event.user is not None and event.user.id.isdigit()


def test_guild_message_is_a_group_event_in_its_channel_named_by_the_server_nickname() -> None:
    event = one("message_create")
    assert event.kind is EventKind.MESSAGE_CREATED
    assert event.id == f"msg:{event.message_id}"
    assert event.chat_key == f"discord:{GENERAL}" and event.chat.type == "group"
    assert event.member_key == f"discord:{ALICE}" and event.user.name == "Ali"
    assert event.text == "签到"
    assert event.at == datetime(2026, 3, 1, 12, 0, 5, 118000, tzinfo=UTC)
    assert event.admin is False  # a message carries roles, not permissions: the receiver decides


def test_mentions_become_mention_elements_named_as_the_message_names_them() -> None:
    event = one("message_create_mention")
    assert event.message == (Text("/points add "), Mention(BOB, "Bobcat"), Text(" 10 late"))
    assert event.text == "/points add @Bobcat 10 late"


def test_direct_message_is_a_private_chat_keyed_by_the_dm_channel() -> None:
    event = one("message_create_dm")
    assert event.chat.type == "private" and event.chat_key == "discord:1190000000000000777"
    assert event.member_key == f"discord:{BOB}" and event.text == "/mycoupons"


@pytest.mark.parametrize("name", ["message_create_other_channel", "message_create_own", "message_create_join_system"])
def test_what_hearth_does_not_handle_is_none(name: str) -> None:
    assert decode(load(name), ME, NOW) is None


def test_a_message_without_content_still_counts_and_replies_are_kept() -> None:
    event = one("message_create_no_content")  # what a guild message looks like without message_content
    assert event.kind is EventKind.MESSAGE_CREATED and event.message == ()
    assert event.chat_key == f"discord:{EVENTS}"
    assert event.reply_to == load("message_create")["d"]["id"]
    assert event.user.name == "Bob"  # no nickname: the display name


def test_image_attachments_become_images() -> None:
    event = one("message_create_image")
    assert event.message[0] == Text("my latte")
    assert isinstance(event.message[1], Image) and event.message[1].url.endswith("/latte.png")


def test_member_add_is_a_join_in_the_guilds_join_channel_with_a_stable_id() -> None:
    event = one("guild_member_add")
    assert event.kind is EventKind.MEMBER_JOINED and event.chat_key == f"discord:{GENERAL}"
    assert event.member_key == f"discord:{CAROL}" and event.user.name == "carol.k"
    assert event.id == f"join:{GUILD}:{CAROL}:{int(event.at.timestamp())}"
    assert event.invite is None  # attribution is the receiver's (it needs the invite listing)
    assert decode(load("guild_member_add"), ME, datetime(2027, 1, 1, tzinfo=UTC)).id == event.id  # redelivered
    assert not rejoined(load("guild_member_add")) and rejoined(load("guild_member_add_rejoin"))


def test_member_remove_is_a_leave_dated_on_receipt() -> None:
    event = one("guild_member_remove")
    assert event.kind is EventKind.MEMBER_LEFT and event.at == NOW
    assert event.chat_key == f"discord:{GENERAL}" and event.id == f"left:{GUILD}:{CAROL}:{int(NOW.timestamp())}"


def test_slash_command_is_a_command_whose_message_id_names_the_interaction() -> None:
    payload = load("interaction_command")
    event = one("interaction_command")
    assert event.kind is EventKind.COMMAND_INVOKED and event.text == "/checkin"
    assert event.id == event.message_id == f"interaction:{payload['d']['id']}"
    assert event.at == snowflake_time(payload["d"]["id"])
    assert event.user.language == "zh" and event.user.name == "Bobcat"
    assert event.admin is False


def test_slash_command_options_come_back_in_usage_order_with_a_mention() -> None:
    event = one("interaction_command_options")  # Discord sent reason, member, number
    assert event.message == (Text("/points add "), Mention(BOB, "Bobcat"), Text(" 10 late for the quiz"))
    assert event.admin is True and event.user.language == "en"


def test_button_press_carries_the_custom_ids_data_and_the_message() -> None:
    payload = load("interaction_button")
    event = one("interaction_button")
    assert event.kind is EventKind.BUTTON_CLICKED
    assert event.button_data == "welcome-greet:intro"
    assert event.callback_id == payload["d"]["id"] and event.message_id == payload["d"]["message"]["id"]
    assert event.user.language == "ru"


@pytest.mark.parametrize("name", ["interaction_command_other_channel", "interaction_button_foreign"])
def test_interactions_elsewhere_or_for_other_bots_are_none(name: str) -> None:
    assert decode(load(name), ME, NOW) is None


def test_reaction_names_the_emoji() -> None:
    event = one("message_reaction_add")
    assert event.kind is EventKind.REACTION_ADDED and event.reaction == "🔥"
    assert event.member_key == f"discord:{BOB}" and event.message_id == load("message_create")["d"]["id"]


def test_admin_is_administrator_or_manage_server() -> None:
    assert is_admin({"permissions": str(1 << 3)}) and is_admin({"permissions": str(1 << 5)})
    assert not is_admin({"permissions": str((1 << 11) | (1 << 10))}) and not is_admin(None)
    assert not is_admin({"permissions": "not a number"})


def test_ids_stay_exact_strings_beyond_2_53() -> None:
    event = one("message_create")
    assert int(event.message_id) > 2**53 and str(int(event.message_id)) == event.message_id
