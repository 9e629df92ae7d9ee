"""The callback endpoint over real HTTP: URL verification, refusals before parsing, storing
before ``success``, retries as no-ops, and nothing of a refused payload in the log."""

from __future__ import annotations

import base64
import logging

from sqlalchemy import select

from storage.wecom_models import WeComCallback
from tests.wecom.conftest import CORP, OWNER
from tests.wecom.fake_wecom import change_xml
from tests.wecom.sender import AES_KEY, TOKEN, wecom_encrypt, wecom_sign

GROUP = "wrGroupCb"


async def stored(rig) -> list[tuple[str, str, list]]:
    t = WeComCallback.__table__.c
    async with rig.db.connect() as conn:
        return [tuple(r) for r in await conn.execute(select(t.chat_id, t.detail, t.members).order_by(t.id))]


async def test_url_verification_answers_the_decrypted_echo(rig_factory) -> None:
    rig = await rig_factory()
    assert await rig.callbacks.verify_url(b"4815162342") == (200, "4815162342")


async def test_a_callback_is_stored_before_success_and_a_retry_changes_nothing(rig_factory) -> None:
    rig = await rig_factory()
    xml = change_xml(CORP, GROUP, "update", "add_member", ["wmA", "wmB"], 1_780_000_100)
    params, body = rig.callbacks.seal(xml)
    assert await rig.callbacks.post(params, body) == (200, "success")
    assert await stored(rig) == [(GROUP, "add_member", ["wmA", "wmB"])]  # before anything handled it
    assert await rig.callbacks.post(params, body) == (200, "success")  # WeCom's retry
    assert await rig.callbacks.send(xml) == (200, "success")  # the same event, sealed again
    assert len(await stored(rig)) == 1


async def test_other_events_are_acknowledged_and_not_stored(rig_factory) -> None:
    rig = await rig_factory()
    xml = b"<xml><MsgType>event</MsgType><Event>change_external_contact</Event><ChangeType>add</ChangeType></xml>"
    assert await rig.callbacks.send(xml) == (200, "success")
    assert await rig.callbacks.send(b"not xml at all <") == (200, "success")
    assert await stored(rig) == []


async def test_refusals_log_only_the_refusal(rig_factory, caplog) -> None:
    rig = await rig_factory()
    caplog.set_level(logging.DEBUG)
    secret_xml = change_xml(CORP, "wrSecretGroup", "update", "add_member", ["wmSecretMember"], 1)
    params, body = rig.callbacks.seal(secret_xml)
    tampered = dict(params, msg_signature="0" * 40)
    assert (await rig.callbacks.post(tampered, body))[0] == 403
    assert (await rig.callbacks.send(secret_xml, corp_id="wwAnotherCorp"))[0] == 403
    encrypted = wecom_encrypt(AES_KEY, CORP, secret_xml)
    short = base64.b64encode(base64.b64decode(encrypted)[:-16]).decode()
    cut = {"msg_signature": wecom_sign(TOKEN, "1", "n", short), "timestamp": "1", "nonce": "n"}
    assert (await rig.callbacks.post(cut, f"<xml><Encrypt>{short}</Encrypt></xml>".encode()))[0] == 403
    assert (await rig.callbacks.post(params, b"<xml><nothing/></xml>"))[0] == 403
    assert await stored(rig) == []
    assert rig.adapter.server.refused == 4
    text = caplog.text
    assert text.count("refused a WeCom callback") == 4
    for leak in ("wrSecretGroup", "wmSecretMember", TOKEN, AES_KEY, encrypted[:20], OWNER):
        assert leak not in text
