"""Serving a new index build without a restart: on a timer, on SIGHUP, or on /reload.

Loading a build reads files and builds the lexical tables, so it runs in a thread; the model
stays loaded. A build that cannot be loaded is logged and the old one stays in service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from index.errors import NewsbotError
from index.live import LiveSearcher
from index.store import current_build_id

log = logging.getLogger(__name__)


async def reload_index(live: LiveSearcher, force: bool = False) -> bool:
    """Load the live build if it changed (or ``force``); return whether a new one is served.

    Raises ``IndexNotReady`` (the old build stays in service) when it cannot be loaded.
    """
    return await asyncio.to_thread(live.reload, force)


class IndexWatcher:
    """Checks every ``interval`` seconds whether ``newsbot build`` swapped in a new build, and
    reloads when it did or when ``wake()`` is called (SIGHUP)."""

    def __init__(self, live: LiveSearcher, interval: float) -> None:
        self._live = live
        self._interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failed_link: str | None = None

    def start(self) -> None:
        """Start watching (in the running event loop) and reload on SIGHUP where possible."""
        self._task = asyncio.create_task(self._watch(), name="newsbot-index-watch")
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.wake)

    def wake(self) -> None:
        """Check now, and reload even if the build looks unchanged."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop watching."""
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            forced = self._wake.is_set()
            self._wake.clear()
            await self.check(forced)

    async def check(self, force: bool = False) -> None:
        """Reload if a new build is in place; log (once per build) if it cannot be loaded."""
        if not force and not self._live.changed():
            return
        link = current_build_id(self._live.index_dir)
        if not force and link == self._failed_link:
            return  # already reported; wait for the next build
        try:
            await reload_index(self._live, force)
        except NewsbotError as exc:
            self._failed_link = link
            log.warning("new index not loaded, still serving the old one: %s", exc)
        except Exception:
            self._failed_link = link
            log.exception("new index not loaded, still serving the old one")
