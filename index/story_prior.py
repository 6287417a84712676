"""The story prior: how much each passage belongs to the one story the bot is about.

The bot answers questions about one story, so a question that names nothing in particular
("why did people light candles") is about the story, and a passage from an article about
something else should win only when it answers the question clearly better. In a corpus of
coverage alone this changes nothing; it matters when the corpus also holds other prose (feeds
that let off-story articles in, or the story-scale evaluation: one story among 10,000 passages
of other news and manuals).

**What the story is.** The ``story`` setting names it in words ("Alexei Navalny, Valentine's Day
candle protests"); the model encodes them once. Without it, the story is the coverage it began
with: the articles published on the earliest date in the corpus (undated articles aside), and
when no article has a date, the whole corpus.

**Membership.** Each article's centroid (its passages' pooled vectors summed, a column the build
writes: ``IndexData.article_vectors``) is compared with the story vector; the cosine maps
linearly to a membership in [0, 1] between ``StoryOptions.unrelated`` (0) and
``StoryOptions.related`` (1). Every passage takes its article's membership: a paragraph of a story
article that names nothing still belongs to the story. The memberships are computed per
article when a build is loaded (one row of 384 floats an article, nothing per passage), so a
changed ``story`` setting takes effect at the next load or reload without a rebuild; a question
then reads only its candidates' memberships, so its cost does not grow with the corpus.

**Use at question time.** A passage's similarities (dense and word-piece) are lowered by
``penalty × (1 - membership)`` before the decision to answer, so an off-story passage must be
that much closer to the question to make the bot answer. The maximum similarity over more
passages is a maximum over more draws and climbs with corpus size; the draws from other prose no
longer lift the maximum unless they are really close. The ranking is then made among the
story's candidates (membership >= ``STORY_MEMBER``), unless a passage of other prose is closer to
the question even after its discount. When the story is a minority of the corpus, its passages
closest to the question join the candidates (an exact search over their rows of the mapped
vectors, which are contiguous per article), so that the general candidate search, crowded by
other prose, cannot leave them all out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.embed import Embedder
from index.store import IndexData

STORY_MEMBER = 0.5  # the membership from which a passage counts as part of the story


@dataclass(frozen=True)
class StoryOptions:
    """How the story prior is defined and how much it counts (see the module docstring)."""

    text: str = ""
    enabled: bool = True  # off: every passage counts as the story's (the engine without a prior)
    penalty: float = 0.4
    unrelated: float = 0.3
    related: float = 0.6


class StoryPrior:
    """Per-article story membership of one build, and what it does to a question's candidates."""

    def __init__(self, data: IndexData, embedder: Embedder, options: StoryOptions) -> None:
        self.options = options
        # A plain view of the mapped column (read per candidate only; no memmap object a read).
        self._row_article = np.asarray(data.passages.articles)
        if options.enabled:
            story = story_vector(data, embedder, options)
            self.membership = article_membership(data, story, options)
        else:
            self.membership = np.ones(len(data.articles), dtype=np.float32)
        self._ranges: list[tuple[int, int]] = []
        story = self.membership >= STORY_MEMBER
        if 0 < _story_rows(data, story) * 2 < len(data.passages):
            # A minority of the corpus: the dense search over everything may miss all of it.
            self._ranges = _row_ranges(data, story)
        self._vectors = data.vectors

    def rows_membership(self, rows: list[int]) -> np.ndarray:
        """The story membership of each passage in ``rows``."""
        articles = np.asarray(self._row_article[np.asarray(rows, dtype=np.int64)])
        return self.membership[articles]

    def candidates(
        self, vector: np.ndarray, count: int, vectors: np.ndarray | None = None
    ) -> list[int]:
        """The story passages closest to the question, when the story is a minority of the
        corpus (so that the general candidate search may find none of them); else none.
        ``vectors`` are the passage vectors ``vector`` is compared with (rows follow the
        passages): the pooled vectors by default, or another channel's."""
        if not self._ranges:
            return []
        vectors = self._vectors if vectors is None else vectors
        rows = np.concatenate([np.arange(start, end) for start, end in self._ranges])
        scores = np.concatenate(
            [
                np.asarray(vectors[start:end], dtype=np.float32) @ vector
                for start, end in self._ranges
            ]
        )
        if len(rows) > count:
            top = np.argpartition(-scores, count - 1)[:count]
            rows = rows[top]
        return [int(r) for r in rows]

    def focus(self, rows: list[int], confidence: np.ndarray) -> np.ndarray:
        """Which candidates to rank (indices into ``rows``): the story's, unless a passage of
        other prose is closer to the question even after its discount; then all of them.

        ``confidence`` is each candidate's similarity after ``discount``.
        """
        story = self.rows_membership(rows) >= STORY_MEMBER
        everything = np.arange(len(rows))
        if story.all() or not story.any():
            return everything
        if confidence[story].max() >= confidence[~story].max():
            return np.flatnonzero(story)
        return everything

    def overall(self, rows: list[int], dense: np.ndarray, tokens: np.ndarray) -> float:
        """The similarity on which to decide whether to answer, from each candidate's dense and
        word-piece similarities (before ``discount``).

        Over the story's candidates it is the best dense similarity and the best word-piece
        similarity, averaged, as on a corpus of coverage alone (the abstention threshold was
        set so): two passages of the story can each meet part of a question. A passage of
        other prose must meet it alone, both similarities of the same passage after its
        discount: its word matches say nothing about a story passage's dense similarity
        ("What is the capital of France?" met "the French capital" in a news report on a
        hotel fire in Paris that does not say it is the capital, and a story passage lent
        the dense half).
        """
        off = self.discount(rows)
        story = self.rows_membership(rows) >= STORY_MEMBER
        best = -np.inf
        if story.any():
            best = float((dense - off)[story].max() + (tokens - off)[story].max()) / 2
        if not story.all():
            other = ((dense + tokens) / 2 - off)[~story]
            best = max(best, float(other.max()))
        return best

    def discount(self, rows: list[int]) -> np.ndarray:
        """How much each candidate's similarities are lowered before the decision to answer."""
        return (self.options.penalty * (1.0 - self.rows_membership(rows))).astype(np.float32)


def story_vector(data: IndexData, embedder: Embedder, options: StoryOptions) -> np.ndarray:
    """The unit vector of the story: the ``story`` words if set, else the earliest coverage
    (the articles of the earliest date; all articles when none is dated)."""
    if options.text.strip():
        return embedder.encode([options.text])[0].astype(np.float32)
    dated = [a.published for a in data.articles.values() if a.published and a.passages]
    first = min(dated) if dated else None
    chosen = np.fromiter(
        (a.passages > 0 and first in (None, a.published) for a in data.articles.values()),
        dtype=bool,
        count=len(data.articles),
    )
    if not chosen.any():
        return np.zeros(data.article_vectors.shape[1], dtype=np.float32)
    return _unit(np.asarray(data.article_vectors[chosen], dtype=np.float32).sum(axis=0))


def article_membership(data: IndexData, story: np.ndarray, options: StoryOptions) -> np.ndarray:
    """Each article's membership of the story, in [0, 1], from its centroid (rows follow
    ``data.articles``)."""
    sums = np.asarray(data.article_vectors, dtype=np.float32)
    if not len(sums):
        return np.zeros(0, dtype=np.float32)
    norms = np.linalg.norm(sums, axis=1)
    cosine = (sums @ story) / np.maximum(norms, 1e-9)
    span = max(options.related - options.unrelated, 1e-9)
    return np.clip((cosine - options.unrelated) / span, 0.0, 1.0).astype(np.float32)


def _row_ranges(data: IndexData, articles: np.ndarray) -> list[tuple[int, int]]:
    """The passage rows of the chosen ``articles``: a build writes each article's passages
    as one run of rows, in the order of ``articles.json``, so the runs follow from the counts."""
    counts = np.fromiter((a.passages for a in data.articles.values()), dtype=np.int64)
    ends = np.cumsum(counts)
    starts = ends - counts
    ranges: list[tuple[int, int]] = []
    for start, end in zip(starts[articles], ends[articles], strict=True):
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], int(end))  # adjacent articles: one run
        elif end > start:
            ranges.append((int(start), int(end)))
    return ranges


def _story_rows(data: IndexData, articles: np.ndarray) -> int:
    return sum(
        a.passages for a, chosen in zip(data.articles.values(), articles, strict=True) if chosen
    )


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-9)).astype(np.float32)
