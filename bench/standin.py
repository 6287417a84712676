"""A stand-in for the model's forward pass, so the real build can run at 1M passages on 2 cores.

``StandInEmbedder`` has the interface ``build_index`` uses of ``index.embed.Embedder``
(``name``, ``dim``, ``max_tokens``, ``count_tokens``, ``encode``, ``encode_tokens`` and a
``multilingual`` encoder), and everything in it is real except the transformer layers:

- word pieces: the model's real tokenizer (same ids, offsets, truncation at 256 pieces, special
  tokens dropped), so passages are cut and word pieces stored exactly as in a real build;
- a word piece's vector: the model's own static input-embedding row for its id (a real 384-d
  vector of all-MiniLM-L6-v2, read from the packaged weights), L2-normalised, float16;
- a passage's pooled vector: the normalised mean of its word pieces' rows (special tokens
  included, as the model's mean pooling does);
- the multilingual channel (512-d, one vector per sentence, as the real encoder): the normalised
  mean of fixed random rows, one per word (hashed); cheaper than the tokenizer, since a build
  encodes every sentence, and its vectors cost what the real ones cost (same count and size).

Deterministic and text-dependent: equal texts give equal vectors, texts sharing words give
similar ones. What it is not: the model's contextual vectors. Their distribution differs
(static rows are less anisotropic than contextual ones), so ANN recall measured on them is a
figure of this distribution, and the answers found with them mean nothing (no quality figures).
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence

import numpy as np

from index.embed import Encoded, resolve_model
from index.embed import _unit as unit

_SEED = 20261201
MULTILINGUAL_DIM = 512
_WORD_ROWS = 1 << 16


@functools.cache
def _input_embeddings(location: str) -> np.ndarray:
    """The model's word-piece input-embedding matrix (vocabulary, dim), float32."""
    from safetensors.numpy import load_file

    weights = load_file(f"{location}/model.safetensors")
    name = next(k for k in weights if k.endswith("word_embeddings.weight"))
    return np.ascontiguousarray(weights[name], dtype=np.float32)


class StandInMultilingual:
    """The multilingual encoder's interface (``encode``): a text's vector is the normalised mean
    of fixed random 512-d rows, one per word (a word's row picked by its CRC-32), so texts that
    share words are close. No tokenizer: the build calls it for every sentence."""

    def __init__(self) -> None:
        rng = np.random.default_rng(_SEED)
        self._table = rng.standard_normal((_WORD_ROWS, MULTILINGUAL_DIM)).astype(np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text (shape ``(len(texts), 512)``)."""
        out = np.zeros((len(texts), MULTILINGUAL_DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [zlib.crc32(w.encode("utf-8")) % _WORD_ROWS for w in text.lower().split()]
            out[row] = self._table[words or [0]].mean(axis=0)
        return unit(out).astype(np.float32)


class StandInEmbedder:
    """``Embedder``'s build-side interface with static input-embedding rows for vectors."""

    def __init__(self, name: str, model: str = "all-MiniLM-L6-v2", max_tokens: int = 256) -> None:
        from transformers import AutoTokenizer

        location = resolve_model(model)
        self.name = name  # the identity the index records: the real model's, so it serves
        self.tokenizer = AutoTokenizer.from_pretrained(location)
        self.table = _input_embeddings(location)
        self.dim = int(self.table.shape[1])
        self.max_tokens = max_tokens
        self.multilingual = StandInMultilingual()

    def count_tokens(self, text: str) -> int:
        """Number of word pieces the model sees for ``text`` (special tokens excluded)."""
        return len(self.tokenizer.tokenize(text))

    def _batch(self, texts: list[str]) -> dict:
        return self.tokenizer(
            texts, truncation=True, max_length=self.max_tokens, return_offsets_mapping=True
        )

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Pooled vectors, (len(texts), dim) L2-normalised float32 rows."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, ids in enumerate(self._batch(texts)["input_ids"]):
            out[row] = self.table[ids].mean(axis=0)
        return unit(out).astype(np.float32)

    def encode_tokens(self, texts: list[str], batch_size: int = 32) -> list[Encoded]:
        """Pooled and word-piece vectors as ``Embedder.encode_tokens`` gives them."""
        batch = self._batch(texts)
        out = []
        for ids, offsets in zip(batch["input_ids"], batch["offset_mapping"], strict=True):
            rows = self.table[ids]
            out.append(
                Encoded(
                    vector=unit(rows.mean(axis=0)).astype(np.float32),
                    tokens=unit(rows[1:-1]).astype(np.float16),
                    token_ids=np.asarray(ids[1:-1], dtype=np.int32),
                    offsets=np.asarray(offsets[1:-1], dtype=np.int32).reshape(-1, 2),
                )
            )
        return out
