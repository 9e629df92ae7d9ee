"""Question banks: inline in a quiz's config table or in their own TOML file.

A bank file holds ``[[questions]]`` tables (or ``questions = [...]``) and nothing else. It
is validated like the config itself, and its errors point into the bank file:
``quizzes/history.toml:12: questions.3.correct: ...``. A path is relative to the config
file that names it.

A question is either a free answer (``answers``: every accepted answer) or a multiple choice
(``choices`` and ``correct``, the 1-based number of the right choice); ``hint`` is posted at
half time, ``explanation`` with the answer. A question's identity (for "no repeats until the
bank is used up") is its ``id`` or, without one, its normalised text, so reordering or
extending a bank keeps the history.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from bot.config_errors import Problem, dotted
from bot.config_errors import message as wording
from bot.config_lines import context_at, key_lines, line_of
from bot.config_types import Duration, Points, Strict, at_least
from campaigns.answer_match import normalize

QuestionText = Annotated[str, Field(min_length=1, max_length=1000)]
Answer = Annotated[str, Field(min_length=1, max_length=200)]
Choice = Annotated[str, Field(min_length=1, max_length=100)]
Note = Annotated[str, Field(min_length=1, max_length=1000)]
MAX_CHOICES = 10
_TOML_POS = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)")  # as bot.config words it


class Question(Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] | None = None
    text: QuestionText
    answers: list[Answer] = []
    choices: list[Choice] = []
    correct: int | None = None
    hint: Note | None = None
    explanation: Note | None = None
    typos: Annotated[int, Field(ge=0, le=5)] | None = None
    time_limit: Annotated[Duration, at_least(timedelta(seconds=5))] | None = None
    points: Points | None = None

    @field_validator("answers")
    @classmethod
    def _answers(cls, value: list[str]) -> list[str]:
        for answer in value:
            if not normalize(answer):
                raise ValueError(f"answer {answer!r} is only spaces or punctuation; members could never type it")
        return value

    @field_validator("choices")
    @classmethod
    def _choices(cls, value: list[str]) -> list[str]:
        if value and not 2 <= len(value) <= MAX_CHOICES:
            raise ValueError(f"give 2 to {MAX_CHOICES} choices")
        seen: set[str] = set()
        for choice in value:
            norm = normalize(choice)
            if norm in seen:
                raise ValueError(f"choice {choice!r} is listed twice")
            seen.add(norm)
        return value

    @field_validator("correct")
    @classmethod
    def _correct(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "choices" not in info.data:  # choices failed: that is the error to show
            return value
        choices = info.data["choices"]
        if value is not None and not choices:
            raise ValueError("correct belongs to multiple-choice questions; list free answers in answers = [...]")
        if value is not None and choices and not 1 <= value <= len(choices):
            raise ValueError(f"correct must be a choice number from 1 to {len(choices)}")
        return value

    @field_validator("typos")
    @classmethod
    def _typos(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value and info.data.get("choices"):
            raise ValueError("typos applies to free answers only")
        return value

    @model_validator(mode="after")
    def _kind(self) -> Question:
        if bool(self.answers) == bool(self.choices):
            raise ValueError("give either answers = [...] (free answer) or choices = [...] with correct = N")
        if self.choices and self.correct is None:
            raise ValueError("a multiple-choice question needs correct = N (1 is the first choice)")
        return self

    @property
    def key(self) -> str:
        """The stable identity used for the no-repeat history."""
        if self.id:
            return self.id
        return "t-" + hashlib.sha1(normalize(self.text).encode()).hexdigest()[:16]

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    @property
    def solution(self) -> str:
        """The answer as shown to members when the question closes."""
        if self.correct is not None:
            return f"{self.correct}) {self.choices[self.correct - 1]}"
        return self.answers[0]


def duplicates(questions: Sequence[Question]) -> Iterator[tuple[int, str, str]]:
    """``(index, key, message)`` for every question whose identity repeats an earlier one."""
    first: dict[str, int] = {}
    for index, question in enumerate(questions):
        if question.key in first:
            field = "id" if question.id else "text"
            yield index, field, f"the same {field} as questions[{first[question.key]}]; every question needs its own"
        else:
            first.setdefault(question.key, index)


def check_inline(value: Any, handler: Any) -> Any:
    """Validator of a quiz's ``questions``: a bank file path (kept as text) or inline questions."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError('give a bank file path such as "quizzes/history.toml", or inline [[questions]]')
        return value
    questions = handler(value)
    if not questions:
        raise ValueError("the quiz has no questions")
    for _index, _key, problem in duplicates(questions):
        raise ValueError(problem)
    return questions


class Bank(Strict):
    """A bank file's content."""

    questions: list[Question] = Field(min_length=1)


def bank_path(source: str, ref: str) -> Path:
    """Where a bank file named in the config at ``source`` lives."""
    path = Path(ref).expanduser()
    if path.is_absolute() or source.startswith("<"):
        return path
    return Path(source).parent / path


def read_bank(path: Path, shown: str) -> tuple[list[Question], list[Problem]]:
    """The questions of a bank file and its problems (``shown`` is the path as errors print it).

    Raises :class:`OSError` when the file cannot be read.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return [], [Problem(shown, None, "", "not UTF-8 text")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return [], [_syntax_problem(err, text, shown)]
    lines = key_lines(text)
    try:
        bank = Bank.model_validate(data)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
            problems.append(Problem(shown, line_of(lines, loc) or 1, dotted(loc), _wording(e, loc, data)))
        return [], problems
    problems = [
        Problem(shown, line_of(lines, ("questions", i, key)) or 1, dotted(("questions", i, key)), problem)
        for i, key, problem in duplicates(bank.questions)
    ]
    return ([] if problems else list(bank.questions)), problems


def _syntax_problem(err: tomllib.TOMLDecodeError, text: str, shown: str) -> Problem:
    """A TOML syntax error worded as ``bot.config`` words them: ``file:line: key: TOML syntax error: ...``."""
    m = _TOML_POS.search(str(err))
    line = int(m.group(1)) if m and m.group(1) else max(len(text.splitlines()), 1)
    where = dotted(context_at(text, line)) or "(top level)"
    return Problem(shown, line, where, f"TOML syntax error: {_TOML_POS.sub('', str(err))}")


def _wording(err: Any, loc: tuple[str | int, ...], data: Any) -> str:
    """The config's wording, and a plain one for a bank without questions."""
    if loc == ("questions",) and err["type"] in ("missing", "too_short"):
        return "the bank has no questions; add [[questions]] tables"
    return wording(err, loc, Bank, data)
