"""A referral end to end on the sandbox platform, over its real WebSocket: the invite code the
bot creates comes back to the member, a friend joins with it, the sandbox attributes the join
to its creator, and once the friend writes both get their reward (the coupon privately)."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.app import App
from bot.config import load
from storage.models import Membership
from tests.proc import is_bot_message, next_frame, sandbox_config, ws_url

TIMEOUT = 60.0
REFERRAL = """
[scheduler]
tick = "1s"
[coupons.welcome]
generate = 10
[campaigns.bring_a_friend]
type = "referral"
qualify_after = "0s"
qualify_messages = 1
inviter_reward = { points = 50, coupon_pool = "welcome" }
"""


async def test_invite_code_join_and_reward_through_the_sandbox(tmp_path: Path) -> None:
    app = App(load(sandbox_config(tmp_path, extra=REFERRAL)))
    await app.start()
    try:
        url = app.adapters["sandbox"].url  # type: ignore[attr-defined]
        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(url)) as ws:
            await ws.send_json({"op": "say", "chat": "g1", "user": "alice", "text": "/invite"})
            reply = await next_frame(ws, lambda f: is_bot_message(f) and "personal invite" in f["text"], TIMEOUT)
            code = re.search(r"personal invite to [^:]+: (\S+)", reply["text"]).group(1)  # type: ignore[union-attr]
            assert code != "{link}"

            await ws.send_json({"op": "join", "chat": "g1", "user": "bob", "invite": code})
            await next_frame(ws, lambda f: f.get("text") == "joined the group", TIMEOUT)
            await ws.send_json({"op": "say", "chat": "g1", "user": "bob", "text": "hello, alice sent me"})
            seen: dict[str, str] = {}  # the group's cheer and alice's DM, in whichever order they come
            while len(seen) < 2:
                frame = await next_frame(ws, is_bot_message, TIMEOUT)
                if frame["chat"] == "dm:sandbox:alice" or "joined through" in frame["text"]:
                    seen[frame["chat"]] = frame["text"]
            assert "bob joined through alice's invite" in seen["sandbox:g1"]
            assert "+50 points for alice" in seen["sandbox:g1"]
            assert "your coupon" in seen["dm:sandbox:alice"]

        m = Membership.__table__.c
        async with app.db.connect() as conn:
            row = (await conn.execute(select(m).where(m.member_key == "sandbox:bob"))).one()
        assert (row.invite_code, row.invited_by, row.invite_confidence) == (code, "sandbox:alice", "exact")
    finally:
        await app.stop()
