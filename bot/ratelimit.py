"""A per-user limit on questions per minute, so one person cannot starve a group."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

_SWEEP_EVERY = 1000


@dataclass(frozen=True)
class Verdict:
    """Whether a question may be answered now.

    When not, ``retry_after`` says in how many seconds it may, and ``notify`` is True only for
    the first refused question since the user's last accepted one (tell them once, not on
    every message).
    """

    allowed: bool
    retry_after: float = 0.0
    notify: bool = False


class RateLimiter:
    """At most ``per_window`` accepted questions per user in any sliding ``window`` seconds."""

    def __init__(
        self,
        per_window: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_window = per_window
        self._window = window
        self._clock = clock
        self._accepted: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._checks = 0

    def check(self, user_id: int) -> Verdict:
        """Count a question of ``user_id`` if it is within the limit; say whether it was."""
        now = self._clock()
        self._checks += 1
        if self._checks % _SWEEP_EVERY == 0:
            self._sweep(now)
        times = self._accepted.setdefault(user_id, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if len(times) < self.per_window:
            times.append(now)
            self._warned.discard(user_id)
            return Verdict(True)
        notify = user_id not in self._warned
        self._warned.add(user_id)
        return Verdict(False, retry_after=times[0] + self._window - now, notify=notify)

    def _sweep(self, now: float) -> None:
        """Forget users with nothing inside the window, so memory follows active users only."""
        idle = [u for u, t in self._accepted.items() if not t or t[-1] <= now - self._window]
        for user_id in idle:
            del self._accepted[user_id]
            self._warned.discard(user_id)
