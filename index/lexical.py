"""Lexical scoring: BM25 over stemmed words, and character n-grams for typos and word forms."""

from __future__ import annotations

import bm25s
import numpy as np
import Stemmer
from sklearn.feature_extraction.text import TfidfVectorizer


class LexicalScorer:
    """Scores a question against every passage, two ways.

    ``bm25`` rewards shared (stemmed) words; ``chars`` is the cosine of character 3-5-gram
    TF-IDF vectors, which still matches "navalney" to "Navalny" and "phones" to "cellphone".
    """

    def __init__(self, texts: list[str]) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._count = len(texts)
        self._bm25 = bm25s.BM25()
        if texts:
            tokens = bm25s.tokenize(
                texts, stopwords="en", stemmer=self._stemmer, show_progress=False
            )
            self._bm25.index(tokens, show_progress=False)
            self._vocab = tokens.vocab
        else:
            self._vocab = {}
        self._chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, lowercase=True
        )
        self._char_matrix = self._chars.fit_transform(texts) if texts else None

    def bm25(self, question: str) -> np.ndarray:
        """BM25 score of each passage for ``question`` (zeros when no word is shared)."""
        words = bm25s.tokenize(
            [question], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
        )[0]
        known = [w for w in words if w in self._vocab]
        if not known or not self._count:
            return np.zeros(self._count, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def chars(self, question: str) -> np.ndarray:
        """Character n-gram cosine of each passage with ``question``."""
        if self._char_matrix is None:
            return np.zeros(0, dtype=np.float32)
        query = self._chars.transform([question])
        return np.asarray((self._char_matrix @ query.T).toarray().ravel(), dtype=np.float32)
