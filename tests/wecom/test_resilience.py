"""Nothing lost, nothing leaked: callbacks stored before a stop are handled after a restart,
WeCom's frequency limits and network failures are temporary errors without secrets."""

from __future__ import annotations

import asyncio

import pytest

from adapters.base import TemporaryError
from adapters.wecom.api import WeComClient
from bot.events import EventKind
from tests.wecom.conftest import OWNER

GROUP = "wrRes"


async def test_a_callback_stored_before_a_stop_is_handled_after_the_restart(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER, members=["wmA"])
    first = await rig_factory()
    await first.adapter.sync_now()
    assert await first.callbacks.send(fake.join(GROUP, "wmB")) == (200, "success")
    await first.stop()  # stored and answered, but never handled: Hearth went down
    second = await rig_factory(background=True, clock=first.clock)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while await second.adapter.store.pending_callbacks():
        assert loop.time() < deadline, "the stored callback was not handled after the restart"
        await asyncio.sleep(0.02)
    [join] = await second.events(EventKind.MEMBER_JOINED)  # by the callback or the start's sync: once
    assert join.startswith(f"join:{GROUP}:wmB:")


async def test_frequency_limits_are_temporary_with_a_wait(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER)
    rig = await rig_factory()
    fake.fail_next["groupchat/get"] = [45009]
    with pytest.raises(TemporaryError) as err:
        await rig.adapter.sync_now()
    assert err.value.retry_after == 60.0 and "45009" in str(err.value)
    await rig.adapter.sync_now()  # the next round succeeds
    assert await rig.adapter.store.known(GROUP)


async def test_network_failures_carry_no_secret_or_token(fake) -> None:
    client = WeComClient("http://127.0.0.1:9", fake.corp_id, fake.secret)  # nothing listens there
    try:
        with pytest.raises(TemporaryError) as err:
            await client.group("wrX")
    finally:
        await client.close()
    assert fake.secret not in str(err.value) and "corpsecret" not in str(err.value)
    good = WeComClient(fake.url, fake.corp_id, fake.secret)
    try:
        fake.fail_next["groupchat/get"] = [40003]
        with pytest.raises(Exception) as refused:
            await good.group("wrX")
        assert "errcode 40003" in str(refused.value)
        assert all(t not in str(refused.value) for t in fake.tokens_issued) and fake.secret not in repr(good)
    finally:
        await good.close()
