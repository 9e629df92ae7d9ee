"""``hearth run`` as a real process against the fake Bot API: it answers, stops cleanly, never prints the token."""

from __future__ import annotations

import asyncio
import html
import signal
from pathlib import Path

from tests.proc import Hearth, run_hearth
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


async def test_a_token_telegram_rejects_is_one_line_without_the_token(tg: Telegram, tmp_path: Path) -> None:
    wrong = "7000000002:AAHwrongTokenNobodyKnows_0123456789"
    config = tmp_path / "hearth.toml"
    config.write_text(tg.config_text().replace(TOKEN, wrong), encoding="utf-8")
    done = await asyncio.to_thread(run_hearth, "run", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "hearth: error: Telegram rejected the bot token; check [platforms.telegram].token"
    )
    assert "Traceback" not in done.stderr
    assert wrong.partition(":")[2] not in done.stderr + done.stdout
