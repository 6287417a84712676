"""Errors a person can meet, each carrying one line that says what happened and what to do."""

from __future__ import annotations

from pathlib import Path


class NewsbotError(Exception):
    """Base class: ``str(error)`` is the one-line message shown to the person."""


class CorpusError(NewsbotError):
    """An article file is missing, unreadable or malformed.

    ``problem`` says what is wrong and what to do; ``path`` names the file, or is empty when the
    problem is not one file's (the corpus folder is missing, say). ``str()`` is both in one line.
    """

    def __init__(self, problem: str, path: Path | str | None = None) -> None:
        self.problem = problem
        self.path = str(path) if path else ""
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class IndexNotReady(NewsbotError):
    """The stored index is missing, damaged, or built with another model."""


class ModelError(NewsbotError):
    """The embedding model cannot be loaded."""


class QuestionError(NewsbotError):
    """A question cannot be asked as given (empty, say)."""
