"""State that survives a restart: the SQLite state file behind PTB's persistence (issue 10).

End to end against the fake Bot API: the real Application is stopped and started again over
the same state file. A damaged file is moved aside with a warning; a newer-schema or
unwritable one is left as it is and the bot keeps its chat data in memory.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from pathlib import Path

import pytest

from bot import replies
from bot.persistence import MIGRATIONS, PART, SQLitePersistence
from index.embed import Embedder
from tests.bot_harness import BotUnderTest, bot_settings, button, running_bot
from tests.fake_telegram import FakeTelegram

QUESTION = "What did Navalny's supporters do on Valentine's Day?"


async def test_more_pages_an_answer_sent_before_a_restart(
    fake_tg: FakeTelegram, seed_index: Path, embedder: Embedder, tmp_path: Path, bot_logs
) -> None:
    tg = fake_tg
    settings = bot_settings(tg, seed_index, answer_count=1, state_path=tmp_path / "state.sqlite3")
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    async with running_bot(settings, embedder) as application:
        sent = await BotUnderTest(tg, application).say(chat, alice, QUESTION)
    more = button(sent.result, "More")

    async with running_bot(settings, embedder):
        mark = tg.mark()
        query = tg.add_callback_query(alice, sent.result, more["callback_data"])
        edit = await tg.wait_for("editMessageText", since=mark)
        await tg.wait_for("answerCallbackQuery", since=mark)
    assert edit.ok and "Passage 2 of" in edit.result["text"]
    assert tg.callback_answers[query["id"]].get("text") != replies.EXPIRED


def _version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        row = db.execute("SELECT version FROM schema_version WHERE part = ?", (PART,)).fetchone()
    return row[0]


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
async def test_a_damaged_state_file_is_moved_aside(tmp_path: Path, damage: str, caplog) -> None:
    path = tmp_path / "state.sqlite3"
    await SQLitePersistence(path).flush()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncated" else b"not a database" * 99)
    with caplog.at_level(logging.WARNING):
        persistence = SQLitePersistence(path)
    await persistence.update_chat_data(7, {"follow": True})
    assert await persistence.get_chat_data() == {7: {"follow": True}}
    await persistence.flush()
    assert "damaged" in caplog.text
    assert [p for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert _version(path) == len(MIGRATIONS)


async def test_a_newer_schema_is_left_alone_and_the_bot_keeps_chat_data_in_memory(
    tmp_path: Path, caplog
) -> None:
    path = tmp_path / "state.sqlite3"
    persistence = SQLitePersistence(path)
    await persistence.update_chat_data(7, {"follow": True})
    await persistence.flush()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99 WHERE part = ?", (PART,))
    db.close()
    with caplog.at_level(logging.WARNING):
        persistence = SQLitePersistence(path)
    assert "newer newsbot" in caplog.text
    assert await persistence.get_chat_data() == {}
    await persistence.update_chat_data(8, {"follow": True})  # not saved, no error
    await persistence.flush()
    assert _version(path) == 99  # what the newer newsbot wrote is kept
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT chat_id FROM persist_chat_data").fetchall()
    db.close()
    assert rows == [(7,)]
    assert not [p for p in tmp_path.iterdir() if ".damaged-" in p.name]


async def test_bot_starts_over_a_garbage_state_file(
    fake_tg: FakeTelegram, seed_index: Path, embedder: Embedder, tmp_path: Path, bot_logs
) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"\x00garbage" * 100)
    settings = bot_settings(fake_tg, seed_index, state_path=path)
    alice = fake_tg.user(1, "Alice")
    async with running_bot(settings, embedder) as application:
        sent = await BotUnderTest(fake_tg, application).say(
            fake_tg.private_chat(alice), alice, QUESTION
        )
    assert sent.ok
    assert isinstance(bot_logs, io.StringIO) and "is damaged" in bot_logs.getvalue()


async def test_a_state_path_that_cannot_hold_a_database_is_one_warning(
    tmp_path: Path, caplog
) -> None:
    folder = tmp_path / "state.sqlite3"
    folder.mkdir()  # a folder where the file should be
    with caplog.at_level(logging.WARNING):
        persistence = SQLitePersistence(folder)
    assert "will not survive a restart" in caplog.text
    assert await persistence.get_chat_data() == {}
    await persistence.flush()
    assert folder.is_dir()  # nothing moved aside
