"""Logging for the bot, with the token kept out of every log line.

The bot token is part of every Bot API URL, and httpx logs URLs; exception messages can carry
them too. The redacting filter is applied where log records are created (the record factory)
rather than on handlers: a handler-level filter misses handlers added later (pytest's, an
operator's), and a logger-level filter does not see records that propagate from child loggers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping

REDACTED = "[token]"
# HTTP clients log every URL at INFO (the token is in them); bm25s sets its own logger to
# DEBUG on import, which would print its index-building lines at any configured level.
_QUIET_LOGGERS = ("httpx", "httpcore", "apscheduler", "bm25s")


class TokenRedactor(logging.Filter):
    """Replaces secrets in a record's message, exception text and stack; never drops a record."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets: set[str] = {s for s in secrets if s}

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced (the longest first, so parts never leak)."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        self._redact_message(record)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _redact_message(self, record: logging.LogRecord) -> None:
        """Redact the formatted message; if the call was malformed (``log.info("%d", "x")``),
        redact its parts instead and leave the failure to the handler, as logging does."""
        try:
            message = record.getMessage()
        except Exception:
            record.msg = self._redacted(record.msg, str)
            if isinstance(record.args, Mapping):
                record.args = {k: self._redacted(v, repr) for k, v in record.args.items()}
            elif record.args:
                record.args = tuple(self._redacted(a, repr) for a in record.args)
            return
        record.msg, record.args = self.redact(message), ()

    def _redacted(self, value: object, render: Callable[[object], str]) -> str:
        try:
            return self.redact(render(value))
        except Exception:
            return f"<unprintable {type(value).__name__}>"


class _RedactingFactory:
    """A log record factory that passes every new record through a ``TokenRedactor``."""

    def __init__(self, base: Callable[..., logging.LogRecord]) -> None:
        self.base = base
        self.redactor = TokenRedactor()

    def __call__(self, *args: object, **kwargs: object) -> logging.LogRecord:
        record = self.base(*args, **kwargs)
        self.redactor.filter(record)
        return record


def redact_token(token: str) -> TokenRedactor:
    """Keep ``token`` (and its secret part after the colon) out of every log record from now on.

    Installing again adds to the same redactor; returns it.
    """
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        factory = _RedactingFactory(factory)
        logging.setLogRecordFactory(factory)
    secret = token.split(":", 1)[-1]
    factory.redactor.secrets.update({token, secret} if len(secret) >= 8 else {token})
    return factory.redactor


def configure_logging(level: str) -> None:
    """Log to stderr at ``level``; HTTP client and bm25s loggers only from WARNING."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    quiet_http_loggers()


def quiet_http_loggers() -> None:
    """Set the HTTP client loggers to WARNING, as PTB's own examples do, and bm25s's too."""
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
