"""The ``newsbot`` command line: build the index, ask questions, evaluate, list sources."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.add_command import add
from bot.application import MissingToken
from bot.chat import run_chat
from bot.engine import open_searcher, run_build
from bot.runner import run_bot
from bot.settings import Settings
from bot.story import newest_first
from bot.terminal import print_answer, print_sources
from bot.watching import watch_command
from index.errors import NewsbotError, QuestionError
from index.evaluate import evaluate, load_questions
from index.search import Answer
from index.store import load_index

app = typer.Typer(
    help="newsbot: answers questions about a news story by quoting its coverage.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

F = TypeVar("F", bound=Callable[..., Any])

CorpusOption = Annotated[
    Path | None, typer.Option("--corpus", help="Corpus folder (default: NEWSBOT_CORPUS_DIR).")
]
IndexOption = Annotated[
    Path | None, typer.Option("--index", help="Index folder (default: NEWSBOT_INDEX_DIR).")
]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line to stderr and return the exit to raise."""
    err.print(f"[bold red]error:[/] {message}", markup=True)
    return typer.Exit(code)


def friendly_errors(command: F) -> F:
    """Turn the errors a person can meet into one line and an exit code, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except QuestionError as exc:
            raise fail(str(exc), code=2) from None
        except NewsbotError as exc:
            raise fail(str(exc)) from None
        except OSError as exc:  # a full disk, a missing folder, a port in use, permissions
            where = f"{exc.filename}: " if exc.filename else ""
            raise fail(
                f"{where}{exc.strerror or exc}; check the path, space and permissions"
            ) from None
        except KeyboardInterrupt:
            raise fail("interrupted", code=130) from None

    return wrapper  # type: ignore[return-value]


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment and .env, with command-line overrides applied and
    validated like the rest."""
    updates = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings()
        if updates:
            settings = Settings.model_validate({**settings.model_dump(), **updates})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "setting"
        raise fail(
            f"setting {name} is invalid ({first['msg']}): fix the option, the environment or .env",
            2,
        ) from None
    return settings


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
app.command("watch")(watch_command)


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
    """Entry point for ``python -m bot``."""
    app()
