"""The ``newsbot`` command line: build the index, ask questions, evaluate, list sources.

Each command imports what it needs when it runs: ``newsbot --help`` and ``newsbot sources``
must not load torch, the model code or the download stack (bench/cli_startup.py measures it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.language import LANGUAGES
from newsbot.cli.add import add
from newsbot.cli.options import (
    CorpusOption,
    IndexOption,
    err,
    fail,
    friendly_errors,
    load_settings,
    out,
)
from newsbot.cli.questions import questions
from newsbot.cli.terminal import build_summary
from newsbot.cli.watch import watch

if TYPE_CHECKING:
    from rich.progress import Progress

    from index.search import Answer

app = typer.Typer(
    help="newsbot: answers questions about a news story by quoting its coverage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: rich's help formatter alone takes longer to import than the rest of --help.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("newsbot")
        except PackageNotFoundError:  # run from a checkout that was never installed
            number = "unknown"
        typer.echo(f"newsbot {number}")
        raise typer.Exit()


@app.callback()
def main_options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """newsbot: answers questions about a news story by quoting its coverage."""


@app.command()
@friendly_errors
def build(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    full: Annotated[bool, typer.Option("--full", help="Embed every article again.")] = False,
) -> None:
    """Build or update the index from the corpus (only new or changed articles are embedded)."""
    from newsbot.engine import run_build

    settings = load_settings(corpus_dir=corpus, index_dir=index)
    with _progress_bar() as bar:
        task = bar.add_task("embedding", total=None, visible=False)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=True)

        report = run_build(settings, full=full, progress=progress)
    out.print(build_summary(report))


def _progress_bar() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        # Only on a terminal: elsewhere a progress display is just a blank line in the log.
        disable=not err.is_terminal,
    )


@app.command()
@friendly_errors
def ask(
    question: Annotated[
        str, typer.Argument(help="The question, or - to read one per line from stdin.")
    ],
    k: Annotated[int | None, typer.Option("-k", min=1, max=10, help="How many passages.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    index: IndexOption = None,
) -> None:
    """Answer a question by quoting the coverage."""
    from newsbot.cli.terminal import print_answer
    from newsbot.engine import open_searcher

    settings = load_settings(index_dir=index)
    live = open_searcher(settings)
    if question == "-":
        _ask_stream(live.searcher.ask, k, as_json)
        return
    answer = live.searcher.ask(question, k=k)
    if as_json:
        print_json(answer.to_dict())
    else:
        print_answer(out, answer)


def print_json(data: object) -> None:
    """One JSON document on one line of stdout, exactly as encoded."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _ask_stream(ask_one: Callable[..., Answer], k: int | None, as_json: bool) -> None:
    """One answer per input line; a bad line gets an error row, the stream goes on."""
    from index.errors import QuestionError
    from newsbot.cli.terminal import print_answer, print_question

    for n, line in enumerate(sys.stdin):
        question = line.rstrip("\n")
        if not as_json:
            print_question(out, question, first=n == 0)
        try:
            answer = ask_one(question, k=k)
        except QuestionError as exc:
            if as_json:
                print_json(error_row(question, str(exc)))
            else:
                err.print(f"error: {exc}")
            continue
        if as_json:
            print_json(answer.to_dict())
        else:
            print_answer(out, answer)


def error_row(question: str, error: str) -> dict:
    """The JSON row of a question that could not be asked: the answer's fields, and ``error``."""
    return {
        "question": question,
        "answered": False,
        "confidence": None,
        "passages": [],
        "error": error,
    }


@app.command("eval")
@friendly_errors
def eval_command(
    file: Annotated[
        Path, typer.Argument(help='Question set (JSONL: {"q": ..., "expect": [...]}).')
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    show_misses: Annotated[
        bool, typer.Option("--misses", help="List the questions missed.")
    ] = False,
    index: IndexOption = None,
) -> None:
    """Measure hit@1, hit@3, MRR, abstention and latency on a question set."""
    from index.evaluate import evaluate, load_questions
    from newsbot.engine import open_searcher

    settings = load_settings(index_dir=index)
    questions = load_questions(file)
    report = evaluate(open_searcher(settings).searcher, questions)
    summary = report.summary()
    if as_json:
        print_json(summary)
    else:
        for key, value in summary.items():
            out.print(f"{key:28s} {value}")
    if show_misses:
        for o in report.outcomes:
            wrong = (o.rank != 1) if o.question.expect else o.answered
            if wrong:
                out.print(f"miss (rank {o.rank}, answered={o.answered}): {o.question.text}")


@app.command()
@friendly_errors
def sources(
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the indexed articles, newest first."""
    from bot.story import by_date
    from index.store import load_articles
    from newsbot.cli.terminal import print_sources

    settings = load_settings(index_dir=index)
    articles = by_date(load_articles(settings.index_dir, settings.model_identity()).values())
    if as_json:
        print_json([a.__dict__ for a in articles])
    else:
        print_sources(out, list(articles))


app.command("add")(add)
app.command("questions")(questions)
app.command("watch")(watch)


@app.command()
@friendly_errors
def run(
    webhook_url: Annotated[
        str | None,
        typer.Option("--webhook-url", help="Receive updates at this https URL instead of polling."),
    ] = None,
    listen: Annotated[
        str | None, typer.Option("--listen", help="Webhook address to listen on.")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Webhook port to listen on.")] = None,
    index: IndexOption = None,
) -> None:
    """Start the Telegram bot (builds the index first if there is none)."""
    from bot.application import MissingToken
    from bot.runner import run_bot

    settings = load_settings(index_dir=index, webhook_listen=listen, webhook_port=port)
    try:
        run_bot(settings, webhook_url)
    except MissingToken as exc:
        raise fail(str(exc), code=2) from None


@app.command()
@friendly_errors
def chat(
    index: IndexOption = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=f"The bot's language ({', '.join(LANGUAGES)}); default: each question's.",
        ),
    ] = None,
) -> None:
    """Talk to the bot in the terminal: same answers as on Telegram, no token needed."""
    from newsbot.cli.chat import run_chat, terminal_input
    from newsbot.engine import open_searcher

    if lang is not None and lang not in LANGUAGES:
        raise fail(f"--lang {lang!r} is not one of {', '.join(LANGUAGES)}", code=2)
    settings = load_settings(index_dir=index)
    run_chat(open_searcher(settings), settings, out, terminal_input(), lang)


def main() -> None:
    """Entry point of the ``newsbot`` command and ``python -m newsbot``."""
    app()
