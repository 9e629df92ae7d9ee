"""The fast path for plain group messages decodes exactly as the aiogram path does.

For every recorded payload, and for generated variations of the plain-message shape, the
light update either declines (None: aiogram parses it) or gives the same events as aiogram's
``Update`` through the same decoder.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

from aiogram.types import Update
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.telegram.decode import Me, admin_change, chat_status, decode_all, migration
from adapters.telegram.fast import light_update

FIXTURES = Path(__file__).parent / "fixtures"
ME = Me(id="7000000001", username="HearthBot")
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def events(update: object) -> list[tuple]:
    """The events, without ``raw`` (which holds the parsed update itself)."""
    return [
        (e.id, e.kind, e.at, e.chat, e.user, e.message, e.message_id, e.reply_to, e.edited, e.invite)
        for e in decode_all(update, ME, NOW)
    ]  # type: ignore[arg-type]


def same_as_aiogram(item: dict) -> bool:
    """True when the fast path declined or agrees with aiogram; the fast path took it: returned."""
    light = light_update(copy.deepcopy(item))
    if light is None:
        return True
    update = Update.model_validate(item)
    assert events(light) == events(update)
    assert chat_status(light, ME) is None and admin_change(light) is None and migration(light) is None  # type: ignore[arg-type]
    assert light.callback_query is None
    return True


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def test_every_recorded_payload_decodes_the_same_or_is_left_to_aiogram() -> None:
    taken = []
    for path in sorted(FIXTURES.glob("*.json")):
        item = json.loads(path.read_text(encoding="utf-8"))
        assert same_as_aiogram(item)
        if light_update(item) is not None:
            taken.append(path.stem)
    # the plain shapes take the fast path; service messages, media, replies, callbacks do not
    assert {"command", "command_at_us", "command_at_other", "group_message"} <= set(taken)
    assert not {
        "new_chat_members_added",
        "photo_caption",
        "reply",
        "callback_query",
        "edited_message",
        "migrate_to_chat_id",
        "private_message",
        "chat_member_invite_link",
    } & set(taken)


def test_a_command_for_another_bot_is_still_ignored_on_the_fast_path() -> None:
    item = fixture("command_at_other")
    assert light_update(item) is not None and events(light_update(item)) == []


_TEXT = st.text(min_size=1, max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    text=_TEXT,
    command=st.sampled_from(["", "/checkin", "/checkin@HearthBot", "/top@OtherBot", "/me"]),
    first=st.text(min_size=1, max_size=20),
    last=st.none() | st.text(max_size=20),
    username=st.none() | st.text(min_size=1, max_size=20),
    language=st.none() | st.sampled_from(["en", "zh-hans", "ru", "pt-BR"]),
    is_bot=st.booleans(),
    chat_type=st.sampled_from(["group", "supergroup", "private", "channel"]),
    title=st.none() | st.text(max_size=30),
    extra=st.sampled_from([None, ("message", "reply_to_message"), ("message", "photo"), ("update", "edited_message")]),
)
def test_generated_plain_messages_decode_the_same(
    text: str,
    command: str,
    first: str,
    last: str | None,
    username: str | None,
    language: str | None,
    is_bot: bool,
    chat_type: str,
    title: str | None,
    extra: tuple[str, str] | None,
) -> None:
    body = f"{command} {text}".strip() if command else text
    user = {"id": 1234567, "is_bot": is_bot, "first_name": first}
    for key, value in (("last_name", last), ("username", username), ("language_code", language)):
        if value is not None:
            user[key] = value
    chat = {"id": -1001234567890, "type": chat_type}
    if title is not None:
        chat["title"] = title
    message = {"message_id": 42, "from": user, "chat": chat, "date": 1772366400, "text": body}
    if command:
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
    item: dict = {"update_id": 9001, "message": message}
    if extra == ("message", "reply_to_message"):
        message["reply_to_message"] = {"message_id": 41, "chat": chat, "date": 1772366300, "text": "earlier"}
    elif extra == ("message", "photo"):
        message["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    elif extra == ("update", "edited_message"):
        item = {"update_id": 9001, "edited_message": {**message, "edit_date": 1772366500}}
    assert same_as_aiogram(item)
    takes = chat_type in ("group", "supergroup") and extra is None
    assert (light_update(item) is not None) == takes
