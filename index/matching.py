"""Word-piece matching: how well each word of a question is met somewhere in a passage.

For every word piece of the question, take its best cosine against the passage's contextual
word-piece vectors, and average those maxima weighted by how rare the piece is in the corpus
(a "MaxSim" in the manner of late-interaction retrievers). The question's own vectors come from
the same forward pass that gives its pooled vector, so this costs no extra encoding.
"""

from __future__ import annotations

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

    ``tokens`` are int8 word-piece vectors with one scale per row (see ``quantize``);
    ``spans`` gives each passage's (start, end) rows in them; ``idf`` is the IDF of each
    vocabulary id, computed at build time over ``passages`` passages; ``stop_ids`` get no weight
    (``QUESTION_STOPWORDS`` and punctuation). Only the rows of the passages scored are read.
    """

    def __init__(
        self,
        tokens: np.ndarray,
        scales: np.ndarray,
        token_offsets: np.ndarray,
        spans: np.ndarray,
        idf: np.ndarray,
        passages: int,
        stop_ids: frozenset[int],
    ) -> None:
        # Plain views of the mappings: slicing an np.memmap costs far more Python time.
        self._tokens = np.asarray(tokens)
        self._scales = np.asarray(scales)
        self._offsets = np.asarray(token_offsets)
        self._spans = np.asarray(spans)
        self._idf = np.asarray(idf)
        self._unseen_idf = idf_of(0, passages)
        self._stop_ids = stop_ids

    def weights(self, question_ids: np.ndarray) -> np.ndarray:
        """Weight of each question word piece: its IDF, or 0 for question stopwords."""
        weights = np.array(
            [0.0 if int(i) in self._stop_ids else self._idf_of(int(i)) for i in question_ids],
            dtype=np.float32,
        )
        return weights if weights.sum() > 0 else np.ones(len(question_ids), dtype=np.float32)

    def _idf_of(self, token: int) -> float:
        return float(self._idf[token]) if 0 <= token < len(self._idf) else self._unseen_idf

    def _similarities(self, question: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
        """Cosines of each question piece with the word pieces of ``spans``, side by side."""
        codes = np.concatenate([self._tokens[s:e] for s, e in spans])
        scales = np.concatenate([self._scales[s:e] for s, e in spans])
        # Scaling the products rather than the vectors: fewer multiplications.
        return (question.astype(np.float32) @ codes.astype(np.float32).T) * scales

    def scores(self, question: np.ndarray, weights: np.ndarray, rows: list[int]) -> np.ndarray:
        """Weighted MaxSim of ``question`` (pieces x dim) against each passage in ``rows``."""
        if not len(rows) or len(question) == 0:
            return np.zeros(len(rows), dtype=np.float32)
        spans = [(int(s), int(e)) for s, e in self._spans[np.asarray(rows)]]
        sims = self._similarities(question, spans)
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
        start, end = int(self._spans[row][0]), int(self._spans[row][1])
        offsets = self._offsets[start:end]
        sims = self._similarities(question, [(start, end)])
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
        first, last = int(self._spans[row][0]), int(self._spans[row][1])
        offsets = np.asarray(self._offsets[first:last])
        inside = (offsets[:, 0] >= start) & (offsets[:, 1] <= end)
        sims = self._similarities(question, [(first, last)])
        return sims[:, inside], offsets[inside] - start


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Word-piece vectors as int8 with one float32 scale per row (half the bytes of float16)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    scales = np.abs(vectors).max(axis=1) / 127 if len(vectors) else np.zeros(0, np.float32)
    scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
    codes = np.rint(vectors / scales[:, None]).astype(np.int8)
    return codes, scales


def idf_of(document_frequency: np.ndarray | int, passages: int) -> np.ndarray | float:
    """BM25-style IDF of a word piece found in ``document_frequency`` of ``passages``."""
    return np.log(1 + (passages - document_frequency + 0.5) / (document_frequency + 0.5))


class DocumentFrequency:
    """Counts, passage by passage, how many passages each vocabulary id occurs in."""

    def __init__(self) -> None:
        self._counts = np.zeros(0, dtype=np.int64)
        self.passages = 0

    def add(self, token_ids: np.ndarray) -> None:
        present = np.unique(token_ids)
        if len(present) and present[-1] >= len(self._counts):
            grown = np.zeros(int(present[-1]) + 1, dtype=np.int64)
            grown[: len(self._counts)] = self._counts
            self._counts = grown
        self._counts[present] += 1
        self.passages += 1

    def idf(self) -> np.ndarray:
        """IDF of every id up to the largest seen (ids never seen get the unseen IDF)."""
        return np.asarray(idf_of(self._counts, self.passages), dtype=np.float32)


def _segment_max(sims: np.ndarray, starts: np.ndarray, lengths: list[int]) -> np.ndarray:
    """Per question piece, the max over each passage's columns; empty passages give -1."""
    result = np.full((sims.shape[0], len(lengths)), -1.0, dtype=np.float32)
    nonempty = [i for i, n in enumerate(lengths) if n > 0]
    if nonempty:
        reduced = np.maximum.reduceat(sims, starts[nonempty], axis=1)
        result[:, nonempty] = reduced
    return result
