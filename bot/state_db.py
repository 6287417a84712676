"""The bot's one SQLite file (``NEWSBOT_STATE``): opening it, versioned schemas, damage.

Several parts of the bot keep tables in the same file, each under its own name prefix (the
question record: ``questions``...). A ``schema_version`` table holds one row per part, and
each part brings its migrations as a list: migration ``n`` takes the part from version ``n``
to ``n + 1``, inside one transaction with the version update, so a crash never leaves a
half-migrated part behind.

A file that is not a database, or fails SQLite's quick check, is moved aside
(``state.sqlite3.damaged-<time>``) with a warning and a fresh one is started. A file from a
newer schema is left alone and refused (``StateUnavailable``): an older bot must not destroy
what a newer one wrote.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 5.0
DAY = 86400.0  # seconds, for retention and reports


class StateUnavailable(Exception):
    """The state file cannot be used (unwritable, or written by a newer newsbot)."""


def connect(path: Path, *, shared: bool = False) -> sqlite3.Connection:
    """A connection to the state file at ``path``, created with its folder if missing; a
    damaged file is moved aside and replaced by a fresh one (with a logged warning).

    With ``shared`` the connection may be used from several threads, one at a time: the
    caller serialises its use (a lock). Raises ``StateUnavailable`` when the file or its
    folder cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _open_checked(path, shared)
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not _damaged(exc):
            raise StateUnavailable(f"{path}: {exc}") from exc
        aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        log.warning("the state file %s is damaged (%s): moved it to %s", path, exc, aside.name)
        try:
            path.replace(aside)
            for suffix in ("-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            conn = _open_checked(path, shared)
        except (OSError, sqlite3.Error) as again:
            raise StateUnavailable(f"{path}: {again}") from again
    except OSError as exc:
        raise StateUnavailable(f"{path}: {exc.strerror or exc}") from exc
    return conn


def _open_checked(path: Path, shared: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_SECONDS,
        isolation_level=None,
        check_same_thread=not shared,
    )
    try:
        row = conn.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise sqlite3.DatabaseError(f"quick check failed: {row[0] if row else 'no result'}")
        # WAL: readers (newsbot questions) and the bot's writer do not block each other.
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (part TEXT PRIMARY KEY, version INTEGER)"
        )
    except BaseException:
        conn.close()
        raise
    return conn


def _damaged(exc: sqlite3.OperationalError) -> bool:
    """Whether an OperationalError means a damaged file rather than an unwritable one."""
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


def migrate(conn: sqlite3.Connection, part: str, migrations: Sequence[str]) -> None:
    """Bring ``part``'s tables to version ``len(migrations)``; migration ``n`` is SQL taking
    version ``n`` to ``n + 1``. Raises ``StateUnavailable`` for a newer version."""
    row = conn.execute("SELECT version FROM schema_version WHERE part = ?", (part,)).fetchone()
    version = row[0] if row else 0
    if version > len(migrations):
        raise StateUnavailable(
            f"the {part} tables are from a newer newsbot (schema {version}, this one knows "
            f"{len(migrations)}): upgrade newsbot, or point NEWSBOT_STATE at another file"
        )
    for number in range(version, len(migrations)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in migrations[number].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (part, version) VALUES (?, ?) "
                "ON CONFLICT(part) DO UPDATE SET version = excluded.version",
                (part, number + 1),
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing state file (for reports); raises
    ``sqlite3.Error`` if it cannot be opened or read."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn
