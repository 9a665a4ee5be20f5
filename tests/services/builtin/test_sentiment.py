"""The sentiment service through the gateway."""

from __future__ import annotations

import pytest

from tests.conftest import Persona


def analyze(persona: Persona, **body: object) -> dict:
    response = persona.call("sentiment", "Analyze", body=body)
    assert response.status_code == 200, response.content
    return response.json()


def test_positive_text_has_vader_scores(owner: Persona) -> None:
    body = analyze(owner, text="this is great!")

    assert body == {"score": 0.6588, "label": "positive", "positive": 0.687, "neutral": 0.313, "negative": 0.0}


def test_negative_text(owner: Persona) -> None:
    body = analyze(owner, text="this is terrible", lang="en")

    assert body["score"] == -0.4767
    assert body["label"] == "negative"


@pytest.mark.parametrize("text", ["", "the table"])
def test_empty_and_plain_text_are_neutral(owner: Persona, text: str) -> None:
    body = analyze(owner, text=text)

    assert body["score"] == 0.0
    assert body["label"] == "neutral"


def test_longest_text_is_accepted(owner: Persona) -> None:
    body = analyze(owner, text="good " * 2_000)

    assert body["label"] == "positive"


@pytest.mark.parametrize(
    ("body", "error_id"),
    [
        ({"text": "bonjour", "lang": "fr"}, "sentiment.unsupported_language"),
        ({"text": "x" * 10_001}, "v1.invalid_request"),
        ({}, "v1.invalid_request"),
        ({"text": 5}, "v1.invalid_request"),
    ],
)
def test_invalid_analyze_is_400_and_free(owner: Persona, body: dict, error_id: str) -> None:
    before = owner.balance
    response = owner.call("sentiment", "Analyze", body=body)

    assert response.status_code == 400
    assert response.json()["id"] == error_id
    assert owner.balance == before
