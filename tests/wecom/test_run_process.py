"""``hearth run`` as a real process with ``[platforms.wecom]``: it syncs the staff's groups,
answers WeCom's callbacks, records the join, stops cleanly and never prints a secret."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.proc import Hearth, free_port, scalar
from tests.wecom.conftest import OWNER, config_text
from tests.wecom.sender import AES_KEY, TOKEN, CallbackSender

GROUP = "wrProc"


async def test_hearth_run_receives_wecom_callbacks(fake, tmp_path: Path) -> None:
    fake.add_group(GROUP, OWNER, "Process group", members=["wmA"])
    port = free_port()
    db = tmp_path / "hearth.db"
    text = config_text(fake, db).replace("port = 0", f"port = {port}")
    text = text.replace(f'secret = "{fake.secret}"', 'secret = "${WECOM_SECRET}"')
    config = tmp_path / "hearth.toml"
    config.write_text(text.replace("[bot]\n", '[bot]\nlog_level = "DEBUG"\n'), encoding="utf-8")
    sender = CallbackSender(f"http://127.0.0.1:{port}/wecom/callback", fake.corp_id)
    with Hearth("run", "--config", str(config), cwd=tmp_path, env={"WECOM_SECRET": fake.secret}) as hearth:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while not fake.called("groupchat/get"):  # the sync at start
            assert loop.time() < deadline and hearth.proc.poll() is None, hearth.stderr_tail()
            await asyncio.sleep(0.1)
        while True:
            try:
                if await sender.verify_url(b"ok-123") == (200, "ok-123"):
                    break
            except OSError:
                pass
            assert loop.time() < deadline, hearth.stderr_tail()
            await asyncio.sleep(0.1)
        assert await sender.send(fake.join(GROUP, "wmNew")) == (200, "success")
        query = "select count(*) from processed_events where kind = 'member.joined'"
        while scalar(db, query) != 1:
            assert loop.time() < deadline, hearth.stderr_tail()
            await asyncio.sleep(0.1)
        hearth.signal(signal.SIGTERM)
        assert hearth.wait() == 0
        output = hearth.stderr_tail(10**7) + "".join(hearth.stdout)
    for secret in (fake.secret, TOKEN, AES_KEY, *fake.tokens_issued):
        assert secret not in output
