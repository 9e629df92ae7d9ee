"""No buttons on OneBot: a quiz's choices arrive as numbered text, and replying "2" answers.

The degradation is the campaign's, through the capability flags (the adapter does not
declare ``Feature.BUTTONS``); nothing here or in the campaign names the platform.
"""

from __future__ import annotations

from sqlalchemy import select

from adapters.base import Feature
from storage.models import LedgerEntry
from tests.onebot.conftest import GROUP, QQ_BOT, TOKEN, OneBot, eventually
from tests.onebot.fake_onebot import group_message

QUIZ = """
[campaigns.trivia]
type = "quiz"
per_run = 1
time_limit = "5m"
points = 10
[[campaigns.trivia.questions]]
text = "Which of these is a tea?"
choices = ["Espresso", "Oolong", "Latte"]
correct = 2
"""


async def test_quiz_choices_are_numbered_and_a_number_answers(onebot: OneBot) -> None:
    app = await onebot.start(campaigns=QUIZ)
    assert Feature.BUTTONS not in app.engine.features["qq"]  # what the campaign sees for qq:… groups
    qq = onebot.account()
    await qq.connect(onebot.url(app), TOKEN)
    await qq.push(group_message(QQ_BOT, GROUP, 90009000, "/quiz start trivia", name="Owner", role="owner"))
    await qq.wait_for(lambda: any("Oolong" in _text(s) for s in qq.sent("send_group_msg")))
    question = next(_text(s) for s in qq.sent("send_group_msg") if "Oolong" in _text(s))
    assert "1) Espresso" in question and "2) Oolong" in question and "3) Latte" in question
    assert "send the number" in question
    for sent in qq.sent("send_group_msg"):  # plain text (and a quote), nothing that needs buttons
        assert {seg["type"] for seg in sent["message"]} <= {"text", "reply"}
    before = len(qq.sent("send_group_msg"))
    await qq.push(group_message(QQ_BOT, GROUP, 20002000, "2", name="Bob"))
    await qq.wait_for(lambda: len(qq.sent("send_group_msg")) > before)
    assert any("Bob" in _text(s) for s in qq.sent("send_group_msg")[before:])
    t = LedgerEntry.__table__.c

    async def scored() -> bool:
        async with app.db.connect() as conn:
            rows = (await conn.execute(select(t.member_key, t.points))).all()
        return [tuple(r) for r in rows] == [("qq:20002000", 10)]

    await eventually(scored)


def _text(sent: dict) -> str:
    return "".join(seg["data"].get("text", "") for seg in sent["message"] if seg["type"] == "text")
