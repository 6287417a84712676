"""What every ``newsbot`` command shares: options, settings, and one-line errors."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console

from bot.settings import Settings
from index.errors import NewsbotError, QuestionError

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
