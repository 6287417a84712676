"""The record of what readers ask, in the state file (bot/state_db.py), written off the loop.

Each question keeps: when, the chat type (private, group, inline), the reply's language, the
verdict and confidence, the top passage (article id, paragraph, part) and the latency. No
user id or name is stored; only a salted hash of the chat id, to count distinct chats (the
salt lives in the file, so it dies with it). Rows older than the retention
(``NEWSBOT_RECORD_DAYS``) are deleted when the writer starts and every hour after.

Handlers call ``add``, which only puts the row on a queue; one writer thread opens the
database, writes whatever has queued up in one transaction, and answers the ``/stats``
queries in between (so they see every question asked before them). A file that cannot be
written costs a logged warning and the record, never the reply.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from bot.answering import deliver
from bot.question_groups import QuestionGroup, group_questions
from bot.state_db import DAY, StateUnavailable, connect, migrate
from bot.verdict import verdict_of
from index.search import Answer

log = logging.getLogger(__name__)

PART = "questions"
MIGRATIONS = [
    """
    CREATE TABLE questions_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE questions (
        id INTEGER PRIMARY KEY,
        asked_at REAL NOT NULL,
        chat_type TEXT NOT NULL,
        chat_hash TEXT NOT NULL,
        language TEXT NOT NULL,
        verdict TEXT NOT NULL,
        confidence REAL NOT NULL,
        doc_id TEXT,
        paragraph INTEGER,
        part INTEGER,
        latency_ms REAL NOT NULL,
        question TEXT NOT NULL
    );
    CREATE INDEX questions_by_time ON questions (asked_at)
    """,
]
PURGE_EVERY = 3600.0
# An inline query is recorded once the reader has typed nothing more for this long.
SETTLE_SECONDS = 3.0
_TICK = 0.5
_MAX_QUEUED = 10_000
_MAX_BATCH = 500

T = TypeVar("T")


@dataclass(frozen=True)
class AskedQuestion:
    """One question as the record keeps it (``chat_id`` is hashed before it is stored)."""

    asked_at: float
    chat_type: str
    chat_id: int
    language: str
    verdict: str
    confidence: float
    doc_id: str | None
    paragraph: int | None
    part: int | None
    latency_ms: float
    question: str

    @classmethod
    def of(
        cls,
        answer: Answer,
        chat_type: str,
        chat_id: int,
        language: str,
        latency_ms: float,
        asked_at: float | None = None,
    ) -> AskedQuestion:
        """The record of ``answer`` given in a chat of ``chat_type`` (private/group/inline)."""
        top = answer.passages[0] if answer.passages else None
        return cls(
            asked_at=time.time() if asked_at is None else asked_at,
            chat_type=chat_type,
            chat_id=chat_id,
            language=language,
            verdict=verdict_of(answer),
            confidence=round(float(answer.confidence), 4),
            doc_id=top.doc_id if top else None,
            paragraph=top.paragraph if top else None,
            part=top.part if top else None,
            latency_ms=round(latency_ms, 1),
            question=answer.question,
        )


@dataclass(frozen=True)
class Stats:
    """What ``/stats`` shows: today's questions (UTC), how many got each verdict, and the most
    asked unanswered questions of the last week."""

    today: int
    answered: int
    related: int
    chats: int
    unanswered: tuple[QuestionGroup, ...]
    available: bool = True


@dataclass
class _Query:
    run: Callable[[sqlite3.Connection], Any]
    fallback: Any  # the result when the record is off
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop


_STOP = object()


class QuestionRecord:
    """Records questions in the state file at ``path`` on a writer thread of its own, keeping
    ``retention_days`` (0: record nothing)."""

    def __init__(
        self, path: Path, retention_days: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.retention = retention_days * DAY
        self._clock = clock
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=_MAX_QUEUED)
        self._typing: dict[int, tuple[float, AskedQuestion]] = {}
        self._typing_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._dropped = 0

    # ---- called from the event loop: never blocks -------------------------------------------

    def add(self, asked: AskedQuestion) -> None:
        """Queue ``asked`` for writing (dropped with a warning if the writer is far behind)."""
        if self.retention <= 0:
            return
        self._ensure_started()
        try:
            self._queue.put_nowait(asked)
        except queue.Full:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.warning("question record: writer behind, %d questions dropped", self._dropped)

    def add_typing(self, typist: int, asked: AskedQuestion) -> None:
        """Like ``add`` for a question still being typed (inline mode): it is recorded only
        if ``typist`` sends no other within ``SETTLE_SECONDS``."""
        if self.retention <= 0:
            return
        self._ensure_started()
        with self._typing_lock:
            self._typing[typist] = (self._clock(), asked)

    async def stats(self, now: float | None = None) -> Stats:
        """The figures for ``/stats``, read after everything queued before was written."""
        moment = self._clock() if now is None else now
        off = Stats(0, 0, 0, 0, (), available=False)
        if self.retention <= 0:
            return off
        return await self.query(lambda conn: read_stats(conn, moment), off)

    async def query(self, run: Callable[[sqlite3.Connection], T], fallback: T) -> T:
        """``run(connection)`` on the writer thread, after the rows queued before it;
        ``fallback`` when the record is off."""
        self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        try:
            self._queue.put_nowait(_Query(run, fallback, future, loop))
        except queue.Full:
            return fallback
        return await future

    def close(self) -> None:
        """Write what is queued (typing questions included), then stop the writer."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    # ---- the writer thread -------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer (it opens the file, so damage is dealt with at once); adding a
        question starts it too."""
        if self.retention > 0:
            self._ensure_started()

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="newsbot-record", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        conn, salt = self._open()
        next_purge = 0.0
        stopping = False
        while not stopping:
            rows: list[AskedQuestion] = []
            queries: list[_Query] = []
            stopping = self._collect(rows, queries)
            rows += self._settled(force=stopping)
            try:
                if conn is not None and rows:
                    conn = self._write(conn, salt, rows)
                if conn is not None and self._clock() >= next_purge:
                    conn = self._purge(conn)
                    next_purge = self._clock() + PURGE_EVERY
            except Exception:  # a bug here must not leave /stats waiting forever
                log.exception("question record off: the writer failed")
                if conn is not None:
                    conn.close()
                conn = None
            for q in queries:
                self._answer(conn, q)
        if conn is not None:
            conn.close()

    def _open(self) -> tuple[sqlite3.Connection | None, str]:
        """The connection, migrated, and the file's salt; (None, "") when it cannot be used."""
        conn = None
        try:
            conn = connect(self.path)
            migrate(conn, PART, MIGRATIONS)
            return conn, _salt(conn)
        except (StateUnavailable, sqlite3.Error) as exc:
            log.warning("question record off: cannot use %s (%s)", self.path, exc)
            if conn is not None:
                conn.close()
            return None, ""

    def _collect(self, rows: list[AskedQuestion], queries: list[_Query]) -> bool:
        """Wait up to a tick for work, then take what is queued; True when told to stop."""
        try:
            item = self._queue.get(timeout=_TICK)
        except queue.Empty:
            return False
        while True:
            if item is _STOP:
                return True
            (queries if isinstance(item, _Query) else rows).append(item)
            if len(rows) >= _MAX_BATCH or queries:
                return False  # write now, so the query sees these rows
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False

    def _settled(self, force: bool) -> list[AskedQuestion]:
        """Typed questions whose typist has stopped (all of them when ``force``)."""
        cutoff = self._clock() - SETTLE_SECONDS
        with self._typing_lock:
            done = [k for k, (at, _) in self._typing.items() if force or at <= cutoff]
            return [self._typing.pop(k)[1] for k in done]

    def _write(
        self, conn: sqlite3.Connection, salt: str, rows: list[AskedQuestion]
    ) -> sqlite3.Connection | None:
        columns = [f.name for f in fields(AskedQuestion) if f.name != "chat_id"]
        values = [_stored(row, salt) for row in rows]
        sql = (
            f"INSERT INTO questions ({', '.join(columns)}, chat_hash) "
            f"VALUES ({', '.join('?' * (len(columns) + 1))})"
        )
        try:
            with conn:
                conn.executemany(sql, values)
        except sqlite3.Error as exc:
            log.warning("question record: could not write %d questions (%s)", len(rows), exc)
            return _reopen_if_gone(conn, exc)
        return conn

    def _purge(self, conn: sqlite3.Connection) -> sqlite3.Connection | None:
        try:
            with conn:
                conn.execute(
                    "DELETE FROM questions WHERE asked_at < ?", (self._clock() - self.retention,)
                )
        except sqlite3.Error as exc:
            log.warning("question record: could not delete old questions (%s)", exc)
            return _reopen_if_gone(conn, exc)
        return conn

    def _answer(self, conn: sqlite3.Connection | None, q: _Query) -> None:
        if conn is None:
            deliver(q.future, q.loop, q.fallback)
            return
        try:
            deliver(q.future, q.loop, q.run(conn))
        except Exception as exc:  # delivered to the asker, whose handler reports it
            log.warning("question record: query failed (%s)", exc)
            deliver(q.future, q.loop, exception=exc)


def _reopen_if_gone(conn: sqlite3.Connection, exc: sqlite3.Error) -> sqlite3.Connection | None:
    """Keep the connection after a passing error (busy, disk full); drop it for good when the
    file is damaged, so the warning is not repeated for every question."""
    text = str(exc).lower()
    if "malformed" in text or "not a database" in text or "readonly" in text:
        log.warning("question record off until restart")
        conn.close()
        return None
    return conn


def _salt(conn: sqlite3.Connection) -> str:
    row = conn.execute("SELECT value FROM questions_meta WHERE key = 'salt'").fetchone()
    if row:
        return row[0]
    salt = secrets.token_hex(16)
    with conn:
        conn.execute("INSERT INTO questions_meta (key, value) VALUES ('salt', ?)", (salt,))
    return salt


def chat_hash(salt: str, chat_id: int) -> str:
    """The stored stand-in for a chat id: counts distinct chats, names none."""
    return hashlib.sha256(f"{salt}:{chat_id}".encode()).hexdigest()[:16]


def _stored(row: AskedQuestion, salt: str) -> tuple:
    values = astuple(row)
    chat_index = [f.name for f in fields(AskedQuestion)].index("chat_id")
    return (*values[:chat_index], *values[chat_index + 1 :], chat_hash(salt, row.chat_id))


# ---- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedQuestion:
    """A stored question, as reports read it."""

    asked_at: float
    chat_type: str
    language: str
    verdict: str
    confidence: float
    question: str


def read_questions(
    conn: sqlite3.Connection, since: float = 0.0, verdicts: tuple[str, ...] = ()
) -> list[RecordedQuestion]:
    """The questions asked at or after ``since`` (Unix seconds), with one of ``verdicts``
    (all when empty), oldest first."""
    sql = (
        "SELECT asked_at, chat_type, language, verdict, confidence, question "
        "FROM questions WHERE asked_at >= ?"
    )
    params: list[Any] = [since]
    if verdicts:
        sql += f" AND verdict IN ({', '.join('?' * len(verdicts))})"
        params += verdicts
    rows = conn.execute(sql + " ORDER BY asked_at", params).fetchall()
    return [RecordedQuestion(*row) for row in rows]


def read_stats(conn: sqlite3.Connection, now: float, top: int = 5) -> Stats:
    """Today's figures (UTC day of ``now``) and the ``top`` unanswered of the last 7 days."""
    midnight = now - now % DAY
    today, answered, related, chats = conn.execute(
        "SELECT count(*), coalesce(sum(verdict = 'answer'), 0), "
        "coalesce(sum(verdict = 'related'), 0), count(DISTINCT chat_hash) "
        "FROM questions WHERE asked_at >= ?",
        (midnight,),
    ).fetchone()
    unanswered = read_questions(conn, now - 7 * DAY, ("none", "related"))
    groups = group_questions([q.question for q in unanswered])[:top]
    return Stats(today, answered, related, chats, tuple(groups))
