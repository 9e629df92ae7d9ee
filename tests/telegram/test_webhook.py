"""Webhook mode: setWebhook on start, the secret header guards the endpoint, 200 only after commit."""

from __future__ import annotations

import json

import aiohttp
from sqlalchemy import func, select

from adapters.telegram.settings import ALLOWED_UPDATES
from storage.models import LedgerEntry, OutboxMessage
from tests.telegram import updates as u
from tests.telegram.conftest import SECRET, Telegram

SUPER = u.supergroup()
ALICE = u.user(111111111, "Alice")
HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def post(url: str, body: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[HEADER] = secret
    async with aiohttp.ClientSession() as session, session.post(url, data=json.dumps(body), headers=headers) as resp:
        return resp.status


async def count(app, table) -> int:
    async with app.db.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_start_registers_the_webhook_with_secret_and_update_types(tg: Telegram) -> None:
    await tg.start("webhook")
    hook = tg.bot.webhook
    assert hook is not None and hook["url"] == "https://bot.example.com/telegram"
    assert hook["secret_token"] == SECRET
    assert hook["allowed_updates"] == list(ALLOWED_UPDATES)


async def test_wrong_or_missing_secret_is_refused_and_changes_nothing(tg: Telegram) -> None:
    app = await tg.start("webhook")
    host, port = app.adapters["telegram"].webhook.address
    url = f"http://{host}:{port}/telegram"
    update = {"update_id": 1, **u.message(SUPER, ALICE, "/checkin")}
    assert await post(url, update, None) == 401
    assert await post(url, update, "wrong") == 401
    assert await post(url, update, SECRET[:-1]) == 401
    assert await tg.processed(app) == 0
    assert await count(app, OutboxMessage.__table__) == 0


async def test_right_secret_is_processed_once_even_when_telegram_retries(tg: Telegram) -> None:
    app = await tg.start("webhook")
    host, port = app.adapters["telegram"].webhook.address
    url = f"http://{host}:{port}/telegram"
    update = {"update_id": 7, **u.message(SUPER, ALICE, "/checkin")}
    assert await post(url, update, SECRET) == 200
    assert await tg.processed(app) == 1  # committed before the 200
    assert await post(url, update, SECRET) == 200  # Telegram's retry of the same update
    assert await tg.processed(app) == 1
    assert await count(app, LedgerEntry.__table__) == 1
    assert await count(app, OutboxMessage.__table__) == 1
    await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=SUPER["id"]))
    assert len(tg.bot.sent(chat_id=SUPER["id"])) == 1


async def test_a_body_that_is_no_update_is_dropped_without_blocking_the_queue(tg: Telegram) -> None:
    app = await tg.start("webhook")
    host, port = app.adapters["telegram"].webhook.address
    url = f"http://{host}:{port}/telegram"
    assert await post(url, {"hello": "world"}, SECRET) == 200
    assert await tg.processed(app) == 0
