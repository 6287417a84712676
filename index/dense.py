"""Dense candidates: the passages whose pooled vectors are nearest a question's.

The pooled vectors are stored once, as a memory-mapped float32 column whose rows follow the
passage table. Below ``ann_from`` passages the search is exact: FAISS's brute-force kNN over
that mapping, nothing copied. From ``ann_from`` on, the build also writes an HNSW graph over
8-bit scalar-quantised vectors (about 650 bytes a passage, memory-mapped at load; no second
float32 copy); its candidates are scored exactly from the mapping like any others.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

ANN_FILE = "dense.hnsw"
DEFAULT_ANN_FROM = 20_000
HNSW_M = 32
EF_CONSTRUCTION = 80
EF_SEARCH = 128
_TRAIN_SAMPLE = 65_536
_ADD_CHUNK = 16_384


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
    return {"kind": "hnsw", "m": HNSW_M, "ef_search": EF_SEARCH}


class DenseIndex:
    """Nearest-passage search over the pooled vectors of one build.

    ``ann`` is the HNSW graph when the build has one; without it the search is exact.
    """

    def __init__(
        self, vectors: np.ndarray, ann: faiss.Index | None = None, ef_search: int = EF_SEARCH
    ) -> None:
        self.vectors = np.asarray(vectors)  # a plain view of the mapping, not a copy
        self.ann = ann
        self.ef_search = ef_search

    @classmethod
    def open(cls, folder: Path, vectors: np.ndarray, spec: dict) -> DenseIndex:
        """The dense index a build describes with ``spec`` (its manifest's ``dense`` entry)."""
        if spec.get("kind") != "hnsw":
            return cls(vectors)
        # Mapped, not read: the graph stays in the page cache, so it costs no anonymous memory
        # and a hot reload does not hold two copies of it (faiss >= 1.10 maps HNSW codes).
        ann = faiss.read_index(str(folder / ANN_FILE), getattr(faiss, "IO_FLAG_MMAP_IFC", 0))
        if ann.ntotal != len(vectors):
            raise ValueError(f"{ANN_FILE} holds {ann.ntotal} vectors for {len(vectors)} passages")
        return cls(vectors, ann, int(spec.get("ef_search", EF_SEARCH)))

    def search(self, vector: np.ndarray, k: int) -> np.ndarray:
        """Rows of (about, with HNSW) the ``k`` passages nearest ``vector``."""
        k = min(k, len(self.vectors))
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        query = np.ascontiguousarray(vector[None, :], dtype=np.float32)
        if self.ann is None:
            _, rows = faiss.knn(query, self.vectors, k, metric=faiss.METRIC_INNER_PRODUCT)
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
