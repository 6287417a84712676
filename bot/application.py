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
from bot.language import ENGLISH, LANGUAGES
from bot.logs import quiet_http_loggers, redact_token
from bot.persistence import SQLitePersistence
from bot.question_record import QuestionRecord
from bot.ratelimit import RateLimiter
from bot.reloading import IndexWatcher
from bot.retry import with_retries
from bot.settings import Settings
from bot.translations import mark, translator
from bot.webhook import serving_webhook
from index.errors import NewsbotError
from index.live import LiveSearcher

log = logging.getLogger(__name__)

WATCHER = "newsbot.watcher"
# Edited messages are not even fetched: the bot ignores them (see bot/handlers.py).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.INLINE_QUERY]
RATE_LIMIT_RETRIES = 3

# (command, description); descriptions are translated for each language's menu.
FOLLOW_COMMANDS = [
    ("settings", living_texts.SETTINGS_COMMAND),
    ("share", living_texts.SHARE_COMMAND),
    ("latest", living_texts.LATEST_COMMAND),
    ("follow", living_texts.FOLLOW_COMMAND),
    ("unfollow", living_texts.UNFOLLOW_COMMAND),
]
PRIVATE_COMMANDS = [
    ("start", mark("What I know about the story, with example questions")),
    ("help", mark("How to ask me")),
    ("sources", mark("The articles I quote")),
    ("ask", mark("Ask a question (or just send it)")),
    ("new", living_texts.NEW_COMMAND),
    *FOLLOW_COMMANDS,
]
GROUP_COMMANDS = [
    ("ask", mark("Ask about the story: /ask your question")),
    ("sources", mark("The articles I quote")),
    ("help", mark("How to ask me")),
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
        .persistence(SQLitePersistence(settings.state_path, settings.state_save_interval))
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
        record=QuestionRecord(settings.state_path, settings.record_days),
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
    services.record.start()
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
    services: Services = application.bot_data[SERVICES]
    await asyncio.to_thread(services.worker.close)
    await asyncio.to_thread(services.record.close)


async def register_commands(application: Application) -> None:
    """setMyCommands for private chats and for groups, and the bot's description and short
    description, in English for everyone and in each other language for readers whose
    Telegram uses it; a failure is logged, not fatal."""
    bot = application.bot
    menus = [
        (PRIVATE_COMMANDS, BotCommandScopeAllPrivateChats()),
        (GROUP_COMMANDS, BotCommandScopeAllGroupChats()),
    ]
    for language in LANGUAGES:
        t = translator(language)
        code = None if language == ENGLISH else language
        profile = [
            lambda t=t, code=code: bot.set_my_description(
                t.gettext(living_texts.DESCRIPTION), language_code=code
            ),
            lambda t=t, code=code: bot.set_my_short_description(
                t.gettext(living_texts.SHORT_DESCRIPTION), language_code=code
            ),
        ]
        for call in profile:
            try:
                await with_retries(call, idempotent=True)
            except TelegramError as exc:
                log.warning("could not set the bot's %s description: %s", language, exc)
        for names, scope in menus:
            commands = [BotCommand(name, t.gettext(text)) for name, text in names]
            try:
                await with_retries(
                    lambda commands=commands, scope=scope, code=code: bot.set_my_commands(
                        commands, scope=scope, language_code=code
                    ),
                    idempotent=True,
                )
            except TelegramError as exc:
                log.warning("could not register the %s command menu: %s", language, exc)


@contextlib.asynccontextmanager
async def running(
    application: Application, poll_timeout: int = 10, webhook: dict[str, Any] | None = None
) -> AsyncIterator[Application]:
    """Run ``application`` inside the current event loop for the block: long polling, or with
    ``webhook`` (see ``bot.runner.webhook_options``) our webhook server (bot/webhook.py).

    What ``run_polling`` does minus the signal handling and the loop: ``newsbot run`` in
    webhook mode, and the bot embedded in a running event loop (tests, benchmarks).
    """
    await application.initialize()
    try:
        await _post_init(application)
        async with contextlib.AsyncExitStack() as stack:
            if webhook is None:
                await application.updater.start_polling(
                    poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
            else:
                await stack.enter_async_context(serving_webhook(application, **webhook))
            await application.start()
            yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await _post_shutdown(application)
