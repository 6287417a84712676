"""The embedding backends: the onnx-int8 backend gives what the torch one gives, and an index
remembers which backend built it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.settings import Settings
from index.build import build_index
from index.embed import Embedder
from index.errors import IndexNotReady, ModelError
from index.store import load_index
from tests.conftest import SEED_CORPUS
from tests.test_cli import _modules_after, _run

TEXTS = [
    "Where will Russians hold the candlelight gatherings?",
    "Police detained 37 people at a courtyard gathering in St Petersburg on Sunday evening.",
    "Navalny's chief of staff, Leonid Volkov, wrote on Twitter: «Светите фонариками!»",
]


@pytest.fixture(scope="module")
def onnx_embedder() -> Embedder:
    return Embedder(threads=1, backend="onnx-int8")


def test_onnx_backend_gives_unit_vectors_and_word_pieces_aligned_with_offsets(
    onnx_embedder: Embedder, embedder: Embedder
) -> None:
    assert onnx_embedder.name == "all-MiniLM-L6-v2 [onnx-int8]"
    assert (onnx_embedder.dim, onnx_embedder.max_tokens) == (embedder.dim, embedder.max_tokens)
    encoded = onnx_embedder.encode_tokens(TEXTS)
    reference = embedder.encode_tokens(TEXTS)
    pieces = onnx_embedder._runner.tokenizer
    for text, enc, ref in zip(TEXTS, encoded, reference, strict=True):
        assert enc.vector.dtype == np.float32 and enc.tokens.dtype == np.float16
        assert abs(float(np.linalg.norm(enc.vector)) - 1) < 1e-5
        norms = np.linalg.norm(enc.tokens.astype(np.float32), axis=1)
        assert np.allclose(norms, 1, atol=1e-2)
        assert len(enc.tokens) == len(enc.token_ids) == len(enc.offsets) > 0
        for piece, (start, end) in zip(
            pieces.convert_ids_to_tokens(enc.token_ids.tolist()), enc.offsets, strict=True
        ):
            if piece != "[UNK]":
                assert text[start:end].lower() == piece.removeprefix("##")
        # The same model: the same word pieces, and vectors close to torch's.
        assert (enc.token_ids == ref.token_ids).all() and (enc.offsets == ref.offsets).all()
        assert float(enc.vector @ ref.vector) > 0.99
        same_piece = (enc.tokens.astype(np.float32) * ref.tokens.astype(np.float32)).sum(axis=1)
        assert same_piece.min() > 0.98
    # NEWSBOT_THREADS sizes onnxruntime's pool as it does torch's.
    assert onnx_embedder._runner._session.get_session_options().intra_op_num_threads == 1
    pooled = onnx_embedder.encode(TEXTS)
    assert np.allclose(pooled, np.stack([e.vector for e in encoded]), atol=1e-5)


def test_onnx_vectors_do_not_depend_on_batch_neighbours(onnx_embedder: Embedder) -> None:
    alone = onnx_embedder.encode_tokens(TEXTS[:1])[0]
    padded = onnx_embedder.encode_tokens([TEXTS[0], "a much longer text " * 30])[0]
    assert np.allclose(alone.vector, padded.vector, atol=1e-4)
    assert len(alone.tokens) == len(padded.tokens)


def test_index_of_one_backend_is_not_searched_with_another(
    onnx_embedder: Embedder, seed_index: Path, tmp_path: Path
) -> None:
    onnx_index = tmp_path / "onnx-index"
    build_index(SEED_CORPUS, onnx_index, lambda: onnx_embedder, onnx_embedder.name)
    assert len(load_index(onnx_index, onnx_embedder.name).passages) == 5
    with pytest.raises(IndexNotReady, match=r"built with model 'all-MiniLM-L6-v2 \[onnx-int8\]'"):
        load_index(onnx_index, "all-MiniLM-L6-v2")
    result = _run("ask", "coma?", env={"NEWSBOT_INDEX_DIR": str(seed_index),
                                       "NEWSBOT_BACKEND": "onnx-int8"})  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "built with model 'all-MiniLM-L6-v2'" in result.stderr
    assert "newsbot build` --full" in result.stderr


def test_backend_setting_is_validated() -> None:
    assert Settings(_env_file=None, backend="onnx-int8").model_identity() == (
        "all-MiniLM-L6-v2 [onnx-int8]"
    )
    assert Settings(_env_file=None).model_identity() == "all-MiniLM-L6-v2"
    result = _run("sources", env={"NEWSBOT_BACKEND": "tensorflow"})
    assert result.returncode == 2
    assert "NEWSBOT_BACKEND" in result.stderr and "Traceback" not in result.stderr


def test_onnx_backend_has_weights_only_for_the_packaged_model() -> None:
    with pytest.raises(ModelError, match="NEWSBOT_BACKEND=torch"):
        Embedder("some/other-model", backend="onnx-int8")


def test_ask_with_onnx_loads_neither_torch_transformers_nor_sklearn(
    onnx_embedder: Embedder, tmp_path: Path
) -> None:
    index = tmp_path / "onnx-index"
    build_index(SEED_CORPUS, index, lambda: onnx_embedder, onnx_embedder.name)
    loaded = _modules_after(
        ["ask", "--json", "--index", str(index), "how long was navalny in a coma"],
        env={"NEWSBOT_BACKEND": "onnx-int8"},
    )
    assert "onnxruntime" in loaded and "faiss" in loaded  # it did answer
    heavy = {"torch", "transformers", "sentence_transformers", "sklearn"}
    assert not loaded & heavy, loaded & heavy
