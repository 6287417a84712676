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

**Membership.** Each article's centroid (the mean of its passages' pooled vectors) is compared
with the story vector; the cosine maps linearly to a membership in [0, 1] between
``StoryOptions.unrelated`` (0) and ``StoryOptions.related`` (1). Every passage takes its article's
membership: a paragraph of a story article that names nothing still belongs to the story. The
memberships are computed once per loaded build, a few vector operations over all passages;
a question then reads only its candidates' memberships, so its cost does not grow with the corpus.

**Use at question time.** A passage's similarities (dense and word-piece) are lowered by
``penalty × (1 - membership)`` before the decision to answer, so an off-story passage must be
that much closer to the question to make the bot answer. The maximum similarity over more
passages is a maximum over more draws and climbs with corpus size; the draws from other prose no
longer lift the maximum unless they are really close. The ranking is then made among the
story's candidates (membership >= ``STORY_MEMBER``), unless a passage of other prose is closer to
the question even after its discount. When the story is a minority of the corpus, its passages
closest to the question join the candidates (a flat index over them), so that the general
candidate search, crowded by other prose, cannot leave them all out.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from index.embed import Embedder
from index.store import IndexData

STORY_MEMBER = 0.5  # the membership from which a passage counts as part of the story


@dataclass(frozen=True)
class StoryOptions:
    """How the story prior is defined and how much it counts (see the module docstring)."""

    text: str = ""
    penalty: float = 0.4
    unrelated: float = 0.3
    related: float = 0.6


class StoryPrior:
    """Per-passage story membership of one build, and what it does to a question's candidates."""

    def __init__(self, data: IndexData, embedder: Embedder, options: StoryOptions) -> None:
        self.options = options
        self.membership = story_membership(data, story_vector(data, embedder, options), options)
        rows = np.flatnonzero(self.membership >= STORY_MEMBER)
        self._rows = rows
        self._index: faiss.Index | None = None
        if 0 < len(rows) * 2 < len(self.membership):
            # A minority of the corpus: the dense search over everything may miss all of it.
            self._index = faiss.IndexFlatIP(data.vectors.shape[1])
            self._index.add(np.ascontiguousarray(data.vectors[rows], dtype=np.float32))

    def candidates(self, vector: np.ndarray, count: int) -> list[int]:
        """The story passages closest to the question, when the story is a minority of the
        corpus (so that the general candidate search may find none of them); else none."""
        if self._index is None:
            return []
        _, found = self._index.search(vector[None, :].astype(np.float32), count)
        return [int(self._rows[i]) for i in found[0] if i >= 0]

    def focus(self, rows: list[int], confidence: np.ndarray) -> np.ndarray:
        """Which candidates to rank (indices into ``rows``): the story's, unless a passage of
        other prose is closer to the question even after its discount; then all of them.

        ``confidence`` is each candidate's similarity after ``discount``.
        """
        story = self.membership[rows] >= STORY_MEMBER
        everything = np.arange(len(rows))
        if story.all() or not story.any():
            return everything
        if confidence[story].max() >= confidence[~story].max():
            return np.flatnonzero(story)
        return everything

    def discount(self, rows: list[int]) -> np.ndarray:
        """How much each candidate's similarities are lowered before the decision to answer."""
        return (self.options.penalty * (1.0 - self.membership[rows])).astype(np.float32)


def story_vector(data: IndexData, embedder: Embedder, options: StoryOptions) -> np.ndarray:
    """The unit vector of the story: the ``story`` words if set, else the earliest coverage."""
    if options.text.strip():
        return embedder.encode([options.text])[0].astype(np.float32)
    doc_ids = _row_articles(data)
    dated = [a.published for a in data.articles.values() if a.published]
    if dated:
        first = min(dated)
        chosen = {d for d, a in data.articles.items() if a.published == first}
        rows = np.fromiter((d in chosen for d in doc_ids), dtype=bool, count=len(doc_ids))
    else:
        rows = np.ones(len(doc_ids), dtype=bool)
    return _unit(np.asarray(data.vectors[rows], dtype=np.float32).mean(axis=0))


def story_membership(data: IndexData, story: np.ndarray, options: StoryOptions) -> np.ndarray:
    """Each passage's membership of the story, in [0, 1], from its article's centroid."""
    if not data.passages:
        return np.zeros(0, dtype=np.float32)
    names, article_of_row = np.unique(_row_articles(data), return_inverse=True)
    sums = np.zeros((len(names), data.vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, article_of_row, np.asarray(data.vectors, dtype=np.float32))
    norms = np.linalg.norm(sums, axis=1)
    cosine = (sums @ story) / np.maximum(norms, 1e-9)
    span = max(options.related - options.unrelated, 1e-9)
    membership = np.clip((cosine - options.unrelated) / span, 0.0, 1.0)
    return membership[article_of_row].astype(np.float32)


def _row_articles(data: IndexData) -> list[str]:
    return [p.passage.doc_id for p in data.passages]


def _unit(vector: np.ndarray) -> np.ndarray:
    return (vector / max(float(np.linalg.norm(vector)), 1e-9)).astype(np.float32)
