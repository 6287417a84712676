"""An answer's verdict: ``answer`` (the quote states what was asked), ``related`` (the coverage
is about the subject but does not state it), ``none`` (nothing close).

The engine's answers carry ``answered`` today; once they carry ``verdict`` it is used as is.
"""

from __future__ import annotations

from index.search import Answer

VERDICTS = ("answer", "related", "none")


def verdict_of(answer: Answer) -> str:
    """The answer's verdict; from ``answered`` for answers made before verdicts existed."""
    verdict = getattr(answer, "verdict", None)
    if verdict in VERDICTS:
        return verdict
    return "answer" if answer.answered else "none"
