"""``newsbot questions``: what readers asked, near-identical questions counted once.

Reads the question record in the state file (``NEWSBOT_STATE``) read-only, so it can run
beside the bot. Registered on the ``newsbot`` command by the CLI module.
"""

from __future__ import annotations

import calendar
import json
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from bot.question_groups import group_questions, normalise
from bot.settings import Settings
from bot.state_db import DAY, connect_read_only
from bot.verdict import VERDICTS
from index.errors import NewsbotError
from newsbot.cli.options import friendly_errors, load_settings

if TYPE_CHECKING:
    from bot.question_record import RecordedQuestion

_UNITS = {"m": 60.0, "h": 3600.0, "d": DAY, "w": 7 * DAY}
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([mhdw])")


class RecordUnreadable(NewsbotError):
    """The state file exists but its question record cannot be read."""


def parse_since(text: str, now: float) -> float:
    """The moment ``text`` means: a span back from ``now`` (``30m``, ``12h``, ``7d``, ``2w``)
    or a date (``2026-11-30``, UTC). Raises ``typer.BadParameter`` otherwise."""
    match = _SPAN.fullmatch(text.strip().lower())
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2)]
    try:
        return float(calendar.timegm(time.strptime(text.strip(), "%Y-%m-%d")))
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a span such as 7d, 12h, 30m, 2w or a date such as 2026-11-30"
        ) from None


def parse_verdicts(text: str | None) -> tuple[str, ...]:
    """``none,related`` as a tuple of verdicts; raises ``typer.BadParameter`` on others."""
    if not text:
        return ()
    wanted = tuple(v.strip().lower() for v in text.split(",") if v.strip())
    unknown = [v for v in wanted if v not in VERDICTS]
    if unknown:
        raise typer.BadParameter(f"unknown verdict {', '.join(unknown)}: use {', '.join(VERDICTS)}")
    return wanted


def load_questions(path: Path, since: float, verdicts: tuple[str, ...]) -> list[RecordedQuestion]:
    """The recorded questions from the state file at ``path`` ([] when there is none yet)."""
    if not path.exists():
        return []
    try:
        from bot.question_record import read_questions  # the bot's side: kept off --help

        conn = connect_read_only(path)
        try:
            has_table = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'questions'"
            ).fetchone()
            return read_questions(conn, since, verdicts) if has_table else []
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise RecordUnreadable(
            f"cannot read the question record in {path} ({exc}): check NEWSBOT_STATE; "
            "a damaged file is moved aside by the bot at its next start"
        ) from exc


def report(questions: list[RecordedQuestion]) -> list[dict]:
    """The groups of ``questions``, most asked first, each with its verdicts and languages."""
    groups = group_questions([q.question for q in questions])
    by_form: dict[str, list[RecordedQuestion]] = {}
    for q in questions:
        by_form.setdefault(normalise(q.question), []).append(q)
    rows = []
    for group in groups:
        members = [
            q
            for text in {normalise(v) for v in (group.question, *group.variants)}
            for q in by_form.get(text, [])
        ]
        rows.append(
            {
                "question": group.question,
                "count": group.count,
                "verdicts": dict(Counter(q.verdict for q in members).most_common()),
                "languages": dict(Counter(q.language for q in members).most_common()),
                "first_asked": _iso(min(q.asked_at for q in members)),
                "last_asked": _iso(max(q.asked_at for q in members)),
                "variants": list(group.variants),
            }
        )
    return rows


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def questions(
    since: Annotated[
        str, typer.Option("--since", help="How far back: 30m, 12h, 7d, 2w, or a date.")
    ] = "7d",
    verdict: Annotated[
        str | None,
        typer.Option("--verdict", help="Only these verdicts, e.g. none,related."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What readers asked, near-identical questions counted once, most asked first."""

    @friendly_errors
    def run() -> None:
        settings: Settings = load_settings()
        start = parse_since(since, time.time())
        rows = report(load_questions(settings.state_path, start, parse_verdicts(verdict)))
        console = Console(highlight=False, soft_wrap=True, emoji=False, markup=False)
        print_report(console, rows, as_json)

    run()


def print_report(console: Console, rows: list[dict], as_json: bool) -> None:
    """The groups as a JSON list, or one line each: count, verdicts, question."""
    if as_json:
        console.print(json.dumps(rows, ensure_ascii=False), markup=False)
        return
    if not rows:
        console.print("no questions recorded in that time", markup=False)
        return
    for row in rows:
        verdicts = " ".join(f"{v}:{n}" for v, n in row["verdicts"].items())
        console.print(f"{row['count']:5d}  {verdicts:24s} {row['question']}", markup=False)
    total = sum(row["count"] for row in rows)
    console.print(f"{total} questions in {len(rows)} groups", markup=False)
