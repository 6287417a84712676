"""What the bot can say about its story: the indexed articles and example questions it answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from index.search import Answer
from index.store import ArticleInfo, IndexData

EXAMPLES_SHOWN = 3


@dataclass(frozen=True)
class Story:
    """The articles of one index build, newest first, and the example questions it answers."""

    build_id: str
    articles: tuple[ArticleInfo, ...]
    examples: tuple[str, ...]


def newest_first(data: IndexData) -> tuple[ArticleInfo, ...]:
    """The articles of a build, newest first (then by title)."""
    return tuple(sorted(data.articles.values(), key=lambda a: (a.published, a.title), reverse=True))


def story_of(data: IndexData, answers: Sequence[Answer]) -> Story:
    """The story of a build; ``answers`` are the build's answers to the configured examples.

    Only examples the build actually answers are offered, so /start never suggests a
    question that would get "I couldn't find that".
    """
    examples = tuple(a.question for a in answers if a.answered)[:EXAMPLES_SHOWN]
    return Story(data.build_id, newest_first(data), examples)
