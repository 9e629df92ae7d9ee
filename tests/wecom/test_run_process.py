"""``hearth run`` as a real process with ``[platforms.wecom]``: it syncs the staff's groups and
the welcome template, answers WeCom's callbacks, records the join, answers staff's ``/joinway``
in the app chat, stops cleanly and never prints a secret."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.proc import Hearth, free_port, scalar
from tests.wecom.conftest import OWNER, config_text
from tests.wecom.fake_wecom import app_text_xml
from tests.wecom.sender import AES_KEY, TOKEN, CallbackSender

GROUP = "wrProc"
CAMPAIGNS = f"""agent_id = 1000002

[campaigns.bring]
type = "referral"
groups = ["wecom:{GROUP}"]
qualify_messages = 0
announce = false
acknowledge_platform_policy = true

[campaigns.hello]
type = "welcome"
groups = ["wecom:{GROUP}"]
text = "Welcome {{name}}!"
"""


async def test_hearth_run_receives_wecom_callbacks(fake, tmp_path: Path) -> None:
    fake.add_group(GROUP, OWNER, "Process group", members=["wmA"])
    port = free_port()
    db = tmp_path / "hearth.db"
    text = config_text(fake, db, CAMPAIGNS).replace("port = 0", f"port = {port}")
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
        assert await sender.send(app_text_xml(fake.corp_id, OWNER, "/joinway bring wecom:wmA", 1)) == (200, "success")
        while len(fake.inbox.get(OWNER, [])) < 2 or not fake.welcome:  # the answer, its QR image; the template
            assert loop.time() < deadline, hearth.stderr_tail()
            await asyncio.sleep(0.1)
        [way] = fake.join_ways.values()
        assert way["qr_code"] in fake.inbox[OWNER][0]["text"]["content"]
        assert list(fake.welcome.values()) == ["Welcome %NICKNAME%!"]
        hearth.signal(signal.SIGTERM)
        assert hearth.wait() == 0
        output = hearth.stderr_tail(10**7) + "".join(hearth.stdout)
    for secret in (fake.secret, TOKEN, AES_KEY, *fake.tokens_issued):
        assert secret not in output
