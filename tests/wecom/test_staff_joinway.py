"""Staff's ``/joinway`` in the app chat, over signed and encrypted callbacks to the fake WeCom:
a per-referrer QR code answered once (text with the URL, then the image), refusals for
non-staff, usage lines for anything malformed, nothing from the chat crashing the adapter."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from adapters.base import TemporaryError
from adapters.wecom.staff import NOT_STAFF, USAGE, parse
from bot.events import EventKind
from storage.models import LedgerEntry
from storage.wecom_models import WeComStaffMessage
from tests.wecom.conftest import CORP, OWNER
from tests.wecom.fake_wecom import PNG, app_text_xml

GROUP = "wrStaff"
CAMPAIGNS = f"""
agent_id = 1000002

[campaigns.bring]
type = "referral"
groups = ["wecom:{GROUP}"]
starts = 2026-06-01T00:00:00+08:00
qualify_after = "1h"
qualify_messages = 0
announce = false
acknowledge_platform_policy = true
inviter_reward = {{ points = 50 }}

[campaigns.spring]
type = "referral"
groups = ["wecom:{GROUP}"]
qualify_messages = 0
announce = false
acknowledge_platform_policy = true
ends = 2026-03-01T00:00:00+08:00

[campaigns.hello]
type = "welcome"
groups = ["wecom:{GROUP}"]
text = "Welcome {{name}}!"
"""


def texts(fake, userid: str) -> list[str]:
    return [m["text"]["content"] for m in fake.inbox.get(userid, []) if m["msgtype"] == "text"]


async def staff_rows(rig) -> list[tuple[str, str]]:
    t = WeComStaffMessage.__table__.c
    async with rig.db.connect() as conn:
        return [tuple(r) for r in await conn.execute(select(t.userid, t.status).order_by(t.id))]  # type: ignore[misc]


async def test_staff_get_a_qr_code_once_and_the_referrer_is_credited(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER, "Tea house")
    rig = await rig_factory(CAMPAIGNS)
    await rig.adapter.sync_now()
    params, body = rig.callbacks.seal(app_text_xml(CORP, OWNER, "/joinway bring wecom:wmAlice", 7001))
    assert await rig.callbacks.post(params, body) == (200, "success")
    assert await staff_rows(rig) == [(OWNER, "pending")]  # stored before the answer
    assert await rig.callbacks.post(params, body) == (200, "success")  # WeCom's retries
    assert await rig.callbacks.send(app_text_xml(CORP, OWNER, "/joinway bring wecom:wmAlice", 7001)) == (
        200,
        "success",
    )
    await rig.adapter.handle_callbacks()
    await rig.adapter.handle_callbacks()

    [way] = fake.join_ways.values()
    assert way["chat_id_list"] == [GROUP] and way["scene"] == 2
    [answer] = texts(fake, OWNER)
    assert f"campaign bring (joins through it are credited to wecom:wmAlice):\n{way['qr_code']}" in answer
    [image] = [m for m in fake.inbox[OWNER] if m["msgtype"] == "image"]
    assert fake.media[image["image"]["media_id"]] == PNG
    assert len(fake.called("message/send")) == 2 and len(fake.called("media/upload")) == 1
    assert all(c.body["agentid"] == 1000002 and c.body["touser"] == OWNER for c in fake.called("message/send"))
    assert await staff_rows(rig) == [(OWNER, "done")]

    await rig.deliver(fake.join(GROUP, "wmBob", state=way["state"]))  # Bob scans Alice's code
    [join] = await rig.events(EventKind.MEMBER_JOINED)
    assert join.startswith(f"join:{GROUP}:wmBob:")
    await rig.advance(timedelta(hours=2))
    async with rig.db.connect() as conn:
        t = LedgerEntry.__table__.c
        assert [tuple(r) for r in await conn.execute(select(t.member_key, t.points))] == [("wecom:wmAlice", 50)]


async def test_without_a_referrer_the_staff_member_is_credited_and_labels_pay_nobody(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER)
    rig = await rig_factory(CAMPAIGNS)
    await rig.callbacks.send(app_text_xml(CORP, OWNER, "/JoinWay   bring", 1))
    await rig.callbacks.send(app_text_xml(CORP, OWNER, "／joinway bring poster-shop1", 2))
    await rig.adapter.handle_callbacks()
    first, second = texts(fake, OWNER)
    assert "credited to wecom:zhangsan" in first
    assert "counted for poster-shop1; nobody is paid" in second
    assert sorted(w.referrer for w in await rig.adapter.ways.all()) == ["poster-shop1", "wecom:zhangsan"]


async def test_refusals_usage_and_the_clis_checks(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER)
    rig = await rig_factory(CAMPAIGNS)
    said = [
        ("lisi", "/joinway bring wecom:wmMallory"),  # not staff
        (OWNER, "hello"),
        (OWNER, "/joinway"),
        (OWNER, "/joinway bring a b c"),
        (OWNER, "/joinway bring a<b"),
        (OWNER, "/joinway nope"),
        (OWNER, "/joinway spring"),
        (OWNER, "/joinway hello"),
    ]
    for n, (who, text) in enumerate(said):
        assert await rig.callbacks.send(app_text_xml(CORP, who, text, 100 + n)) == (200, "success")
    await rig.adapter.handle_callbacks()
    assert fake.join_ways == {}
    assert texts(fake, "lisi") == [NOT_STAFF]
    answers = texts(fake, OWNER)
    assert answers[:3] == [USAGE, USAGE, USAGE]
    assert "neither a member key" in answers[3] and USAGE in answers[3]
    assert answers[4] == "No join way made: no campaign 'nope' (referral campaigns: bring, spring)"
    assert answers[5] == "No join way made: campaign 'spring' has ended; no join way made"
    assert "is a welcome campaign" in answers[6]


async def test_a_crash_before_the_answer_resends_it_and_makes_no_second_join_way(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER)
    rig = await rig_factory(CAMPAIGNS)
    await rig.callbacks.send(app_text_xml(CORP, OWNER, "/joinway bring wecom:wmAlice", 9))
    fake.fail_next["message/send"] = [-1]  # WeCom busy when the answer goes out
    with pytest.raises(TemporaryError):
        await rig.adapter.handle_callbacks()
    assert await staff_rows(rig) == [(OWNER, "made")] and len(fake.join_ways) == 1
    await rig.stop()  # Hearth restarts
    second = await rig_factory(CAMPAIGNS, clock=rig.clock)
    await second.adapter.handle_callbacks()
    assert len(fake.join_ways) == 1 and len(texts(fake, OWNER)) == 1
    assert await staff_rows(second) == [(OWNER, "done")]

    # a crash after WeCom delivered the answer but before Hearth recorded it: sent again,
    # and WeCom's duplicate check keeps the staff member from seeing it twice
    async with second.db.begin() as conn:
        await conn.execute(update(WeComStaffMessage.__table__).values(status="made"))
    await second.adapter.handle_callbacks()
    assert len(fake.called("message/send")) == 5  # busy, text, image, text again, image again
    assert len(texts(fake, OWNER)) == 1 and len(fake.join_ways) == 1


async def test_other_apps_other_messages_and_a_wecom_refusal(fake, rig_factory) -> None:
    fake.add_group(GROUP, OWNER)
    rig = await rig_factory(CAMPAIGNS)
    other_app = app_text_xml(CORP, OWNER, "/joinway bring", 1, agent_id=1000099)
    image = app_text_xml(CORP, OWNER, "x", 2).replace(b"[text]", b"[image]")
    enter = b"<xml><MsgType>event</MsgType><Event>enter_agent</Event><FromUserName>zhangsan</FromUserName></xml>"
    for xml in (other_app, image, enter, b"<xml><MsgType>text</MsgType></xml>", b"\xff\xfe<"):
        assert await rig.callbacks.send(xml) == (200, "success")
    await rig.adapter.handle_callbacks()
    assert await staff_rows(rig) == [] and fake.inbox == {}
    fake.fail_next["add_join_way"] = [41054]
    await rig.callbacks.send(app_text_xml(CORP, OWNER, "/joinway bring", 3))
    await rig.adapter.handle_callbacks()
    [answer] = texts(fake, OWNER)
    assert answer.startswith("No join way made: WeCom refused it") and "errcode 41054" in answer
    assert fake.secret not in answer and all(t not in answer for t in fake.tokens_issued)


async def test_the_app_chat_is_off_without_agent_id(fake, rig_factory) -> None:
    rig = await rig_factory(CAMPAIGNS.replace("agent_id = 1000002", ""))
    assert await rig.callbacks.send(app_text_xml(CORP, OWNER, "/joinway bring", 1)) == (200, "success")
    await rig.adapter.handle_callbacks()
    assert await staff_rows(rig) == [] and fake.inbox == {}


@given(st.text(max_size=200), st.sampled_from(["zhangsan", "lisi", "a.b@c"]))
def test_any_text_parses_to_a_request_or_an_answer(text: str, userid: str) -> None:
    got = parse(text, userid)
    if isinstance(got, tuple):
        campaign, referrer = got
        assert text.split()[0].lower() in ("/joinway", "／joinway") and campaign and referrer
    else:
        assert USAGE in got
