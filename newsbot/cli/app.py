"""The ``newsbot`` command line: build the index, ask questions, evaluate, list sources."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.application import MissingToken
from bot.runner import run_bot
from bot.story import newest_first
from index.errors import QuestionError
from index.evaluate import evaluate, load_questions
from index.search import Answer
from index.store import load_index
from newsbot.cli.add import add
from newsbot.cli.chat import run_chat
from newsbot.cli.options import (
    CorpusOption,
    IndexOption,
    err,
    fail,
    friendly_errors,
    load_settings,
    out,
)
from newsbot.cli.terminal import print_answer, print_sources
from newsbot.engine import open_searcher, run_build

app = typer.Typer(
    help="newsbot: answers questions about a news story by quoting its coverage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
@friendly_errors
def build(
    corpus: CorpusOption = None,
    index: IndexOption = None,
    full: Annotated[bool, typer.Option("--full", help="Embed every article again.")] = False,
) -> None:
    """Build or update the index from the corpus (only new or changed articles are embedded)."""
    settings = load_settings(corpus_dir=corpus, index_dir=index)
    with _progress_bar() as bar:
        task = bar.add_task("embedding", total=None, visible=False)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, visible=True)

        report = run_build(settings, full=full, progress=progress)
    state = "updated" if report.changed else "already up to date"
    out.print(
        f"index {state}: {report.articles} articles, {report.passages} passages, "
        f"{report.embedded} embedded now, {report.reused} reused, "
        f"{report.removed_articles} articles removed, {report.seconds:.1f} s"
    )


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
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
    settings = load_settings(index_dir=index)
    live = open_searcher(settings)
    if question == "-":
        _ask_stream(live.searcher.ask, k, as_json)
        return
    answer = live.searcher.ask(question, k=k)
    if as_json:
        out.print(json.dumps(answer.to_dict(), ensure_ascii=False), markup=False)
    else:
        print_answer(out, answer)


def _ask_stream(ask_one: Callable[..., Answer], k: int | None, as_json: bool) -> None:
    """One answer per input line; a bad line gets an error object, the stream goes on."""
    for line in sys.stdin:
        question = line.rstrip("\n")
        try:
            answer = ask_one(question, k=k)
        except QuestionError as exc:
            if as_json:
                row = {"question": question, "answered": False, "passages": [], "error": str(exc)}
                out.print(json.dumps(row, ensure_ascii=False), markup=False)
            else:
                err.print(f"error: {exc}", markup=False)
            continue
        if as_json:
            out.print(json.dumps(answer.to_dict(), ensure_ascii=False), markup=False)
        else:
            print_answer(out, answer)


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
    settings = load_settings(index_dir=index)
    questions = load_questions(file)
    report = evaluate(open_searcher(settings).searcher, questions)
    summary = report.summary()
    if as_json:
        out.print(json.dumps(summary), markup=False)
    else:
        for key, value in summary.items():
            out.print(f"{key:28s} {value}", markup=False)
    if show_misses:
        for o in report.outcomes:
            wrong = (o.rank != 1) if o.question.expect else o.answered
            if wrong:
                out.print(
                    f"miss (rank {o.rank}, answered={o.answered}): {o.question.text}", markup=False
                )


@app.command()
@friendly_errors
def sources(
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the indexed articles, newest first."""
    settings = load_settings(index_dir=index)
    data = load_index(settings.index_dir, settings.model)
    articles = newest_first(data)
    if as_json:
        rows = [a.__dict__ for a in articles]
        out.print(json.dumps(rows, ensure_ascii=False), markup=False)
    else:
        print_sources(out, articles)


app.command("add")(add)


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
    settings = load_settings(index_dir=index, webhook_listen=listen, webhook_port=port)
    try:
        run_bot(settings, webhook_url)
    except MissingToken as exc:
        raise fail(str(exc), code=2) from None


@app.command()
@friendly_errors
def chat(index: IndexOption = None) -> None:
    """Talk to the bot in the terminal: same answers as on Telegram, no token needed."""
    settings = load_settings(index_dir=index)
    run_chat(open_searcher(settings), settings, out, input)


def main() -> None:
    """Entry point of the ``newsbot`` command and ``python -m newsbot``."""
    app()
