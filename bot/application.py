"""The one python-telegram-bot Application, built from Settings, and its start and stop.

Flood limits are PTB's ``AIORateLimiter`` (429 answers are waited out and retried); updates are
handled concurrently, and questions go to the single ``QuestionWorker`` thread. Start-up
registers the command menus and starts the index watcher; shutdown stops both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot import living_texts
from bot.answering import QuestionWorker
from bot.chat_settings import add_chat_settings
from bot.following import NOTIFIER, add_following
from bot.handlers import SERVICES, Services, add_handlers
from bot.logs import quiet_http_loggers, redact_token
from bot.persistence import SQLitePersistence
from bot.ratelimit import RateLimiter
from bot.reloading import IndexWatcher
from bot.retry import with_retries
from bot.settings import Settings
from index.errors import NewsbotError
from index.live import LiveSearcher

log = logging.getLogger(__name__)

WATCHER = "newsbot.watcher"
# Edited messages are not even fetched: the bot ignores them (see bot/handlers.py).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
RATE_LIMIT_RETRIES = 3

FOLLOW_COMMANDS = [
    BotCommand("settings", living_texts.SETTINGS_COMMAND),
    BotCommand("share", living_texts.SHARE_COMMAND),
    BotCommand("latest", living_texts.LATEST_COMMAND),
    BotCommand("follow", living_texts.FOLLOW_COMMAND),
    BotCommand("unfollow", living_texts.UNFOLLOW_COMMAND),
]
PRIVATE_COMMANDS = [
    BotCommand("start", "What I know about the story, with example questions"),
    BotCommand("help", "How to ask me"),
    BotCommand("sources", "The articles I quote"),
    BotCommand("ask", "Ask a question (or just send it)"),
    BotCommand("new", living_texts.NEW_COMMAND),
    *FOLLOW_COMMANDS,
]
GROUP_COMMANDS = [
    BotCommand("ask", "Ask about the story: /ask your question"),
    BotCommand("sources", "The articles I quote"),
    BotCommand("help", "How to ask me"),
    *FOLLOW_COMMANDS,
]


class MissingToken(NewsbotError):
    """No bot token is configured."""

    def __init__(self) -> None:
        super().__init__(
            "no bot token: talk to @BotFather on Telegram to create a bot, "
            "then set TELEGRAM_BOT_TOKEN (in the environment or .env)"
        )


def bot_token(settings: Settings) -> str:
    """The configured token; raises ``MissingToken`` when there is none."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    if not token.strip():
        raise MissingToken()
    return token.strip()


def build_application(settings: Settings, live: LiveSearcher) -> Application:
    """The bot, configured from ``settings``, answering from ``live``.

    From here on the token never appears in a log record (see bot/logs.py).
    """
    token = bot_token(settings)
    redact_token(token)
    quiet_http_loggers()
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .rate_limiter(
            AIORateLimiter(
                overall_max_rate=settings.max_sends_per_second, max_retries=RATE_LIMIT_RETRIES
            )
        )
        .concurrent_updates(True)
        .persistence(SQLitePersistence(settings.state_file, settings.state_save_interval))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    worker = QuestionWorker(
        lambda: live.searcher, settings.batch_window_ms / 1000, settings.max_batch
    )
    application.bot_data[SERVICES] = Services(
        settings=settings,
        live=live,
        worker=worker,
        limiter=RateLimiter(settings.questions_per_minute),
        inline_limiter=RateLimiter(settings.inline_queries_per_minute),
    )
    application.bot_data[WATCHER] = IndexWatcher(live, settings.reload_interval)
    add_handlers(application)
    add_following(application)
    add_chat_settings(application)
    return application


async def _post_init(application: Application) -> None:
    """Register the command menus and start watching the index."""
    await register_commands(application)
    application.bot_data[WATCHER].start()
    application.bot_data[NOTIFIER].start()
    services: Services = application.bot_data[SERVICES]
    data = services.live.searcher.data
    log.info(
        "@%s ready: index build %s, %d articles, %d passages",
        application.bot.username,
        data.build_id,
        len(data.articles),
        len(data.passages),
    )


async def _post_shutdown(application: Application) -> None:
    """Stop watching the index and let the worker finish (off the loop: it joins a thread)."""
    await application.bot_data[WATCHER].stop()
    await application.bot_data[NOTIFIER].stop()
    await asyncio.to_thread(application.bot_data[SERVICES].worker.close)


async def register_commands(application: Application) -> None:
    """setMyCommands for private chats and for groups, and the bot's description and short
    description; a failure is logged, not fatal."""
    bot = application.bot
    profile = [
        lambda: bot.set_my_description(living_texts.DESCRIPTION),
        lambda: bot.set_my_short_description(living_texts.SHORT_DESCRIPTION),
    ]
    for call in profile:
        try:
            await with_retries(call, idempotent=True)
        except TelegramError as exc:
            log.warning("could not set the bot's description: %s", exc)
    menus = [
        (PRIVATE_COMMANDS, BotCommandScopeAllPrivateChats()),
        (GROUP_COMMANDS, BotCommandScopeAllGroupChats()),
    ]
    for commands, scope in menus:
        try:
            await with_retries(
                lambda commands=commands, scope=scope: bot.set_my_commands(commands, scope=scope),
                idempotent=True,
            )
        except TelegramError as exc:
            log.warning("could not register the command menu: %s", exc)


@contextlib.asynccontextmanager
async def running(
    application: Application, poll_timeout: int = 10, webhook: dict[str, Any] | None = None
) -> AsyncIterator[Application]:
    """Run ``application`` inside the current event loop for the block: long polling, or with
    ``webhook`` (``start_webhook`` arguments, see ``bot.runner.webhook_options``) a webhook.

    What ``run_polling``/``run_webhook`` do minus the signal handling and the loop: for
    embedding the bot in a running event loop (tests, benchmarks).
    """
    await application.initialize()
    try:
        await _post_init(application)
        if webhook is None:
            await application.updater.start_polling(
                poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
            )
        else:
            await application.updater.start_webhook(**webhook)
        await application.start()
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await _post_shutdown(application)
