"""``hearth run`` as a real process with a bridge connected: it answers 签到, stops at once on
SIGTERM with the bridge still connected, and never prints the access token."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.onebot.conftest import GROUP, QQ_BOT, TOKEN
from tests.onebot.fake_onebot import FakeAccount, group_message
from tests.proc import Hearth, free_port


async def test_hearth_run_answers_a_qq_group_and_keeps_the_token_out_of_its_output(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "hearth.toml"
    config.write_text(
        f"""
[bot]
database = "sqlite+aiosqlite:///{(tmp_path / "hearth.db").as_posix()}"
log_level = "DEBUG"
[platforms.onebot]
access_token = "${{ONEBOT_TOKEN}}"
listen = "127.0.0.1:{port}"
[[platforms.onebot.bots]]
self_id = "{QQ_BOT}"
platform = "qq"
[campaigns.daily]
type = "checkin"
aliases = ["签到"]
""",
        encoding="utf-8",
    )
    url = f"ws://127.0.0.1:{port}/onebot/v11/ws"
    qq, intruder = FakeAccount(QQ_BOT), FakeAccount(QQ_BOT)
    with Hearth("run", "--config", str(config), cwd=tmp_path, env={"ONEBOT_TOKEN": TOKEN}) as hearth:
        try:
            for _ in range(600):  # until it listens
                try:
                    await qq.connect(url, TOKEN)
                    break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            try:
                await intruder.connect(url, TOKEN + "x")
                raise AssertionError("a wrong token was accepted")
            except aiohttp.WSServerHandshakeError as refused:
                assert refused.status == 403
            await qq.push(group_message(QQ_BOT, GROUP, 20002000, "签到", name="Zoe"))
            await qq.wait_for(lambda: qq.sent("send_group_msg"), within=120)
            hearth.signal(signal.SIGTERM)  # the bridge is still connected
            assert await asyncio.to_thread(hearth.wait, 30) == 0
        finally:
            await qq.close()
            await intruder.close()
        output = hearth.stderr_tail(10**7) + "".join(hearth.stdout)
    assert "Zoe checked in" in qq.sent("send_group_msg")[0]["message"][-1]["data"]["text"]
    assert "refused a OneBot connection" in output and "wrong token" in output
    assert TOKEN not in output
