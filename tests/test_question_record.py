"""The record of what readers ask (bot/question_record.py, bot/state_db.py,
bot/question_groups.py) and ``newsbot questions``, on real SQLite files."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.question_groups import group_questions, normalise
from bot.question_record import (
    DAY,
    MIGRATIONS,
    PART,
    AskedQuestion,
    QuestionRecord,
    read_questions,
)
from bot.questions_command import parse_since
from bot.state_db import StateUnavailable, connect, migrate
from bot.verdict import verdict_of
from index.search import Answer

NOW = 1_780_000_000.0  # a fixed moment, Unix seconds
CHAT_ID = 987654321


def asked(
    question: str,
    verdict: str = "none",
    at: float = NOW,
    chat_id: int = CHAT_ID,
    chat_type: str = "private",
) -> AskedQuestion:
    return AskedQuestion(
        asked_at=at,
        chat_type=chat_type,
        chat_id=chat_id,
        language="en",
        verdict=verdict,
        confidence=0.2,
        doc_id=None if verdict == "none" else "doc-1",
        paragraph=None if verdict == "none" else 3,
        part=None if verdict == "none" else 0,
        latency_ms=12.5,
        question=question,
    )


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def stored_questions(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT question FROM questions ORDER BY asked_at")]


# ---- grouping --------------------------------------------------------------------------------


def test_near_identical_questions_are_counted_once() -> None:
    groups = group_questions(
        [
            "How old is Navalny's wife?",
            "how old is navalny's wife",
            "How old is Navalnys wife??",
            "  HOW OLD IS NAVALNY'S WIFE?  ",
            "Where was Navalny born?",
            "Where was Navalny born",
            "What is the capital of France?",
        ]
    )
    assert [(g.question, g.count) for g in groups] == [
        ("How old is Navalny's wife?", 4),
        ("Where was Navalny born?", 2),
        ("What is the capital of France?", 1),
    ]
    assert "How old is Navalnys wife??" in groups[0].variants


def test_grouping_keeps_different_questions_apart() -> None:
    groups = group_questions(
        ["How many people were detained?", "How many people were injured?", "Сколько задержали?"]
    )
    assert len(groups) == 3
    assert normalise("Сколько  задержали?!") == "сколько задержали"


# ---- the verdict ------------------------------------------------------------------------------


def test_verdict_is_the_answers_own_or_follows_answered() -> None:
    # The engine's answers carry a verdict (index/verdict.py; "answer" for an answered question
    # not in English); an object without one falls back on ``answered``.
    assert verdict_of(Answer("q", True, (), 0.5, "answer")) == "answer"
    assert verdict_of(Answer("q", True, (), 0.3, "related")) == "related"
    assert verdict_of(Answer("q", False, (), 0.1)) == "none"
    assert verdict_of(SimpleNamespace(answered=True)) == "answer"  # type: ignore[arg-type]
    assert verdict_of(SimpleNamespace(answered=False)) == "none"  # type: ignore[arg-type]


# ---- writing ----------------------------------------------------------------------------------


async def test_questions_are_written_with_no_user_ids(tmp_path: Path) -> None:
    path = tmp_path / "var" / "state.sqlite3"
    record = QuestionRecord(path, retention_days=30, clock=Clock())
    record.add(asked("How old is Navalny's wife?"))
    record.add(asked("How many were detained?", verdict="answer", chat_type="group"))
    stats = await record.stats()  # runs after the rows queued before it
    record.close()
    assert (stats.today, stats.answered, stats.chats) == (2, 1, 1)
    assert len(stored_questions(path)) == 2
    dump = "\n".join(line for line in sqlite3.connect(path).iterdump())
    assert str(CHAT_ID) not in dump  # only a salted hash of the chat
    with sqlite3.connect(path) as conn:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(questions)")}
        versions = dict(conn.execute("SELECT part, version FROM schema_version").fetchall())
    assert not any("user" in c or "name" in c for c in columns)
    assert versions == {PART: len(MIGRATIONS)}


async def test_old_questions_are_deleted(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    clock = Clock()
    record = QuestionRecord(path, retention_days=7, clock=clock)
    record.add(asked("old", at=NOW - 8 * DAY))
    record.add(asked("recent", at=NOW - 6 * DAY))
    await record.stats()
    record.close()
    # The writer deletes rows past the retention when it starts (and hourly after).
    again = QuestionRecord(path, retention_days=7, clock=clock)
    again.start()
    await again.stats()
    again.close()
    assert stored_questions(path) == ["recent"]


async def test_inline_questions_are_recorded_once_the_reader_stops_typing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    record = QuestionRecord(path, retention_days=30, clock=Clock())
    for partial in ("how m", "how many were", "how many were detained"):
        record.add_typing(7, asked(partial, chat_type="inline"))
    record.add_typing(8, asked("who is Volkov", chat_type="inline"))
    record.close()  # closing records what was being typed
    questions = sorted(stored_questions(path))
    assert questions == ["how many were detained", "who is Volkov"]


async def test_retention_zero_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    record = QuestionRecord(path, retention_days=0)
    record.add(asked("anything"))
    assert not (await record.stats()).available
    record.close()
    assert not path.exists()


async def test_a_damaged_file_is_moved_aside(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "state.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    record = QuestionRecord(path, retention_days=30, clock=Clock())
    with caplog.at_level(logging.WARNING):
        record.add(asked("after the damage"))
        stats = await record.stats()
    record.close()
    assert stats.available and stats.today == 1
    aside = list(tmp_path.glob("state.sqlite3.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")
    assert "damaged" in caplog.text


def test_a_truncated_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE filler (x)")
        conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,)] * 2000)
    conn.close()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    conn = connect(path)
    migrate(conn, PART, MIGRATIONS)
    assert conn.execute("SELECT count(*) FROM questions").fetchone() == (0,)
    conn.close()
    assert len(list(tmp_path.glob("state.sqlite3.damaged-*"))) == 1


async def test_an_unwritable_place_costs_only_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    record = QuestionRecord(blocker / "state.sqlite3", retention_days=30)
    with caplog.at_level(logging.WARNING):
        record.add(asked("lost"))
        stats = await record.stats()
    record.close()
    assert not stats.available
    assert "question record off" in caplog.text


def test_a_newer_schema_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    conn = connect(path)
    migrate(conn, PART, MIGRATIONS)
    conn.execute("UPDATE schema_version SET version = 99 WHERE part = ?", (PART,))
    conn.close()
    with pytest.raises(StateUnavailable, match="newer newsbot"):
        migrate(connect(path), PART, MIGRATIONS)
    assert path.exists()


def test_migrations_run_once_per_part(tmp_path: Path) -> None:
    conn = connect(tmp_path / "state.sqlite3")
    migrate(conn, PART, MIGRATIONS)
    migrate(conn, PART, MIGRATIONS)  # nothing to do the second time
    migrate(conn, "other", ["CREATE TABLE other_things (x)"])
    versions = dict(conn.execute("SELECT part, version FROM schema_version").fetchall())
    assert versions == {PART: 1, "other": 1}


# ---- newsbot questions -------------------------------------------------------------------------


async def recorded(path: Path, rows: list[AskedQuestion]) -> None:
    record = QuestionRecord(path, retention_days=365)
    for row in rows:
        record.add(row)
    record.close()


async def test_questions_command_groups_and_filters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "state.sqlite3"
    now = time.time()
    await recorded(
        path,
        [
            asked("How old is Navalny's wife?", at=now - 60),
            asked("how old is navalny's wife", at=now - 50),
            asked("How old is Navalny’s wife ?", at=now - 40),
            asked("Where was Navalny born?", verdict="related", at=now - 30),
            asked("How many were detained?", verdict="answer", at=now - 20),
            asked("Ancient question", at=now - 30 * DAY),
        ],
    )
    monkeypatch.setenv("NEWSBOT_STATE", str(path))
    runner = CliRunner()

    result = runner.invoke(app, ["questions", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["question"], r["count"]) for r in rows] == [
        ("How old is Navalny's wife?", 3),
        ("Where was Navalny born?", 1),
        ("How many were detained?", 1),
    ]
    assert rows[0]["verdicts"] == {"none": 3} and rows[0]["languages"] == {"en": 3}

    result = runner.invoke(app, ["questions", "--verdict", "related", "--json"])
    assert [r["question"] for r in json.loads(result.stdout)] == ["Where was Navalny born?"]

    result = runner.invoke(app, ["questions", "--since", "60d"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "3" and "How old is Navalny's wife?" in lines[0]
    assert "Ancient question" in result.stdout
    assert lines[-1] == "6 questions in 4 groups"


def test_since_spans_and_dates() -> None:
    assert parse_since("7d", NOW) == NOW - 7 * DAY
    assert parse_since("12h", NOW) == NOW - 12 * 3600
    assert parse_since(" 30m ", NOW) == NOW - 1800
    assert parse_since("2w", NOW) == NOW - 14 * DAY
    assert parse_since("2026-11-30", NOW) == 1_795_996_800.0  # midnight UTC


def test_questions_command_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("NEWSBOT_STATE", str(tmp_path / "none-yet.sqlite3"))
    result = runner.invoke(app, ["questions"])
    assert result.exit_code == 0 and "no questions recorded" in result.stdout

    result = runner.invoke(app, ["questions", "--since", "last tuesday"])
    assert result.exit_code == 2 and "7d" in result.output

    result = runner.invoke(app, ["questions", "--verdict", "maybe"])
    assert result.exit_code == 2 and "unknown verdict maybe" in result.output

    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"garbage" * 1000)
    monkeypatch.setenv("NEWSBOT_STATE", str(broken))
    result = runner.invoke(app, ["questions"])
    assert result.exit_code == 1
    assert "cannot read the question record" in result.output
    assert "Traceback" not in result.output


def test_read_questions_filters_by_time_and_verdict(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    conn = connect(path)
    migrate(conn, PART, MIGRATIONS)
    conn.close()
    record = QuestionRecord(path, retention_days=365)
    record.add(asked("a", at=NOW - 10))
    record.add(asked("b", verdict="answer", at=NOW))
    record.close()
    with sqlite3.connect(path) as conn:
        assert [q.question for q in read_questions(conn, NOW - 5)] == ["b"]
        assert [q.question for q in read_questions(conn, 0, ("none",))] == ["a"]
