"""A scheduled announcement for a WeCom group becomes one staff-confirmed broadcast task; its
result is polled and shown; WeCom's monthly cap is respected with a clear message."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from adapters.base import PermanentError
from bot import actions as act
from bot import cli
from bot.stats import summary
from tests.wecom.conftest import OWNER, config_text

GROUP = "wrNews"
ANNOUNCE = f"""
monthly_cap = 2

[[groups]]
id = "wecom:{GROUP}"
title = "Bean club"

[campaigns.morning]
type = "announcement"
groups = ["wecom:{GROUP}"]
schedule = "0 10 * * *"
text = "Good morning, {{group}}! New beans today."
"""


async def test_announcement_becomes_one_task_and_its_result_is_reported(fake, rig_factory, tmp_path, capsys) -> None:
    fake.add_group(GROUP, OWNER, "Bean club", members=["wmA"])
    rig = await rig_factory(ANNOUNCE)
    await rig.adapter.sync_now()
    await rig.advance(timedelta(hours=9))  # 02:00 → 11:00: one fire at 10:00
    [(msgid, task)] = fake.templates.items()
    assert task["sender"] == OWNER and task["chat_id_list"] == [GROUP] and task["chat_type"] == "group"
    assert task["text"]["content"] == "Good morning, Bean club! New beans today."
    assert await rig.outbox() == [("send_message", "sent", None)]
    [row] = await rig.adapter.broadcasts.recent()
    assert (row.msgid, row.status) == (msgid, "pending")

    await rig.adapter.poll_now()
    assert (await rig.adapter.broadcasts.recent())[0].status == "pending"
    fake.confirm(msgid)  # the owner taps "send" in WeCom
    await rig.adapter.poll_now()
    assert (await rig.adapter.broadcasts.recent())[0].status == "sent"
    assert len(fake.called("add_msg_template")) == 1
    assert "WeCom broadcasts: sent 1" in await summary(rig.config)  # `hearth stats`
    config = tmp_path / "hearth.toml"
    config.write_text(config_text(fake, tmp_path / "hearth.db", ANNOUNCE), encoding="utf-8")
    code = await asyncio.to_thread(cli.main, ["wecom", "broadcasts", "-c", str(config)])
    out = capsys.readouterr().out
    assert code == 0 and f"wecom:{GROUP} by {OWNER}: sent" in out and "Good morning, Bean club!" in out
    code = await asyncio.to_thread(cli.main, ["wecom", "groups", "-c", str(config)])
    assert f"wecom:{GROUP}  members 2  joins 0  leaves 0" in capsys.readouterr().out


async def test_monthly_cap_is_a_clear_message_not_a_failure(fake, rig_factory, caplog) -> None:
    fake.add_group(GROUP, OWNER, "Bean club")
    rig = await rig_factory(ANNOUNCE)
    await rig.adapter.sync_now()
    await rig.advance(timedelta(days=2, hours=9))  # three mornings
    assert len(fake.templates) == 2
    rows = await rig.adapter.broadcasts.recent()
    assert [r.status for r in rows] == ["over_cap", "pending", "pending"]
    assert "at most 2 per group per month" in rows[0].detail
    assert [s for _, s, _ in await rig.outbox()] == ["sent", "sent", "sent"]
    assert "already has 2 broadcast(s) this month" in caplog.text


async def test_a_pending_task_is_reminded_within_wecoms_limits(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER)
    rig = await rig_factory(ANNOUNCE)
    await rig.adapter.sync_now()
    await rig.advance(timedelta(hours=9))
    [msgid] = fake.templates
    for _ in range(10):  # polled every hour for ten hours: one reminder after 8 h
        rig.clock.advance(timedelta(hours=1))
        await rig.adapter.poll_now()
    assert fake.templates[msgid]["reminded"] == 1
    for _ in range(60):
        rig.clock.advance(timedelta(hours=1))
        await rig.adapter.poll_now()
    assert fake.templates[msgid]["reminded"] == 3  # never more than three


async def test_chat_messages_and_owners_outside_staff_are_refused_with_the_reason(fake, rig_factory) -> None:
    fake.add_group(GROUP, "lisi")  # its owner is not in staff, but WeCom calls back about it
    rig = await rig_factory(ANNOUNCE)
    await rig.deliver(fake.join(GROUP, "wmZ"))
    assert await rig.adapter.store.known(GROUP)
    with pytest.raises(PermanentError, match="not listed in"):
        await rig.adapter.perform(act.SendMessage(f"wecom:{GROUP}", "hi", broadcast=True), "k1")
    with pytest.raises(PermanentError, match="no access to chat text"):
        await rig.adapter.perform(act.SendMessage(f"wecom:{GROUP}", "welcome!"), "k2")
    assert fake.templates == {}


async def test_a_task_wecom_no_longer_knows_is_not_sent_and_polling_goes_on(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER)
    rig = await rig_factory(ANNOUNCE)
    await rig.adapter.sync_now()
    await rig.advance(timedelta(days=1, hours=9))  # two mornings, two tasks
    first, second = fake.templates
    fake.fail_next["get_groupmsg_send_result"] = [41063]
    fake.confirm(second)
    await rig.adapter.poll_now()
    rows = {r.msgid: r for r in await rig.adapter.broadcasts.recent()}
    assert rows[first].status == "not_sent" and "41063" in rows[first].detail
    assert rows[second].status == "sent"
