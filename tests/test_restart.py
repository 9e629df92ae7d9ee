"""The restart guarantee: SIGKILL while the outbox holds unsent replies; after a restart each is sent once.

Twelve members check in through the sandbox's WebSocket. The sandbox's per-chat rate limit is
set so low that, after the first reply, the rest wait in the outbox; then the process is
killed without warning. A second process on the same database (its operator lifted the
limit) must deliver every waiting reply exactly once (the sender may merge them into fewer
chat messages under backlog, so the test counts the replies inside the messages), and
nothing may be counted twice. The reply heading the queue at the kill may have been in
flight; it goes alone under its own key, the rest may be merged.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from pathlib import Path

import aiohttp

from tests.proc import Hearth, is_bot_message, next_frame, query, run_hearth, sandbox_config, scalar, wait_until, ws_url

MEMBERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "ken", "lena"]
# One reply per 500 s per chat: after the first reply every other one waits in the outbox.
LIMITS = "messages_per_second = 2\nmessages_per_chat_per_second = 0.002"
TIMEOUT = 60.0
REPLY = re.compile(r"✅ (\S+) checked in")


def pending(db: Path) -> int:
    return scalar(db, "SELECT count(*) FROM outbox WHERE status = 'pending'")


def delivered_replies(db: Path) -> Counter[str]:
    """Check-in replies in the sandbox's own chat log, by member (a merged message holds several)."""
    rows = query(db, "SELECT text FROM sandbox_messages WHERE sender = 'bot' AND chat_key = 'sandbox:g1'")
    return Counter(name for (text,) in rows for name in REPLY.findall(text))


async def test_replies_waiting_at_a_kill_are_sent_once_after_restart(tmp_path: Path) -> None:
    config = sandbox_config(tmp_path, extra_sandbox=LIMITS)
    db = tmp_path / "hearth.db"

    with Hearth("run", "--config", str(config), cwd=tmp_path) as first:
        url = first.wait_for_url()
        async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(url)) as ws:
            for member in MEMBERS:
                await ws.send_json({"op": "say", "chat": "g1", "user": member, "text": "/checkin"})
            await next_frame(ws, is_bot_message, TIMEOUT)  # the first reply went out live
        await asyncio.to_thread(
            wait_until,
            lambda: scalar(db, "SELECT count(*) FROM ledger") == len(MEMBERS),
            TIMEOUT,
            "all twelve check-ins to be committed",
        )
        first.signal(signal.SIGKILL)
        assert first.wait() == -signal.SIGKILL

    waiting = pending(db)
    before = delivered_replies(db)
    assert waiting > 0, "the outbox should hold unsent replies at the kill"
    assert sum(before.values()) >= 1
    assert sum(before.values()) + waiting >= len(MEMBERS)  # each reply was delivered or is still waiting

    config.write_text(config.read_text(encoding="utf-8").replace(LIMITS, ""), encoding="utf-8")
    with Hearth("run", "--config", str(config), cwd=tmp_path) as second:
        second.wait_for_url()
        await asyncio.to_thread(wait_until, lambda: pending(db) == 0, TIMEOUT, "the outbox to drain after restart")
        second.signal(signal.SIGTERM)
        assert second.wait() == 0

    assert delivered_replies(db) == Counter(MEMBERS)  # every member answered, none twice, none lost
    assert query(db, "SELECT status, count(*) FROM outbox GROUP BY status") == [("sent", len(MEMBERS))]
    assert scalar(db, "SELECT count(*) FROM ledger") == len(MEMBERS)
    assert scalar(db, "SELECT count(*) FROM checkins") == len(MEMBERS)
    assert scalar(db, "SELECT count(*) FROM sandbox_messages WHERE text LIKE '%already checked in%'") == 0

    stats = run_hearth("stats", "--config", str(config), cwd=tmp_path)
    assert stats.returncode == 0, stats.stderr
    assert f"events processed: {len(MEMBERS)} (0 failed in a handler)" in stats.stdout
    assert f"members: {len(MEMBERS)}, points granted: {10 * len(MEMBERS)}" in stats.stdout
    assert f"outbox: sent {len(MEMBERS)}" in stats.stdout
