"""What the bot can say about its story: the indexed articles and example questions it answers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only types: `newsbot sources` must not load the search stack
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
    return by_date(data.articles.values())


def by_date(articles: Iterable[ArticleInfo]) -> tuple[ArticleInfo, ...]:
    """``articles`` newest first (then by title)."""
    return tuple(sorted(articles, key=lambda a: (a.published, a.title), reverse=True))


def story_of(data: IndexData, answers: Sequence[Answer]) -> Story:
    """The story of a build; ``answers`` are the build's answers to the configured examples.

    Only examples the build actually answers are offered, so /start never suggests a
    question that would get "I couldn't find that".
    """
    examples = tuple(a.question for a in answers if a.answered)[:EXAMPLES_SHOWN]
    return Story(data.build_id, newest_first(data), examples)


class StoryCache:
    """The story of the build in service, kept until another build is served, so the example
    questions are checked once per build rather than on every /start."""

    def __init__(self) -> None:
        self._story: Story | None = None

    def cached(self, data: IndexData) -> Story | None:
        """The story of ``data``'s build if it is the one kept, else None."""
        story = self._story
        return story if story is not None and story.build_id == data.build_id else None

    def remember(self, data: IndexData, answers: Sequence[Answer]) -> Story:
        """The story of ``data`` from its ``answers`` to the examples (see ``story_of``), kept."""
        self._story = story_of(data, answers)
        return self._story
