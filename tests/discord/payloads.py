"""Builders of Discord API v10 objects and gateway dispatch bodies for the end-to-end tests."""

from __future__ import annotations

import itertools
import time
from typing import Any

EPOCH_MS = 1420070400000
TOKEN = "MTE3MDAwMDAwMDAwMDAwMDAwMQ.GfakeT.fake-token-for-tests_only_0123456789"
BOT = APP = "1170000000000000001"
GUILD = "1180000000000000001"
GENERAL, EVENTS, OTHER = "1180000000000000010", "1180000000000000011", "1180000000000000099"
MOD_ROLE = "1180000000000000201"
OWNER = "1160000000000000100"
_ids = itertools.count(1)


def snowflake(at: float | None = None, n: int | None = None) -> str:
    ms = int((time.time() if at is None else at) * 1000)
    return str(((ms - EPOCH_MS) << 22) + ((next(_ids) if n is None else n) % (1 << 22)))


def user(uid: str, username: str, global_name: str | None = None, bot: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": uid,
        "username": username,
        "global_name": global_name,
        "discriminator": "0",
        "avatar": None,
        "public_flags": 0,
    }
    if bot:
        out["bot"] = True
    return out


BOT_USER = {**user(BOT, "Hearth", None, bot=True), "verified": True, "mfa_enabled": False, "flags": 0}
ALICE = user("1160000000000000101", "alice_l", "Alice")
BOB = user("1160000000000000102", "bobby", "Bob")
CAROL = user("1160000000000000103", "carol.k", "Carol")
DAVE = user("1160000000000000104", "dave", "Dave")


def application() -> dict[str, Any]:
    return {
        "id": APP,
        "name": "Hearth",
        "icon": None,
        "description": "",
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "owner": user(OWNER, "owner", "Owner"),
        "flags": 0,
        "bot": BOT_USER,
        "interactions_endpoint_url": None,
    }


def _role(rid: str, name: str, permissions: int, position: int) -> dict[str, Any]:
    return {
        "id": rid,
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
        "icon": None,
        "unicode_emoji": None,
    }


def _channel(cid: str, name: str, position: int) -> dict[str, Any]:
    return {
        "id": cid,
        "type": 0,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "parent_id": None,
        "topic": None,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def guild(vanity: str | None = None) -> dict[str, Any]:
    """A GUILD_CREATE body: @everyone may read and write, "Moderators" may Manage Server."""
    return {
        "id": GUILD,
        "name": "Coffee lovers",
        "icon": None,
        "owner_id": OWNER,
        "roles": [_role(GUILD, "@everyone", (1 << 10) | (1 << 11), 0), _role(MOD_ROLE, "Moderators", 1 << 5, 1)],
        "channels": [_channel(GENERAL, "general", 0), _channel(EVENTS, "events", 1), _channel(OTHER, "off-topic", 2)],
        "members": [],
        "member_count": 4,
        "features": ["VANITY_URL"] if vanity else [],
        "vanity_url_code": vanity,
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "large": False,
        "unavailable": False,
        "emojis": [],
        "stickers": [],
        "threads": [],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "system_channel_id": GENERAL,
        "system_channel_flags": 0,
    }


def member(u: dict[str, Any], nick: str | None = None, roles: tuple[str, ...] = (), **extra: Any) -> dict[str, Any]:
    return {
        "user": u,
        "nick": nick,
        "roles": list(roles),
        "joined_at": "2026-01-02T00:00:00.000000+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "avatar": None,
        "communication_disabled_until": None,
        **extra,
    }


def member_add(guild_id: str, u: dict[str, Any], flags: int = 0) -> dict[str, Any]:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())
    return {**member(u, flags=flags, joined_at=stamp), "guild_id": guild_id}


def invite(code: str, guild_id: str, channel: str, inviter: dict[str, Any], uses: int = 0, max_uses: int = 0) -> dict:
    return {
        "type": 0,
        "code": code,
        "guild": {"id": guild_id, "name": "Coffee lovers", "features": []},
        "channel": {"id": channel, "type": 0, "name": "general"},
        "inviter": inviter,
        "uses": uses,
        "max_uses": max_uses,
        "max_age": 0,
        "temporary": False,
        "created_at": "2026-03-01T00:00:00.000000+00:00",
    }


def message(channel: str, author: dict[str, Any], content: str, roles: tuple[str, ...] = ()) -> dict[str, Any]:
    mid = snowflake()
    return {
        "id": mid,
        "type": 0,
        "channel_id": channel,
        "guild_id": GUILD,
        "author": author,
        "member": {k: v for k, v in member(author, roles=roles).items() if k != "user"},
        "content": content,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime()),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "components": [],
        "pinned": False,
        "flags": 0,
        "nonce": mid,
    }


def _interaction(kind: int, data: dict[str, Any], u: dict[str, Any], channel: str, permissions: int) -> dict:
    iid = snowflake()
    return {
        "id": iid,
        "application_id": APP,
        "type": kind,
        "data": data,
        "guild_id": GUILD,
        "guild": {"id": GUILD, "locale": "en-US", "features": []},
        "channel_id": channel,
        "channel": {**_channel(channel, "general", 0), "guild_id": GUILD},
        "member": {**member(u), "permissions": str(permissions)},
        "token": f"interaction-token-{iid}-{'t' * 40}",
        "version": 1,
        "locale": "en-US",
        "guild_locale": "en-US",
        "app_permissions": str((1 << 11) | (1 << 10)),
        "attachment_size_limit": 10485760,
        "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD},
        "context": 0,
    }


def slash(
    name: str, u: dict[str, Any], channel: str = GENERAL, options: list | None = None, permissions: int = 0
) -> dict:
    data: dict[str, Any] = {"id": snowflake(), "name": name, "type": 1}
    if options:
        data["options"] = options
    return _interaction(2, data, u, channel, permissions or (1 << 11))


def button(custom_id: str, u: dict[str, Any], message_id: str, channel: str = GENERAL) -> dict:
    d = _interaction(3, {"custom_id": custom_id, "component_type": 2}, u, channel, 1 << 11)
    d["message"] = {
        **message(channel, BOT_USER, "…"),
        "id": message_id,
    }
    d["message"].pop("member", None)
    return d
