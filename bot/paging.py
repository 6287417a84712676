"""Paging an answer with the "More" button: recent answers kept by a short id.

Callback data is ``more:<id>:<page>`` (well within Telegram's 64 bytes). The id is random and
the answer is looked up in a bounded in-memory cache together with the chat it was sent to, so
data that is stale (evicted, or from before a restart), forged, or replayed in another chat
finds nothing and gets a polite answer instead of an error.
"""

from __future__ import annotations

import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.replies import is_web_url, page_count
from bot.translations import ENGLISH_TEXTS, Translator, translator
from index.search import Hit

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

    @property
    def texts(self) -> Translator:
        """The translator of the answer's language."""
        return translator(self.language)


class AnswerCache:
    """The most recent ``capacity`` answers that can be paged."""

    def __init__(self, capacity: int = 2000) -> None:
        self._capacity = capacity
        self._answers: OrderedDict[str, CachedAnswer] = OrderedDict()

    def remember(self, answer: CachedAnswer) -> str:
        """Keep ``answer`` and return its id (the oldest answer is forgotten when full)."""
        answer_id = secrets.token_urlsafe(6)
        while answer_id in self._answers:
            answer_id = secrets.token_urlsafe(6)
        self._answers[answer_id] = answer
        while len(self._answers) > self._capacity:
            self._answers.popitem(last=False)
        return answer_id

    def find(self, data: str | None, chat_id: int) -> tuple[str, CachedAnswer, int] | None:
        """The answer id, cached answer and page that callback ``data`` from ``chat_id`` asks
        for; None when the data is malformed, stale, from another chat, or past the end."""
        match = _DATA.fullmatch(data or "")
        if match is None:
            return None
        answer = self._answers.get(match.group(1))
        page = int(match.group(2))
        if answer is None or answer.chat_id != chat_id:
            return None
        if page * answer.per_page >= len(answer.hits):
            return None
        return match.group(1), answer, page


def more_data(answer_id: str, page: int) -> str:
    """Callback data that shows ``page`` of answer ``answer_id``."""
    return f"more:{answer_id}:{page}"


def answer_keyboard(answer_id: str, answer: CachedAnswer, page: int) -> InlineKeyboardMarkup | None:
    """ "‹ Back" / "More ›" as needed, and "Open article" for the first passage of the page,
    labelled in the answer's language."""
    t = answer.texts
    row = []
    if page > 0:
        back = t.gettext("‹ Back")
        row.append(InlineKeyboardButton(back, callback_data=more_data(answer_id, page - 1)))
    if page + 1 < page_count(len(answer.hits), answer.per_page):
        more = t.gettext("More ›")
        row.append(InlineKeyboardButton(more, callback_data=more_data(answer_id, page + 1)))
    rows = [row] if row else []
    opener = _open_button(answer.hits[page * answer.per_page], t)
    if opener is not None:
        rows.append([opener])
    return InlineKeyboardMarkup(rows) if rows else None


def article_keyboard(hit: Hit, t: Translator = ENGLISH_TEXTS) -> InlineKeyboardMarkup | None:
    """Just the "Open article" button (for inline results)."""
    opener = _open_button(hit, t)
    return InlineKeyboardMarkup([[opener]]) if opener is not None else None


def _open_button(hit: Hit, t: Translator) -> InlineKeyboardButton | None:
    url = hit.link or hit.url
    label = t.gettext("Open article")
    return InlineKeyboardButton(label, url=url) if is_web_url(url) else None
