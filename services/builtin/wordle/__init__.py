"""wordle: a daily five-letter word guessing game per account and player."""

from __future__ import annotations

from services.builtin.wordle.handlers import MAX_GUESSES, guess, next_game, purge_account
from services.registry import BuiltinEndpoint, BuiltinService, register

LETTER = {
    "type": "object",
    "properties": {
        "letter": {"type": "string"},
        "status": {"type": "string", "enum": ["correct", "present", "absent"]},
    },
    "required": ["letter", "status"],
}

SERVICE = register(
    BuiltinService(
        slug="wordle",
        name="Wordle",
        tagline="A daily five-letter word game.",
        description=(
            f"Guess the day's five-letter word in {MAX_GUESSES} tries. Each guess marks every letter "
            "correct (right place), present (elsewhere in the word) or absent. The word changes at "
            "midnight UTC and is the same for every player. Any five letters count as a guess, so "
            "guesses are not checked against a dictionary. Games are kept per account and player."
        ),
        category="Games",
        icon="🟩",
        endpoints=[
            BuiltinEndpoint(
                name="Guess",
                handler=guess,
                description="Guess today's word.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "word": {"type": "string", "pattern": "^[A-Za-z]{5}$", "description": "Five letters A-Z."},
                        "player": {
                            "type": "string",
                            "maxLength": 256,
                            "default": "",
                            "description": "Your id for the player, so one account can host many players.",
                        },
                    },
                    "required": ["word"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["playing", "won", "lost"]},
                        "tries_left": {"type": "integer", "minimum": 0},
                        "guesses": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"word": {"type": "string"}, "letters": {"type": "array", "items": LETTER}},
                                "required": ["word", "letters"],
                            },
                        },
                        "answer": {"type": "string", "description": "Today's word, once the game is won or lost."},
                    },
                    "required": ["status", "tries_left", "guesses"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A first guess",
                        "request": {"word": "crane", "player": "example-player"},
                        "response": {
                            "status": "playing",
                            "tries_left": 5,
                            "guesses": [
                                {
                                    "word": "crane",
                                    "letters": [
                                        {"letter": "c", "status": "absent"},
                                        {"letter": "r", "status": "present"},
                                        {"letter": "a", "status": "absent"},
                                        {"letter": "n", "status": "correct"},
                                        {"letter": "e", "status": "absent"},
                                    ],
                                }
                            ],
                        },
                    }
                ],
            ),
            BuiltinEndpoint(
                name="Next",
                handler=next_game,
                description="Get the time until the next word.",
                request_schema={"type": "object", "properties": {}, "additionalProperties": False},
                response_schema={
                    "type": "object",
                    "properties": {
                        "seconds": {"type": "integer", "minimum": 0},
                        "duration": {"type": "string", "description": "The same time as H:MM:SS."},
                        "starts_at": {"type": "string", "description": "RFC 3339 time of the next word."},
                    },
                    "required": ["seconds", "duration", "starts_at"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "Time to the next word",
                        "request": {},
                        "response": {"seconds": 9000, "duration": "2:30:00", "starts_at": "2026-12-05T00:00:00+00:00"},
                    }
                ],
            ),
        ],
        purge_account=purge_account,
    )
)
