"""Lexical scoring: BM25 over stemmed words, and character n-grams for typos and word forms.

Both are fitted when the index is built and stored in the build folder, so loading fits
nothing. BM25 (bm25s) is saved with its vocabulary and read back memory-mapped. Character
3-5-grams are hashed (no vocabulary to hold), weighted by TF-IDF with sublinear term
frequency and compared by cosine, as scikit-learn's ``TfidfVectorizer`` does; each passage's
n-gram counts are stored as CSR rows, so a question reads only its candidates' rows. A question's
own n-grams are hashed by ``char_ngram_counts``, the same hashing without importing scikit-learn
(its import was half of what a process spent before its first answer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s
import mmh3
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from index.columns import ColumnWriter, file_digest, open_column, run_rows, write_column

N_FEATURES = 1 << 20
_CHUNK = 2048
_BM25 = "bm25"
# bm25s.tokenize's defaults, which the build uses.
_BM25_WORDS = re.compile(r"(?u)\b\w\w+\b").findall
_BM25_STOPWORDS = frozenset(STOPWORDS_EN)
CHAR_COLUMNS = ("chars_indptr", "chars_indices", "chars_counts", "chars_norms", "chars_idf")
NGRAM_RANGE = (3, 5)
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's vectorizers fold them

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import HashingVectorizer


def _hasher() -> HashingVectorizer:
    """The build's n-gram hasher (scikit-learn, imported only when an index is built)."""
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAM_RANGE,
        lowercase=True,
        n_features=N_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def char_ngram_counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The hashed character n-grams of ``text`` and their counts (ids ascending, float32
    counts), exactly as ``_hasher()`` counts them: scikit-learn's ``char_wb`` n-grams of the
    lower-cased text, each word padded with a space, hashed with signed 32-bit MurmurHash3."""
    grams: list[str] = []
    low, high = NGRAM_RANGE
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        word = f" {word} "
        for n in range(low, high + 1):
            grams.extend(word[i : i + n] for i in range(max(1, len(word) - n + 1)))
            if len(word) <= n:
                break  # a word no longer than n: counted once, as scikit-learn does
    ids = np.fromiter((_feature(g) for g in grams), dtype=np.int64, count=len(grams))
    unique, counts = np.unique(ids, return_counts=True)
    return unique, counts.astype(np.float32)


def _feature(gram: str) -> int:
    value = mmh3.hash(gram.encode("utf-8"), 0, signed=True)
    if value == -(2**31):  # scikit-learn's own rule: abs() of it is undefined in C
        return (2**31 - 1 - (N_FEATURES - 1)) % N_FEATURES
    return abs(value) % N_FEATURES


def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def write_lexical(folder: Path, texts: Sequence[str]) -> tuple[dict, dict]:
    """Fit BM25 and the character n-gram weights on ``texts``; write them under ``folder``.

    Returns the manifest's descriptions: (columns, other files), by path relative to ``folder``.
    """
    files: dict[str, dict] = {}
    if texts:
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        model.save(str(folder / _BM25), show_progress=False)
        for path in sorted((folder / _BM25).iterdir()):
            files[f"{_BM25}/{path.name}"] = file_digest(path)
    return _write_chars(folder, texts), files


def _write_chars(folder: Path, texts: Sequence[str]) -> dict:
    hasher = _hasher()
    document_frequency = np.zeros(N_FEATURES, dtype=np.int64)
    indices = ColumnWriter(folder / "chars_indices", "<i4")
    counts = ColumnWriter(folder / "chars_counts", "u1")
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    try:
        for start in range(0, len(texts), _CHUNK):
            matrix = hasher.transform(texts[start : start + _CHUNK])
            matrix.sum_duplicates()
            document_frequency += np.bincount(matrix.indices, minlength=N_FEATURES)
            offset = indices.rows
            indices.append(matrix.indices)
            counts.append(np.minimum(matrix.data, 255))
            indptr[start + 1 : start + 1 + matrix.shape[0]] = matrix.indptr[1:] + offset
    except BaseException:
        indices.abandon()
        counts.abandon()
        raise
    columns = {"chars_indices": indices.close(), "chars_counts": counts.close()}
    idf = (np.log((1 + len(texts)) / (1 + document_frequency)) + 1).astype(np.float32)
    columns["chars_idf"] = write_column(folder / "chars_idf", idf)
    columns["chars_indptr"] = write_column(folder / "chars_indptr", indptr)
    norms = _row_norms(
        indptr,
        open_column(folder / "chars_indices", columns["chars_indices"]),
        open_column(folder / "chars_counts", columns["chars_counts"]),
        idf,
    )
    columns["chars_norms"] = write_column(folder / "chars_norms", norms)
    return columns


def _row_norms(
    indptr: np.ndarray, indices: np.ndarray, counts: np.ndarray, idf: np.ndarray
) -> np.ndarray:
    """L2 norm of each stored row's TF-IDF weights, read back in chunks."""
    rows = len(indptr) - 1
    norms = np.zeros(rows, dtype=np.float32)
    for start in range(0, rows, _CHUNK):
        end = min(rows, start + _CHUNK)
        lo, hi = int(indptr[start]), int(indptr[end])
        weights = _tf(counts[lo:hi]) * idf[indices[lo:hi]]
        norms[start:end] = np.sqrt(_segment_sums(weights**2, indptr[start : end + 1] - lo))
    return norms


def _tf(counts: np.ndarray) -> np.ndarray:
    return 1 + np.log(counts.astype(np.float32))


def _segment_sums(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Sum of ``values`` within each [bounds[i], bounds[i+1]) segment (0 for empty ones)."""
    sums = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    return (sums[bounds[1:]] - sums[bounds[:-1]]).astype(np.float32)


class LexicalScorer:
    """Scores a question against the stored passages, two ways.

    ``bm25`` rewards shared (stemmed) words; ``chars`` is the cosine of character 3-5-gram
    TF-IDF vectors, which still matches "navalney" to "Navalny" and "phones" to "cellphone".
    """

    def __init__(self, folder: Path, columns: dict, count: int) -> None:
        self._count = count
        self._stemmer = _stemmer()
        self._bm25: bm25s.BM25 | None = None
        if count and (folder / _BM25).is_dir():
            self._bm25 = bm25s.BM25.load(str(folder / _BM25), mmap=True, show_progress=False)
        # Plain views of the mappings: slicing an np.memmap costs far more Python time.
        self._chars = {
            name: np.asarray(open_column(folder / name, columns[name])) for name in CHAR_COLUMNS
        }

    def bm25(self, question: str) -> np.ndarray:
        """BM25 score of each passage for ``question`` (zeros when no word is shared).

        The cost is that of the question words' posting lists, not of scoring every passage.
        """
        if self._bm25 is None:
            return np.zeros(self._count, dtype=np.float32)
        known = [w for w in self.bm25_words(question) if w in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self._count, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def bm25_words(self, question: str) -> list[str]:
        """``question``'s words as the build's ``bm25s.tokenize`` made the passages' (lower
        case, words of two letters or more, English stopwords dropped, stemmed), in order,
        without its per-call vocabulary and progress-bar set-up."""
        words = _BM25_WORDS(question.lower())
        return self._stemmer.stemWords([w for w in words if w not in _BM25_STOPWORDS])

    def chars(self, question: str, rows: Sequence[int]) -> np.ndarray:
        """Character n-gram cosine of ``question`` with each passage in ``rows``."""
        out = np.zeros(len(rows), dtype=np.float32)
        query_ids, query_counts = char_ngram_counts(question)
        if not len(rows) or not len(query_ids):
            return out
        idf = self._chars["chars_idf"]
        query_weights = _tf(query_counts) * idf[query_ids]
        query_weights /= float(np.linalg.norm(query_weights)) or 1.0
        indptr = self._chars["chars_indptr"]
        chosen = np.asarray(rows, dtype=np.int64)
        starts, ends = indptr[chosen], indptr[chosen + 1]
        entries = run_rows(starts, ends)  # the candidates' stored n-grams, one row after another
        ids = self._chars["chars_indices"][entries]
        position = np.minimum(np.searchsorted(query_ids, ids), len(query_ids) - 1)
        shared = np.flatnonzero(query_ids[position] == ids)
        # Only the n-grams the question has add to the dot products.
        products = (
            _tf(self._chars["chars_counts"][entries[shared]])
            * idf[ids[shared]]
            * query_weights[position[shared]]
        )
        owner = np.repeat(np.arange(len(chosen)), ends - starts)[shared]
        dots = np.bincount(owner, weights=products, minlength=len(chosen)).astype(np.float32)
        norms = np.asarray(self._chars["chars_norms"][chosen], dtype=np.float32)
        np.divide(dots, norms, out=out, where=norms > 0)
        return out


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Rows of the ``k`` highest positive scores, by partial selection (no full sort)."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if len(scores) >= _SAMPLED_FROM:
        rows = np.flatnonzero(scores >= _sampled_bar(scores, k))
        if len(rows) >= k:  # so the k highest are all among them
            return rows[np.argpartition(-scores[rows], k - 1)[:k]]
    positive = np.flatnonzero(scores > 0)
    if len(positive) <= k:
        return positive
    best = np.argpartition(-scores[positive], k - 1)[:k]
    return positive[best]


# A question's words are in tens of thousands of passages at 1M (59k at the median on the
# question sets), and selecting among all of them took ~1.9 ms a question. A bar set on every
# _SAMPLE_STEP-th score leaves about 2k rows at or above it; fewer than k, and all are used.
_SAMPLED_FROM = 200_000
_SAMPLE_STEP = 16


def _sampled_bar(scores: np.ndarray, k: int) -> float:
    """A score that about ``2 * k`` of ``scores`` reach, from a systematic sample."""
    sample = scores[::_SAMPLE_STEP]
    sample = sample[sample > 0]  # numpy's selection is slow among many equal values
    if not len(sample):
        return float(np.nextafter(np.float32(0), np.float32(1)))  # positive scores only
    rank = min(len(sample), max(1, 2 * k // _SAMPLE_STEP))
    return float(np.partition(sample, len(sample) - rank)[len(sample) - rank])
