"""What is new in an article: its passage least covered by what an earlier build already said.

Each new passage's vector (already in the new build) is compared with the vectors of the
earlier build, read from its memory-mapped array a block at a time; the passage whose best
similarity is lowest is the one that says something the coverage did not. Cost: new passages
x earlier passages dot products; only one block of the earlier vectors is in memory at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from index.passages import Passage
from index.store import IndexData

_BLOCK = 65536  # earlier vectors compared at a time


@dataclass(frozen=True)
class NewPassage:
    """The passage of article ``doc_id`` least covered before, and its best earlier similarity
    (1.0 means it was said word for word; an empty earlier build gives 0.0)."""

    doc_id: str
    passage: Passage
    covered: float


def whats_new(
    previous: IndexData | None, current: IndexData, doc_ids: Iterable[str]
) -> dict[str, NewPassage]:
    """For each article of ``doc_ids`` in ``current``, its passage least covered by
    ``previous`` (articles absent from ``current`` are left out)."""
    rows = current.passages.rows_of(doc_ids)
    if not rows:
        return {}
    passages = [current.passages[row].passage for row in rows]
    vectors = np.asarray(current.vectors[rows], dtype=np.float32)
    covered = _best_similarity(previous, vectors)
    chosen: dict[str, NewPassage] = {}
    for passage, similarity in zip(passages, covered, strict=True):
        known = chosen.get(passage.doc_id)
        if known is None or similarity < known.covered:
            chosen[passage.doc_id] = NewPassage(passage.doc_id, passage, float(similarity))
    return chosen


def _best_similarity(previous: IndexData | None, vectors: np.ndarray) -> np.ndarray:
    """Each row's highest inner product with a passage vector of ``previous``."""
    best = np.zeros(len(vectors), dtype=np.float32)
    if previous is None or len(previous.vectors) == 0:
        return best
    best[:] = -np.inf
    earlier = previous.vectors
    for start in range(0, len(earlier), _BLOCK):
        block = np.asarray(earlier[start : start + _BLOCK], dtype=np.float32)
        np.maximum(best, (vectors @ block.T).max(axis=1), out=best)
    return best
