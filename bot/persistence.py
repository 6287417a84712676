"""PTB persistence on the SQLite state file: chat data (followers, per-chat settings, the
"More" pages, follow-up context) survives a restart.

Only chat data is stored, as one JSON object per chat (``persist_chat_data``); bot data holds
the running services and is never written. User data, callback data and conversations are
stored too when enabled, in their own ``persist_*`` tables, so turning them on later needs no
schema change. Writes run in a thread so the event loop never waits for the disk.

A state file that cannot be used (unwritable, or its ``persist`` tables from a newer newsbot)
is left untouched: one logged warning, and the bot runs with its chat data in memory only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from bot.state_db import StateUnavailable, connect, migrate

log = logging.getLogger(__name__)

PART = "persist"
MIGRATIONS = (
    """
    CREATE TABLE persist_chat_data (chat_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE persist_user_data (user_id INTEGER PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE persist_callback_data (id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL);
    CREATE TABLE persist_conversations (
        name TEXT NOT NULL, conv_key TEXT NOT NULL, state TEXT NOT NULL,
        PRIMARY KEY (name, conv_key)
    )
    """,
)


class SQLitePersistence(BasePersistence[dict, dict, dict]):
    """PTB's ``BasePersistence`` on the state file at ``path`` (see bot/state_db.py)."""

    def __init__(self, path: Path, update_interval: float = 5.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, user_data=False, callback_data=False),
            update_interval=update_interval,
        )
        self.path = path
        self._lock = threading.Lock()
        self._db = _open(path)

    # ---- reading (once, at start-up) ----------------------------------------------------------

    async def get_chat_data(self) -> dict[int, dict]:
        return {key: data for key, data in self._rows("persist_chat_data", "chat_id")}

    async def get_user_data(self) -> dict[int, dict]:
        return {key: data for key, data in self._rows("persist_user_data", "user_id")}

    async def get_bot_data(self) -> dict:
        return {}

    async def get_callback_data(self) -> CDCData | None:
        row = self._query("SELECT data FROM persist_callback_data WHERE id = 1")
        if not row:
            return None
        entries, mapping = json.loads(row[0][0])
        return [tuple(entry) for entry in entries], mapping

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = self._query(
            "SELECT conv_key, state FROM persist_conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    # ---- writing ------------------------------------------------------------------------------

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        await self._write(
            "INSERT OR REPLACE INTO persist_chat_data (chat_id, data) VALUES (?, ?)",
            (chat_id, _dump(data)),
        )

    async def update_user_data(self, user_id: int, data: dict) -> None:
        await self._write(
            "INSERT OR REPLACE INTO persist_user_data (user_id, data) VALUES (?, ?)",
            (user_id, _dump(data)),
        )

    async def update_bot_data(self, data: dict) -> None:
        return  # bot data holds the running services, not state

    async def update_callback_data(self, data: CDCData) -> None:
        await self._write(
            "INSERT OR REPLACE INTO persist_callback_data (id, data) VALUES (1, ?)", (_dump(data),)
        )

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        if new_state is None:
            await self._write(
                "DELETE FROM persist_conversations WHERE name = ? AND conv_key = ?",
                (name, json.dumps(list(key))),
            )
            return
        await self._write(
            "INSERT OR REPLACE INTO persist_conversations (name, conv_key, state) VALUES (?, ?, ?)",
            (name, json.dumps(list(key)), _dump(new_state)),
        )

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._write("DELETE FROM persist_chat_data WHERE chat_id = ?", (chat_id,))

    async def drop_user_data(self, user_id: int) -> None:
        await self._write("DELETE FROM persist_user_data WHERE user_id = ?", (user_id,))

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        return  # this process is the only writer: memory is always current

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        return

    async def refresh_bot_data(self, bot_data: dict) -> None:
        return

    async def flush(self) -> None:
        """Close the database (PTB calls this once, at shutdown, after the last update)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ---- the database -------------------------------------------------------------------------

    def _rows(self, table: str, key: str) -> list[tuple[int, dict]]:
        rows = []
        for row_key, text in self._query(f"SELECT {key}, data FROM {table}"):
            try:
                rows.append((int(row_key), json.loads(text)))
            except ValueError:
                log.warning("state file %s: unreadable %s row %s skipped", self.path, table, key)
        return rows

    def _query(self, sql: str, parameters: tuple = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self._db is None:
                return []
            return self._db.execute(sql, parameters).fetchall()

    async def _write(self, sql: str, parameters: tuple) -> None:
        def write() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.execute(sql, parameters)

        try:
            await asyncio.to_thread(write)
        except sqlite3.Error as exc:
            # A full disk or a file removed under us: the bot keeps answering from memory.
            log.warning("could not save state to %s: %s", self.path, exc)


def _open(path: Path) -> sqlite3.Connection | None:
    """The state file with the persistence tables migrated, or None (logged) when unusable."""
    try:
        conn = connect(path, shared=True)  # writes run in worker threads, one at a time
    except StateUnavailable as exc:
        log.warning("chat data will not survive a restart: %s", exc)
        return None
    try:
        migrate(conn, PART, MIGRATIONS)
    except (StateUnavailable, sqlite3.Error) as exc:
        conn.close()
        log.warning("chat data will not survive a restart (%s is left as it is): %s", path, exc)
        return None
    return conn


def _dump(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
