"""An answer's verdict: ``answer`` (the quote states what was asked), ``related`` (the coverage
is about the subject but does not state it), ``none`` (nothing close). The engine decides it
(index/verdict.py); the bot shows, records and counts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.search import Answer

VERDICTS = ("answer", "related", "none")


def verdict_of(answer: Answer) -> str:
    """The answer's verdict, one of ``VERDICTS``."""
    return answer.verdict
