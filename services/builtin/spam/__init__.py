"""spam: score an email against a documented rule set."""

from __future__ import annotations

from services.builtin.spam.handlers import classify_email
from services.builtin.spam.rules import RULES, SPAM_THRESHOLD
from services.registry import BuiltinEndpoint, BuiltinService, register

RULE_LIST = "\n".join(f"- `{rule.name}` (+{rule.score}): {rule.description}" for rule in RULES)

SERVICE = register(
    BuiltinService(
        slug="spam",
        name="Spam",
        tagline="Score an email for spam, with the reasons.",
        description=(
            "Scores an email's sender, subject and plain-text body against a fixed rule set in the style "
            f"of SpamAssassin. A score of {SPAM_THRESHOLD} or more is classified as spam. The weights are "
            "hand-picked, not trained on a corpus, so treat the score as a hint.\n\nRules:\n\n" + RULE_LIST
        ),
        category="Text",
        icon="📨",
        endpoints=[
            BuiltinEndpoint(
                name="Classify",
                handler=classify_email,
                description="Classify an email as spam or not, with the rules that matched.",
                request_schema={
                    "type": "object",
                    "properties": {
                        "from": {"type": "string", "maxLength": 320, "description": "The sender's address."},
                        "subject": {"type": "string", "maxLength": 1_000},
                        "text_body": {"type": "string", "maxLength": 100_000, "description": "The plain-text body."},
                    },
                    "additionalProperties": False,
                },
                response_schema={
                    "type": "object",
                    "properties": {
                        "is_spam": {"type": "boolean"},
                        "score": {"type": "number", "minimum": 0, "description": "Sum of the matched rules' scores."},
                        "details": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "rule": {"type": "string"},
                                    "description": {"type": "string"},
                                    "score": {"type": "number"},
                                },
                                "required": ["rule", "description", "score"],
                            },
                        },
                    },
                    "required": ["is_spam", "score", "details"],
                },
                price_units=1_000,
                examples=[
                    {
                        "title": "An obvious spam",
                        "request": {"subject": "YOU HAVE WON THE LOTTERY", "text_body": "Click here to claim your prize!!!"},
                        "response": {
                            "is_spam": True,
                            "score": 5.5,
                            "details": [
                                {"rule": "SUBJECT_ALL_CAPS", "description": "The subject is mostly capital letters.", "score": 1.5},
                                {"rule": "SPAM_PHRASE", "description": "The text contains a phrase common in spam.", "score": 1.5},
                                {
                                    "rule": "MANY_SPAM_PHRASES",
                                    "description": "The text contains three or more phrases common in spam.",
                                    "score": 1.5,
                                },
                                {"rule": "EXCLAMATIONS", "description": "The text has three exclamation marks in a row.", "score": 1.0},
                            ],
                        },
                    }
                ],
            )
        ],
    )
)
