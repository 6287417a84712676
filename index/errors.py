"""Errors a person can meet, each carrying one line that says what happened and what to do."""


class NewsbotError(Exception):
    """Base class: ``str(error)`` is the one-line message shown to the person."""


class CorpusError(NewsbotError):
    """An article file is missing, unreadable or malformed."""


class IndexNotReady(NewsbotError):
    """The stored index is missing, damaged, or built with another model."""


class ModelError(NewsbotError):
    """The embedding model cannot be loaded."""


class QuestionError(NewsbotError):
    """A question cannot be asked as given (empty, say)."""
