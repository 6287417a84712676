"""Word-piece matching: how well each word of a question is met somewhere in a passage.

For every word piece of the question, take its best cosine against the passage's contextual
word-piece vectors, and average those maxima weighted by how rare the piece is in the corpus
(a "MaxSim" in the manner of late-interaction retrievers). The question's own vectors come from
the same forward pass that gives its pooled vector, so this costs no extra encoding.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from index.columns import run_rows

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

    def _similarities(self, question: np.ndarray, spans: np.ndarray) -> np.ndarray:
        """Cosines of the word pieces of ``spans`` ((start, end) rows, taken one after
        another) with each question piece (columns)."""
        pieces = run_rows(spans[:, 0], spans[:, 1])
        codes, scales = self._tokens[pieces], self._scales[pieces]
        # Scaling the products rather than the vectors: fewer multiplications.
        sims = int8_products(codes, question)
        sims *= scales[:, None]
        return sims

    def scores(self, question: np.ndarray, weights: np.ndarray, rows: list[int]) -> np.ndarray:
        """Weighted MaxSim of ``question`` (pieces x dim) against each passage in ``rows``."""
        return self.match(question, weights, rows).scores

    def match(self, question: np.ndarray, weights: np.ndarray, rows: list[int]) -> Match:
        """``question`` (pieces x dim) matched against the passages in ``rows``: their
        weighted MaxSim scores, and the similarities kept for highlighting their sentences."""
        if not len(rows) or len(question) == 0:
            return Match(np.zeros(len(rows), dtype=np.float32), {}, np.zeros((0, 0)), weights)
        question, used = _weighted(question, weights)
        spans = self._spans[np.asarray(rows)].astype(np.int64)
        sims = self._similarities(question, spans)
        lengths = spans[:, 1] - spans[:, 0]
        starts = np.cumsum(lengths) - lengths
        best = _segment_max(sims, starts, lengths)
        places = dict(zip(rows, zip(starts.tolist(), *spans.T.tolist(), strict=True), strict=True))
        return Match((best @ used) / weights.sum(), places, sims, used, self._offsets)

    def span_sims(
        self, question: np.ndarray, row: int, start: int, end: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cosines of ``question``'s word pieces with the pieces of passage ``row`` that lie in
        characters ``start``..``end``, and those pieces' character spans (relative to ``start``)."""
        first, last = int(self._spans[row][0]), int(self._spans[row][1])
        offsets = np.asarray(self._offsets[first:last])
        inside = np.flatnonzero((offsets[:, 0] >= start) & (offsets[:, 1] <= end))
        if not len(inside) or not len(question):
            return np.zeros((len(question), len(inside)), np.float32), offsets[inside] - start
        pieces = np.stack([first + inside, first + inside + 1], axis=1)  # runs of one piece
        return self._similarities(question, pieces).T, offsets[inside] - start


class Match:
    """A question's word pieces matched against candidate passages (``TokenMatcher.match``)."""

    def __init__(
        self,
        scores: np.ndarray,
        places: dict[int, tuple[int, int, int]],
        sims: np.ndarray,
        weights: np.ndarray,
        offsets: np.ndarray | None = None,
    ) -> None:
        self.scores = scores
        self._places = places  # row -> (first row in sims, first and end word piece)
        self._sims = sims
        self._weights = weights  # of the question pieces kept in ``sims``
        self._offsets = offsets

    def sentence_scores(self, row: int, sentences: tuple[tuple[int, int], ...]) -> np.ndarray:
        """Weighted MaxSim against each sentence of passage ``row`` (one of the matched rows),
        from the similarities already computed. A sentence with no word pieces (cut off by
        the model's input limit) scores -inf."""
        out = np.full(len(sentences), -np.inf, dtype=np.float32)
        if row not in self._places or self._offsets is None:
            return out
        at, first, last = self._places[row]
        sims = self._sims[at : at + last - first]
        offsets = self._offsets[first:last]
        total = self._weights.sum()
        for n, (s, e) in enumerate(sentences):
            inside = (offsets[:, 0] >= s) & (offsets[:, 1] <= e)
            if inside.any():
                out[n] = float(sims[inside].max(axis=0) @ self._weights / total)
        return out


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


def _weighted(question: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The question pieces that carry weight, and their weights: a piece of weight 0 adds
    nothing to a weighted MaxSim, so its products need not be computed."""
    keep = weights > 0
    if keep.all():
        return question, weights
    return question[keep], weights[keep]


def int8_products(codes: np.ndarray, question: np.ndarray) -> np.ndarray:
    """int8 ``codes`` (rows x dim) times the float ``question`` (pieces x dim) transposed, as
    float32 (rows x pieces), without converting ``codes`` to floats.

    The question is split into two int8 layers, the second the rounding error of the first,
    so the integer products (exact in int32) sum to the float products within 3e-5 of the
    largest: a seventh of what storing the question's vectors as float16 already moves them
    (2e-4). A third layer took that to 4e-7 at 1.5x to 2x the time of the product (~0.2 ms
    a question at 12k passages). The integer product (onnxruntime's ``MatMulInteger``) runs
    several times faster than a float BLAS product of these thin shapes; where it is not
    available, and for a few rows, the float product is used.
    """
    kernel = None if len(question) == 0 or len(codes) < _INT8_FROM else _int_mm()
    if kernel is None:
        return codes.astype(np.float32) @ question.astype(np.float32).T
    layers, steps = _int8_layers(np.asarray(question, dtype=np.float32))
    products = kernel(codes, np.ascontiguousarray(layers.T)).astype(np.float32)
    products *= steps.ravel()
    pieces = len(question)
    out = products[:, :pieces]
    for layer in range(1, _LAYERS):
        out += products[:, layer * pieces : (layer + 1) * pieces]
    return out


_LAYERS = 2
# Below this many rows (one passage, one sentence) splitting the question costs more than the
# float product it saves.
_INT8_FROM = 512


def _int8_layers(question: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``question`` as ``_LAYERS`` int8 matrices stacked (layers x pieces rows) and each
    row's step per layer (layers x pieces): question ≈ Σ layer × step."""
    rest = question.astype(np.float64)
    layers, steps = [], []
    for _ in range(_LAYERS):
        step = np.abs(rest).max(axis=1) / 127
        step[step == 0] = 1.0
        layer = np.rint(rest / step[:, None])
        rest = rest - layer * step[:, None]
        layers.append(layer.astype(np.int8))
        steps.append(step)
    return np.concatenate(layers), np.asarray(steps, dtype=np.float32)


# A one-node ONNX graph, opset 13: y = MatMulInteger(a: uint8[n, k], b: int8[k, m]), int32
# [n, m]. Serialized with onnx.helper (checked by onnx.checker), so onnx itself is not needed.
# onnxruntime's fast x86 path is uint8 x int8; its int8 x int8 kernel was 5x slower here.
_MATMUL_INTEGER = (
    b'\x08\x08:n\n\x18\n\x01a\n\x01b\x12\x01y"\rMatMulInteger\x12\rint8_productsZ\x15\n'
    b"\x01a\x12\x10\n\x0e\x08\x02\x12\n\n\x03\x12\x01n\n\x03\x12\x01kZ\x15\n\x01b\x12"
    b"\x10\n\x0e\x08\x03\x12\n\n\x03\x12\x01k\n\x03\x12\x01mb\x15\n\x01y\x12\x10\n"
    b"\x0e\x08\x06\x12\n\n\x03\x12\x01n\n\x03\x12\x01mB\x04\n\x00\x10\r"
)


@functools.cache
def _int_mm() -> Callable[[np.ndarray, np.ndarray], np.ndarray] | None:
    """The exact int32 product of int8 matrices, or None where onnxruntime cannot give it.

    onnxruntime is already loaded by the default backend; torch's ``_int_mm`` was as fast
    (0.9 ms for 6,500 x 384 by 384 x 30) but importing torch cost ~1.2 s CPU at the first
    question of every process."""
    try:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # These products are thin: a second thread loses more in hand-off than it gains.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            _MATMUL_INTEGER, options, providers=["CPUExecutionProvider"]
        )
    except Exception:  # any failure here means: use the float product
        return None

    def product(codes: np.ndarray, layers: np.ndarray) -> np.ndarray:
        # uint8 = int8 + 128 (flipping the sign bit), then the 128 x column sums taken back.
        shifted = np.ascontiguousarray(codes).view(np.uint8) ^ np.uint8(0x80)
        (counts,) = session.run(None, {"a": shifted, "b": layers})
        counts -= 128 * layers.sum(axis=0, dtype=np.int32)
        return counts

    return product


def _segment_max(sims: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Per passage (its run of rows of ``sims``) and question piece (column), the max;
    empty passages give -1."""
    result = np.full((len(lengths), sims.shape[1]), -1.0, dtype=np.float32)
    nonempty = np.flatnonzero(np.asarray(lengths) > 0)
    if len(nonempty):
        result[nonempty] = np.maximum.reduceat(sims, starts[nonempty], axis=0)
    return result
