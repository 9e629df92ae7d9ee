"""Pure mapping of Hearth actions to aiogram method objects (no I/O; ``await bot(m)`` runs one).

One action may take several calls: a long message is split into ≤4096-character pieces
(the buttons ride on the last one, the reply on the first), and a kick is a ban followed by
an unban so the member may come back. An unmute restores every sending permission (the
group's own default permissions still apply on top); a reaction replaces the bot's
earlier reaction on that message (Telegram accepts only its fixed set of reaction emoji; any
other is refused and recorded as a permanent failure). Content is plain text and is HTML-escaped whole.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from aiogram import methods as tg
from aiogram.types import (
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    ReactionTypeEmoji,
    ReplyParameters,
)

from adapters.base import PermanentError
from adapters.telegram.decode import PLATFORM, invite_name
from adapters.telegram.text import as_html, split
from bot import actions as act
from bot.events import split_key

MAX_CALLBACK_BYTES = 64
MAX_ANSWER = 200
MAX_QUESTION = 300
MAX_OPTION = 100
MAX_OPTIONS = 12
MIN_MUTE = 30  # Telegram treats a restriction shorter than 30 s as permanent
LONG_DATA_PREFIX = "~"


class EncodeError(PermanentError):
    """An action Telegram cannot carry out as asked (wrong platform, bad id, too many options)."""


def telegram_id(key: str) -> int:
    """The numeric id in a ``telegram:<id>`` chat or member key."""
    try:
        platform, ident = split_key(key)
        if platform != PLATFORM:
            raise ValueError(platform)
        return int(ident)
    except ValueError:
        raise EncodeError(f"{key!r} is not a Telegram chat or member key") from None


def callback_token(data: str) -> str:
    """``data`` itself when it fits Telegram's 64 bytes, else a short stable token standing for it."""
    if len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES and not data.startswith(LONG_DATA_PREFIX):
        return data
    return LONG_DATA_PREFIX + hashlib.sha256(data.encode("utf-8")).hexdigest()[:40]


def long_callback_data(action: act.Action) -> list[str]:
    """Button payloads of ``action`` that travel as tokens (the adapter stores them first)."""
    rows = getattr(action, "buttons", ())
    return [b.data for row in rows for b in row if b.data is not None and callback_token(b.data) != b.data]


def keyboard(buttons: act.Buttons) -> InlineKeyboardMarkup | None:
    rows = []
    for row in buttons:
        out = []
        for b in row:
            if b.url:
                out.append(InlineKeyboardButton(text=b.text, url=b.url))
            else:
                out.append(InlineKeyboardButton(text=b.text, callback_data=callback_token(b.data or b.text)))
        if out:
            rows.append(out)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _messages(chat_id: int, content: str, buttons: act.Buttons, reply_to: str | None) -> list[tg.TelegramMethod]:
    pieces = split(content.strip() or "…")
    markup = keyboard(buttons)
    out: list[tg.TelegramMethod] = []
    for i, piece in enumerate(pieces):
        reply = None
        if i == 0 and reply_to and reply_to.isdigit():
            reply = ReplyParameters(message_id=int(reply_to), allow_sending_without_reply=True)
        out.append(
            tg.SendMessage(
                chat_id=chat_id,
                text=as_html(piece),
                parse_mode="HTML",
                reply_parameters=reply,
                reply_markup=markup if i == len(pieces) - 1 else None,
            )
        )
    return out


def _permissions(allowed: bool) -> ChatPermissions:
    """Every sending permission off (a mute) or on (lifting it; the chat's own defaults still apply)."""
    return ChatPermissions(
        can_send_messages=allowed,
        can_send_audios=allowed,
        can_send_documents=allowed,
        can_send_photos=allowed,
        can_send_videos=allowed,
        can_send_video_notes=allowed,
        can_send_voice_notes=allowed,
        can_send_polls=allowed,
        can_send_other_messages=allowed,
        can_add_web_page_previews=allowed,
    )


def encode(action: act.Action, now: datetime) -> list[tg.TelegramMethod]:
    """The Bot API calls that carry out ``action``, in order."""
    if isinstance(action, act.SendMessage):
        return _messages(telegram_id(action.chat), action.content, action.buttons, action.reply_to)
    if isinstance(action, act.SendDirect):
        return _messages(telegram_id(action.user), action.content, action.buttons, None)
    if isinstance(action, act.DeleteMessage):
        if not action.message_id.isdigit():
            raise EncodeError(f"{action.message_id!r} is not a Telegram message id")
        return [tg.DeleteMessage(chat_id=telegram_id(action.chat), message_id=int(action.message_id))]
    if isinstance(action, act.AnswerButton):
        text = action.text[:MAX_ANSWER] or None
        return [tg.AnswerCallbackQuery(callback_query_id=action.callback_id, text=text, show_alert=action.alert)]
    if isinstance(action, act.SendPoll):
        if not 1 <= len(action.options) <= MAX_OPTIONS:
            raise EncodeError(f"a Telegram poll takes 1 to {MAX_OPTIONS} options, not {len(action.options)}")
        return [
            tg.SendPoll(
                chat_id=telegram_id(action.chat),
                question=action.question[:MAX_QUESTION],
                options=[InputPollOption(text=o[:MAX_OPTION]) for o in action.options],
                is_anonymous=action.anonymous,
                allows_multiple_answers=action.multiple,
            )
        ]
    if isinstance(action, act.CreateInviteLink):
        member = str(telegram_id(action.for_user))
        return [tg.CreateChatInviteLink(chat_id=telegram_id(action.chat), name=invite_name(action.name, member))]
    if isinstance(action, act.MuteMember):
        until = now + timedelta(seconds=max(action.seconds, MIN_MUTE)) if action.seconds > 0 else None
        return [
            tg.RestrictChatMember(
                chat_id=telegram_id(action.chat),
                user_id=telegram_id(action.user),
                permissions=_permissions(False),
                use_independent_chat_permissions=True,
                until_date=until,
            )
        ]
    if isinstance(action, act.UnmuteMember):
        return [
            tg.RestrictChatMember(
                chat_id=telegram_id(action.chat),
                user_id=telegram_id(action.user),
                permissions=_permissions(True),
                use_independent_chat_permissions=True,
            )
        ]
    if isinstance(action, act.React):
        if not action.message_id.isdigit() or not action.emoji.strip():
            raise EncodeError(f"cannot react with {action.emoji!r} to message {action.message_id!r}")
        return [
            tg.SetMessageReaction(
                chat_id=telegram_id(action.chat),
                message_id=int(action.message_id),
                reaction=[ReactionTypeEmoji(emoji=action.emoji.strip())],
            )
        ]
    if isinstance(action, act.KickMember):
        chat, user = telegram_id(action.chat), telegram_id(action.user)
        return [
            tg.BanChatMember(chat_id=chat, user_id=user),
            tg.UnbanChatMember(chat_id=chat, user_id=user, only_if_banned=True),
        ]
    raise EncodeError(f"Telegram cannot do {getattr(action, 'kind', type(action).__name__)}")
