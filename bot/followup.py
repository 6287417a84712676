"""Follow-up questions: a message that continues the chat's previous question is searched
together with it, and the earlier answer's article is preferred.

A follow-up is a reply to one of the bot's answers (any chat), or, in a private chat, a short
message sent within ``followup_seconds`` of an answer that reads as one: it opens with "and",
"but", "what about"..., or leans on a pronoun ("it", "that", "they", "there"...). The chat's
last question lives in its chat data (``LAST``), so /new and restarts behave alike.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

from index.search import Answer

LAST = "last_question"  # chat data: {"question", "doc_id", "at"} of the chat's last answer

_OPENERS = ("and", "but", "also", "so", "what about", "how about", "then")
_PRONOUNS = frozenset(
    {
        *("it", "its", "it's", "that", "this", "those", "these", "they", "them", "their"),
        *("he", "him", "his", "she", "her", "there", "then", "when's"),
    }
)
_WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Earlier:
    """The question a follow-up continues, and the article that answered it."""

    question: str
    doc_id: str


def reads_as_follow_up(text: str, max_words: int) -> bool:
    """Whether a short message leans on what came before ("and when was that?")."""
    words = _WORD.findall(text.lower())
    if not words or len(words) > max_words:
        return False
    opening = " ".join(words[:2])
    if any(opening == o or opening.startswith(o + " ") for o in _OPENERS):
        return True
    return any(word in _PRONOUNS for word in words)


def remember_last(chat_data: dict, answer: Answer, now: float | None = None) -> None:
    """Keep ``answer`` as the chat's last answered question."""
    doc_id = answer.passages[0].doc_id if answer.passages else ""
    stamp = time.time() if now is None else now
    chat_data[LAST] = {"question": answer.question, "doc_id": doc_id, "at": stamp}


def recent_question(chat_data: dict, window: float, now: float | None = None) -> Earlier | None:
    """The chat's last question if it was answered within ``window`` seconds."""
    last = chat_data.get(LAST)
    if not isinstance(last, dict):
        return None
    at = last.get("at")
    current = time.time() if now is None else now
    if not isinstance(at, int | float) or current - at > window:
        return None
    return Earlier(str(last.get("question", "")), str(last.get("doc_id", "")))


def combined_question(earlier: Earlier, follow_up: str) -> str:
    """What is searched for a follow-up: the earlier question with the new words."""
    return f"{earlier.question} {follow_up}"


def prefer_article(answer: Answer, doc_id: str) -> Answer:
    """``answer`` with the passages of article ``doc_id`` first (order otherwise kept)."""
    if not doc_id or not answer.passages:
        return answer
    ordered = sorted(answer.passages, key=lambda hit: hit.doc_id != doc_id)
    return replace(answer, passages=tuple(ordered))
