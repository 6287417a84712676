"""The benchmark's stand-in embedder (bench/standin.py) gives what the real one gives a build."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.embed import Embedder
from index.search import Searcher, SearchOptions
from index.store import load_index

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from standin import MULTILINGUAL_DIM, StandInEmbedder

TEXTS = [
    "Mourners lit candles outside the embassy on Saturday.",
    "The kernel's scheduler balances tasks across CPUs, and the handbook explains apt pinning.",
]


@pytest.fixture(scope="module")
def stand_in(embedder: Embedder) -> StandInEmbedder:
    return StandInEmbedder(embedder.name)


def test_stand_in_encodes_with_the_real_shapes_tokens_and_offsets(
    embedder: Embedder, stand_in: StandInEmbedder
) -> None:
    assert stand_in.dim == embedder.dim
    assert stand_in.max_tokens == embedder.max_tokens
    real, fake = embedder.encode_tokens(TEXTS), stand_in.encode_tokens(TEXTS)
    for text, r, f in zip(TEXTS, real, fake, strict=True):
        assert stand_in.count_tokens(text) == embedder.count_tokens(text) == len(f.token_ids)
        np.testing.assert_array_equal(f.token_ids, r.token_ids)
        np.testing.assert_array_equal(f.offsets, r.offsets)
        for name in ("vector", "tokens", "token_ids", "offsets"):
            assert getattr(f, name).shape == getattr(r, name).shape
            assert getattr(f, name).dtype == getattr(r, name).dtype
        assert np.linalg.norm(f.vector) == pytest.approx(1.0, abs=1e-5)
        assert np.linalg.norm(f.tokens.astype(np.float32), axis=1) == pytest.approx(1.0, abs=1e-2)
    pooled = stand_in.encode(TEXTS)
    assert pooled.shape == (2, embedder.dim) and pooled.dtype == np.float32
    np.testing.assert_allclose(pooled[0], fake[0].vector, atol=1e-6)


def test_stand_in_vectors_are_deterministic_and_depend_on_the_text(
    embedder: Embedder, stand_in: StandInEmbedder
) -> None:
    again = StandInEmbedder(embedder.name)
    np.testing.assert_array_equal(stand_in.encode(TEXTS), again.encode(TEXTS))
    a, b = stand_in.encode(TEXTS)
    assert float(a @ b) < 0.99
    multilingual = stand_in.multilingual.encode(TEXTS)
    assert multilingual.shape == (2, MULTILINGUAL_DIM) and multilingual.dtype == np.float32
    np.testing.assert_array_equal(multilingual, again.multilingual.encode(TEXTS))
    assert np.linalg.norm(multilingual, axis=1) == pytest.approx(1.0, abs=1e-5)


def test_a_stand_in_build_is_served_by_the_real_model(
    tmp_path: Path, embedder: Embedder, stand_in: StandInEmbedder
) -> None:
    corpus = Path(__file__).resolve().parent.parent / "corpus"
    report = build_index(corpus, tmp_path / "index", lambda: stand_in, stand_in.name)
    data = load_index(tmp_path / "index", embedder.name)
    assert len(data.passages) == report.passages > 0
    assert data.crosslingual is not None
    question = "why did people light candles"
    answer = Searcher(data, embedder, SearchOptions()).ask(question)
    assert answer.question == question
    assert len(answer.passages) <= report.passages
