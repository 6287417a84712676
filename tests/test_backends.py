"""The embedding backends: the onnx-int8 backend (the default) gives what the torch one gives,
an index remembers which backend built it, and an index of the other backend is never searched
or reused: commands say what to do, ``newsbot build`` embeds everything again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bot.runner import ensure_index
from bot.settings import Settings
from index.build import build_index
from index.embed import Embedder
from index.errors import IndexNotReady, ModelError
from index.model_names import DEFAULT_BACKEND
from index.store import current_build, load_index
from newsbot.engine import open_searcher, run_build
from tests.conftest import SEED_CORPUS
from tests.test_cli import _modules_after, _run

TEXTS = [
    "Where will Russians hold the candlelight gatherings?",
    "Police detained 37 people at a courtyard gathering in St Petersburg on Sunday evening.",
    "Navalny's chief of staff, Leonid Volkov, wrote on Twitter: «Светите фонариками!»",
]


TORCH_NAME = "all-MiniLM-L6-v2"  # what an index built with torch records (as before backends)
ONNX_NAME = "all-MiniLM-L6-v2 [onnx-int8]"


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(threads=1, backend="torch")


@pytest.fixture(scope="module")
def torch_index(tmp_path_factory: pytest.TempPathFactory, torch_embedder: Embedder) -> Path:
    """The seed index as an existing user has it: built with torch, before the default changed."""
    index_dir = tmp_path_factory.mktemp("torch-index")
    build_index(SEED_CORPUS, index_dir, lambda: torch_embedder, torch_embedder.name)
    return index_dir


def test_the_default_backend_is_onnx_int8(embedder: Embedder) -> None:
    assert DEFAULT_BACKEND == "onnx-int8"
    assert embedder.backend == "onnx-int8" and embedder.name == ONNX_NAME
    assert Settings(_env_file=None).model_identity() == ONNX_NAME
    assert Settings(_env_file=None, backend="torch").model_identity() == TORCH_NAME


def test_onnx_backend_gives_unit_vectors_and_word_pieces_aligned_with_offsets(
    embedder: Embedder, torch_embedder: Embedder
) -> None:
    assert (embedder.dim, embedder.max_tokens) == (torch_embedder.dim, torch_embedder.max_tokens)
    encoded = embedder.encode_tokens(TEXTS)
    reference = torch_embedder.encode_tokens(TEXTS)
    pieces = embedder._runner.tokenizer
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
    # NEWSBOT_THREADS sizes onnxruntime's pool as it does torch's (the fixture asks for 2).
    assert embedder._runner._session.get_session_options().intra_op_num_threads == 2
    pooled = embedder.encode(TEXTS)
    assert np.allclose(pooled, np.stack([e.vector for e in encoded]), atol=1e-5)


def test_onnx_vectors_do_not_depend_on_batch_neighbours(embedder: Embedder) -> None:
    alone = embedder.encode_tokens(TEXTS[:1])[0]
    padded = embedder.encode_tokens([TEXTS[0], "a much longer text " * 30])[0]
    assert np.allclose(alone.vector, padded.vector, atol=1e-4)
    assert len(alone.tokens) == len(padded.tokens)


def test_an_index_of_one_backend_is_not_searched_with_the_other(
    seed_index: Path, torch_index: Path
) -> None:
    assert len(load_index(torch_index, TORCH_NAME).passages) == 5
    with pytest.raises(IndexNotReady) as caught:
        load_index(torch_index, ONNX_NAME)
    assert str(caught.value) == (
        f"the index in {torch_index} was built with all-MiniLM-L6-v2 [torch], not the configured "
        "all-MiniLM-L6-v2 [onnx-int8]: run `newsbot build` (it embeds every article again), "
        "or set NEWSBOT_BACKEND=torch"
    )
    with pytest.raises(IndexNotReady, match=r"or set NEWSBOT_BACKEND=onnx-int8$"):
        load_index(seed_index, TORCH_NAME)


@pytest.mark.slow
def test_ask_and_sources_on_a_torch_index_say_what_to_do_in_one_line(torch_index: Path) -> None:
    env = {"NEWSBOT_INDEX_DIR": str(torch_index)}
    for command in (["ask", "coma?"], ["sources"]):
        result = _run(*command, env=env)
        assert result.returncode == 1
        assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
        assert "built with all-MiniLM-L6-v2 [torch]" in result.stderr
        assert "run `newsbot build`" in result.stderr
        assert "NEWSBOT_BACKEND=torch" in result.stderr
    # The way back that the line offers: the old backend answers from the old index.
    result = _run("ask", "coma?", "--json", env={**env, "NEWSBOT_BACKEND": "torch"})
    assert result.returncode == 0, result.stderr
    assert '"answered": true' in result.stdout


def test_newsbot_run_on_a_torch_index_fails_before_polling_and_keeps_the_index(
    torch_index: Path, embedder: Embedder
) -> None:
    settings = Settings(_env_file=None, index_dir=torch_index, corpus_dir=SEED_CORPUS)
    live = current_build(torch_index)
    ensure_index(settings, embedder)  # an index is there: run does not build over it
    with pytest.raises(IndexNotReady, match=r"\[torch\], not the configured .*\[onnx-int8\]"):
        open_searcher(settings, embedder)
    assert current_build(torch_index) == live


def test_build_embeds_everything_again_when_the_backend_changed(
    torch_index: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(torch_index, index_dir, symlinks=True)
    settings = Settings(_env_file=None, index_dir=index_dir, corpus_dir=SEED_CORPUS)
    report = run_build(settings, embedder=embedder)
    assert (report.embedded, report.reused, report.changed) == (5, 0, True)
    assert len(load_index(index_dir, ONNX_NAME).passages) == 5
    with pytest.raises(IndexNotReady, match="NEWSBOT_BACKEND=onnx-int8"):
        load_index(index_dir, TORCH_NAME)
    # Now in step with the model: the next build has nothing to do.
    assert run_build(settings, embedder=embedder).changed is False


def test_a_foreign_model_names_the_model_setting(seed_index: Path) -> None:
    with pytest.raises(IndexNotReady) as caught:
        load_index(seed_index, "other-model")
    assert "built with all-MiniLM-L6-v2 [onnx-int8], not the configured other-model [torch]" in (
        str(caught.value)
    )
    assert str(caught.value).endswith(
        "or set NEWSBOT_MODEL=all-MiniLM-L6-v2 NEWSBOT_BACKEND=onnx-int8"
    )


def test_backend_setting_is_validated() -> None:
    assert Settings(_env_file=None, backend="onnx-int8").model_identity() == ONNX_NAME
    result = _run("sources", env={"NEWSBOT_BACKEND": "tensorflow"})
    assert result.returncode == 2
    assert "NEWSBOT_BACKEND" in result.stderr and "Traceback" not in result.stderr


def test_onnx_backend_has_weights_only_for_the_packaged_model() -> None:
    with pytest.raises(ModelError, match="NEWSBOT_BACKEND=torch"):
        Embedder("some/other-model", backend="onnx-int8")


def test_ask_with_onnx_loads_neither_torch_transformers_nor_sklearn(seed_index: Path) -> None:
    loaded = _modules_after(
        ["ask", "--json", "--index", str(seed_index), "how long was navalny in a coma"],
        env={"NEWSBOT_BACKEND": "onnx-int8"},
    )
    assert "onnxruntime" in loaded and "faiss" in loaded  # it did answer
    heavy = {"torch", "transformers", "sentence_transformers", "sklearn"}
    assert not loaded & heavy, loaded & heavy


def test_openmp_threads_wait_passively_from_the_first_import() -> None:
    # OpenMP reads the policy when faiss loads it; setting it later has no effect.
    code = "import os; import index.store, faiss; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "PASSIVE"
