"""A small, documented rule set for scoring email as spam, in the style of SpamAssassin.

Each rule adds its score when it matches. A message scoring SPAM_THRESHOLD
or more is classified as spam. The rules and weights are hand-picked, not
trained, so treat the score as a hint and tune the threshold to your mail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

SPAM_THRESHOLD = 3.0

SPAM_PHRASES = (
    "act now",
    "100% free",
    "click here",
    "limited time",
    "no credit check",
    "risk-free",
    "risk free",
    "wire transfer",
    "you have won",
    "you are a winner",
    "claim your prize",
    "lottery",
    "viagra",
    "verify your account",
    "your account has been suspended",
    "password has expired",
    "double your money",
    "work from home",
    "make money fast",
    "cheap meds",
    "dear friend",
    "urgent response",
)
URL = re.compile(r"https?://([^/\s\"'<>]+)", re.IGNORECASE)
IPV4_HOST = re.compile(r"^\d{1,3}(\.\d{1,3}){3}(:\d+)?$")
SHORTENERS = {"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly"}
MONEY = re.compile(r"[$€£]\s?\d{1,3}(,\d{3})+|\b\d+\s?(million|billion)\s+(dollars|usd|euros|pounds)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Message:
    sender: str
    subject: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.subject}\n{self.body}"


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    score: float
    matches: Callable[[Message], bool]


def _shouting_subject(message: Message) -> bool:
    letters = [character for character in message.subject if character.isalpha()]
    return len(letters) >= 8 and sum(character.isupper() for character in letters) / len(letters) >= 0.7


def _phrase_count(message: Message) -> int:
    text = message.text.lower()
    return sum(phrase in text for phrase in SPAM_PHRASES)


def _hosts(message: Message) -> list[str]:
    return [host.lower() for host in URL.findall(message.text)]


def _sender_digits(message: Message) -> bool:
    local_part = message.sender.rsplit("@", 1)[0]
    return sum(character.isdigit() for character in local_part) >= 5


RULES = (
    Rule("SUBJECT_ALL_CAPS", "The subject is mostly capital letters.", 1.5, _shouting_subject),
    Rule("SPAM_PHRASE", "The text contains a phrase common in spam.", 1.5, lambda message: _phrase_count(message) >= 1),
    Rule("MANY_SPAM_PHRASES", "The text contains three or more phrases common in spam.", 1.5, lambda message: _phrase_count(message) >= 3),
    Rule("EXCLAMATIONS", "The text has three exclamation marks in a row.", 1.0, lambda message: "!!!" in message.text),
    Rule("MONEY_AMOUNT", "The text names a large sum of money.", 1.0, lambda message: bool(MONEY.search(message.text))),
    Rule("IP_ADDRESS_LINK", "A link points at a bare IP address.", 1.5, lambda message: any(IPV4_HOST.match(host) for host in _hosts(message))),
    Rule("SHORTENED_LINK", "A link goes through a URL shortener.", 0.5, lambda message: any(host in SHORTENERS for host in _hosts(message))),
    Rule("MANY_LINKS", "The text has more than five links.", 1.0, lambda message: len(_hosts(message)) > 5),
    Rule("SENDER_DIGITS", "The sender's address has five or more digits before the @.", 0.5, _sender_digits),
)


def classify(message: Message) -> tuple[float, list[Rule]]:
    """Return the total score and the rules that matched, in RULES order."""
    matched = [rule for rule in RULES if rule.matches(message)]
    return round(sum(rule.score for rule in matched), 2), matched
