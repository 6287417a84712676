"""State that survives a restart: the SQLite state file behind PTB's persistence (issue 10).

End to end against the fake Bot API: the real Application is stopped and started again over
the same state file. Damaged and newer-schema files are moved aside with a warning.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from pathlib import Path

import pytest

from bot import replies
from bot.persistence import COMPONENT, MIGRATIONS
from bot.state_db import StateFileError, open_state, schema_version
from index.embed import Embedder
from tests.bot_harness import BotUnderTest, bot_settings, button, running_bot
from tests.fake_telegram import FakeTelegram

QUESTION = "What did Navalny's supporters do on Valentine's Day?"


async def test_more_pages_an_answer_sent_before_a_restart(
    fake_tg: FakeTelegram, seed_index: Path, embedder: Embedder, tmp_path: Path, bot_logs
) -> None:
    tg = fake_tg
    settings = bot_settings(tg, seed_index, answer_count=1, state_file=tmp_path / "state.sqlite3")
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
    assert edit.ok and "Passages 2–2 of" in edit.result["text"]
    assert tg.callback_answers[query["id"]].get("text") != replies.EXPIRED


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_state_file_is_moved_aside(tmp_path: Path, damage: str, caplog) -> None:
    path = tmp_path / "state.sqlite3"
    open_state(path, COMPONENT, MIGRATIONS).close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncated" else b"not a database" * 99)
    with caplog.at_level(logging.WARNING):
        db = open_state(path, COMPONENT, MIGRATIONS)
    assert schema_version(db, COMPONENT) == len(MIGRATIONS)
    db.close()
    assert "moved aside" in caplog.text
    assert [p for p in tmp_path.iterdir() if ".broken-" in p.name]


def test_a_newer_schema_is_moved_aside_and_other_components_are_untouched(
    tmp_path: Path, caplog
) -> None:
    path = tmp_path / "state.sqlite3"
    db = open_state(path, "questions", ["CREATE TABLE questions (q TEXT)"])
    db.execute("INSERT INTO questions VALUES ('kept')")
    db.close()
    db = open_state(path, COMPONENT, MIGRATIONS)  # a second component shares the file
    assert db.execute("SELECT q FROM questions").fetchall() == [("kept",)]
    db.execute("UPDATE schema_version SET version = 99 WHERE part = ?", (COMPONENT,))
    db.close()
    with caplog.at_level(logging.WARNING):
        db = open_state(path, COMPONENT, MIGRATIONS)
    assert "newer than this newsbot" in caplog.text
    assert schema_version(db, COMPONENT) == len(MIGRATIONS)
    with pytest.raises(sqlite3.OperationalError):
        db.execute("SELECT q FROM questions")  # a fresh file
    db.close()


async def test_bot_starts_over_a_garbage_state_file(
    fake_tg: FakeTelegram, seed_index: Path, embedder: Embedder, tmp_path: Path, bot_logs
) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"\x00garbage" * 100)
    settings = bot_settings(fake_tg, seed_index, state_file=path)
    alice = fake_tg.user(1, "Alice")
    async with running_bot(settings, embedder) as application:
        sent = await BotUnderTest(fake_tg, application).say(
            fake_tg.private_chat(alice), alice, QUESTION
        )
    assert sent.ok
    assert isinstance(bot_logs, io.StringIO) and "moved aside" in bot_logs.getvalue()


def test_a_state_path_that_cannot_hold_a_database_is_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "state.sqlite3"
    folder.mkdir()  # a folder where the file should be
    with pytest.raises(StateFileError, match=r"cannot open the state file .*NEWSBOT_STATE"):
        open_state(folder, COMPONENT, MIGRATIONS)
    assert folder.is_dir()  # nothing moved aside
