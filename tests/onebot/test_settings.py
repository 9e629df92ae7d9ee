"""``[platforms.onebot]``: validation, ``qq:``/``wechat:`` keys in ``hearth check``, the token
kept out of reprs, errors and logs, and the auth helpers."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.onebot import auth
from adapters.onebot.adapter import OneBotAdapter, rate_limits
from bot.clock import SystemClock
from bot.config import ConfigError, parse
from bot.platforms import build_adapters
from tests.onebot.conftest import TOKEN

ROOT = Path(__file__).resolve().parents[2]
BASE = f"""
[platforms.onebot]
access_token = "{TOKEN}"
[[platforms.onebot.bots]]
self_id = "10001000"
platform = "qq"
"""
CHECKIN = '[campaigns.daily]\ntype = "checkin"\n'


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text, "hearth.toml")
    return str(caught.value)


def test_qq_group_keys_are_accepted_and_route_to_the_onebot_adapter() -> None:
    cfg = parse(BASE + '[[groups]]\nid = "qq:123456"\n' + CHECKIN + 'groups = ["qq:123456", "onebot:9"]\n')
    s = cfg.platforms.onebot
    assert s is not None and s.key_platforms() == {"qq"} and s.platform_of("10001000") == "qq"
    adapters = build_adapters(cfg, None, SystemClock())  # type: ignore[arg-type]
    assert set(adapters) == {"onebot", "qq"} and adapters["qq"] is adapters["onebot"]
    assert isinstance(adapters["qq"], OneBotAdapter)


def test_an_unserved_prefix_is_still_refused() -> None:
    assert "platform 'wechat' of wechat:1 is not configured" in problems(BASE + '[[groups]]\nid = "wechat:1"\n')


def test_a_bots_platform_may_not_be_another_tables_name() -> None:
    text = BASE.replace('platform = "qq"', 'platform = "sandbox"') + "[platforms.sandbox]\n" + CHECKIN
    assert "hearth.toml:6: platforms.onebot.bots[0].platform: 'sandbox' is the name of another" in problems(text)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('mode = "forward"', "forward mode: list each bridge"),
        ('listen = "6700"', "is not host:port"),
        ('platform = "QQ!"', "is not a platform name"),
        ('path = "onebot"', "is not a URL path"),
    ],
)
def test_bad_values_are_named(body: str, message: str) -> None:
    text = BASE.replace("[[platforms.onebot.bots]]", body + "\n[[platforms.onebot.bots]]")
    assert message in problems(text)


def test_reverse_mode_needs_self_id_and_forward_mode_a_ws_url() -> None:
    assert "every [[platforms.onebot.bots]] needs self_id" in problems(BASE.replace('self_id = "10001000"', ""))
    forward = BASE.replace("[[platforms.onebot.bots]]", 'mode = "forward"\n[[platforms.onebot.bots]]')
    assert "is not a ws:// or wss:// URL" in problems(forward + 'url = "http://127.0.0.1:3001"\n')
    assert parse(forward + 'url = "ws://127.0.0.1:3001/"\n').platforms.onebot is not None


def test_the_token_never_shows() -> None:
    assert TOKEN not in repr(parse(BASE))
    bad = BASE.replace(f'"{TOKEN}"', '"has space"')
    assert "has space" not in problems(bad)
    assert "non-empty token" in problems(BASE.replace(f'"{TOKEN}"', '""'))


def test_refused_connection_log_never_names_the_token(caplog: pytest.LogCaptureFixture) -> None:
    adapter = OneBotAdapter(parse(BASE).platforms.onebot, None, SystemClock())  # type: ignore[arg-type]
    assert TOKEN not in repr(adapter)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("x").warning("oops %s", adapter.scrub.scrub(f"token {TOKEN}"))
    assert TOKEN not in caplog.text


def test_auth_reads_bearer_token_scheme_or_query_and_refuses_401_or_403() -> None:
    assert auth.token_of({"Authorization": "Bearer abc"}, {}) == "abc"
    assert auth.token_of({"Authorization": "Token abc"}, {}) == "abc"
    assert auth.token_of({"Authorization": "Bearer "}, {}) is None  # NapCat with no token set
    assert auth.token_of({}, {"access_token": "abc"}) == "abc"
    assert auth.refusal(None, "abc") == 401 and auth.refusal("abd", "abc") == 403
    assert auth.refusal("abc", "abc") is None and auth.refusal("日本", "abc") == 403


def test_rate_limits_are_slow_by_default() -> None:
    limits = rate_limits(parse(BASE).platforms.onebot)  # type: ignore[arg-type]
    assert limits.per_second == 1.0 and limits.per_chat_per_second == pytest.approx(12 / 60)


def test_hearth_check_accepts_qq_groups_and_explains_the_platform(tmp_path: Path) -> None:
    path = tmp_path / "hearth.toml"
    path.write_text(BASE + '[[groups]]\nid = "qq:123456"\n' + CHECKIN, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTH_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "qq:123456" in done.stdout
    assert "no buttons on this platform" in done.stdout
    assert "groups are keyed onebot:<group_id>, qq:<group_id>" in done.stdout
    assert TOKEN not in done.stdout + done.stderr


def test_the_examples_in_docs_onebot_md_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "docs" / "onebot.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in text.split("```toml")[1:]]
    assert len(blocks) == 2
    monkeypatch.setenv("ONEBOT_TOKEN", TOKEN)
    for block in blocks:
        cfg = parse(block + CHECKIN, "docs/onebot.md")
        assert cfg.platforms.onebot is not None and cfg.platforms.onebot.key_platforms() == {"qq"}
