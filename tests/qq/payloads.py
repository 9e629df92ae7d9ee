"""Recorded QQ dispatch payloads (tests/qq/payloads/*.json) and builders of fresh ones."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).parent / "payloads"
GROUP = "C9F778FE6ADF9D1D1DBE395BF744A33A"
MEMBER = "E4F4AEA33253A2797FB897C50B81D7ED"
_ids = itertools.count(1)


def recorded(name: str) -> dict[str, Any]:
    return json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))


def group_message(
    text: str,
    at: datetime,
    *,
    group: str = GROUP,
    member: str = MEMBER,
    at_bot: bool = True,
    role: str = "member",
    msg_id: str | None = None,
) -> dict[str, Any]:
    """A member's message as the platform sends it (``@bot text`` by default)."""
    p = copy.deepcopy(recorded("group_at_message" if at_bot else "group_message"))
    n = next(_ids)
    p["id"] = f"{p['t']}:event{n:06d}"
    d = p["d"]
    d["id"] = msg_id or f"ROBOT1.0_msg{n:06d}!!"
    d["content"] = f" {text}" if at_bot else text
    d["timestamp"] = at.isoformat()
    d["group_openid"] = d["group_id"] = group
    d["author"].update(id=member, member_openid=member, member_role=role)
    if not at_bot:
        d["mentions"] = []
    return p


def robot_event(kind: str, at: datetime, group: str = GROUP) -> dict[str, Any]:
    p = copy.deepcopy(recorded(kind.lower()))
    p["id"] = f"{kind}:event{next(_ids):06d}"
    p["d"].update(group_openid=group, timestamp=int(at.timestamp()))
    return p


def c2c_message(text: str, at: datetime, user: str, union: str | None = None) -> dict[str, Any]:
    p = copy.deepcopy(recorded("c2c_message"))
    n = next(_ids)
    p["id"] = f"C2C_MESSAGE_CREATE:event{n:06d}"
    p["d"].update(id=f"ROBOT1.0_c2c{n:06d}!!", content=text, timestamp=at.isoformat())
    p["d"]["author"] = {"id": user, "user_openid": user, **({"union_openid": union} if union else {})}
    return p


def interaction(data: str, at: datetime, group: str = GROUP, member: str = MEMBER) -> dict[str, Any]:
    p = copy.deepcopy(recorded("interaction"))
    n = next(_ids)
    p["id"] = f"INTERACTION_CREATE:event{n:06d}"
    d = p["d"]
    d.update(id=f"interaction-{n:06d}", timestamp=at.isoformat(), group_openid=group, group_member_openid=member)
    d["data"]["resolved"].update(button_data=data, user_id=member)
    return p
