"""``newsbot run``: check the token, make sure there is an index, then serve until stopped.

Long polling by default (PTB's ``run_polling``); with a webhook URL, our webhook server
(bot/webhook.py) with a secret token. SIGINT and SIGTERM stop either cleanly; SIGHUP reloads
the index.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import signal
from typing import Any
from urllib.parse import urlsplit

from telegram import Bot
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from bot.application import ALLOWED_UPDATES, bot_token, build_application, running
from bot.logs import configure_logging, redact_token
from bot.settings import Settings
from index.embed import Embedder
from index.errors import NewsbotError
from index.store import current_build
from newsbot.engine import load_embedder, open_searcher, run_build

log = logging.getLogger(__name__)


class TokenRejected(NewsbotError):
    """Telegram answered that the bot token is not valid."""


class TelegramUnreachable(NewsbotError):
    """The Bot API server could not be reached."""


class BadWebhookUrl(NewsbotError):
    """The webhook URL is not one Telegram accepts."""


def run_bot(settings: Settings, webhook_url: str | None = None) -> None:
    """Run the bot until SIGINT/SIGTERM. Raises ``MissingToken``, ``TokenRejected``,
    ``TelegramUnreachable``, ``BadWebhookUrl`` or ``IndexNotReady`` with a one-line message."""
    configure_logging(settings.log_level)
    token = bot_token(settings)
    redact_token(token)
    if webhook_url is not None and not webhook_url.startswith("https://"):
        shown = redact_token(token).redact(webhook_url)
        raise BadWebhookUrl(f"the webhook URL must start with https:// (got {shown!r})")
    # Checked before loading the model, so a bad token fails in a second, not after a build.
    username = asyncio.run(check_token(settings, token))
    embedder = load_embedder(settings)
    ensure_index(settings, embedder)
    application = build_application(settings, open_searcher(settings, embedder))
    log.info("starting @%s (%s)", username, "webhook" if webhook_url else "long polling")
    try:
        if webhook_url is None:
            application.run_polling(
                poll_interval=0, timeout=settings.poll_timeout, allowed_updates=ALLOWED_UPDATES
            )
        else:
            asyncio.run(serve_until_stopped(application, webhook_options(settings, webhook_url)))
    except InvalidToken as exc:
        raise TokenRejected(_rejected_message()) from exc


async def check_token(settings: Settings, token: str) -> str:
    """The bot's username, asking the Bot API (getMe); raises ``TokenRejected`` or
    ``TelegramUnreachable``."""
    try:
        async with Bot(token, base_url=settings.telegram_api_base_url) as bot:
            return bot.username
    except InvalidToken as exc:
        raise TokenRejected(_rejected_message()) from exc
    except NetworkError as exc:
        reason = redact_token(token).redact(str(exc))
        raise TelegramUnreachable(
            f"could not reach the Bot API at {settings.telegram_api_base_url} ({reason}): "
            "check the network, or TELEGRAM_API_BASE_URL"
        ) from exc


def _rejected_message() -> str:
    return (
        "Telegram rejected the bot token: check TELEGRAM_BOT_TOKEN "
        "(@BotFather shows it with /token, or issues a new one with /revoke)"
    )


async def serve_until_stopped(application: Application, webhook: dict[str, Any]) -> None:
    """Webhook mode until SIGINT or SIGTERM (what ``run_polling`` does for polling)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stop_signal, stop.set)
    try:
        async with running(application, webhook=webhook):
            await stop.wait()
    finally:
        for stop_signal in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(stop_signal)


def ensure_index(settings: Settings, embedder: Embedder) -> None:
    """Build the index from the corpus if there is none yet (the model is already loaded)."""
    if current_build(settings.index_dir) is not None:
        return
    log.info("no index in %s yet: building it from %s", settings.index_dir, settings.corpus_dir)
    report = run_build(settings, embedder=embedder)
    log.info("index built: %d articles, %d passages", report.articles, report.passages)


def webhook_options(settings: Settings, webhook_url: str) -> dict[str, Any]:
    """Keyword arguments for ``bot.webhook.serving_webhook``: listen where configured, on the
    URL's path, with a secret token (configured, or a fresh random one for this run)."""
    if settings.webhook_secret is not None:
        secret = settings.webhook_secret.get_secret_value()
    else:
        secret = secrets.token_urlsafe(32)
    redact_token(secret)
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(webhook_url).path.strip("/"),
        "webhook_url": webhook_url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    }
