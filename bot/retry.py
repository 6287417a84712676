"""Retrying a Bot API call through network errors and 5xx answers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram.error import BadRequest, NetworkError

log = logging.getLogger(__name__)

T = TypeVar("T")


async def with_retries(
    call: Callable[[], Awaitable[T]], attempts: int = 5, first_delay: float = 0.25
) -> T:
    """``await call()``, trying again after a ``NetworkError`` (timeouts, 5xx, lost connections)
    up to ``attempts`` times in all, waiting ``first_delay`` and doubling.

    ``BadRequest`` is not retried: the same request would fail again. 429s are waited out
    by the rate limiter below this, not here.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except BadRequest:
            raise
        except NetworkError as exc:
            if attempt == attempts:
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
