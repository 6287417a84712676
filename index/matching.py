"""Word-piece matching: how well each word of a question is met somewhere in a passage.

For every word piece of the question, take its best cosine against the passage's contextual
word-piece vectors, and average those maxima weighted by how rare the piece is in the corpus
(a "MaxSim" in the manner of late-interaction retrievers). The question's own vectors come from
the same forward pass that gives its pooled vector, so this costs no extra encoding.
"""

from __future__ import annotations

import math

import numpy as np

# Question words whose match says nothing about whether a passage answers.
QUESTION_STOPWORDS = frozenset(
    {
        "the", "a", "an", "of", "to", "is", "was", "were", "are", "in", "on", "at", "for",
        "and", "or", "what", "how", "who", "when", "where", "why", "which", "did", "do", "does",
        "he", "she", "it", "they", "his", "her", "their", "about", "with", "by", "be", "been",
        "this", "that",
    }
)  # fmt: skip


class TokenMatcher:
    """Scores questions against passages by word-piece MaxSim with corpus IDF weights.

    ``spans`` gives each passage's (start, end) rows in ``tokens``; ``stop_ids`` are the
    vocabulary ids that get no weight (``QUESTION_STOPWORDS`` and punctuation).
    """

    def __init__(
        self,
        tokens: np.ndarray,
        token_ids: np.ndarray,
        token_offsets: np.ndarray,
        spans: list[tuple[int, int]],
        stop_ids: frozenset[int],
    ) -> None:
        self._tokens = tokens
        self._offsets = token_offsets
        self._spans = spans
        self._stop_ids = stop_ids
        self._idf, self._unseen_idf = _idf(token_ids, spans)

    def weights(self, question_ids: np.ndarray) -> np.ndarray:
        """Weight of each question word piece: its IDF, or 0 for question stopwords."""
        weights = np.array(
            [
                0.0 if i in self._stop_ids else self._idf.get(int(i), self._unseen_idf)
                for i in question_ids
            ],
            dtype=np.float32,
        )
        return weights if weights.sum() > 0 else np.ones(len(question_ids), dtype=np.float32)

    def scores(self, question: np.ndarray, weights: np.ndarray, rows: list[int]) -> np.ndarray:
        """Weighted MaxSim of ``question`` (pieces x dim) against each passage in ``rows``."""
        if not rows or len(question) == 0:
            return np.zeros(len(rows), dtype=np.float32)
        spans = [self._spans[r] for r in rows]
        stacked = np.concatenate([self._tokens[s:e] for s, e in spans]).astype(np.float32)
        sims = question.astype(np.float32) @ stacked.T
        starts = np.cumsum([0] + [e - s for s, e in spans[:-1]])
        best = _segment_max(sims, starts, [e - s for s, e in spans])
        return (best.T @ weights) / weights.sum()

    def sentence_scores(
        self,
        question: np.ndarray,
        weights: np.ndarray,
        row: int,
        sentences: tuple[tuple[int, int], ...],
    ) -> np.ndarray:
        """Weighted MaxSim of ``question`` against each sentence of passage ``row``.

        A sentence with no word pieces (cut off by the model's input limit) scores -inf.
        """
        start, end = self._spans[row]
        offsets = self._offsets[start:end]
        sims = question.astype(np.float32) @ self._tokens[start:end].astype(np.float32).T
        out = np.full(len(sentences), -np.inf, dtype=np.float32)
        for n, (s, e) in enumerate(sentences):
            inside = (offsets[:, 0] >= s) & (offsets[:, 1] <= e)
            if inside.any():
                out[n] = float(sims[:, inside].max(axis=1) @ weights / weights.sum())
        return out

    def span_sims(
        self, question: np.ndarray, row: int, start: int, end: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cosines of ``question``'s word pieces with the pieces of passage ``row`` that lie in
        characters ``start``..``end``, and those pieces' character spans (relative to ``start``)."""
        first, last = self._spans[row]
        offsets = self._offsets[first:last]
        inside = (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        pieces = np.asarray(self._tokens[first:last][inside], dtype=np.float32)
        return question.astype(np.float32) @ pieces.T, offsets[inside] - start


def _segment_max(sims: np.ndarray, starts: np.ndarray, lengths: list[int]) -> np.ndarray:
    """Per question piece, the max over each passage's columns; empty passages give -1."""
    result = np.full((sims.shape[0], len(lengths)), -1.0, dtype=np.float32)
    nonempty = [i for i, n in enumerate(lengths) if n > 0]
    if nonempty:
        reduced = np.maximum.reduceat(sims, starts[nonempty], axis=1)
        result[:, nonempty] = reduced
    return result


def _idf(token_ids: np.ndarray, spans: list[tuple[int, int]]) -> tuple[dict[int, float], float]:
    count = len(spans)
    frequency: dict[int, int] = {}
    for start, end in spans:
        for token in np.unique(token_ids[start:end]):
            frequency[int(token)] = frequency.get(int(token), 0) + 1
    idf = {t: math.log(1 + (count - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}
    return idf, math.log(1 + (count + 0.5) / 0.5)
