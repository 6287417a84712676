"""Retrying a Bot API call through connection failures and 5xx answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx
from telegram.error import BadRequest, NetworkError, TimedOut

log = logging.getLogger(__name__)

T = TypeVar("T")


async def with_retries(
    call: Callable[[], Awaitable[T]],
    attempts: int = 5,
    first_delay: float = 0.25,
    *,
    idempotent: bool = False,
) -> T:
    """``await call()``, trying again after a ``NetworkError`` (lost connections, 5xx answers)
    up to ``attempts`` times in all, waiting ``first_delay`` and doubling.

    A timeout is retried only if the call is ``idempotent`` (an edit, setting the command
    menu) or the request never left (connect or pool timeout): Telegram may have acted on a
    request that timed out, and a second sendMessage would post twice. ``BadRequest`` is not
    retried: the same request would fail again. 429s are waited out by the rate limiter below
    this, not here.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except NetworkError as exc:
            if attempt == attempts or not _retryable(exc, idempotent):
                raise
            log.warning(
                "Bot API call failed (%s), retry %d of %d in %.2f s",
                type(exc).__name__,
                attempt,
                attempts - 1,
                delay,
            )
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _retryable(error: NetworkError, idempotent: bool) -> bool:
    if isinstance(error, BadRequest):
        return False
    if isinstance(error, TimedOut):
        return idempotent or isinstance(error.__cause__, (httpx.ConnectTimeout, httpx.PoolTimeout))
    return True
