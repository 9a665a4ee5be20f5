from __future__ import annotations

from typing import Any

from services.builtin.spam.rules import SPAM_THRESHOLD, Message, classify
from services.kit import BadRequest, CallContext


def classify_email(context: CallContext) -> dict[str, Any]:
    body = context.body
    message = Message(sender=body.get("from", ""), subject=body.get("subject", ""), body=body.get("text_body", ""))
    if not (message.subject.strip() or message.body.strip()):
        raise BadRequest(
            "Both subject and text_body are empty. Set at least one of them.",
            error_id="spam.empty_message",
            fields={"text_body": "Set subject or text_body."},
        )

    score, matched = classify(message)
    return {
        "is_spam": score >= SPAM_THRESHOLD,
        "score": score,
        "details": [{"rule": rule.name, "description": rule.description, "score": rule.score} for rule in matched],
    }
