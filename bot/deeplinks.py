"""Deep links ``https://t.me/<bot>?start=<payload>`` that open the bot with a question.

Telegram allows a payload of 1-64 characters of ``A-Za-z0-9_-``. A question that fits is sent
whole as ``q`` + unpadded base64url of its UTF-8; a longer one as ``w`` + its ASCII words
joined by hyphens (cut at a word), which the search still reads well. ``ask`` opens the bot
with the usage hint.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata

from telegram.helpers import create_deep_linked_url

MAX_PAYLOAD = 64
ASK = "ask"
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_WORDS = re.compile(r"[A-Za-z0-9]+")


def question_payload(question: str) -> str:
    """A /start payload that carries ``question`` (``ask`` if nothing of it can be carried)."""
    encoded = base64.urlsafe_b64encode(question.strip().encode("utf-8")).rstrip(b"=").decode()
    if 0 < len(encoded) < MAX_PAYLOAD:
        return "q" + encoded
    ascii_text = unicodedata.normalize("NFKD", question).encode("ascii", "ignore").decode()
    payload = "w"
    for word in _WORDS.findall(ascii_text):
        candidate = f"{payload}-{word}" if payload != "w" else f"w{word}"
        if len(candidate) > MAX_PAYLOAD:
            break
        payload = candidate
    return payload if payload != "w" else ASK


def payload_question(payload: str) -> str | None:
    """The question a /start payload carries; None for ``ask``, foreign or malformed ones."""
    if not _PAYLOAD.fullmatch(payload):
        return None
    kind, body = payload[0], payload[1:]
    if kind == "q" and body:
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            text = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        return text.strip() or None
    if kind == "w" and body:
        return " ".join(body.split("-")) or None
    return None


def question_link(username: str, question: str) -> str:
    """``https://t.me/<username>?start=<payload>`` asking ``question``."""
    return create_deep_linked_url(username, question_payload(question))
