"""Builders for Bot API update payloads (the shapes of ``tests/telegram/fixtures``), for the fake."""

from __future__ import annotations

import itertools
import time
from typing import Any

_message_ids = itertools.count(2000)
_callback_ids = itertools.count(9_000_000_000)


def user(uid: int, name: str, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": name, **extra}


def supergroup(chat_id: int = -1001234567890, title: str = "Coffee & Tea") -> dict[str, Any]:
    return {"id": chat_id, "title": title, "type": "supergroup"}


def group(chat_id: int = -4001234567, title: str = "Small group") -> dict[str, Any]:
    return {"id": chat_id, "title": title, "type": "group"}


def message(chat: dict, sender: dict, text: str, date: int | None = None, **extra: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "message_id": next(_message_ids),
        "from": sender,
        "chat": chat,
        "date": date or int(time.time()),
        "text": text,
        **extra,
    }
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": msg}


ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)


def member(u: dict, status: str) -> dict[str, Any]:
    """A ChatMember object with the fields its status requires."""
    out: dict[str, Any] = {"status": status, "user": u}
    if status == "kicked":
        out["until_date"] = 0
    if status == "administrator":
        out.update({"can_be_edited": False, "is_anonymous": False}, **dict.fromkeys(ADMIN_RIGHTS, True))
    if status == "creator":
        out["is_anonymous"] = False
    return out


def joined_by_link(chat: dict, u: dict, link: dict, date: int | None = None) -> list[dict[str, Any]]:
    """What Telegram sends for one join through an invite link: the service message and chat_member."""
    date = date or int(time.time())
    service = {
        "message": {
            "message_id": next(_message_ids),
            "from": u,
            "chat": chat,
            "date": date,
            "new_chat_members": [u],
        }
    }
    update = {
        "chat_member": {
            "chat": chat,
            "from": u,
            "date": date,
            "old_chat_member": member(u, "left"),
            "new_chat_member": member(u, "member"),
            "invite_link": link,
        }
    }
    return [service, update]


def callback(chat: dict, u: dict, data: str, message_id: int = 1001) -> dict[str, Any]:
    return {
        "callback_query": {
            "id": str(next(_callback_ids)),
            "from": u,
            "message": {"message_id": message_id, "chat": chat, "date": int(time.time()), "text": "pick"},
            "chat_instance": "42",
            "data": data,
        }
    }


def bot_status(chat: dict, bot: dict, by: dict, old: str, new: str) -> dict[str, Any]:
    return {
        "my_chat_member": {
            "chat": chat,
            "from": by,
            "date": int(time.time()),
            "old_chat_member": member(bot, old),
            "new_chat_member": member(bot, new),
        }
    }


def migrated(old: dict, new: dict, by: dict) -> list[dict[str, Any]]:
    date = int(time.time())
    return [
        {
            "message": {
                "message_id": next(_message_ids),
                "from": by,
                "chat": old,
                "date": date,
                "migrate_to_chat_id": new["id"],
            }
        },
        {"message": {"message_id": 1, "from": by, "chat": new, "date": date, "migrate_from_chat_id": old["id"]}},
    ]
