"""End to end: fake Discord over HTTP and WebSocket ↔ discord.py ↔ the real Hearth App."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.models import LedgerEntry
from tests.discord import payloads as p
from tests.discord.conftest import Discord, eventually

DEADLINE = 3.0  # Discord's: an interaction must be answered or deferred within 3 s


async def test_checkin_slash_command_is_deferred_at_once_then_answered(dc: Discord) -> None:
    app = await dc.start()
    fake = dc.fake
    assert {c["name"] for c in fake.commands[p.GUILD]} >= {"checkin", "me", "top", "help", "points"}
    d = p.slash("checkin", p.BOB)
    ident = await fake.interact(d)
    await fake.wait_for(lambda: d["token"] in fake.originals)
    assert fake.callbacks[ident] == {"type": 5}  # a public deferred reply
    assert fake.answered[ident] - fake.dispatched[ident] < DEADLINE
    assert "Bob checked in: +10 points" in fake.originals[d["token"]]["content"]
    async with app.db.connect() as conn:
        rows = (await conn.execute(select(LedgerEntry.__table__.c.member_key, LedgerEntry.__table__.c.chat_key))).all()
    assert [tuple(r) for r in rows] == [(f"discord:{p.BOB['id']}", f"discord:{p.GENERAL}")]
    await eventually(lambda: _zero(dc, app))


async def _zero(dc: Discord, app) -> bool:
    return await dc.outbox(app, "pending") == 0


async def test_me_is_answered_privately(dc: Discord) -> None:
    await dc.start()
    fake = dc.fake
    first = p.slash("checkin", p.BOB)
    await fake.interact(first)
    await fake.wait_for(lambda: first["token"] in fake.originals)
    d = p.slash("me", p.BOB)
    ident = await fake.interact(d)
    await fake.wait_for(lambda: d["token"] in fake.originals)
    assert fake.callbacks[ident] == {"type": 5, "data": {"flags": 64}}  # ephemeral from the start
    assert "Bob: 10 points" in fake.originals[d["token"]]["content"]


async def test_text_alias_is_answered_in_the_channel_as_a_reply_without_pings(dc: Discord) -> None:
    await dc.start(intents="members = true\nmessage_content = true")
    fake = dc.fake
    tricky = {**p.DAVE, "global_name": "*Dave* @everyone"}
    message = p.message(p.GENERAL, tricky, "签到")
    await fake.dispatch("MESSAGE_CREATE", message)
    await fake.wait_for(lambda: fake.messages.get(p.GENERAL))
    [reply] = fake.messages[p.GENERAL]
    body = fake.sent("POST", f"/channels/{p.GENERAL}/messages")[0].body
    assert body["message_reference"] == {"message_id": message["id"], "fail_if_not_exists": False}
    assert body["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert reply["content"].startswith("✅ \\*Dave\\* @everyone checked in")  # Markdown shown as typed


async def test_a_command_where_hearth_does_not_work_gets_a_private_pointer(dc: Discord) -> None:
    app = await dc.start()
    fake = dc.fake
    d = p.slash("checkin", p.BOB, channel=p.OTHER)
    ident = await fake.interact(d)
    await fake.wait_for(lambda: ident in fake.callbacks)
    answer = fake.callbacks[ident]
    assert answer["type"] == 4 and answer["data"]["flags"] == 64
    assert f"<#{p.GENERAL}>" in answer["data"]["content"] and f"<#{p.EVENTS}>" in answer["data"]["content"]
    assert await dc.processed(app) == 0


async def test_an_unanswered_command_has_its_thinking_removed(dc: Discord) -> None:
    app = await dc.start()
    dc.adapter(app).menu["ghost"] = dc.adapter(app).menu["checkin"]  # a command nobody answers
    d = p.slash("ghost", p.BOB)
    ident = await dc.fake.interact(d)
    await dc.fake.wait_for(lambda: dc.fake.sent("DELETE", f"/webhooks/{p.APP}/{d['token']}/messages/@original"))
    assert dc.fake.callbacks[ident] == {"type": 5}
    assert d["token"] not in dc.fake.originals and await dc.processed(app) == 1


async def test_button_press_works_after_a_restart(dc: Discord) -> None:
    greet = '[campaigns.greet]\ntype = "welcome"\nintroduce = true\nbatch_window = "0s"\n'
    app = await dc.start(campaigns=greet, ready=True)
    fake = dc.fake
    await fake.join(p.GUILD, p.CAROL)
    await fake.wait_for(lambda: any(m["components"] for m in fake.messages.get(p.GENERAL, [])))
    [welcome] = [m for m in fake.messages[p.GENERAL] if m["components"]]
    [button] = welcome["components"][0]["components"]
    assert button["custom_id"] == "h:w:greet:intro" and button["type"] == 2
    await eventually(lambda: _zero(dc, app))
    await dc.stop(app)

    await dc.start(campaigns=greet)  # a new process: no view was registered for that message
    d = p.button(button["custom_id"], p.CAROL, welcome["id"])
    ident = await fake.interact(d)
    await fake.wait_for(lambda: fake.followups.get(d["token"]))
    assert fake.callbacks[ident] == {"type": 6}  # acknowledged without a visible change
    assert fake.answered[ident] - fake.dispatched[ident] < DEADLINE
    [answer] = fake.followups[d["token"]]
    assert answer["flags"] & 64 and "Carol" in answer["content"]


async def test_slash_options_reach_the_admin_command_with_a_real_mention(dc: Discord) -> None:
    app = await dc.start()
    options = [
        {
            "type": 1,
            "name": "add",
            "options": [
                {"type": 3, "name": "reason", "value": "quiz winner"},
                {"type": 6, "name": "member", "value": p.BOB["id"]},
                {"type": 4, "name": "number", "value": 25},
            ],
        }
    ]
    d = p.slash("points", p.ALICE, options=options, permissions=1 << 5)  # Manage Server: an admin
    d["data"]["resolved"] = {"users": {p.BOB["id"]: p.BOB}}
    await dc.fake.interact(d)
    await dc.fake.wait_for(lambda: d["token"] in dc.fake.originals)
    assert "quiz winner" in dc.fake.originals[d["token"]]["content"]
    async with app.db.connect() as conn:
        t = LedgerEntry.__table__.c
        rows = (await conn.execute(select(t.member_key, t.points))).all()
    assert [tuple(r) for r in rows] == [(f"discord:{p.BOB['id']}", 25)]
    points = next(c for c in dc.fake.commands[p.GUILD] if c["name"] == "points")
    assert points["default_member_permissions"] == str(1 << 5)
    assert [o["name"] for o in points["options"]] == ["add", "remove"]
    assert [(o["name"], o["type"], o["required"]) for o in points["options"][0]["options"]] == [
        ("member", 6, True),
        ("number", 4, True),
        ("reason", 3, True),
    ]


async def test_commands_are_registered_once_and_not_again_when_unchanged(dc: Discord) -> None:
    app = await dc.start()
    path = f"/applications/{p.APP}/guilds/{p.GUILD}/commands"
    assert len(dc.fake.sent("PUT", path)) == 1
    await dc.stop(app)
    await dc.start()
    assert len(dc.fake.sent("PUT", path)) == 1 and len(dc.fake.sent("GET", path)) == 2
    checkin = next(c for c in dc.fake.commands[p.GUILD] if c["name"] == "checkin")
    assert checkin["description"] == "check in for today"
    assert checkin["description_localizations"]["zh-CN"] and checkin["description_localizations"]["ru"]


async def test_the_deadline_holds_while_the_engine_is_slow(dc: Discord) -> None:
    app = await dc.start()
    handle = app.engine.handle

    async def slow(events):  # a database taking 4 s: longer than Discord waits
        await asyncio.sleep(4)
        await handle(events)

    app.engine.handle = slow  # type: ignore[method-assign]
    d = p.slash("checkin", p.BOB)
    ident = await dc.fake.interact(d)
    await dc.fake.wait_for(lambda: d["token"] in dc.fake.originals, within=15)
    assert dc.fake.answered[ident] - dc.fake.dispatched[ident] < DEADLINE  # not held up by the engine
    assert dc.fake.sent("PATCH", "@original")[0].at - dc.fake.dispatched[ident] > 4


async def test_a_batch_whose_commit_fails_is_tried_again_not_lost(dc: Discord) -> None:
    app = await dc.start()
    adapter = dc.adapter(app)
    submit, failures = adapter.sink.submit, []

    async def flaky(events):
        if not failures:
            failures.append(events)
            raise OSError("database is locked")
        await submit(events)

    adapter.sink.submit = flaky  # type: ignore[method-assign, union-attr]
    d = p.slash("checkin", p.BOB)
    await dc.fake.interact(d)
    await dc.fake.wait_for(lambda: d["token"] in dc.fake.originals, within=15)
    assert len(failures) == 1 and "Bob checked in" in dc.fake.originals[d["token"]]["content"]


async def test_an_answer_still_in_the_outbox_keeps_its_thinking(dc: Discord) -> None:
    app = await dc.start()  # interaction_answer_after is 1 s here
    adapter = dc.adapter(app)
    perform = adapter.perform

    async def backlog(action, key):  # the sender is 3 s behind
        await asyncio.sleep(3)
        return await perform(action, key)

    adapter.perform = backlog  # type: ignore[method-assign]
    d = p.slash("checkin", p.BOB)
    await dc.fake.interact(d)
    await dc.fake.wait_for(lambda: d["token"] in dc.fake.originals, within=15)
    assert not dc.fake.sent("DELETE", "@original")
    assert "Bob checked in" in dc.fake.originals[d["token"]]["content"]
