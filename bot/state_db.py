"""The bot's state file: one SQLite database shared by the bot's components, each with its own
tables and its own schema version.

Versions live in ``schema_version(part TEXT PRIMARY KEY, version INTEGER)``, one row per
component (``persist`` for PTB's persistence, see bot/persistence.py). A component migrates its
own tables with ``migrate``; it never touches another component's. A file that is not a
database, is damaged, or holds a component's schema newer than this code knows is moved aside
(``<name>.broken-<time>``) with one logged warning, and a fresh file is started: the bot loses
the state, never its ability to answer.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from index.errors import NewsbotError

log = logging.getLogger(__name__)

# Each migration is a script that brings the component from version n to n + 1.
Migrations = Sequence[str]

_VERSIONS = """
CREATE TABLE IF NOT EXISTS schema_version (
    part TEXT PRIMARY KEY,
    version INTEGER NOT NULL
)
"""


class StateUnusable(Exception):
    """The state file cannot be used as it is (damaged, or from a newer newsbot)."""


class StateFileError(NewsbotError):
    """The state file cannot be opened or created at all (permissions, disk)."""

    def __init__(self, path: Path, reason: object) -> None:
        super().__init__(
            f"cannot open the state file {path} ({reason}): check NEWSBOT_STATE, the folder's "
            "permissions and free space"
        )


def open_state(path: Path, component: str, migrations: Migrations) -> sqlite3.Connection:
    """The state database at ``path`` with ``component``'s tables at the newest version.

    A damaged file, or one whose ``component`` schema is newer than ``migrations`` know, is
    moved aside with a logged warning and replaced by a fresh database. Raises
    ``StateFileError`` when no database can be opened there at all.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _open_and_migrate(path, component, migrations)
    except (sqlite3.DatabaseError, StateUnusable) as exc:
        if not path.is_file():
            raise StateFileError(path, exc) from exc  # nothing there to be damaged
        aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        log.warning(
            "state file %s is unusable (%s): moved aside to %s, starting with fresh state",
            path,
            exc,
            aside.name,
        )
        _move_aside(path, aside)
    try:
        return _open_and_migrate(path, component, migrations)
    except (sqlite3.DatabaseError, StateUnusable) as exc:
        raise StateFileError(path, exc) from exc


def _open_and_migrate(path: Path, component: str, migrations: Migrations) -> sqlite3.Connection:
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        check = connection.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise StateUnusable(f"integrity check failed: {check[0] if check else 'no answer'}")
        migrate(connection, component, migrations)
    except BaseException:
        connection.close()
        raise
    return connection


def schema_version(connection: sqlite3.Connection, component: str) -> int:
    """The schema version of ``component``'s tables (0 when it has none yet)."""
    connection.execute(_VERSIONS)
    row = connection.execute(
        "SELECT version FROM schema_version WHERE part = ?", (component,)
    ).fetchone()
    return int(row[0]) if row else 0


def migrate(connection: sqlite3.Connection, component: str, migrations: Migrations) -> None:
    """Run ``component``'s migrations that are not applied yet, each in one transaction.

    Raises ``StateUnusable`` when the file's version is newer than ``len(migrations)``.
    """
    current = schema_version(connection, component)
    if current > len(migrations):
        raise StateUnusable(
            f"its {component!r} schema is version {current}, newer than this newsbot's "
            f"{len(migrations)}"
        )
    for version, script in enumerate(migrations[current:], start=current + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_version (part, version) VALUES (?, ?) "
                "ON CONFLICT(part) DO UPDATE SET version = excluded.version",
                (component, version),
            )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _move_aside(path: Path, aside: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(aside.with_name(aside.name + suffix))
