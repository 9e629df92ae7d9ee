"""``hearth run`` as a real process against the fake Bot API: it answers, stops cleanly, never prints the token."""

from __future__ import annotations

import html
import signal
from pathlib import Path

from tests.proc import Hearth
from tests.telegram import updates as u
from tests.telegram.conftest import TOKEN, Telegram

SUPER = u.supergroup()


async def test_hearth_run_answers_in_telegram_and_keeps_the_token_out_of_its_output(
    tg: Telegram, tmp_path: Path
) -> None:
    config = tmp_path / "hearth.toml"
    text = tg.config_text().replace(f'token = "{TOKEN}"', 'token = "${TELEGRAM_TOKEN}"')
    config.write_text(text.replace("[bot]\n", '[bot]\nlog_level = "DEBUG"\n'), encoding="utf-8")
    tg.bot.fail("getUpdates", times=1, status=400, description="echo")  # an error that quotes the URL
    with Hearth("run", "--config", str(config), cwd=tmp_path, env={"TELEGRAM_TOKEN": TOKEN}) as hearth:
        await tg.fake.push(tg.bot, u.message(SUPER, u.user(42, "Zoe"), "/checkin"))
        await tg.fake.wait_for(lambda: tg.bot.sent(chat_id=SUPER["id"]), within=180)
        hearth.signal(signal.SIGTERM)
        assert hearth.wait() == 0
        output = hearth.stderr_tail(10**7) + "".join(hearth.stdout)
    assert "Zoe checked in" in html.unescape(tg.bot.sent(chat_id=SUPER["id"])[0]["text"])
    assert "getUpdates" in output and "/bot***/getUpdates" in output  # the failure was logged, scrubbed
    assert TOKEN.partition(":")[2] not in output
