"""Building the index from the corpus, incrementally.

Only articles that are new or whose file changed are split and embedded; the passages, vectors
and word-piece vectors of unchanged articles are carried over from the live build, and removed
articles simply are not. The model is loaded only when something needs embedding.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.articles import Article, load_corpus
from index.crosslingual import build_vectors, carried_over
from index.embed import Embedder
from index.errors import CorpusError, IndexNotReady
from index.passages import Passage, split_article
from index.store import (
    ArticleInfo,
    IndexData,
    StoredPassage,
    build_lock,
    current_build,
    load_index,
    save_index,
)

Progress = Callable[[int, int], None]
"""Called with (passages embedded so far, passages to embed)."""

_EMBED_CHUNK = 64


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    articles: int
    passages: int
    embedded: int
    reused: int
    removed_articles: int
    seconds: float
    changed: bool


@dataclass
class _Piece:
    """One passage on its way into the new build, with its vectors."""

    passage: Passage
    vector: np.ndarray
    tokens: np.ndarray
    token_ids: np.ndarray
    token_offsets: np.ndarray
    id: int = -1


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    load_embedder: Callable[[], Embedder],
    model_name: str,
    full: bool = False,
    max_tokens: int = 128,
    progress: Progress | None = None,
) -> BuildReport:
    """Bring the index in ``index_dir`` up to date with ``corpus_dir``.

    A malformed article raises ``CorpusError`` before anything is written, so the live index
    stays as it was. With ``full``, every article is embedded again.
    """
    started = time.perf_counter()
    articles = load_corpus(corpus_dir)
    if not articles:
        raise CorpusError(f"no articles in {corpus_dir}: add .md or .txt files (newsbot add)")
    with build_lock(index_dir):
        previous = None if full else _previous(index_dir, model_name)
        reusable = _reusable(previous, articles)
        fresh = [a for a in articles if a.doc_id not in reusable]
        removed = _removed_count(previous, articles)
        has_crosslingual = previous is not None and previous.crosslingual is not None
        if previous is not None and not fresh and not removed and has_crosslingual:
            # Same file hashes as the live build: there is nothing to write.
            return _report(articles, previous, started)
        embedder = load_embedder() if fresh else None
        new_pieces = _embed_articles(fresh, embedder, max_tokens, progress) if embedder else {}
        pieces = {**reusable, **new_pieces}
        data = _assemble(articles, pieces, previous, model_name, _dimension(embedder, previous))
        data.crosslingual = build_vectors(  # cross-lingual channel (index/crosslingual.py)
            [(p.id, p.passage) for p in data.passages],
            carried_over(previous.crosslingual, [p.id for p in previous.passages])
            if previous
            else {},
            lambda: (embedder or load_embedder()).multilingual,
        )
        save_index(index_dir, data)
    embedded = sum(len(v) for v in new_pieces.values())
    return BuildReport(
        articles=len(articles),
        passages=len(data.passages),
        embedded=embedded,
        reused=len(data.passages) - embedded,
        removed_articles=removed,
        seconds=time.perf_counter() - started,
        changed=True,
    )


def _previous(index_dir: Path, model_name: str) -> IndexData | None:
    if current_build(index_dir) is None:
        return None
    try:
        return load_index(index_dir, model=model_name)
    except IndexNotReady:
        return None  # a damaged or foreign index is rebuilt from scratch


def _reusable(previous: IndexData | None, articles: list[Article]) -> dict[str, list[_Piece]]:
    if previous is None:
        return {}
    wanted = {a.doc_id: a.content_hash for a in articles}
    kept = {
        doc_id
        for doc_id, info in previous.articles.items()
        if wanted.get(doc_id) == info.content_hash
    }
    pieces: dict[str, list[_Piece]] = {doc_id: [] for doc_id in kept}
    for row, stored in enumerate(previous.passages):
        if stored.passage.doc_id in kept:
            span = slice(stored.tok_start, stored.tok_end)
            pieces[stored.passage.doc_id].append(
                _Piece(
                    passage=stored.passage,
                    vector=previous.vectors[row],
                    tokens=previous.tokens[span],
                    token_ids=previous.token_ids[span],
                    token_offsets=previous.token_offsets[span],
                    id=stored.id,
                )
            )
    return pieces


def _removed_count(previous: IndexData | None, articles: list[Article]) -> int:
    if previous is None:
        return 0
    return len(set(previous.articles) - {a.doc_id for a in articles})


def _embed_articles(
    articles: list[Article], embedder: Embedder, max_tokens: int, progress: Progress | None
) -> dict[str, list[_Piece]]:
    passages = [p for a in articles for p in split_article(a, embedder.count_tokens, max_tokens)]
    # Batches of similar length waste less work on padding; _assemble restores reading order.
    passages.sort(key=lambda p: len(p.text))
    pieces: dict[str, list[_Piece]] = {a.doc_id: [] for a in articles}
    done = 0
    if progress:
        progress(0, len(passages))
    for chunk_start in range(0, len(passages), _EMBED_CHUNK):
        chunk = passages[chunk_start : chunk_start + _EMBED_CHUNK]
        for passage, enc in zip(
            chunk,
            embedder.encode_tokens([p.text for p in chunk], batch_size=_EMBED_CHUNK),
            strict=True,
        ):
            pieces[passage.doc_id].append(
                _Piece(passage, enc.vector, enc.tokens, enc.token_ids, enc.offsets)
            )
        done += len(chunk)
        if progress:
            progress(done, len(passages))
    return pieces


def _assemble(
    articles: list[Article],
    pieces: dict[str, list[_Piece]],
    previous: IndexData | None,
    model_name: str,
    dimension: int,
) -> IndexData:
    next_id = int(previous.manifest.get("next_id", 0)) if previous else 0
    stored: list[StoredPassage] = []
    ordered: list[_Piece] = []
    position = 0
    for article in articles:
        for piece in sorted(pieces[article.doc_id], key=_reading_order):
            if piece.id < 0:
                piece.id, next_id = next_id, next_id + 1
            count = len(piece.token_ids)
            stored.append(StoredPassage(piece.id, piece.passage, position, position + count))
            ordered.append(piece)
            position += count
    infos = {a.doc_id: _info(a, len(pieces[a.doc_id])) for a in articles}
    manifest = {
        "model": model_name,
        "dimension": dimension,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "next_id": next_id,
        "counts": {"articles": len(articles), "passages": len(stored), "tokens": position},
        "articles": {a.doc_id: a.content_hash for a in articles},
    }
    return IndexData(
        manifest=manifest,
        articles=infos,
        passages=stored,
        vectors=_stack([p.vector for p in ordered], (0, dimension), np.float32),
        tokens=_stack([p.tokens for p in ordered], (0, dimension), np.float16, rows=True),
        token_ids=_stack([p.token_ids for p in ordered], (0,), np.int32, rows=True),
        token_offsets=_stack([p.token_offsets for p in ordered], (0, 2), np.int32, rows=True),
    )


def _reading_order(piece: _Piece) -> tuple[int, int]:
    return piece.passage.paragraph, piece.passage.part


def _stack(parts: list[np.ndarray], empty: tuple, dtype: type, rows: bool = False) -> np.ndarray:
    if not parts:
        return np.zeros(empty, dtype=dtype)
    joined = np.concatenate(parts) if rows else np.vstack(parts)
    return joined.astype(dtype, copy=False)


def _dimension(embedder: Embedder | None, previous: IndexData | None) -> int:
    if embedder is not None:
        return embedder.dim
    if previous is not None:
        return int(previous.manifest["dimension"])
    return 0


def _info(article: Article, passages: int) -> ArticleInfo:
    return ArticleInfo(
        doc_id=article.doc_id,
        title=article.title,
        outlet=article.outlet,
        url=article.url,
        published=article.published,
        language=article.language,
        content_hash=article.content_hash,
        passages=passages,
    )


def _report(articles: list[Article], previous: IndexData, started: float) -> BuildReport:
    return BuildReport(
        articles=len(articles),
        passages=len(previous.passages),
        embedded=0,
        reused=len(previous.passages),
        removed_articles=0,
        seconds=time.perf_counter() - started,
        changed=False,
    )
