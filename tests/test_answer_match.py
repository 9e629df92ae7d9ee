"""Answer matching, case by case: what a member types against what the bank accepts."""

from __future__ import annotations

import pytest

from campaigns.answer_match import as_number, choice_of, distance, matches

ACCEPTED = [
    ("Paris", "Paris", 0),
    ("PARIS", "paris", 0),
    ("  paris!? ", "Paris", 0),  # surrounding spaces and punctuation
    ("«Paris»", "Paris", 0),
    ("Ｐａｒｉｓ", "Paris", 0),  # full-width letters
    ("１０", "10", 0),  # full-width digits
    ("10.0", "10", 0),  # numbers as numbers
    ("３．０", "3", 0),
    ("1,000", "1000", 0),
    ("-5", "−5", 0),  # a typographic minus
    ("zurich", "Zürich", 0),  # accents folded
    ("São Paulo", "sao paulo", 0),
    ("it’s", "it's", 0),  # typographic apostrophe
    ("new   york", "New York", 0),
    ("Pariss", "Paris", 1),  # one typo within tolerance
    ("Prais", "Paris", 1),  # a swap of neighbours is one typo
    ("Amsterdm", "Amsterdam", 1),
    ("Amstredm", "Amsterdam", 2),
]
REFUSED = [
    ("not paris", "Paris", 1),  # never a substring
    ("paris france", "Paris", 1),
    ("Prs", "Paris", 1),  # beyond the tolerance
    ("Pariss", "Paris", 0),  # no tolerance asked
    ("Ox", "Ax", 1),  # too short for any typo
    ("1990", "1989", 2),  # numbers get no typo tolerance
    ("Apollo 12", "Apollo 11", 1),  # nor do the digits inside an answer
    ("100", "10", 0),
    ("1,5", "15", 0),
    ("", "Paris", 1),
    ("?!", "Paris", 1),
]


@pytest.mark.parametrize(("guess", "answer", "typos"), ACCEPTED)
def test_accepted(guess: str, answer: str, typos: int) -> None:
    assert matches(guess, [answer], typos)


@pytest.mark.parametrize(("guess", "answer", "typos"), REFUSED)
def test_refused(guess: str, answer: str, typos: int) -> None:
    assert not matches(guess, [answer], typos)


def test_several_accepted_answers_and_accent_folding_switched_off() -> None:
    assert matches("eight", ["8", "eight"]) and matches("8", ["8", "eight"])
    assert matches("Zürich", ["Zürich"], fold_accents=False)
    assert not matches("Zurich", ["Zürich"], fold_accents=False)


def test_choices_by_number_or_by_their_text() -> None:
    choices = ["Berlin", "Paris", "Rome"]
    assert [choice_of(t, choices) for t in ("2", "２", " 3. ", "paris", "ROME!")] == [1, 1, 2, 1, 2]
    assert [choice_of(t, choices) for t in ("0", "4", "2.5", "I think 2", "Par")] == [None] * 5


def test_numbers_and_distance() -> None:
    assert as_number("１，２００") == 1200 and as_number("3.") == 3 and as_number("abc") is None
    assert distance("kitten", "sitting", 5) == 3 and distance("abc", "abcdefgh", 2) == 3
