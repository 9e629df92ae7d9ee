"""The ``[platforms.telegram]`` table, the rate limits it declares, and the button-answer tracker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.telegram.adapter import rate_limits
from adapters.telegram.callbacks import CallbackAnswers
from adapters.telegram.settings import TelegramSettings
from bot.config import ConfigError, parse
from bot.ratelimit import Limiter, RateLimits

TOKEN = "123456:ABC-def_ghi"
GROUP, PRIVATE, CALLBACK = "telegram:-1001234567890", "telegram:5222222222", "telegram:callback"


def config(body: str) -> str:
    return f'[platforms.telegram]\ntoken = "{TOKEN}"\n{body}\n[campaigns.daily]\ntype = "checkin"\n'


def problems(body: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(config(body), "hearth.toml")
    return str(caught.value)


def test_a_minimal_table_is_accepted_with_telegram_defaults() -> None:
    cfg = parse(config(""), "hearth.toml")
    s = cfg.platforms.telegram
    assert s.mode == "polling" and s.api_url == "https://api.telegram.org"
    assert s.bot_id == "123456" and "ABC" not in repr(cfg)


def test_the_example_in_docs_telegram_md_is_valid(monkeypatch) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "telegram.md").read_text(encoding="utf-8")
    block = text.split("```toml", 1)[1].split("```", 1)[0]
    monkeypatch.setenv("TELEGRAM_TOKEN", TOKEN)
    cfg = parse(block + '[campaigns.daily]\ntype = "checkin"\n', "docs/telegram.md")
    assert cfg.platforms.telegram is not None and cfg.platforms.telegram.mode == "polling"


def test_webhook_mode_needs_a_url_and_a_secret() -> None:
    text = problems('mode = "webhook"\nwebhook_url = "https://bot.example.com/tg"')
    assert "hearth.toml:" in text and "secret_token" in text
    assert "webhook_url" in problems('mode = "webhook"\nsecret_token = "abc"')


def test_bad_values_are_named_without_echoing_secrets() -> None:
    with pytest.raises(ConfigError) as caught:
        parse('[platforms.telegram]\ntoken = "not a token sEcReT"\n', "hearth.toml")
    assert "platforms.telegram.token" in str(caught.value) and "sEcReT" not in str(caught.value)
    assert "secret_token" in problems('secret_token = "has spaces in it"')
    assert "listen" in problems('listen = "8443"')
    assert "api_url" in problems('api_url = "ftp://example.com"')


def test_webhook_path_comes_from_the_public_url() -> None:
    s = TelegramSettings(token=TOKEN, mode="webhook", webhook_url="https://x.example/tg/hook", secret_token="s")
    assert s.webhook_path == "/tg/hook" and s.host == "0.0.0.0" and s.port == 8443


def sends_in(limiter: Limiter, target: str, seconds: float, step: float = 0.01) -> int:
    """How many sends the limiter allows to ``target`` within ``seconds`` when asked greedily."""
    now, sent = 1000.0, 0
    end = now + seconds
    while now < end:
        if limiter.wait_time(target, now) == 0:
            limiter.take(target, now)
            sent += 1
        else:
            now += step
    return sent


def test_default_limits_never_exceed_telegrams_figures() -> None:
    limits = rate_limits(TelegramSettings(token=TOKEN))
    assert sends_in(Limiter(limits), GROUP, 60.0) <= 20  # 20 per minute per group
    assert sends_in(Limiter(limits), GROUP, 120.0) >= 30  # ...but keeps sending
    assert sends_in(Limiter(limits), PRIVATE, 10.0) <= 13  # ~1/s per private chat (3 in a burst)
    overall, now, in_first_second = Limiter(limits), 1000.0, 0
    while now < 1001.0:  # many private chats at once: the global bucket is the bound
        for i in range(1, 200):
            if overall.wait_time(f"telegram:{i}", now) == 0:
                overall.take(f"telegram:{i}", now)
                in_first_second += 1
        now += 0.01
    assert 25 <= in_first_second <= 30
    assert sends_in(Limiter(limits), CALLBACK, 1.0) >= 5  # answering presses is not paced per chat


def test_limits_are_configurable_and_old_rate_limits_still_work() -> None:
    fast = rate_limits(TelegramSettings(token=TOKEN, group_messages_per_minute=600))
    assert sends_in(Limiter(fast), GROUP, 60.0) >= 500
    plain = Limiter(RateLimits(per_chat_per_second=1.0, per_chat_burst=1))  # no per_target: as before
    assert sends_in(plain, GROUP, 5.0) <= 6


async def test_a_press_answered_by_a_campaign_is_not_answered_again() -> None:
    answered: list[str] = []
    done = asyncio.Event()

    async def answer(cid: str) -> None:
        answered.append(cid)
        done.set()

    tracker = CallbackAnswers(answer, answer_after=0.0)
    tracker.start()
    try:
        assert tracker.claim("a")  # a campaign's AnswerButton is being sent
        tracker.release("a", answered=True)
        tracker.committed(["a", "b"])
        await asyncio.wait_for(done.wait(), 10)
        assert answered == ["b"]  # "a" came due first and was skipped
        assert not tracker.claim("b")
    finally:
        await tracker.stop()
