"""A daily five-letter word game, played per account and player, with state in Django's cache.

Every player gets the same answer on a given UTC day, picked from ANSWERS
by a SHA-256 of the date. A player's guesses for the day are kept in the
cache under the account id, a SHA-256 of the player id and the date.

NOTE: without REDIS_URL the cache is in-process memory, so a game started
in one server process is not seen by another.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.cache import cache

from services.builtin.wordle.answers import ANSWERS
from services.kit import BadRequest, CallContext, account_cache_key, forget_account_cache

MAX_GUESSES = 6
WORD_LENGTH = 5
# Longer than the day a game is played on, so its state never expires mid-game.
STATE_TIMEOUT_SECONDS = 2 * 24 * 60 * 60


def answer_for(day: date) -> str:
    digest = hashlib.sha256(day.isoformat().encode()).digest()
    return ANSWERS[int.from_bytes(digest[:8], "big") % len(ANSWERS)]


def score_guess(guess: str, answer: str) -> list[dict[str, str]]:
    """Mark each letter correct, present or absent, counting repeated letters as Wordle does."""
    statuses = ["absent"] * WORD_LENGTH
    # Letters of the answer not matched in place, which later guesses of the same letter may claim.
    unmatched = Counter(answer_letter for guess_letter, answer_letter in zip(guess, answer) if guess_letter != answer_letter)
    for index, (guess_letter, answer_letter) in enumerate(zip(guess, answer)):
        if guess_letter == answer_letter:
            statuses[index] = "correct"
        elif unmatched[guess_letter] > 0:
            statuses[index] = "present"
            unmatched[guess_letter] -= 1
    return [{"letter": letter, "status": status} for letter, status in zip(guess, statuses)]


def _state_key(account_id: int, player: str, day: date) -> str:
    digest = hashlib.sha256(player.encode()).hexdigest()
    return account_cache_key("wordle", account_id, digest, day.isoformat())


def purge_account(account_id: int) -> None:
    forget_account_cache("wordle", account_id)


def _game(guesses: list[str], answer: str) -> dict[str, Any]:
    won = bool(guesses) and guesses[-1] == answer
    lost = not won and len(guesses) >= MAX_GUESSES
    status = "playing"
    if won:
        status = "won"
    elif lost:
        status = "lost"
    result: dict[str, Any] = {
        "status": status,
        "tries_left": MAX_GUESSES - len(guesses),
        "guesses": [{"word": guess, "letters": score_guess(guess, answer)} for guess in guesses],
    }
    if won or lost:
        result["answer"] = answer
    return result


def guess(context: CallContext) -> dict[str, Any]:
    word = context.body["word"].lower()
    today = datetime.now(UTC).date()
    answer = answer_for(today)
    key = _state_key(context.account_id, context.body.get("player", ""), today)

    guesses: list[str] = cache.get(key, [])
    if len(guesses) >= MAX_GUESSES or answer in guesses:
        raise BadRequest(
            "Today's game is over. Call Next to see when the next one starts.",
            error_id="wordle.game_over",
        )
    # NOTE: two parallel guesses from one player can both read the same list, and the later write wins.
    guesses = [*guesses, word]
    cache.set(key, guesses, timeout=STATE_TIMEOUT_SECONDS)
    return _game(guesses, answer)


def next_game(context: CallContext) -> dict[str, Any]:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    seconds = int((midnight - now).total_seconds())
    return {"seconds": seconds, "duration": str(timedelta(seconds=seconds)), "starts_at": midnight.isoformat()}
