"""The wordle service through the gateway."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from services.builtin.wordle.answers import ANSWERS
from services.builtin.wordle.handlers import answer_for
from tests.conftest import Persona

DAY = datetime(2026, 3, 1, 21, 30, 0, tzinfo=UTC)
ANSWER = answer_for(date(2026, 3, 1))


def wrong_word(*exclude: str) -> str:
    return next(word for word in ANSWERS if word not in {ANSWER, *exclude})


def guess(persona: Persona, word: str, player: str = "p1"):
    return persona.call("wordle", "Guess", body={"word": word, "player": player})


@pytest.fixture(autouse=True)
def _frozen_day():
    with time_machine.travel(DAY, tick=False):
        yield


def test_answer_list_is_five_letter_words() -> None:
    assert len(set(ANSWERS)) == len(ANSWERS) == 500
    assert all(len(word) == 5 and word.isascii() and word.isalpha() and word.islower() for word in ANSWERS)


def test_answer_is_fixed_per_day() -> None:
    assert ANSWER == "brown"
    assert answer_for(date(2026, 3, 2)) == "coach"


def test_first_guess_is_scored(owner: Persona) -> None:
    response = guess(owner, "BRAIN")
    body = response.json()

    assert response.status_code == 200
    assert body["status"] == "playing"
    assert body["tries_left"] == 5
    assert "answer" not in body
    assert body["guesses"] == [
        {
            "word": "brain",
            "letters": [
                {"letter": "b", "status": "correct"},
                {"letter": "r", "status": "correct"},
                {"letter": "a", "status": "absent"},
                {"letter": "i", "status": "absent"},
                {"letter": "n", "status": "correct"},
            ],
        }
    ]


def test_repeated_letters_marked_once(owner: Persona) -> None:
    letters = guess(owner, "ooooo").json()["guesses"][0]["letters"]

    assert [letter["status"] for letter in letters] == ["absent", "absent", "correct", "absent", "absent"]


def test_correct_guess_wins_and_ends_game(owner: Persona) -> None:
    guess(owner, wrong_word())
    body = guess(owner, ANSWER).json()

    assert body["status"] == "won"
    assert body["answer"] == ANSWER
    assert body["tries_left"] == 4
    assert guess(owner, ANSWER).json()["id"] == "wordle.game_over"


def test_six_wrong_guesses_lose(owner: Persona) -> None:
    word = wrong_word()
    for _ in range(5):
        assert guess(owner, word).json()["status"] == "playing"
    body = guess(owner, word).json()

    assert body["status"] == "lost"
    assert body["tries_left"] == 0
    assert body["answer"] == ANSWER
    before = owner.balance
    response = guess(owner, ANSWER)
    assert response.status_code == 400
    assert response.json()["id"] == "wordle.game_over"
    assert owner.balance == before


def test_games_are_per_player_and_account(owner: Persona, outsider: Persona) -> None:
    guess(owner, wrong_word())

    assert guess(owner, wrong_word(), player="p2").json()["tries_left"] == 5
    assert guess(outsider, wrong_word()).json()["tries_left"] == 5
    assert guess(owner, wrong_word()).json()["tries_left"] == 4


def test_next_day_starts_new_game(owner: Persona) -> None:
    for _ in range(6):
        guess(owner, wrong_word())

    with time_machine.travel(datetime(2026, 3, 2, 0, 0, 1, tzinfo=UTC), tick=False):
        body = guess(owner, wrong_word()).json()

    assert body["status"] == "playing"
    assert body["tries_left"] == 5


def test_next_counts_down_to_midnight(owner: Persona) -> None:
    response = owner.call("wordle", "Next", body={})

    assert response.status_code == 200
    assert response.json() == {"seconds": 9000, "duration": "2:30:00", "starts_at": "2026-03-02T00:00:00+00:00"}


@pytest.mark.parametrize("body", [{}, {"word": "abcd"}, {"word": "abcdef"}, {"word": "ab1de"}, {"word": ""}, {"word": "héllo"}])
def test_invalid_guess_is_400_and_free(owner: Persona, body: dict) -> None:
    before = owner.balance
    response = owner.call("wordle", "Guess", body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
    assert owner.balance == before


def test_closing_the_account_forgets_its_games(owner: Persona, outsider: Persona) -> None:
    from services.registry import purge_account

    word = wrong_word()
    guess(owner, word)
    guess(outsider, word)
    purge_account(owner.account.pk)

    assert len(guess(owner, word).json()["guesses"]) == 1
    assert len(guess(outsider, word).json()["guesses"]) == 2
