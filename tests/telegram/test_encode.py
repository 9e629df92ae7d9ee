"""``encode``: Hearth actions → the Bot API calls that carry them out (pure, no network)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram import methods as tg

from adapters.telegram.encode import EncodeError, callback_token, encode, long_callback_data
from adapters.telegram.text import split, utf16_len
from bot import actions as act

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CHAT = "telegram:-1001234567890"
USER = "telegram:5222222222"


def test_message_is_escaped_html_with_reply_and_inline_keyboard() -> None:
    buttons = ((act.Button("Yes <3", data="vote:yes"), act.Button("Docs", url="https://example.com")),)
    [call] = encode(act.SendMessage(CHAT, 'Tom & <Jerry> said "hi"', buttons, reply_to="77"), NOW)
    assert isinstance(call, tg.SendMessage)
    assert call.chat_id == -1001234567890 and call.parse_mode == "HTML"
    assert call.text == 'Tom &amp; &lt;Jerry&gt; said "hi"'
    assert call.reply_parameters.message_id == 77 and call.reply_parameters.allow_sending_without_reply
    [[yes, docs]] = call.reply_markup.inline_keyboard
    assert (yes.text, yes.callback_data, docs.url) == ("Yes <3", "vote:yes", "https://example.com")


def test_direct_message_goes_to_the_members_private_chat() -> None:
    [call] = encode(act.SendDirect(USER, "psst"), NOW)
    assert call.chat_id == 5222222222 and call.reply_parameters is None


def test_long_text_is_split_under_4096_utf16_units_reply_first_buttons_last() -> None:
    line = "😀" * 30 + " checked in\n"  # 71 UTF-16 units per line
    text = line * 150
    calls = encode(act.SendMessage(CHAT, text, ((act.Button("ok", data="x"),),), reply_to="5"), NOW)
    assert len(calls) == 3
    assert all(utf16_len(c.text) <= 4096 for c in calls)
    assert "".join(c.text + "\n" for c in calls).count("checked in") == 150
    assert calls[0].reply_parameters is not None and all(c.reply_parameters is None for c in calls[1:])
    assert calls[-1].reply_markup is not None and all(c.reply_markup is None for c in calls[:-1])


def test_split_never_loses_text_without_line_breaks() -> None:
    text = "x" * 9000
    pieces = split(text)
    assert "".join(pieces) == text and max(map(len, pieces)) <= 4096


def test_button_data_over_64_bytes_travels_as_a_stable_token() -> None:
    long = "quiz:" + "é" * 40  # 85 bytes
    action = act.SendMessage(CHAT, "q", ((act.Button("A", data=long),),))
    [call] = encode(action, NOW)
    token = call.reply_markup.inline_keyboard[0][0].callback_data
    assert token == callback_token(long) and len(token.encode()) <= 64 and token.startswith("~")
    assert long_callback_data(action) == [long]
    assert callback_token("short") == "short"


def test_poll_is_non_anonymous_by_default_and_option_count_is_checked() -> None:
    [call] = encode(act.SendPoll(CHAT, "Tea or coffee?", ("tea", "coffee")), NOW)
    assert isinstance(call, tg.SendPoll) and call.is_anonymous is False
    assert [o.text for o in call.options] == ["tea", "coffee"]
    with pytest.raises(EncodeError):
        encode(act.SendPoll(CHAT, "?", tuple(str(i) for i in range(13))), NOW)


def test_invite_link_name_encodes_the_member_within_32_characters() -> None:
    [call] = encode(act.CreateInviteLink(CHAT, USER, "Spring referral campaign 2026"), NOW)
    assert isinstance(call, tg.CreateChatInviteLink)
    assert len(call.name) <= 32 and call.name.endswith("ref:5222222222")


def test_mute_is_a_restriction_of_at_least_30_seconds_and_kick_lets_them_rejoin() -> None:
    [mute] = encode(act.MuteMember(CHAT, USER, seconds=5), NOW)
    assert isinstance(mute, tg.RestrictChatMember) and mute.permissions.can_send_messages is False
    assert mute.until_date == NOW + timedelta(seconds=30)
    [forever] = encode(act.MuteMember(CHAT, USER), NOW)
    assert forever.until_date is None
    ban, unban = encode(act.KickMember(CHAT, USER), NOW)
    assert isinstance(ban, tg.BanChatMember) and isinstance(unban, tg.UnbanChatMember)
    assert unban.only_if_banned is True


def test_answer_text_is_cut_to_200_characters() -> None:
    [call] = encode(act.AnswerButton("cb1", "x" * 500, alert=True), NOW)
    assert call.callback_query_id == "cb1" and len(call.text) == 200 and call.show_alert


@pytest.mark.parametrize("chat", ["sandbox:g1", "telegram:abc", "telegram"])
def test_a_key_that_is_not_telegrams_is_refused(chat: str) -> None:
    with pytest.raises(EncodeError):
        encode(act.SendMessage(chat, "hi"), NOW)
