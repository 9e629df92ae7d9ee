"""Question banks in their own files: a quiz runs from one, and ``hearth check`` points into it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.config import ConfigError, load
from storage import db as storage_db
from tests.harness import Conversation

UTC = ZoneInfo("UTC")
CONFIG = """\
[platforms.sandbox]

[campaigns.history]
type = "quiz"
schedule = "0 20 * * *"
questions = "quizzes/history.toml"
shuffle = false
"""
BANK = """\
# the history bank
[[questions]]
id = "wall"
text = "In which year did the Berlin Wall fall?"
answers = ["1989"]

[[questions]]
text = "Who was the first emperor of Rome?"
choices = ["Julius Caesar", "Augustus", "Nero"]
correct = 2
"""


def write(tmp_path: Path, bank: str, config: str = CONFIG) -> Path:
    (tmp_path / "quizzes").mkdir(exist_ok=True)
    (tmp_path / "quizzes" / "history.toml").write_text(bank, encoding="utf-8")
    path = tmp_path / "hearth.toml"
    path.write_text(config, encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(path)
    return [str(p) for p in caught.value.problems]


async def test_a_quiz_asks_the_questions_of_its_bank_file(tmp_path: Path) -> None:
    path = write(tmp_path, BANK)
    conv = Conversation(load(path), datetime(2026, 4, 1, 19, 59, tzinfo=UTC))
    await storage_db.upgrade(conv.db)
    try:
        _intro, question = await conv.advance(timedelta(minutes=1))
        assert question.startswith("❓ Question 1/2: In which year did the Berlin Wall fall?")
        [won] = await conv.say("alice", "1989")
        assert won == "✅ alice got it! The answer: 1989 (+10)"
    finally:
        await conv.close()


def test_bank_file_errors_name_the_bank_file_line_and_key(tmp_path: Path) -> None:
    broken = BANK.replace("correct = 2", "correct = 4\ncolour = 'red'").replace('answers = ["1989"]', "answers = []")
    path = write(tmp_path, broken)
    bank = str(tmp_path / "quizzes" / "history.toml")
    assert problems(path) == [
        f"{bank}:2: questions[0]: give either answers = [...] (free answer) or choices = [...] with correct = N",
        f"{bank}:10: questions[1].correct: correct must be a choice number from 1 to 3",
        f"{bank}:11: questions[1].colour: unknown key 'colour'; known: answers, choices, correct, explanation, "
        "hint, id, points, text, time_limit, typos",
    ]


def test_repeated_questions_and_syntax_errors_in_a_bank(tmp_path: Path) -> None:
    bank = str(tmp_path / "quizzes" / "history.toml")
    path = write(tmp_path, BANK + '\n[[questions]]\nid = "wall"\ntext = "Again?"\nanswers = ["x"]\n')
    assert problems(path) == [f"{bank}:13: questions[2].id: the same id as questions[0]; every question needs its own"]
    path = write(tmp_path, BANK + "\n[[questions]\n")
    assert problems(path) == [
        f"{bank}:12: questions[1]: TOML syntax error: Expected ']]' at the end of an array declaration"
    ]


@pytest.mark.parametrize(
    ("bank", "expected"),
    [
        ('[[questions]]\ntext = "Year?"\nanswers = [\n', "3: questions[0].answers: TOML syntax error: Invalid value"),
        (
            '[[questions]]\ntext = "A"\ntext = "B"\n',
            "3: questions[0].text: TOML syntax error: Cannot overwrite a value",
        ),
        ("questions = []\n", "1: questions: the bank has no questions; add [[questions]] tables"),
        ("# nothing yet\n", "1: questions: the bank has no questions; add [[questions]] tables"),
        ('[[question]]\ntext = "A"\n', "1: question: unknown key 'question' (did you mean 'questions'?)"),
    ],
)
def test_bank_errors_are_worded_like_config_errors(tmp_path: Path, bank: str, expected: str) -> None:
    """``file:line: key: message``, the same wording as problems in the config file itself."""
    path = write(tmp_path, bank)
    assert expected in [p.split("history.toml:", 1)[1] for p in problems(path)]


def test_a_missing_bank_file_is_reported_at_the_config_line(tmp_path: Path) -> None:
    path = tmp_path / "hearth.toml"
    path.write_text(CONFIG, encoding="utf-8")
    assert problems(path) == [
        f"{path}:6: campaigns.history.questions: cannot read quizzes/history.toml: No such file or directory"
    ]


def test_inline_question_errors_point_at_the_config(tmp_path: Path) -> None:
    inline = CONFIG.replace('questions = "quizzes/history.toml"\n', "") + (
        '[[campaigns.history.questions]]\ntext = "Pick"\nchoices = ["a", "A"]\ncorrect = 1\n'
    )
    path = tmp_path / "hearth.toml"
    path.write_text(inline, encoding="utf-8")
    assert problems(path) == [f"{path}:9: campaigns.history.questions[0].choices: choice 'A' is listed twice"]


def test_hearth_check_exits_2_with_the_bank_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BANK.replace("correct = 2", "correct = 0"))
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'quizzes' / 'history.toml'}:10: questions[1].correct: " in err
