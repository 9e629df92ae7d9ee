"""The sandbox in a real browser (Playwright driving the system Chromium), as a group owner tries it.

The first test runs ``hearth run`` as a process and checks in as two members from the page.
The second serves the sandbox adapter in-process and plays the bot's side by hand, to check
what no campaign sends yet: buttons (pressed from the page), button answers, deletions and
private messages.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Coroutine, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters.sandbox import SandboxAdapter
from bot import actions as act
from bot.clock import SystemClock
from bot.config import load
from bot.events import Event, EventKind
from storage import db as storage_db
from tests.proc import Hearth, sandbox_config, scalar

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs playwright")
Browser = playwright_api.Browser
Page = playwright_api.Page
expect = playwright_api.expect

TIMEOUT_MS = 60_000
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
T = TypeVar("T")


def chromium_path() -> str:
    """The system Chromium: $HEARTH_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH."""
    candidates = [os.environ.get("HEARTH_CHROMIUM")]
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip(
        "no Chromium found: install the system one (Debian/Ubuntu: `apt-get install chromium`) "
        "or set HEARTH_CHROMIUM to a Chromium/Chrome binary"
    )


@pytest.fixture
def browser() -> Iterator[Browser]:
    path = chromium_path()
    expect.set_options(timeout=TIMEOUT_MS)
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 720}, locale="en-US")
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda err: errors.append(str(err)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"the page threw: {errors}"


@pytest.fixture
def hearth_url(tmp_path: Path) -> Iterator[str]:
    """``hearth run --config`` on a free port with SQLite in tmp_path; always ended afterwards."""
    with Hearth("run", "--config", str(sandbox_config(tmp_path)), cwd=tmp_path) as hearth:
        yield hearth.wait_for_url()


def act_as(page: Page, member: str) -> None:
    page.get_by_test_id("member").select_option(member)


def say(page: Page, text: str) -> None:
    page.get_by_test_id("text").fill(text)
    page.get_by_test_id("send").click()


def test_two_members_check_in_and_see_the_replies_live(page: Page, hearth_url: str, tmp_path: Path) -> None:
    page.goto(hearth_url)
    expect(page.get_by_test_id("status")).to_have_text("connected")
    expect(page.get_by_test_id("title")).to_contain_text("Coffee lovers")
    bot = page.get_by_test_id("bot-message")

    act_as(page, "alice")
    say(page, "/checkin")
    expect(bot).to_have_count(1)
    expect(bot.nth(0)).to_contain_text("alice checked in: +10 points")

    act_as(page, "bob")
    page.get_by_test_id("join").click()
    expect(page.get_by_test_id("system-message").last).to_have_text("bob joined the group")
    say(page, "签到")
    expect(bot).to_have_count(2)
    expect(bot.nth(1)).to_contain_text("bob checked in: +10 points")
    mine = page.locator(".msg.mine")
    expect(mine).to_have_count(1)  # the page marks what the member acted as wrote
    expect(mine).to_contain_text("签到")
    page.get_by_test_id("leave").click()
    expect(page.get_by_test_id("system-message").last).to_have_text("bob left the group")

    # Whatever a member types is shown as text, never run as HTML.
    act_as(page, "carol")
    say(page, '<img src=x onerror="window.__pwned=1"><b>bold</b>')
    last = page.get_by_test_id("member-message").last
    expect(last).to_contain_text('<img src=x onerror="window.__pwned=1"><b>bold</b>')
    assert page.locator("#log img, #log b").count() == 0
    assert page.evaluate("window.__pwned") is None

    # A reload shows the same conversation from the server's history.
    page.reload()
    expect(page.get_by_test_id("bot-message")).to_have_count(2)

    shot = tmp_path / "sandbox.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    db = tmp_path / "hearth.db"
    assert scalar(db, "SELECT count(*) FROM processed_events") == 5  # 3 messages, a join, a leave
    assert scalar(db, "SELECT count(*) FROM processed_events WHERE error IS NOT NULL") == 0


class LoopThread:
    """An asyncio loop on a thread, so the sync Playwright test can serve the adapter meanwhile."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="sandbox-loop")
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class RecordingSink:
    """Keeps what the page sent (the test plays the bot); thread-safe to wait on."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.arrived = threading.Event()

    async def submit(self, events: Sequence[Event]) -> None:
        self.events.extend(events)
        self.arrived.set()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LoopThread, SandboxAdapter, RecordingSink]]:
    config = load(sandbox_config(tmp_path))
    assert config.platforms.sandbox is not None
    loop = LoopThread()
    db = storage_db.create_engine(config.bot.database)
    adapter, sink = SandboxAdapter(config.platforms.sandbox, db, SystemClock()), RecordingSink()
    try:
        loop.run(storage_db.upgrade(db), 60)
        loop.run(adapter.start(sink))
        yield loop, adapter, sink
    finally:
        loop.run(adapter.stop())
        loop.run(db.dispose())
        loop.close()


def test_buttons_answers_deletions_and_private_messages_in_the_page(
    page: Page, served: tuple[LoopThread, SandboxAdapter, RecordingSink]
) -> None:
    loop, adapter, sink = served
    page.goto(adapter.url)
    expect(page.get_by_test_id("status")).to_have_text("connected")
    act_as(page, "dave")

    buttons = ((act.Button("☕ Coffee", data="vote:coffee"), act.Button("🍵 Tea", data="vote:tea")),)
    sent = loop.run(adapter.perform(act.SendMessage("sandbox:g1", "Coffee or tea?", buttons), "outbox:1"))
    bubble = page.get_by_test_id("bot-message")
    expect(bubble).to_have_count(1)
    expect(bubble).to_contain_text("Coffee or tea?")

    page.get_by_test_id("bot-button").filter(has_text="Tea").click()
    assert sink.arrived.wait(TIMEOUT_MS / 1000), "the press never reached the engine's side"
    [press] = sink.events
    assert press.kind is EventKind.BUTTON_CLICKED and press.button_data == "vote:tea"
    assert press.member_key == "sandbox:dave" and press.message_id == sent.message_id

    loop.run(adapter.perform(act.AnswerButton(press.callback_id or "", "Tea it is!"), "outbox:2"))
    expect(page.get_by_test_id("notice")).to_have_text("Tea it is!")

    loop.run(adapter.perform(act.DeleteMessage("sandbox:g1", sent.message_id or ""), "outbox:3"))
    expect(bubble).to_have_count(0)

    loop.run(adapter.perform(act.SendDirect("sandbox:dave", "Your coupon: <b>TEA-42</b>"), "outbox:4"))
    page.get_by_role("button", name="Private messages").click()
    expect(page.get_by_test_id("bot-message")).to_have_text("HearthYour coupon: <b>TEA-42</b>")
    expect(page.get_by_test_id("text")).to_be_disabled()
    act_as(page, "alice")  # another member's private messages are not shown
    expect(page.get_by_test_id("bot-message")).to_have_count(0)
