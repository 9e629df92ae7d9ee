"""The callback endpoint over real HTTP, called exactly as the platform calls it."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.check_live import live_report
from storage.qq_models import QQGroup, QQWindow
from tests.qq.conftest import QQ, SECRET, eventually
from tests.qq.payloads import GROUP, group_message, interaction, recorded, robot_event


async def test_address_validation_answers_the_published_example(qq: QQ) -> None:
    app = await qq.start()
    resp = await qq.fake.call_webhook(
        qq.callback_url(app), {"op": 13, "d": {"plain_token": "Arq0D5A61EgUu4OxUvOp", "event_ts": "1725442341"}}
    )
    assert resp.status == 200
    assert await resp.json() == {
        "plain_token": "Arq0D5A61EgUu4OxUvOp",
        "signature": "87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d0"
        "1bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706",
    }


@pytest.mark.parametrize("signature", [None, "00" * 64, "zz", ""], ids=["missing", "wrong", "not-hex", "empty"])
async def test_unsigned_or_badly_signed_callbacks_are_refused_before_parsing(
    qq: QQ, signature: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    app = await qq.start()
    payload = group_message("签到", qq.clock.now())
    with caplog.at_level(logging.INFO):
        resp = await qq.fake.call_webhook(qq.callback_url(app), payload, signature=signature)
    assert resp.status == 401
    assert await qq.processed(app) == 0
    async with app.db.connect() as conn:
        assert (await conn.execute(select(QQWindow.__table__.c.ref))).all() == []
    assert app.adapters["qq"].webhook.refused == 1
    logged = caplog.text
    assert "refused a QQ callback" in logged
    assert payload["d"]["id"] not in logged and "签到" not in logged and SECRET not in logged


async def test_a_signature_for_another_body_is_refused(qq: QQ) -> None:
    app = await qq.start()
    resp = await qq.fake.call_webhook(qq.callback_url(app), group_message("签到", qq.clock.now()), timestamp="1")
    assert resp.status == 200  # correctly signed
    forged = group_message("签到", qq.clock.now())
    good = qq.fake._platform_key.sign(b"1" + b"{}")
    resp = await qq.fake.call_webhook(qq.callback_url(app), forged, signature=good, timestamp="1")
    assert resp.status == 401


async def test_an_at_message_delivered_twice_is_one_event_with_one_reply(qq: QQ) -> None:
    app = await qq.start()
    at_copy = group_message("签到", qq.clock.now())
    full_copy = group_message("签到", qq.clock.now(), at_bot=False, msg_id=at_copy["d"]["id"])
    full_copy["d"]["content"] = "<@BOTOPENID00000000> 签到"
    for payload in (at_copy, full_copy, at_copy):
        resp = await qq.fake.call_webhook(qq.callback_url(app), payload)
        assert resp.status == 200 and await resp.json() == {"op": 12, "d": 0}
    await qq.fake.wait_for(lambda: qq.fake.passive(at_copy["d"]["id"]))
    await eventually(lambda: _no_pending(qq, app))
    assert await qq.processed(app) == 1
    assert len(qq.fake.passive(at_copy["d"]["id"])) == 1


async def _no_pending(qq: QQ, app: object) -> bool:
    return not await qq.outbox(app, "pending")  # type: ignore[arg-type]


async def test_a_button_click_is_acknowledged_on_the_platform(qq: QQ) -> None:
    app = await qq.start(extra="keyboard = true")
    click = interaction("quiz:1:a", qq.clock.now())
    resp = await qq.fake.call_webhook(qq.callback_url(app), click)
    assert resp.status == 200
    await qq.fake.wait_for(lambda: qq.fake.interactions)
    assert qq.fake.interactions == [(click["d"]["id"], {"code": 0})]
    assert await qq.processed(app) == 1


async def test_proactive_permission_is_stored_and_shown_live(qq: QQ) -> None:
    app = await qq.start()
    for kind, group in (("GROUP_MSG_REJECT", GROUP), ("GROUP_MSG_RECEIVE", "G2"), ("GROUP_DEL_ROBOT", "G3")):
        resp = await qq.fake.call_webhook(qq.callback_url(app), robot_event(kind, qq.clock.now(), group))
        assert resp.status == 200
    c = QQGroup.__table__.c
    async with app.db.connect() as conn:
        rows = dict((await conn.execute(select(c.group_openid, c.proactive))).all())
    assert rows == {GROUP: False, "G2": True, "G3": None}
    text = await live_report(app.config)
    assert f"qq:{GROUP}: proactive messages NOT allowed" in text
    assert "qq:G2: proactive messages allowed" in text
    assert "qq:G3: bot removed" in text


async def test_signed_garbage_is_acknowledged_and_changes_nothing(qq: QQ) -> None:
    app = await qq.start()
    for payload in (
        {"op": 0, "t": "GROUP_AT_MESSAGE_CREATE", "d": {"id": 1}},
        {"op": 0, "d": "x"},
        recorded("c2c_message") | {"d": None},
    ):
        resp = await qq.fake.call_webhook(qq.callback_url(app), payload)
        assert resp.status == 200
    assert await qq.processed(app) == 0
