"""Dense candidates: the passages whose pooled vectors are nearest a question's.

The pooled vectors are stored once, as a memory-mapped float32 column whose rows follow the
passage table. Below ``ann_from`` passages the search is exact: FAISS's brute-force kNN over
that mapping, nothing copied. From ``ann_from`` on, the build also writes an HNSW graph over
8-bit scalar-quantised vectors (a few hundred bytes a passage in memory, no second float32
copy); its candidates are scored exactly from the mapping like any others. The graph file is
memory-mapped too (FAISS's ``IO_FLAG_MMAP_IFC``: its links and codes are used in place), so
loading or reloading a build reads nothing of it and the pages a search touches are page cache
shared by every build that maps the file.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

ANN_FILE = "dense.hnsw"
# From here on the graph is faster than exact search in a question's flow, where the scoring
# before it has pushed the vectors out of the CPU's cache: at 12k passages, 0.15-0.7 ms against
# ~1 ms (docs/retrieval.md). Below 9k the exact search is 0.2 ms.
DEFAULT_ANN_FROM = 10_000
HNSW_M = 32
# How hard the build looks for each vector's neighbours. 80 left the graph short of the recall
# aim at scale: with stand-in vectors at 1M, the exact top 10 among the 50 candidates was 0.90
# at efSearch 512, 0.93 at 1024; with 200, 0.95 and 0.97 (real 100k: 0.95 at 512 became 0.98).
# It costs ~2.2x the graph's build time: 25 s at 100k on two cores, 21 min at 1M on one.
EF_CONSTRUCTION = 200
# How far the graph search looks, by graph size: a search-time setting, not a build property.
# Recall falls as the graph grows, and real questions (short, away from the passages) are
# harder than passage-like queries. Recall@10 against exact search for the question sets'
# questions (efConstruction 200): 12k passages 0.954 at 64, 0.974 at 128 (0.15 ms); real 100k
# 0.949 at 256, 0.962 at 384, 0.972 at 512 (1.2 ms). At 1M only stand-in vectors were
# measured (held-out queries): the exact top 10 among the 50 candidates 0.953 at 512, 0.961
# at 768 (~4.7 ms), 0.969 at 1024 (docs/benchmarks.md).
EF_SEARCH_BY_SIZE = ((50_000, 128), (500_000, 512))
EF_SEARCH_LARGEST = 768
_TRAIN_SAMPLE = 65_536
_ADD_CHUNK = 16_384


def ef_search_for(passages: int) -> int:
    """The graph search's efSearch for a graph over ``passages`` vectors."""
    for up_to, ef in EF_SEARCH_BY_SIZE:
        if passages < up_to:
            return ef
    return EF_SEARCH_LARGEST


def dense_spec(passages: int, ann_from: int) -> dict:
    """The manifest's ``dense`` entry this version writes for ``passages`` passages: exact
    search below ``ann_from``, else the graph with its build parameters."""
    return {"kind": "flat"} if passages < ann_from else _graph_spec()


def _graph_spec() -> dict:
    return {"kind": "hnsw", "m": HNSW_M, "ef_construction": EF_CONSTRUCTION}


def write_ann(path: Path, vectors: np.ndarray) -> dict:
    """Build the HNSW graph over ``vectors`` and write it to ``path``; return its description."""
    index = faiss.IndexHNSWSQ(
        vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT
    )
    index.hnsw.efConstruction = EF_CONSTRUCTION
    step = max(1, len(vectors) // _TRAIN_SAMPLE)
    index.train(np.ascontiguousarray(vectors[::step], dtype=np.float32))
    for start in range(0, len(vectors), _ADD_CHUNK):
        index.add(np.ascontiguousarray(vectors[start : start + _ADD_CHUNK], dtype=np.float32))
    faiss.write_index(index, str(path))
    return _graph_spec()


class DenseIndex:
    """Nearest-passage search over the pooled vectors of one build.

    ``ann`` is the HNSW graph when the build has one; without it the search is exact.
    """

    def __init__(
        self, vectors: np.ndarray, ann: faiss.Index | None = None, ef_search: int | None = None
    ) -> None:
        self.vectors = np.asarray(vectors)  # a plain view of the mapping, not a copy
        self.ann = ann
        self.ef_search = ef_search_for(len(self.vectors)) if ef_search is None else ef_search

    @classmethod
    def open(cls, folder: Path, vectors: np.ndarray, spec: dict) -> DenseIndex:
        """The dense index a build describes with ``spec`` (its manifest's ``dense`` entry)."""
        if spec.get("kind") != "hnsw":
            return cls(vectors)
        ann = faiss.read_index(str(folder / ANN_FILE), faiss.IO_FLAG_MMAP_IFC)
        if ann.ntotal != len(vectors):
            raise ValueError(f"{ANN_FILE} holds {ann.ntotal} vectors for {len(vectors)} passages")
        return cls(vectors, ann)

    def search(self, vector: np.ndarray, k: int) -> np.ndarray:
        """Rows of (about, with HNSW) the ``k`` passages nearest ``vector``."""
        k = min(k, len(self.vectors))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        query = np.ascontiguousarray(vector[None, :], dtype=np.float32)
        if self.ann is None:
            rows = _exact_search(query, self.vectors, k)
        else:
            params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, k))
            _, rows = self.ann.search(query, k, params=params)
        return rows[0][rows[0] >= 0]

    def scores(self, vector: np.ndarray, rows: list[int]) -> np.ndarray:
        """Exact cosine of ``vector`` with the passages in ``rows``."""
        return np.asarray(self.vectors[np.asarray(rows, dtype=np.int64)]) @ vector

    def similarity(self, row: int, other: int) -> float:
        """Cosine of two passages."""
        return float(np.dot(self.vectors[row], self.vectors[other]))


def _exact_search(query: np.ndarray, vectors: np.ndarray, k: int) -> np.ndarray:
    """FAISS's brute-force kNN of one question, on the calling thread alone.

    For a single question FAISS splits the passages among its OpenMP threads, and the hand-off
    costs more than it saves: at 12k passages the search took 1.15 ms wall and 1.96 CPU-ms on
    two threads, 0.38 ms on one; at 20k, 3.1 ms against 0.96 (docs/retrieval.md). The thread
    count is an OpenMP setting of the calling thread only, put back afterwards.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        _, rows = faiss.knn(query, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
    finally:
        faiss.omp_set_num_threads(threads)
    return rows
