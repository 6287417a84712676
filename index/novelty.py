"""What is new in an article: its passage least covered by what an earlier build already said.

Each new passage is embedded and compared, through a FAISS inner-product search for its single
nearest neighbour, with the passages of the earlier build; the passage whose best similarity
is lowest is the one that says something the coverage did not. Cost: new passages x earlier
passages dot products, done by FAISS; no passage-by-passage matrix of the whole corpus is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import faiss
import numpy as np

from index.embed import Embedder
from index.passages import Passage
from index.store import IndexData


@dataclass(frozen=True)
class NewPassage:
    """The passage of article ``doc_id`` least covered before, and its best earlier similarity
    (1.0 means it was said word for word; an empty earlier build gives 0.0)."""

    doc_id: str
    passage: Passage
    covered: float


def whats_new(
    previous: IndexData | None, current: IndexData, embedder: Embedder, doc_ids: Iterable[str]
) -> dict[str, NewPassage]:
    """For each article of ``doc_ids`` in ``current``, its passage least covered by
    ``previous`` (articles absent from ``current`` are left out)."""
    wanted = set(doc_ids)
    passages = [p.passage for p in current.passages if p.passage.doc_id in wanted]
    if not passages:
        return {}
    vectors = embedder.encode([p.text for p in passages])
    covered = _best_similarity(previous, vectors)
    chosen: dict[str, NewPassage] = {}
    for passage, similarity in zip(passages, covered, strict=True):
        known = chosen.get(passage.doc_id)
        if known is None or similarity < known.covered:
            chosen[passage.doc_id] = NewPassage(passage.doc_id, passage, float(similarity))
    return chosen


def _best_similarity(previous: IndexData | None, vectors: np.ndarray) -> np.ndarray:
    """Each row's highest inner product with a passage vector of ``previous``."""
    earlier = previous.vectors if previous is not None else np.zeros((0, vectors.shape[1]))
    if len(earlier) == 0:
        return np.zeros(len(vectors), dtype=np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(earlier, dtype=np.float32))
    scores, _ = index.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
    return scores[:, 0]
