"""The spam service through the gateway."""

from __future__ import annotations

import pytest

from tests.conftest import Persona


def classify(persona: Persona, **body: object) -> dict:
    response = persona.call("spam", "Classify", body=body)
    assert response.status_code == 200, response.content
    return response.json()


def rules(result: dict) -> list[str]:
    return [detail["rule"] for detail in result["details"]]


def test_obvious_spam(owner: Persona) -> None:
    result = classify(owner, subject="YOU HAVE WON THE LOTTERY", text_body="Click here to claim your prize!!!")

    assert result["is_spam"] is True
    assert result["score"] == 5.5
    assert rules(result) == ["SUBJECT_ALL_CAPS", "SPAM_PHRASE", "MANY_SPAM_PHRASES", "EXCLAMATIONS"]


def test_ordinary_email_is_not_spam(owner: Persona) -> None:
    result = classify(
        owner,
        **{"from": "alice@example.com"},
        subject="Lunch on Friday?",
        text_body="Shall we meet at noon? The menu is at https://example.com/menu.",
    )

    assert result == {"is_spam": False, "score": 0.0, "details": []}


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"text_body": "Log in at http://192.168.10.5/login"}, "IP_ADDRESS_LINK"),
        ({"text_body": "See https://bit.ly/abc"}, "SHORTENED_LINK"),
        ({"text_body": " ".join(f"https://example{index}.com" for index in range(6))}, "MANY_LINKS"),
        ({"text_body": "Transfer of $4,500,000 pending"}, "MONEY_AMOUNT"),
        ({"text_body": "you inherit 12 million dollars"}, "MONEY_AMOUNT"),
        ({"from": "user8472912@example.net", "subject": "hi"}, "SENDER_DIGITS"),
    ],
)
def test_each_rule_matches(owner: Persona, body: dict, rule: str) -> None:
    assert rule in rules(classify(owner, **body))


def test_subject_only_is_enough(owner: Persona) -> None:
    result = classify(owner, subject="Meeting notes")

    assert result["is_spam"] is False


@pytest.mark.parametrize(
    "body",
    [{}, {"subject": "", "text_body": "  "}, {"from": "a@example.com"}],
)
def test_empty_message_is_400_and_free(owner: Persona, body: dict) -> None:
    before = owner.balance
    response = owner.call("spam", "Classify", body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "spam.empty_message"
    assert owner.balance == before


@pytest.mark.parametrize("body", [{"subject": "x" * 1_001}, {"text_body": 5}, {"body": "hi"}])
def test_invalid_request_is_400(owner: Persona, body: dict) -> None:
    response = owner.call("spam", "Classify", body=body)

    assert response.status_code == 400
    assert response.json()["id"] == "v1.invalid_request"
