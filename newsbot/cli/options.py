"""What every ``newsbot`` command shares: options, settings, and one-line errors."""

from __future__ import annotations

import functools
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.text import Text

from index.errors import NewsbotError, QuestionError
from newsbot.cli.terminal import data_console

if TYPE_CHECKING:
    from bot.settings import Settings

out = data_console()
err = data_console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])
# An error line names a path or URL; one that is absurdly long (a 100,000-character URL) is cut.
MAX_NAME = 1000

CorpusOption = Annotated[
    Path | None, typer.Option("--corpus", help="Corpus folder (default: NEWSBOT_CORPUS_DIR).")
]
IndexOption = Annotated[
    Path | None, typer.Option("--index", help="Index folder (default: NEWSBOT_INDEX_DIR).")
]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line to stderr and return the exit to raise."""
    err.print(Text.assemble(("error:", "bold red"), " ", one_line(message)))
    return typer.Exit(code)


def one_line(message: str) -> str:
    """``message`` on one line, with any overlong word (a 100,000-character URL) cut."""
    words = message.split()
    return " ".join(w if len(w) <= MAX_NAME else f"{w[: MAX_NAME - 1]}…" for w in words)


def friendly_errors(command: F) -> F:
    """Turn the errors a person can meet into one line and an exit code, never a traceback.

    The command's own ``--index``/``--corpus`` values are woven into the advice, so that
    "run `newsbot build`" names the index that was asked for.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except QuestionError as exc:
            raise fail(str(exc), code=2) from None
        except NewsbotError as exc:
            raise fail(with_options(str(exc), kwargs.get("corpus"), kwargs.get("index"))) from None
        except OSError as exc:  # a full disk, a missing folder, a port in use, permissions
            raise fail(os_error_line(exc)) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def os_error_line(exc: OSError) -> str:
    """An ``OSError`` as one line: the file, what happened, what to check."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}; check the path, space and permissions"


def with_options(message: str, corpus: Path | None, index: Path | None) -> str:
    """``message`` with its advice matching the command line that was typed."""
    if corpus is not None:
        message = message.replace(" or pass --corpus", "")  # it was passed
    passed = "".join(
        f" {flag} {shlex.quote(str(value))}"
        for flag, value in (("--corpus", corpus), ("--index", index))
        if value is not None
    )
    return message.replace("`newsbot build`", f"`newsbot build{passed}`")


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment and .env, with command-line overrides applied and
    validated like the rest. A ``NEWSBOT_*`` name that is no setting gets a warning line."""
    from pydantic import ValidationError

    from bot.settings import Settings, environment_names, unknown_names

    for name, where in unknown_names():
        err.print(f"warning: {name} (in {where}) is not a newsbot setting; see .env.example")
    updates = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings()
        if updates:
            settings = Settings.model_validate({**settings.model_dump(), **updates})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "setting"
        name = {f: env for env, f in environment_names().items()}.get(field, field)
        raise fail(
            f"setting {name} is invalid ({first['msg']}): fix the option, the environment or .env",
            2,
        ) from None
    return settings
