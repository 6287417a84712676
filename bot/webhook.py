"""Webhook mode: a small HTTP server that takes Telegram's updates and queues them for PTB.

It does what PTB's own webhook server does (POST on the URL's path, JSON only, the secret token
checked, then ``Application.update_queue``) with one difference: a body that is not a Telegram
update gets HTTP 400 and one warning line, where PTB's answers 500 and logs the exception.
Built on tornado, which PTB's ``webhooks`` extra installs, and PTB's public API only.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Bot, Update
from telegram.ext import Application

from bot.retry import with_retries

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class NotAnUpdate(ValueError):
    """A webhook request body that is not a Telegram update."""


def parse_update(body: bytes, bot: Bot) -> Update:
    """The update in a webhook request's body; raises ``NotAnUpdate`` naming what is wrong."""
    try:
        data = json.loads(body)
    except ValueError as exc:  # not UTF-8, or not JSON
        raise NotAnUpdate("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise NotAnUpdate("JSON without an update_id")
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # PTB raises whatever the malformed fields lead to
        raise NotAnUpdate(f"malformed update ({type(exc).__name__})") from exc


class _UpdateHandler(tornado.web.RequestHandler):
    """POST: check the secret and the body, then queue the update for the application."""

    def initialize(self, updates: Application, secret: str) -> None:
        self._application = updates
        self._secret = secret.encode()

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self._answer(403)
            return
        content_type = self.request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type != "application/json":
            self._answer(415)
            return
        try:
            update = parse_update(self.request.body, self._application.bot)
        except NotAnUpdate as exc:
            log.warning("webhook: refused a request that is not an update: %s", exc)
            self._answer(400)
            return
        await self._application.update_queue.put(update)
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.set_status(status)
        self.finish()

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """An unexpected error: one line with its type (the traceback only at DEBUG)."""
        log.error("webhook: request failed: %s", typ.__name__ if typ else "error")
        log.debug("webhook request failed", exc_info=(typ, value, tb))


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """Requests are not logged one by one (PTB's server does not either)."""


@contextlib.asynccontextmanager
async def serving_webhook(
    application: Application,
    listen: str,
    port: int,
    url_path: str,
    webhook_url: str,
    secret_token: str,
    allowed_updates: list[str],
) -> AsyncIterator[None]:
    """Listen at ``listen:port`` on ``/url_path`` and register ``webhook_url`` with Telegram
    for the block (the arguments are ``bot.runner.webhook_options``)."""
    routes = [
        (
            rf"/{re.escape(url_path)}/?" if url_path else r"/?",
            _UpdateHandler,
            {"updates": application, "secret": secret_token},
        )
    ]
    server = tornado.httpserver.HTTPServer(
        tornado.web.Application(routes, log_function=_no_access_log)
    )
    server.listen(port, address=listen)
    try:
        await with_retries(
            lambda: application.bot.set_webhook(
                webhook_url, secret_token=secret_token, allowed_updates=allowed_updates
            ),
            idempotent=True,
        )
        yield
    finally:
        server.stop()
        await server.close_all_connections()
