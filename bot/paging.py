"""Paging an answer with the "More" button: recent answers kept by a short id.

Callback data is ``more:<id>:<page>`` (well within Telegram's 64 bytes). The id is random and
the answer is looked up in a bounded store together with the chat it was sent to, so data that
is stale (evicted), forged, or replayed in another chat finds nothing and gets a polite answer
instead of an error. The bot keeps each chat's answers in its chat data as plain JSON, which
the state file persists (bot/persistence.py): "More" keeps working after a restart.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import is_web_url, page_count
from bot.translations import ENGLISH_TEXTS, Translator, translator
from index.search import Hit, Source

_DATA = re.compile(r"more:([A-Za-z0-9_-]{1,16}):([0-9]{1,2})")


@dataclass(frozen=True)
class CachedAnswer:
    """An answer's passages, the chat it was sent to, how many passages go on a page, the
    language of the texts around them, and whether the passages are only related."""

    chat_id: int
    hits: tuple[Hit, ...]
    per_page: int
    language: str = "en"
    related: bool = False
    question: str = ""
    continues: str = ""  # the earlier question a follow-up answer continues

    @property
    def texts(self) -> Translator:
        """The translator of the answer's language."""
        return translator(self.language)

    def to_json(self) -> dict:
        """A plain-JSON form (for chat data and the state file)."""
        return {
            "chat_id": self.chat_id,
            "hits": [hit.to_dict() for hit in self.hits],
            "per_page": self.per_page,
            "language": self.language,
            "related": self.related,
            "question": self.question,
            "continues": self.continues,
        }

    @classmethod
    def from_json(cls, data: dict) -> CachedAnswer:
        """The answer ``to_json`` gave; raises ``KeyError``/``TypeError`` on other data."""
        hits = tuple(
            Hit(**{**hit, "also": tuple(Source(**source) for source in hit.get("also", ()))})
            for hit in data["hits"]
        )
        return cls(
            int(data["chat_id"]),
            hits,
            int(data["per_page"]),
            str(data.get("language", "en")),
            bool(data.get("related", False)),
            str(data["question"]),
            str(data.get("continues", "")),
        )


class AnswerCache:
    """The most recent ``capacity`` answers that can be paged, kept in ``store`` (a chat's
    chat data entry, say) as JSON, oldest first."""

    def __init__(
        self, store: MutableMapping[str, dict] | None = None, capacity: int = 2000
    ) -> None:
        self._capacity = capacity
        self._answers: MutableMapping[str, dict] = {} if store is None else store

    def remember(self, answer: CachedAnswer) -> str:
        """Keep ``answer`` and return its id (the oldest answer is forgotten when full)."""
        answer_id = secrets.token_urlsafe(6)
        while answer_id in self._answers:
            answer_id = secrets.token_urlsafe(6)
        self._answers[answer_id] = answer.to_json()
        while len(self._answers) > self._capacity:
            del self._answers[next(iter(self._answers))]
        return answer_id

    def sent_as(self, answer_id: str, message_id: int) -> None:
        """Note the message that shows answer ``answer_id`` (for replies to it)."""
        if answer_id in self._answers:
            self._answers[answer_id]["message_id"] = message_id

    def by_message(self, message_id: int) -> CachedAnswer | None:
        """The answer shown by message ``message_id``, if it is still kept."""
        for data in reversed(list(self._answers.values())):
            if data.get("message_id") == message_id:
                return _load(data)
        return None

    def latest(self) -> CachedAnswer | None:
        """The newest answer kept."""
        if not self._answers:
            return None
        return _load(next(reversed(list(self._answers.values()))))

    def find(self, data: str | None, chat_id: int) -> tuple[str, CachedAnswer, int] | None:
        """The answer id, cached answer and page that callback ``data`` from ``chat_id`` asks
        for; None when the data is malformed, stale, from another chat, or past the end."""
        match = _DATA.fullmatch(data or "")
        if match is None:
            return None
        answer = _load(self._answers.get(match.group(1)))
        page = int(match.group(2))
        if answer is None or answer.chat_id != chat_id:
            return None
        if page * answer.per_page >= len(answer.hits):
            return None
        return match.group(1), answer, page


def _load(data: dict | None) -> CachedAnswer | None:
    if data is None:
        return None
    try:
        return CachedAnswer.from_json(data)
    except (KeyError, TypeError, ValueError):
        return None  # written by another version: treated as expired


def more_data(answer_id: str, page: int) -> str:
    """Callback data that shows ``page`` of answer ``answer_id``."""
    return f"more:{answer_id}:{page}"


def answer_keyboard(answer_id: str, answer: CachedAnswer, page: int) -> InlineKeyboardMarkup | None:
    """ "‹ Back" / "More ›" as needed, labelled in the answer's language. No "Open article":
    each quote's source line already links to its article."""
    t = answer.texts
    row = []
    if page > 0:
        back = t.gettext("‹ Back")
        row.append(InlineKeyboardButton(back, callback_data=more_data(answer_id, page - 1)))
    if page + 1 < page_count(len(answer.hits), answer.per_page):
        more = t.gettext("More ›")
        row.append(InlineKeyboardButton(more, callback_data=more_data(answer_id, page + 1)))
    return InlineKeyboardMarkup([row]) if row else None


def article_keyboard(hit: Hit, t: Translator = ENGLISH_TEXTS) -> InlineKeyboardMarkup | None:
    """Just the "Open article" button (for inline results)."""
    opener = _open_button(hit, t)
    return InlineKeyboardMarkup([[opener]]) if opener is not None else None


def _open_button(hit: Hit, t: Translator) -> InlineKeyboardButton | None:
    url = hit.link or hit.url
    label = t.gettext("Open article")
    return InlineKeyboardButton(label, url=url) if is_web_url(url) else None
