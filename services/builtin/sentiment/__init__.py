"""sentiment: how positive or negative English text is, scored by VADER."""

from __future__ import annotations

from services.builtin.sentiment.handlers import analyze
from services.registry import BuiltinEndpoint, BuiltinService, register

PROPORTION = {"type": "number", "minimum": 0, "maximum": 1}

SERVICE = register(
    BuiltinService(
        slug="sentiment",
        name="Sentiment",
        tagline="Score how positive or negative a text is.",
        description=(
            "Scores English text with VADER (Hutto and Gilbert, 2014), a rule- and lexicon-based "
            "analyser tuned for social media. The score runs from -1 (most negative) to 1 (most "
            "positive). The label is positive from 0.05, negative from -0.05 and neutral between."
        ),
        category="Text",
        icon="🙂",
        endpoints=[
            BuiltinEndpoint(
                name="Analyze",
                handler=analyze,
                description="Score the sentiment of a text.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "maxLength": 10_000, "description": "The text to score."},
                        "lang": {"type": "string", "default": "en", "description": "Language code. Only en is supported."},
                    },
                    "required": ["text"],
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {
                        "score": {"type": "number", "minimum": -1, "maximum": 1, "description": "VADER compound score."},
                        "label": {"type": "string", "enum": ["positive", "neutral", "negative"]},
                        "positive": {**PROPORTION, "description": "Share of the text that is positive."},
                        "neutral": {**PROPORTION, "description": "Share of the text that is neutral."},
                        "negative": {**PROPORTION, "description": "Share of the text that is negative."},
                    },
                    "required": ["score", "label", "positive", "neutral", "negative"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "A happy sentence",
                        "request": {"text": "this is great!"},
                        "response": {"score": 0.6588, "label": "positive", "positive": 0.687, "neutral": 0.313, "negative": 0.0},
                    }
                ],
            )
        ],
    )
)
