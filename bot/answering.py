"""Answering questions off the event loop, on one worker thread, in micro-batches.

Encoding a question is CPU work and the model must not be used from several threads at once,
so one thread does all of it. Questions that arrive together are encoded together: the worker
takes the first waiting question, collects whatever else arrives within a short window (a few
milliseconds), and answers the lot with one ``Searcher.ask_many`` call. Under load that turns
many small model calls into a few larger ones; a lone question pays at most the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.search import Answer, Searcher, clean_question

log = logging.getLogger(__name__)


@dataclass
class _Job:
    question: str
    k: int
    future: asyncio.Future[Answer]
    loop: asyncio.AbstractEventLoop


_STOP = object()


@dataclass
class WorkerStats:
    """How many questions were answered in how many model calls."""

    questions: int = 0
    batches: int = 0
    largest_batch: int = 0


class QuestionWorker:
    """Answers questions on one background thread; ``await ask(...)`` from any event loop.

    ``searcher`` is called once per batch, so a reloaded index is picked up by the next batch.
    ``window`` (seconds) is how long to wait for more questions after the first; with
    ``max_batch=1`` every question is answered on its own.
    """

    def __init__(
        self, searcher: Callable[[], Searcher], window: float = 0.005, max_batch: int = 32
    ) -> None:
        self._searcher = searcher
        self._window = window
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self.stats = WorkerStats()

    async def ask(self, question: str, k: int) -> Answer:
        """The answer to ``question`` with up to ``k`` passages.

        Raises ``QuestionError`` at once (without queueing) if the question is empty.
        """
        if self._closed:
            raise RuntimeError("the question worker is closed")
        # Cleaned again by ask_many (cheap); cleaning here rejects an empty question at once.
        cleaned = clean_question(question, self._searcher().options.max_question_chars)
        self._ensure_started()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Answer] = loop.create_future()
        self._queue.put(_Job(cleaned, k, future, loop))
        return await future

    async def ask_many(self, questions: Sequence[str], k: int) -> list[Answer]:
        """Answers to several questions (they share batches like any others)."""
        return list(await asyncio.gather(*(self.ask(q, k) for q in questions)))

    def close(self) -> None:
        """Finish the questions already queued, then stop the thread."""
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="newsbot-answers", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch, stop = self._collect()
            if batch:
                self._answer(batch)
            if stop:
                return

    def _collect(self) -> tuple[list[_Job], bool]:
        """The next batch: the first waiting job and whatever arrives within the window."""
        first = self._queue.get()
        if first is _STOP:
            return [], True
        batch: list[_Job] = [first]  # type: ignore[list-item]
        deadline = time.monotonic() + self._window
        while len(batch) < self._max_batch:
            remaining = deadline - time.monotonic()
            try:
                job = (
                    self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get(False)
                )
            except queue.Empty:
                break
            if job is _STOP:
                return batch, True
            batch.append(job)  # type: ignore[arg-type]
        return batch, False

    def _answer(self, batch: list[_Job]) -> None:
        """One ``ask_many`` call for the batch; results go back to each asker's loop."""
        self.stats.questions += len(batch)
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        try:
            answers = self._searcher().ask_many(
                [job.question for job in batch], [job.k for job in batch]
            )
        except Exception as exc:  # delivered to every asker of the batch
            log.exception("answering a batch of %d questions failed", len(batch))
            for job in batch:
                _deliver(job, exception=exc)
            return
        for job, answer in zip(batch, answers, strict=True):
            _deliver(job, result=answer)


def _deliver(
    job: _Job, result: Answer | None = None, exception: BaseException | None = None
) -> None:
    deliver(job.future, job.loop, result, exception)


def deliver(
    future: asyncio.Future,
    loop: asyncio.AbstractEventLoop,
    result: object = None,
    exception: BaseException | None = None,
) -> None:
    """Settle ``future`` (of ``loop``) from another thread with ``result`` or ``exception``;
    nothing happens if its asker gave up or its loop is gone."""

    def settle() -> None:
        if future.done():  # the asker gave up (cancelled)
            return
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)

    # A closed loop means the asker is gone: nobody is waiting for the answer any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(settle)
