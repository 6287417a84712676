"""Assembling the answer pipeline from settings: the model, builds and the live searcher."""

from __future__ import annotations

from pathlib import Path

from bot.settings import Settings
from index.build import BuildReport, Progress, build_index
from index.embed import Embedder
from index.live import LiveSearcher
from index.store import load_articles


def load_embedder(settings: Settings) -> Embedder:
    """The configured embedding model, loaded with the configured thread count."""
    return Embedder(settings.model, threads=settings.threads, backend=settings.backend)


def open_searcher(settings: Settings, embedder: Embedder | None = None) -> LiveSearcher:
    """A searcher over the live index; raises ``IndexNotReady`` if there is none (before
    loading the model, which takes seconds, when no ``embedder`` is given)."""
    if embedder is None:
        load_articles(settings.index_dir, settings.model_identity())
    return LiveSearcher(
        settings.index_dir, embedder or load_embedder(settings), settings.search_options()
    )


def run_build(
    settings: Settings,
    corpus_dir: Path | None = None,
    index_dir: Path | None = None,
    full: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
) -> BuildReport:
    """Bring the index up to date with the corpus, with ``embedder`` if one is already loaded
    (otherwise the model is loaded only if needed)."""
    return build_index(
        corpus_dir or settings.corpus_dir,
        index_dir or settings.index_dir,
        lambda: embedder or load_embedder(settings),
        settings.model_identity(),
        full=full,
        progress=progress,
        max_article_bytes=settings.max_article_bytes,
    )
