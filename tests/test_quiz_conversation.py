"""Quizzes, as members and admins see them in the chat."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from adapters.base import Feature
from bot import actions as act
from bot.simulate import RecordingAdapter
from storage import quiz_repo
from storage.quiz_models import QuizPrize
from tests.harness import Conversation

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVE = datetime(2026, 3, 6, 19, 59, tzinfo=SHANGHAI)  # a minute before the quiz
START = datetime(2026, 3, 6, 20, 0, tzinfo=SHANGHAI)

HEAD = """
[bot]
timezone = "Asia/Shanghai"
admins = ["sandbox:admin"]
[platforms.sandbox]
"""


def quiz(body: str, name: str = "trivia", **keys: object) -> str:
    settings = {"type": "quiz", "schedule": "0 20 * * *", "shuffle": False, "gap": "10s", **keys}
    lines = [f"[campaigns.{name}]"]
    for key, value in settings.items():
        lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else repr(value)}")
    return "\n".join(lines) + "\n" + body.replace("QUIZ", name)


PARIS = '[[campaigns.QUIZ.questions]]\ntext = "What is the capital of France?"\nanswers = ["Paris"]\n'
SPIDER = '[[campaigns.QUIZ.questions]]\ntext = "How many legs has a spider?"\nanswers = ["8", "eight"]\n'
CHOICE = (
    '[[campaigns.QUIZ.questions]]\ntext = "Where is the Louvre?"\nchoices = ["Berlin", "Paris", "Rome"]\ncorrect = 2\n'
)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


async def opened(toml: str, **kwargs: object) -> Conversation:
    return await Conversation.open(HEAD + toml, EVE, **kwargs)


def buttons_of(actions: list[act.Action]) -> list[act.Button]:
    return [b for a in actions if isinstance(a, act.SendMessage) for row in a.buttons for b in row]


def toasts(actions: list[act.Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, act.AnswerButton)]


async def test_scheduled_quiz_first_correct_answer_wins_the_race() -> None:
    conv = await opened(quiz(PARIS + SPIDER, per_run=2))
    try:
        intro, question = await conv.advance(timedelta(minutes=1))
        assert "Quiz time: trivia" in intro and "2 question(s)" in intro and "first correct answer" in intro
        assert question.startswith("❓ Question 1/2: What is the capital of France?")
        assert await conv.say("alice", "Lyon", at=at(5)) == []  # wrong guesses stay quiet
        assert await conv.say("bob", "paris", at=at(8)) == ["✅ bob got it! The answer: Paris (+10)"]
        assert await conv.say("alice", "Paris", at=at(9)) == []  # too late: bob won it
        [second] = await conv.advance(timedelta(seconds=10))
        assert second.startswith("❓ Question 2/2: How many legs has a spider?")
        [won, results] = await conv.say("alice", "eight", at=at(25))
        assert won == "✅ alice got it! The answer: 8 (+10)"
        # a tie on points goes to whoever reached the score first
        assert results == "🏁 trivia is over! Results:\n1. bob — 10\n2. alice — 10"
        assert await conv.points("alice") == 10 and await conv.points("bob") == 10
        assert await conv.advance(timedelta(minutes=5)) == []  # no stale timer speaks up
        assert await conv.say("carol", "/quiz top") == ["🏆 Quiz season 2026-03\n1. bob — 10\n2. alice — 10"]
        assert await conv.say("carol", "/quiz top 2025-12") == ["No quiz points in season 2025-12 yet."]
    finally:
        await conv.close()


async def test_scoring_all_gives_everyone_correct_points_with_a_speed_bonus() -> None:
    conv = await opened(quiz(PARIS, scoring="all", points=10, speed_bonus=10, time_limit="60s"))
    try:
        await conv.advance(timedelta(minutes=1))
        assert await conv.say("alice", "Paris", at=at(6)) == []  # nobody is told, so nobody copies
        assert await conv.say("bob", "PARIS", at=at(30)) == []
        assert await conv.say("carol", "Rome", at=at(40)) == []
        reveal, results = await conv.advance(timedelta(minutes=1))
        # 10 points plus the bonus left: 9 of 10 after 6 s, 5 of 10 after 30 s
        assert reveal == "⏰ Time's up! The answer: Paris\nCorrect: alice +19, bob +15"
        assert results == "🏁 trivia is over! Results:\n1. alice — 19\n2. bob — 15"
        assert [await conv.points(m) for m in ("alice", "bob", "carol")] == [19, 15, 0]
    finally:
        await conv.close()


NORMALISATION = """
[[campaigns.QUIZ.questions]]
text = "What is the capital of France?"
answers = ["Paris"]
typos = 1
[[campaigns.QUIZ.questions]]
text = "How many fingers do two hands have?"
answers = ["10"]
typos = 1
[[campaigns.QUIZ.questions]]
text = "Which Swiss city is home to the ETH?"
answers = ["Zürich"]
"""


async def test_answers_are_matched_the_way_members_find_fair() -> None:
    conv = await opened(quiz(NORMALISATION, scoring="all", per_run=3, gap="0s"))
    try:
        await conv.advance(timedelta(minutes=1))
        for member, text in [("alice", "not paris"), ("bob", "  PARIS!! "), ("carol", "Pariss"), ("dave", "Prs")]:
            await conv.say(member, text, at=at(5))
        [reveal, _] = await conv.advance(timedelta(minutes=1))
        # case, punctuation and spaces do not matter; one typo is tolerated, two are not;
        # a longer answer that contains the right one is not the right one
        assert reveal.splitlines()[1] == "Correct: bob +10, carol +10"
        for member, text in [("alice", "１０"), ("bob", "10.0"), ("carol", "100"), ("dave", "11")]:
            await conv.say(member, text, at=at(65))
        [reveal, _] = await conv.advance(timedelta(minutes=1))
        # full-width digits and 10.0 are 10; numbers get no typo tolerance
        assert reveal.splitlines()[1] == "Correct: alice +10, bob +10"
        for member, text in [("alice", "zurich"), ("bob", "ZÜRICH"), ("carol", "Zurych")]:
            await conv.say(member, text, at=at(125))
        [reveal, results] = await conv.advance(timedelta(minutes=1))
        assert reveal.splitlines()[1] == "Correct: alice +10, bob +10"  # accents folded; no typos allowed here
        assert results.splitlines()[1:] == ["1. bob — 30", "2. alice — 20", "3. carol — 10"]
    finally:
        await conv.close()


async def test_multiple_choice_by_button_or_number_one_answer_each() -> None:
    conv = await opened(quiz(CHOICE, scoring="all"))
    try:
        actions = await conv.advance_actions(timedelta(minutes=1))
        question = actions[-1]
        assert isinstance(question, act.SendMessage)
        assert "1) Berlin\n2) Paris\n3) Rome" in question.content
        labels = [b.text for b in buttons_of([question])]
        assert labels == ["1) Berlin", "2) Paris", "3) Rome"]
        paris, rome = buttons_of([question])[1], buttons_of([question])[2]
        first = await conv.deliver(conv.event("press", "alice", data=paris.data, at=at(3)))
        assert toasts(first) == ["Answer recorded."]
        again = await conv.deliver(conv.event("press", "alice", data=rome.data, at=at(4)))
        assert toasts(again) == ["You have already answered this question."]
        await conv.say("bob", "２", at=at(5))  # a full-width number picks the second choice
        await conv.say("carol", "1", at=at(6))
        await conv.say("carol", "2", at=at(7))  # one answer each: the first one stands
        await conv.say("dave", "I think it is Paris", at=at(8))  # chatter is not an answer
        await conv.say("dave", "paris", at=at(9))  # the choice's own text is
        [reveal, _] = await conv.advance(timedelta(minutes=1))
        assert reveal == "⏰ Time's up! The answer: 2) Paris\nCorrect: alice +10, bob +10, dave +10"
        assert await conv.points("carol") == 0
        late = await conv.deliver(conv.event("press", "erin", data=paris.data, at=at(90)))
        assert toasts(late) == ["This question is closed."] and await conv.points("erin") == 0
    finally:
        await conv.close()


class TextOnlyAdapter(RecordingAdapter):
    """A platform without buttons (like OneBot): replies and nothing more."""

    features = frozenset({Feature.REPLIES})


async def test_without_buttons_choices_are_numbered_text() -> None:
    conv = await opened(quiz(CHOICE), adapter=TextOnlyAdapter)
    try:
        actions = await conv.advance_actions(timedelta(minutes=1))
        assert buttons_of(actions) == []
        assert actions[-1].content.endswith("send the number of your choice (one answer each).")  # type: ignore[union-attr]
        assert await conv.say("alice", "3", at=at(2)) == []  # wrong, and final
        assert await conv.say("alice", "2", at=at(3)) == []
        [won, _results] = await conv.say("bob", "2", at=at(4))
        assert won == "✅ bob got it! The answer: 2) Paris (+10)"
    finally:
        await conv.close()


async def test_time_limit_with_a_hint_at_half_time() -> None:
    hinted = PARIS + 'hint = "The city of light"\nexplanation = "Paris has been the capital since 987."\n'
    conv = await opened(quiz(hinted, time_limit="60s"))
    try:
        await conv.advance(timedelta(minutes=1))
        assert await conv.advance(timedelta(seconds=29)) == []
        assert await conv.advance(timedelta(seconds=1)) == ["💡 Hint: The city of light"]
        assert await conv.say("alice", "Paris", at=at(61)) == []  # after the time limit: does not count
        reveal, results = await conv.advance(timedelta(seconds=1))
        assert reveal == (
            "⏰ Time's up! The answer: Paris\nNobody got this one.\nℹ️ Paris has been the capital since 987."
        )
        assert results == "🏁 trivia is over — nobody scored this time."
        assert await conv.points("alice") == 0
    finally:
        await conv.close()


async def test_edited_messages_never_count() -> None:
    conv = await opened(quiz(PARIS))
    try:
        await conv.advance(timedelta(minutes=1))
        edited = replace(conv.event("say", "alice", text="Paris", at=at(3)), edited=True)
        assert await conv.deliver(edited) == []
        [won, _results] = await conv.say("bob", "Paris", at=at(4))
        assert won == "✅ bob got it! The answer: Paris (+10)"
        assert await conv.points("alice") == 0
    finally:
        await conv.close()


async def test_free_answers_allow_a_few_guesses_only() -> None:
    conv = await opened(quiz(SPIDER, attempts=2))
    try:
        await conv.advance(timedelta(minutes=1))
        await conv.say("alice", "6", at=at(1))
        await conv.say("alice", "7", at=at(2))
        assert await conv.say("alice", "8", at=at(3)) == []  # a third guess: out of guesses
        [won, _results] = await conv.say("bob", "8", at=at(4))
        assert won == "✅ bob got it! The answer: 8 (+10)" and await conv.points("alice") == 0
    finally:
        await conv.close()


THREE = "".join(f'[[campaigns.QUIZ.questions]]\ntext = "Question {n}?"\nanswers = ["{n}"]\n' for n in "ABC")


async def test_no_question_repeats_in_a_group_until_the_bank_is_used_up() -> None:
    conv = await opened(quiz(THREE, per_run=2, shuffle=True, time_limit="10s", gap="0s"))
    try:
        runs = []
        for _ in range(3):
            posted = await conv.advance(timedelta(days=1))
            runs.append([line.split(": ", 1)[1].split("\n")[0] for line in posted if line.startswith("❓")])
        first, second, third = runs
        bank = {"Question A?", "Question B?", "Question C?"}
        assert len(set(first)) == 2
        assert set(first) | {second[0]} == bank  # the one left over comes before any repeat
        assert second[1] != second[0]
        assert set(third) == bank - {second[1]}  # the new round of the bank goes on without repeats
    finally:
        await conv.close()


PRIZES = """
[coupons.thanks]
description = "A free coffee"
generate = 5
[[campaigns.QUIZ.prizes]]
rank = 1
points = 100
coupon = "thanks"
[[campaigns.QUIZ.prizes]]
rank = 2
points = 50
"""


async def test_prizes_go_to_the_top_once() -> None:
    conv = await opened(quiz(PARIS + PRIZES, per_run=1))
    try:
        await conv.advance(timedelta(minutes=1))
        actions = await conv.deliver(conv.event("say", "bob", text="Paris", at=at(5)))
        results = [a.content for a in actions if isinstance(a, act.SendMessage)][-1]
        assert results.splitlines()[1:] == [
            "1. bob — 10",
            "🎁 bob wins a coupon for place 1 — the code was sent privately.",
            "🎁 bob wins 100 points for place 1!",
        ]  # nobody came second: that prize stays ungiven
        [dm] = [a for a in actions if isinstance(a, act.SendDirect)]
        assert dm.user == "sandbox:bob" and "Your prize for place 1 in the quiz trivia: " in dm.content
        assert sorted(await conv.ledger()) == sorted(
            [("sandbox:bob", 10, "quiz"), ("sandbox:bob", 100, "quiz_prize_1")]
        )
        assert await conv.advance(timedelta(minutes=10)) == []  # the run's stale timers change nothing
        async with conv.db.begin() as conn:
            [prize] = (await conn.execute(select(QuizPrize.__table__))).all()
            assert (prize.member_key, prize.rank, prize.points) == ("sandbox:bob", 1, 100) and prize.coupon
            with pytest.raises(IntegrityError):  # the database itself refuses a second grant
                await quiz_repo.add_prize(
                    conn, run_id=prize.run_id, member="sandbox:bob", rank=1, points=100, coupon=None, at=START
                )
    finally:
        await conv.close()


async def test_admins_start_and_stop_quizzes_members_cannot() -> None:
    toml = quiz(PARIS, name="history", schedule="0 20 1 1 *") + quiz(SPIDER, name="science", schedule="0 20 1 1 *")
    conv = await opened(toml)  # two quizzes share /quiz in one group
    try:
        assert await conv.say("alice", "/quiz start history") == ["This command is for the group's admins."]
        assert await conv.say("admin", "/quiz start") == ["Usage: /quiz start history | science"]
        assert await conv.say("admin", "/quiz start art") == [
            "There is no quiz “art” here. Quizzes here: history, science"
        ]
        intro, question = await conv.say("admin", "/quiz start science")
        assert intro.startswith("🧠 Quiz time: science!") and "How many legs" in question
        assert await conv.say("admin", "/quiz start history") == [
            "A quiz is already running here (science); /quiz stop ends it."
        ]
        assert await conv.say("bob", "/quiz stop") == ["This command is for the group's admins."]
        assert await conv.say("admin", "/quiz stop") == [
            "⏹ science was stopped by an admin.\n🏁 science is over — nobody scored this time."
        ]
        assert await conv.say("bob", "8") == []  # stopped: answers no longer count
        assert await conv.say("admin", "/quiz stop") == ["No quiz is running here."]
        assert await conv.say("bob", "/quiz top") == ["No quiz points in season 2026-03 yet."]
        assert await conv.say("bob", "/quiz") == ["Usage: /quiz top [NAME] [season]"]
        [help_text] = await conv.say("admin", "/help")
        assert (
            "/quiz top [NAME] [season]" in help_text and "/quiz start NAME" in help_text and "/quiz stop" in help_text
        )
        [help_text] = await conv.say("bob", "/help")
        assert "/quiz top [NAME] [season]" in help_text and "/quiz start" not in help_text
        assert await conv.points("bob") == 0
    finally:
        await conv.close()


async def test_leaderboards_per_quiz_and_per_season() -> None:
    toml = quiz(PARIS, name="history", schedule="0 20 * * *") + quiz(SPIDER, name="science", schedule="30 20 * * *")
    conv = await opened(toml)
    try:
        await conv.advance(timedelta(minutes=1))
        await conv.say("alice", "Paris", at=at(5))
        await conv.advance(timedelta(minutes=30))  # 20:30:05: the science quiz asks
        await conv.say("bob", "eight", at=at(30 * 60 + 5))
        await conv.say("alice", "8", at=at(30 * 60 + 6))  # too late: bob won it
        await conv.advance(timedelta(minutes=5))
        assert await conv.say("carol", "/quiz top") == ["🏆 Quiz season 2026-03\n1. alice — 10\n2. bob — 10"]
        assert await conv.say("carol", "/quiz top science") == ["🏆 science, season 2026-03\n1. bob — 10"]
        assert await conv.say("carol", "/quiz top History 2026-03") == ["🏆 history, season 2026-03\n1. alice — 10"]
        assert await conv.say("carol", "/quiz top science 2025-12") == ["No points in science in season 2025-12 yet."]
        assert await conv.say("carol", "/quiz top science 2026 03") == ["Usage: /quiz top [NAME] [season]"]
    finally:
        await conv.close()


async def test_quiz_runs_the_same_on_postgresql(pg_url: str) -> None:
    toml = quiz(PARIS + SPIDER + PRIZES, per_run=2, scoring="all", speed_bonus=10, gap="0s")
    conv = await opened(toml, database=pg_url)
    try:
        await conv.advance(timedelta(minutes=1))
        await conv.say("alice", "Paris", at=at(6))
        await conv.say("bob", "paris", at=at(30))
        [reveal, question] = await conv.advance(timedelta(seconds=30))  # to the time limit
        assert reveal.endswith("Correct: alice +19, bob +15") and "spider" in question
        await conv.say("bob", "8", at=at(66))  # 6 s into the second question
        [_reveal, results] = await conv.advance(timedelta(minutes=1))
        assert results.splitlines()[1:4] == [
            "1. bob — 34",
            "2. alice — 19",
            "🎁 bob wins a coupon for place 1 — the code was sent privately.",
        ]
        assert await conv.say("carol", "/quiz top") == ["🏆 Quiz season 2026-03\n1. bob — 34\n2. alice — 19"]
        assert (await conv.points("bob"), await conv.points("alice")) == (134, 69)  # prizes through the ledger
    finally:
        await conv.close()
