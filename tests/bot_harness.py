"""Driving the real bot against the fake Bot API server: settings, start-up, and asking.

Used by the end-to-end tests (through fixtures in conftest.py) and by bench/bot_latency.py.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.application import build_application, running
from bot.handlers import SERVICES, Services
from bot.settings import Settings
from index.embed import Embedder
from newsbot.engine import open_searcher
from tests.fake_telegram import FakeTelegram, JSONDict, Recorded

ADMIN_ID = 4242
TEST_POLL_TIMEOUT = 1


def bot_settings(tg: FakeTelegram, index_dir: Path, **overrides: Any) -> Settings:
    """Settings for a bot talking to ``tg``: short intervals, no .env file, one admin, and a
    fresh state file of its own unless ``state_path`` is given."""
    values: dict[str, Any] = {
        "state_path": Path(tempfile.mkdtemp(prefix="newsbot-state-")) / "state.sqlite3",
        "telegram_bot_token": tg.token,
        "telegram_api_base_url": tg.base_url,
        "index_dir": index_dir,
        "admin_ids": [ADMIN_ID],
        "reload_interval": 0.2,
        "poll_timeout": TEST_POLL_TIMEOUT,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, embedder: Embedder, webhook: dict[str, Any] | None = None
) -> AsyncIterator[Application]:
    """The real Application built from ``settings``, long polling (or with ``webhook``, a
    webhook server) until the block ends."""
    application = build_application(settings, open_searcher(settings, embedder))
    async with running(application, settings.poll_timeout, webhook):
        yield application


def replied_to(record: Recorded) -> int | None:
    """The message id a sendMessage request replies to."""
    reply = record.params.get("reply_parameters") or {}
    return reply.get("message_id")


class BotUnderTest:
    """A running bot and the fake server it talks to, with helpers to ask and wait."""

    def __init__(self, tg: FakeTelegram, application: Application) -> None:
        self.tg = tg
        self.application = application

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES]

    async def say(
        self,
        chat: JSONDict,
        user: JSONDict,
        text: str,
        reply_to: int | None = None,
        timeout: float = 10.0,
    ) -> Recorded:
        """Send ``text`` from ``user`` in ``chat``; return the bot's reply to it."""
        mark = self.tg.mark()
        message = self.tg.add_message(chat, user, text, reply_to_message_id=reply_to)
        return await self.reply_to(message, timeout, since=mark)

    async def reply_to(self, message: JSONDict, timeout: float = 10.0, since: int = 0) -> Recorded:
        """The bot's sendMessage replying to ``message``."""
        return await self.tg.wait_for(
            "sendMessage",
            lambda r: (
                r.ok
                and r.params.get("chat_id") == message["chat"]["id"]
                and replied_to(r) == message["message_id"]
            ),
            timeout=timeout,
            since=since,
        )

    def replies_to(self, message: JSONDict) -> list[Recorded]:
        """Every sendMessage so far that replies to ``message``."""
        return [
            r
            for r in self.tg.calls("sendMessage")
            if r.params.get("chat_id") == message["chat"]["id"]
            and replied_to(r) == message["message_id"]
        ]


def buttons(message: JSONDict) -> list[JSONDict]:
    """The inline keyboard buttons of a sent message, row by row."""
    return [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def button(message: JSONDict, label_start: str) -> JSONDict:
    """The first inline button whose label starts with ``label_start``."""
    return next(b for b in buttons(message) if b["text"].startswith(label_start))


def entity_texts(message: JSONDict, kind: str) -> list[str]:
    """The texts a sent message's entities of ``kind`` cover (offsets are UTF-16)."""
    encoded = message["text"].encode("utf-16-le")
    return [
        encoded[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
        for e in message.get("entities", [])
        if e["type"] == kind
    ]
