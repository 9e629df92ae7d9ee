"""Polls and feedback rounds, as members see them: by button, by number, natively, and exported."""

from __future__ import annotations

import asyncio
import csv
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.base import Feature
from bot import actions as act
from bot.cli import main
from bot.config import load
from bot.events import Event, EventKind, User
from bot.simulate import RecordingAdapter
from storage import db as storage_db
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 59, tzinfo=SHANGHAI)
HEAD = '[bot]\ntimezone = "Asia/Shanghai"\n[platforms.sandbox]\n'
POLL = """
[campaigns.tea]
type = "poll"
schedule = "0 10 * * mon"
question = "Which tea for the next meetup?"
options = ["Green", "Black", "Oolong"]
duration = "1h"
"""


class TextOnlyAdapter(RecordingAdapter):
    """A platform without buttons or polls (like OneBot): plain replies only."""

    features = frozenset({Feature.REPLIES})


class NativePollAdapter(RecordingAdapter):
    """A platform with its own polls (like Telegram)."""

    features = RecordingAdapter.features | {Feature.POLLS}


def buttons_of(actions: list[act.Action]) -> list[act.Button]:
    return [b for a in actions if isinstance(a, act.SendMessage) for row in a.buttons for b in row]


def toasts(actions: list[act.Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, act.AnswerButton)]


async def press(conv: Conversation, member: str, button: act.Button) -> list[str]:
    return toasts(await conv.deliver(conv.event("press", member, data=button.data)))


async def test_button_poll_one_vote_each_and_results_at_close() -> None:
    conv = await Conversation.open(HEAD + POLL, MONDAY)
    try:
        opened = await conv.advance_actions(timedelta(minutes=1))
        [message] = [a for a in opened if isinstance(a, act.SendMessage)]
        assert message.content.startswith("📊 Which tea for the next meetup?\n1) Green\n2) Black\n3) Oolong")
        assert message.content.endswith("Press a button to vote (one vote each). Closes 2026-03-02 11:00.")
        green, black, _oolong = buttons_of([message])
        assert await press(conv, "alice", black) == ["Vote recorded: Black"]
        assert await press(conv, "alice", green) == ["You already voted (Black); votes in this poll cannot be changed."]
        assert await press(conv, "alice", black) == ["You already voted for Black."]
        assert await press(conv, "bob", black) == ["Vote recorded: Black"]
        assert await press(conv, "carol", green) == ["Vote recorded: Green"]
        assert await conv.say("dave", "3") == []  # a button platform takes votes by button
        [results] = await conv.advance(timedelta(hours=1))
        assert results == (
            "📊 Results: Which tea for the next meetup?\n"
            "Black — 2 (67%) ███████\nGreen — 1 (33%) ███\nOolong — 0 (0%)\n3 vote(s) in total."
        )
        assert await press(conv, "dave", green) == ["This poll is closed."]
    finally:
        await conv.close()


async def test_a_changeable_poll_lets_members_change_their_vote_until_it_closes() -> None:
    conv = await Conversation.open(HEAD + POLL + "changeable = true\n", MONDAY)
    try:
        green, black, _ = buttons_of(await conv.advance_actions(timedelta(minutes=1)))
        await press(conv, "alice", black)
        assert await press(conv, "alice", green) == ["Vote changed to Green."]
        [results] = await conv.advance(timedelta(hours=1))
        assert "Green — 1 (100%)" in results and "Black — 0 (0%)" in results
    finally:
        await conv.close()


async def test_text_only_platform_votes_by_number() -> None:
    conv = await Conversation.open(HEAD + POLL, MONDAY, adapter=TextOnlyAdapter)
    try:
        opened = await conv.advance_actions(timedelta(minutes=1))
        assert buttons_of(opened) == []
        [message] = opened
        assert isinstance(message, act.SendMessage)
        assert message.content.endswith(
            "Reply with the number of your choice to vote (one vote each). Closes 2026-03-02 11:00."
        )
        assert await conv.say("alice", "2") == ["Vote recorded: Black"]
        assert await conv.say("alice", "1") == ["You already voted (Black); votes in this poll cannot be changed."]
        assert await conv.say("bob", "３") == ["Vote recorded: Oolong"]  # full-width digit
        assert await conv.say("carol", "black") == ["Vote recorded: Black"]  # or the option's text
        assert await conv.say("dave", "I prefer green") == []  # chatter is not a vote
        [results] = await conv.advance(timedelta(hours=1))
        assert results.splitlines()[1:] == [
            "Black — 2 (67%) ███████",
            "Oolong — 1 (33%) ███",
            "Green — 0 (0%)",
            "3 vote(s) in total.",
        ]
        assert await conv.say("erin", "1") == []  # closed
    finally:
        await conv.close()


async def test_native_poll_where_the_platform_has_polls() -> None:
    conv = await Conversation.open(HEAD + POLL, MONDAY, adapter=NativePollAdapter)
    try:
        [poll] = await conv.advance_actions(timedelta(minutes=1))
        assert isinstance(poll, act.SendPoll) and poll.options == ("Green", "Black", "Oolong") and not poll.anonymous
        poll_id = str(len(conv.adapter.performed))  # the id the platform gave the poll it sent

        def answer(member: str, *options: int) -> Event:
            return Event(
                f"answer:{member}:{options}",
                EventKind.POLL_ANSWERED,
                "sandbox",
                "hearth",
                conv.clock.now(),
                user=User("sandbox", member, member),
                poll_id=poll_id,
                option_ids=options,
            )

        assert await conv.deliver(answer("alice", 1), answer("bob", 2), answer("carol", 1)) == []
        await conv.deliver(answer("alice", 0))  # not changeable: the first vote stands
        await conv.deliver(replace(answer("mallory", 1), poll_id="999"))  # some other poll: not ours
        [results] = await conv.advance(timedelta(hours=1))
        assert results.splitlines()[1:] == [
            "Black — 2 (67%) ███████",
            "Oolong — 1 (33%) ███",
            "Green — 0 (0%)",
            "3 vote(s) in total.",
        ]
    finally:
        await conv.close()


FEEDBACK = """
[campaigns.survey]
type = "feedback"
schedule = "0 10 * * mon"
question = "What should we improve?"
duration = "2d"
"""


async def test_feedback_is_collected_from_members_who_opt_in_and_exported_as_csv(tmp_path: Path) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    path = tmp_path / "hearth.toml"
    path.write_text(HEAD.replace("[bot]\n", f'[bot]\ndatabase = "{database}"\n') + FEEDBACK, encoding="utf-8")
    conv = Conversation(load(path), MONDAY, database=database)
    await storage_db.upgrade(conv.db)
    try:
        opened = await conv.advance_actions(timedelta(minutes=1))
        [button] = buttons_of(opened)
        assert button.text == "✍️ Give feedback"
        assert await press(conv, "alice", button) == [
            "alice, write your feedback as your next message here (within 10 min)."
        ]
        assert await conv.say("alice", "More tea tastings, please") == ["Thank you, alice — your feedback is recorded."]
        assert await conv.say("carol", "hello everyone") == []  # did not opt in: just chat
        later = conv.clock.now() + timedelta(minutes=1)
        assert await conv.say("bob", '/feedback =HYPERLINK("http://x.example","click")', at=later) == [
            "Thank you, bob — your feedback is recorded."
        ]
        assert await conv.say("alice", "/feedback More tea tastings, and cake", at=later + timedelta(minutes=1)) == [
            "Thank you, alice — your feedback is updated."
        ]
        await press(conv, "dave", button)
        assert await conv.say("dave", "too late", at=conv.clock.now() + timedelta(minutes=11)) == []
        [closed] = await conv.advance(timedelta(days=2))
        assert closed == "📝 Feedback closed: “What should we improve?” — 2 answer(s). Thank you!"
        assert await conv.say("erin", "/feedback hi") == ["There is no open feedback question here right now."]
    finally:
        await conv.close()
    out = tmp_path / "answers.csv"
    assert await asyncio.to_thread(main, ["feedback", "export", "survey", "-c", str(path), "-o", str(out)]) == 0
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["member"], r["name"], r["answer"]) for r in rows] == [
        ("sandbox:bob", "bob", '\'=HYPERLINK("http://x.example","click")'),  # never a formula in a spreadsheet
        ("sandbox:alice", "alice", "More tea tastings, and cake"),
    ]
    assert rows[0]["question"] == "What should we improve?" and rows[0]["chat"] == "sandbox:g1"
    assert await asyncio.to_thread(main, ["feedback", "export", "tea", "-c", str(path)]) == 2


async def test_feedback_on_a_text_only_platform() -> None:
    conv = await Conversation.open(HEAD + FEEDBACK, MONDAY, adapter=TextOnlyAdapter)
    try:
        [message] = await conv.advance(timedelta(minutes=1))
        assert message == (
            "📝 What should we improve?\nSend /feedback followed by your answer. Open until 2026-03-04 10:00."
        )
        assert await conv.say("alice", "/feedback") == [
            "alice, write your feedback as your next message here (within 10 min)."
        ]
        assert await conv.say("alice", "Longer meetups") == ["Thank you, alice — your feedback is recorded."]
    finally:
        await conv.close()


async def test_polls_and_feedback_on_postgresql(pg_url: str) -> None:
    from campaigns.feedback import export_csv

    conv = await Conversation.open(HEAD + POLL + FEEDBACK, MONDAY, database=pg_url, adapter=NativePollAdapter)
    try:
        opened = await conv.advance_actions(timedelta(minutes=1))
        [poll] = [a for a in opened if isinstance(a, act.SendPoll)]
        poll_id = str(next(i for i, (_, a) in enumerate(conv.adapter.performed, 1) if a is poll))
        vote = Event(
            "v1",
            EventKind.POLL_ANSWERED,
            "sandbox",
            "hearth",
            conv.clock.now(),
            user=User("sandbox", "alice", "alice"),
            poll_id=poll_id,
            option_ids=(2,),
        )
        await conv.deliver(vote)
        assert await conv.say("bob", "/feedback Longer meetups") == ["Thank you, bob — your feedback is recorded."]
        [results] = await conv.advance(timedelta(hours=1))
        assert results.splitlines()[1] == "Oolong — 1 (100%) ██████████"
        async with conv.db.connect() as conn:
            text, count = await export_csv(conn, "survey")
        assert count == 1 and text.splitlines()[1].endswith(",sandbox:bob,bob,2026-03-02T02:00:00+00:00,Longer meetups")
    finally:
        await conv.close()
