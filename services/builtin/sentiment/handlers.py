from __future__ import annotations

import functools
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from services.kit import BadRequest, CallContext

# VADER's authors classify a compound score of at least 0.05 as positive and at most -0.05 as negative.
POSITIVE_THRESHOLD = 0.05


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Loading the lexicon reads about 7,500 entries from disk, so one analyser is shared.
    return SentimentIntensityAnalyzer()


def _label(score: float) -> str:
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    if score <= -POSITIVE_THRESHOLD:
        return "negative"
    return "neutral"


def analyze(context: CallContext) -> dict[str, Any]:
    lang = context.body.get("lang", "en")
    if lang.lower() not in {"en", "english"}:
        raise BadRequest(
            f"Language {lang!r} is not supported. The VADER lexicon is English only, so use lang en.",
            error_id="sentiment.unsupported_language",
            fields={"lang": "Only en is supported."},
        )

    scores = _analyzer().polarity_scores(context.body["text"])
    return {
        "score": scores["compound"],
        "label": _label(scores["compound"]),
        "positive": scores["pos"],
        "neutral": scores["neu"],
        "negative": scores["neg"],
    }
