"""``[platforms.qq]`` validation and what ``hearth check`` (and ``--live``) says about QQ."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.qq.decode import decode
from adapters.qq.store import QQStore
from bot.cli import main
from bot.config import ConfigError, parse
from storage import db as storage_db
from tests.qq.payloads import robot_event

BASE = """
[bot]
database = "sqlite+aiosqlite:///{db}"

[platforms.qq]
app_id = "102000000"
secret = "s3cretS3cret"
{extra}

[campaigns.news]
type = "announcement"
schedule = "0 9 * * *"
text = "Sale! Details at https://shop.example.com/sale."

[[rules]]
name = "site"
keywords = ["site"]
reply = "Visit http://example.org/x or https://example.com"
"""


def _write(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "hearth.toml"
    path.write_text(BASE.format(db=(tmp_path / "h.db").as_posix(), extra=extra), encoding="utf-8")
    return path


def test_check_explains_permissions_and_warns_about_every_url(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "--config", str(_write(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "qq:" in out and "receiving by webhook" in out
    assert "ports 80/443/8080/8443" in out
    assert "only @-messages arrive, so text commands like 签到 work only as '@bot 签到'" in out
    assert "scheduled announcements cannot be posted in that group" in out
    assert "keyboard = false: buttons become numbered text choices" in out
    assert "markdown = false: messages are sent as plain text" in out
    warnings = [line.strip() for line in out.splitlines() if "warning:" in line]
    assert len(warnings) == 3
    assert "campaigns.news.text contains the URL https://shop.example.com/sale;" in warnings[0]
    assert "http://example.org/x" in warnings[1] and "https://example.com;" in warnings[2]
    assert "s3cretS3cret" not in out


def test_keyboard_and_markdown_notes_follow_the_switches(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path, 'keyboard = true\nmarkdown = true\nmember_events = false\ntransport = "websocket"')
    assert main(["check", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "keyboard = true: buttons are sent as a keyboard" in out
    assert "markdown = true" in out and "member_events = false" in out and "receiving by websocket" in out


def test_check_live_shows_each_groups_proactive_permission(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _write(tmp_path)

    async def seed() -> None:
        engine = storage_db.create_engine(f"sqlite+aiosqlite:///{(tmp_path / 'h.db').as_posix()}")
        await storage_db.upgrade(engine)
        store = QQStore(engine, "102000000")
        now = datetime(2026, 12, 1, tzinfo=UTC)
        for kind, group in (("GROUP_MSG_REJECT", "GA"), ("GROUP_MSG_RECEIVE", "GB"), ("GROUP_ADD_ROBOT", "GC")):
            inc = decode(robot_event(kind, now, group), "102000000", now)
            assert inc is not None
            await store.remember(inc)
        await engine.dispose()

    asyncio.run(seed())
    assert main(["check", "--config", str(path), "--live"]) == 0
    out = capsys.readouterr().out
    assert "bot 102000000: 3 group(s) seen" in out
    assert "qq:GA: proactive messages NOT allowed" in out
    assert "qq:GB: proactive messages allowed" in out
    assert "qq:GC: proactive messages: not told yet" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('app_id = "abc"', "digits only"),
        ('api_base = "ftp://x"', "not an http(s) URL"),
        ('path = "qq"', "not a URL path"),
        ('transport = "longpoll"', "webhook"),
    ],
)
def test_bad_settings_name_the_key(line: str, message: str) -> None:
    key = line.split(" ")[0]
    text = f'[platforms.qq]\napp_id = "1"\nsecret = "abcdefgh"\n{line}\n'.replace(
        'app_id = "1"\n', "", line.startswith("app_id")
    )
    with pytest.raises(ConfigError) as err:
        parse(text, "bad.toml")
    problems = "\n".join(str(p) for p in err.value.problems)
    assert f"platforms.qq.{key}" in problems and message in problems
    assert "abcdefgh" not in problems


@pytest.mark.parametrize("keyboard", [False, True])
async def test_buttons_are_a_capability_only_with_keyboard_approval(keyboard: bool) -> None:
    from adapters.base import Feature
    from adapters.qq.adapter import QQAdapter
    from bot.clock import SystemClock

    text = f'[platforms.qq]\napp_id = "1"\nsecret = "abcdefgh"\nkeyboard = {str(keyboard).lower()}\n'
    settings = parse(text, "k.toml").platforms.qq
    assert settings is not None
    engine = storage_db.create_engine("sqlite+aiosqlite:///:memory:")
    adapter = QQAdapter(settings, engine, SystemClock())
    assert (Feature.BUTTONS in adapter.features) is keyboard
    assert {Feature.DIRECT_MESSAGES, Feature.REPLIES} <= adapter.features
    assert Feature.JOIN_ATTRIBUTION not in adapter.features and Feature.INVITE_LINKS not in adapter.features
    assert "abcdefgh" not in repr(adapter) and "abcdefgh" not in repr(settings)
    await engine.dispose()
