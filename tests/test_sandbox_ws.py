"""The sandbox over a real WebSocket: malformed frames, buttons, button answers, deletions, DMs.

The first test runs the whole in-process Hearth (engine, outbox, sender); the second drives the
adapter alone with a recording event sink, to play the bot's side with actions no campaign
sends yet (buttons, deletions, private messages).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from adapters.base import Feature, PermanentError
from adapters.sandbox import SandboxAdapter
from bot import actions as act
from bot.app import App
from bot.clock import SystemClock
from bot.config import load
from bot.events import Event, EventKind
from storage import db as storage_db
from storage.models import ProcessedEvent, SandboxMessage
from tests.proc import is_bot_message, next_frame, sandbox_config, ws_url

TIMEOUT = 60.0


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    running = App(load(sandbox_config(tmp_path)))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def count(app: App, table: type) -> int:
    async with app.db.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table.__table__))).scalar_one()


MALFORMED = [
    ("not JSON", "{op: say"),
    ("a JSON list", "[1, 2, 3]"),
    ("a JSON string", '"say"'),
    ("no op", '{"chat": "g1", "user": "alice", "text": "hi"}'),
    ("unknown op", '{"op": "rm -rf", "chat": "g1", "user": "alice"}'),
    ("no user", '{"op": "say", "chat": "g1", "text": "hi"}'),
    ("bad user", '{"op": "say", "chat": "g1", "user": "<script>", "text": "hi"}'),
    ("unknown group", '{"op": "say", "chat": "nowhere", "user": "alice", "text": "hi"}'),
    ("text too long", json.dumps({"op": "say", "chat": "g1", "user": "alice", "text": "x" * 4001})),
    ("press without data", '{"op": "press", "chat": "g1", "user": "alice", "data": {"a": 1}}'),
]


async def test_malformed_frames_get_an_error_and_the_socket_and_bot_live_on(app: App) -> None:
    url = app.adapters["sandbox"].url  # type: ignore[attr-defined]
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(url)) as ws:
        for name, raw in MALFORMED:
            await ws.send_str(raw)
            error = await next_frame(ws, lambda f: True, TIMEOUT)
            assert error["op"] == "error", name
            assert 0 < len(error["text"]) <= 200, name
            assert "Traceback" not in error["text"] and "<script>" not in error["text"], name
        await ws.send_bytes(b"\x00\x01binary")
        error = await next_frame(ws, lambda f: True, TIMEOUT)
        assert error == {"op": "error", "text": "frames are JSON text"}

        assert not ws.closed
        await ws.send_json({"op": "say", "chat": "g1", "user": "alice", "text": "/checkin"})
        echo = await next_frame(ws, lambda f: f.get("op") == "message", TIMEOUT)
        assert echo["sender"] == "sandbox:alice" and echo["text"] == "/checkin"
        reply = await next_frame(ws, is_bot_message, TIMEOUT)
        assert "alice checked in" in reply["text"] and reply["chat"] == "sandbox:g1"

    assert await count(app, ProcessedEvent) == 1  # nothing of the bad frames reached the engine
    assert await count(app, SandboxMessage) == 2  # nor the sandbox's chat log: only /checkin and its reply


class RecordingSink:
    """An EventSink that keeps what the adapter submitted (the bot's side is played by the test)."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.arrived = asyncio.Event()

    async def submit(self, events: Sequence[Event]) -> None:
        self.events.extend(events)
        self.arrived.set()


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[tuple[SandboxAdapter, RecordingSink]]:
    config = load(sandbox_config(tmp_path))
    db = storage_db.create_engine(config.bot.database)
    await storage_db.upgrade(db)
    assert config.platforms.sandbox is not None
    adapter, sink = SandboxAdapter(config.platforms.sandbox, db, SystemClock()), RecordingSink()
    await adapter.start(sink)
    try:
        yield adapter, sink
    finally:
        await adapter.stop()
        await db.dispose()


async def test_buttons_presses_answers_deletions_and_private_messages(
    sandbox: tuple[SandboxAdapter, RecordingSink],
) -> None:
    adapter, sink = sandbox
    buttons = ((act.Button("Yes", data="poll:yes"), act.Button("Docs", url="https://example.org/")),)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(ws_url(adapter.url)) as alice,
        http.ws_connect(ws_url(adapter.url)) as bob,
    ):
        result = await adapter.perform(act.SendMessage("sandbox:g1", "Coffee or tea?", buttons), "outbox:1")
        again = await adapter.perform(act.SendMessage("sandbox:g1", "Coffee or tea?", buttons), "outbox:1")
        assert again.message_id == result.message_id  # a retried send is not a second message
        shown = await next_frame(alice, is_bot_message, TIMEOUT)
        assert shown["id"] == int(result.message_id or 0)
        assert shown["buttons"] == [
            [
                {"text": "Yes", "data": "poll:yes", "url": None},
                {"text": "Docs", "data": None, "url": "https://example.org/"},
            ]
        ]

        await alice.send_json(
            {"op": "press", "chat": "g1", "user": "alice", "data": "poll:yes", "message": shown["id"]}
        )
        await asyncio.wait_for(sink.arrived.wait(), TIMEOUT)
        [press] = sink.events
        assert press.kind is EventKind.BUTTON_CLICKED and press.button_data == "poll:yes"
        assert press.member_key == "sandbox:alice" and press.message_id == str(shown["id"])

        await adapter.perform(act.AnswerButton(press.callback_id or "", "Thanks, noted!"), "outbox:2")
        notice = await next_frame(alice, lambda f: f.get("op") == "notice", TIMEOUT)
        assert notice["text"] == "Thanks, noted!"

        await adapter.perform(act.DeleteMessage("sandbox:g1", str(shown["id"])), "outbox:3")
        seen_by_bob: list[dict] = []
        gone = await next_frame(bob, lambda f: seen_by_bob.append(f) or f.get("op") == "delete", TIMEOUT)
        assert gone["id"] == shown["id"]
        assert [f["op"] for f in seen_by_bob] == ["message", "delete"]  # the answer went to alice only

        await adapter.perform(act.SendDirect("sandbox:alice", "Your coupon: TEA-42"), "outbox:4")
        direct = await next_frame(alice, is_bot_message, TIMEOUT)
        assert direct["chat"] == "dm:sandbox:alice" and direct["text"] == "Your coupon: TEA-42"

        async with http.get(adapter.url + "api/state") as res:
            state = await res.json()
    assert state["history"]["g1"] == []  # the deleted message is gone from the history too
    assert [line["text"] for line in state["direct"]["alice"]] == ["Your coupon: TEA-42"]


async def test_reactions_and_unmutes_show_in_the_web_chat(sandbox: tuple[SandboxAdapter, RecordingSink]) -> None:
    adapter, _ = sandbox
    assert {Feature.REACTIONS, Feature.MUTE} <= adapter.features
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url(adapter.url)) as page:
        sent = await adapter.perform(act.SendMessage("sandbox:g1", "Well done, Alice!"), "outbox:1")
        await next_frame(page, is_bot_message, TIMEOUT)
        await adapter.perform(act.React("sandbox:g1", sent.message_id or "", "🎉"), "outbox:2")
        reacted = await next_frame(page, lambda f: f.get("op") == "react", TIMEOUT)
        assert reacted == {"op": "react", "id": int(sent.message_id or 0), "chat": "sandbox:g1", "emoji": "🎉"}
        await adapter.perform(act.MuteMember("sandbox:g1", "sandbox:bob", 60), "outbox:3")
        await adapter.perform(act.UnmuteMember("sandbox:g1", "sandbox:bob"), "outbox:4")
        await adapter.perform(act.UnmuteMember("sandbox:g1", "sandbox:bob"), "outbox:4")  # a retry: shown once
        lines = [await next_frame(page, lambda f: f.get("op") == "message", TIMEOUT) for _ in range(2)]
        assert [(line["name"], line["text"]) for line in lines] == [("bob", "was muted"), ("bob", "may speak again")]
        with pytest.raises(PermanentError):
            await adapter.perform(act.React("sandbox:g1", "999999", "🎉"), "outbox:5")
        async with http.get(adapter.url + "api/state") as res:
            state = await res.json()
    [message, muted, unmuted] = state["history"]["g1"]
    assert muted["text"] == "was muted"
    assert message["reaction"] == "🎉"  # a reload shows it too
    assert unmuted["text"] == "may speak again"
