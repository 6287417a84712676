"""Building the index from the corpus, incrementally and streaming.

Only articles that are new or whose file changed are split and embedded; the passages, vectors
and word-piece vectors of unchanged articles are copied from the live build's mapped files, and
removed articles simply are not. The model is loaded only when something needs embedding.

Everything big is written to the staging folder as it is produced (word-piece vectors chunk by
chunk, pooled vectors row by row into a preallocated file), so the build's memory does not grow
with the corpus's word-piece vectors. BM25, the character n-gram weights and the MaxSim IDF are
fitted here, once, so that loading the index fits nothing.
"""

from __future__ import annotations

import datetime as dt
import mmap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.articles import MAX_ARTICLE_BYTES, Article, load_corpus
from index.columns import (
    ColumnWriter,
    RowFileWriter,
    advise,
    file_digest,
    open_column,
    write_column,
)
from index.crosslingual import MultilingualEncoder, manifest_section, write_vectors
from index.dense import ANN_FILE, DEFAULT_ANN_FROM, dense_spec, write_ann
from index.embed import Embedder
from index.errors import CorpusError, IndexNotReady
from index.lexical import write_lexical
from index.matching import DocumentFrequency, quantize
from index.passages import Passage, split_article
from index.search import scripts_of
from index.store import (
    TOKEN_COLUMNS,
    ArticleInfo,
    IndexData,
    PassageTableWriter,
    StoredPassage,
    build_lock,
    current_build,
    load_index,
    new_build,
    remove_stale_staging,
    write_articles,
    write_manifest,
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
class _Slot:
    """One passage of the new build: where it comes from, and where its word pieces went."""

    article: int
    passage: Passage
    old_row: int = -1
    id: int = -1
    tok_start: int = 0
    tok_end: int = 0


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    load_embedder: Callable[[], Embedder],
    model_name: str,
    full: bool = False,
    max_tokens: int = 128,
    progress: Progress | None = None,
    max_article_bytes: int = MAX_ARTICLE_BYTES,
    ann_from: int = DEFAULT_ANN_FROM,
) -> BuildReport:
    """Bring the index in ``index_dir`` up to date with ``corpus_dir``.

    A malformed article raises ``CorpusError`` before anything is written, so the live index
    stays as it was; so does a full disk (``IndexWriteError``). With ``full``, every article is
    embedded again. From ``ann_from`` passages on, dense search uses an HNSW graph.
    """
    started = time.perf_counter()
    articles = load_corpus(corpus_dir, max_article_bytes)
    if not articles:
        raise CorpusError(f"no articles in {corpus_dir}: add .md or .txt files (newsbot add)")
    with build_lock(index_dir):
        remove_stale_staging(index_dir)
        previous = None if full else _previous(index_dir, model_name)
        kept = _kept(previous, articles)
        fresh = [a for a in articles if a.doc_id not in kept]
        removed = _removed_count(previous, articles)
        if previous is not None and not fresh and not removed and _current(previous, ann_from):
            # Same file hashes as the live build, laid out as this version would: nothing to do.
            return _report(articles, len(previous.passages), 0, 0, started, changed=False)
        embedder = load_embedder() if fresh else None
        slots = _plan(articles, kept, previous, embedder, max_tokens)
        with new_build(index_dir) as (folder, name):
            writer = _BuildWriter(folder, slots, previous, _dimension(embedder, previous))
            writer.write(embedder, progress)
            writer.write_crosslingual(lambda: (embedder or load_embedder()).multilingual)
            writer.finish(name, articles, model_name, ann_from)
    embedded = sum(1 for s in slots if s.old_row < 0)
    return _report(articles, len(slots), embedded, removed, started, changed=True)


def _previous(index_dir: Path, model_name: str) -> IndexData | None:
    try:
        if current_build(index_dir) is None:
            return None
        return load_index(index_dir, model=model_name)
    except IndexNotReady:
        return None  # a damaged, foreign or older index, or a broken link: rebuilt from scratch


def _current(previous: IndexData, ann_from: int) -> bool:
    """Whether ``previous`` has every channel this version writes, and the dense index this
    version would write at its size (an older one may have chosen another, or built the graph
    otherwise)."""
    wanted = dense_spec(len(previous.passages), ann_from)
    return previous.crosslingual is not None and previous.manifest.get("dense") == wanted


def _kept(previous: IndexData | None, articles: list[Article]) -> set[str]:
    if previous is None:
        return set()
    wanted = {a.doc_id: a.content_hash for a in articles}
    return {
        doc_id
        for doc_id, info in previous.articles.items()
        if wanted.get(doc_id) == info.content_hash
    }


def _removed_count(previous: IndexData | None, articles: list[Article]) -> int:
    if previous is None:
        return 0
    return len(set(previous.articles) - {a.doc_id for a in articles})


def _plan(
    articles: list[Article],
    kept: set[str],
    previous: IndexData | None,
    embedder: Embedder | None,
    max_tokens: int,
) -> list[_Slot]:
    """The new build's passages in reading order: kept ones by their old row, others split."""
    old_rows: dict[str, np.ndarray] = {}
    if previous is not None and kept:
        positions = {doc_id: n for n, doc_id in enumerate(previous.articles)}
        by_article = np.asarray(previous.passages.articles)
        for doc_id in kept:
            old_rows[doc_id] = np.flatnonzero(by_article == positions[doc_id])
    slots: list[_Slot] = []
    for number, article in enumerate(articles):
        if article.doc_id in kept:
            assert previous is not None
            for row in old_rows[article.doc_id]:
                stored = previous.passages[int(row)]
                slots.append(_Slot(number, stored.passage, int(row), stored.id))
        else:
            assert embedder is not None
            for passage in split_article(article, embedder.count_tokens, max_tokens):
                slots.append(_Slot(number, passage))
    return slots


class _BuildWriter:
    """Writes one build's files into its staging folder, streaming the big arrays."""

    def __init__(
        self, folder: Path, slots: list[_Slot], previous: IndexData | None, dimension: int
    ) -> None:
        self.folder = folder
        self.slots = slots
        self.previous = previous
        self.dimension = dimension
        self.columns: dict[str, dict] = {}
        self.crosslingual: dict[str, dict] = {}
        self.files: dict[str, dict] = {}
        self.frequency = DocumentFrequency()
        # Each article's sum of pooled vectors: the story prior's input (index/story_prior.py),
        # so that a load reads one row per article instead of every passage's vector.
        articles = max((slot.article for slot in slots), default=-1) + 1
        self.article_sums = np.zeros((articles, dimension), dtype=np.float32)

    def write(self, embedder: Embedder | None, progress: Progress | None) -> None:
        """Write the pooled and word-piece vectors: kept passages copied, new ones embedded."""
        vectors = RowFileWriter(self.folder / "vectors", len(self.slots), self.dimension)
        tokens = {
            "tokens": ColumnWriter(self.folder / "tokens", "i1", (self.dimension,)),
            "token_scales": ColumnWriter(self.folder / "token_scales", "<f4"),
            "token_ids": ColumnWriter(self.folder / "token_ids", "<i4"),
            "token_offsets": ColumnWriter(self.folder / "token_offsets", "<i4", (2,)),
        }
        try:
            self._copy_kept(vectors, tokens)
            if embedder is not None:
                self._embed_new(embedder, vectors, tokens, progress)
        except BaseException:
            vectors.abandon()
            for writer in tokens.values():
                writer.abandon()
            raise
        self.columns["vectors"] = vectors.close()
        self.columns.update({name: writer.close() for name, writer in tokens.items()})

    def write_crosslingual(self, encoder: Callable[[], MultilingualEncoder]) -> None:
        """Write the cross-lingual channel (index/crosslingual.py): kept passages' vectors
        copied from the live build when it has the channel, the others encoded."""
        previous = self.previous.crosslingual if self.previous is not None else None
        self.crosslingual = write_vectors(
            self.folder,
            [slot.passage for slot in self.slots],
            [slot.old_row for slot in self.slots],
            previous,
            encoder,
        )
        self.columns.update(self.crosslingual)

    def _copy_kept(self, vectors: RowFileWriter, tokens: dict[str, ColumnWriter]) -> None:
        previous = self.previous
        if previous is None:
            return
        spans = previous.passages.token_spans
        for column in (previous.vectors, *(getattr(previous, n) for n in TOKEN_COLUMNS)):
            advise(column, mmap.MADV_SEQUENTIAL)  # kept rows are read in order
        for row, slot in enumerate(self.slots):
            if slot.old_row < 0:
                continue
            start, end = (int(v) for v in spans[slot.old_row])
            vectors.write(row, previous.vectors[slot.old_row])
            self.article_sums[slot.article] += previous.vectors[slot.old_row]
            parts = {name: getattr(previous, name)[start:end] for name in TOKEN_COLUMNS}
            self._append_tokens(slot, tokens, parts)

    def _embed_new(
        self,
        embedder: Embedder,
        vectors: RowFileWriter,
        tokens: dict[str, ColumnWriter],
        progress: Progress | None,
    ) -> None:
        new = [row for row, slot in enumerate(self.slots) if slot.old_row < 0]
        # Batches of similar length waste less work on padding; rows keep reading order.
        new.sort(key=lambda row: len(self.slots[row].passage.text))
        if progress:
            progress(0, len(new))
        for chunk_start in range(0, len(new), _EMBED_CHUNK):
            chunk = new[chunk_start : chunk_start + _EMBED_CHUNK]
            texts = [self.slots[row].passage.text for row in chunk]
            encoded = embedder.encode_tokens(texts, batch_size=_EMBED_CHUNK)
            for row, enc in zip(chunk, encoded, strict=True):
                vectors.write(row, enc.vector)
                self.article_sums[self.slots[row].article] += enc.vector
                codes, scales = quantize(enc.tokens)
                parts = {
                    "tokens": codes,
                    "token_scales": scales,
                    "token_ids": enc.token_ids,
                    "token_offsets": enc.offsets,
                }
                self._append_tokens(self.slots[row], tokens, parts)
            if progress:
                progress(chunk_start + len(chunk), len(new))

    def _append_tokens(
        self, slot: _Slot, tokens: dict[str, ColumnWriter], parts: dict[str, np.ndarray]
    ) -> None:
        for name, writer in tokens.items():
            slot.tok_start, slot.tok_end = writer.append(parts[name])
        self.frequency.add(np.asarray(parts["token_ids"]))

    def finish(self, name: str, articles: list[Article], model_name: str, ann_from: int) -> None:
        """Write the passage table, articles, lexical indexes, dense graph and manifest."""
        next_id = int(self.previous.manifest.get("next_id", 0)) if self.previous else 0
        table = PassageTableWriter(self.folder)
        texts: list[str] = []
        letters: set[str] = set()
        counts = [0] * len(articles)
        try:
            for slot in self.slots:
                if slot.id < 0:
                    slot.id, next_id = next_id, next_id + 1
                stored = StoredPassage(slot.id, slot.passage, slot.tok_start, slot.tok_end)
                table.append(stored, slot.article)
                texts.append(slot.passage.text)
                letters.update(slot.passage.text)
                counts[slot.article] += 1
        except BaseException:
            table.abandon()
            raise
        self.columns.update(table.close())
        write_articles(self.folder, [_info(a, n) for a, n in zip(articles, counts, strict=True)])
        self.files["articles.json"] = file_digest(self.folder / "articles.json")
        idf = self.frequency.idf()
        self.columns["token_idf"] = write_column(self.folder / "token_idf", idf)
        sums = np.zeros((len(articles), self.dimension), dtype=np.float32)
        sums[: len(self.article_sums)] = self.article_sums
        self.columns["article_vectors"] = write_column(self.folder / "article_vectors", sums)
        lexical_columns, lexical_files = write_lexical(self.folder, texts)
        self.columns.update(lexical_columns)
        self.files.update(lexical_files)
        dense = dense_spec(len(self.slots), ann_from)
        if dense["kind"] == "hnsw":
            vectors = open_column(self.folder / "vectors", self.columns["vectors"])
            write_ann(self.folder / ANN_FILE, vectors)
            self.files[ANN_FILE] = file_digest(self.folder / ANN_FILE)
        write_manifest(
            self.folder,
            {
                "build_id": name,
                "model": model_name,
                "dimension": self.dimension,
                "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "next_id": next_id,
                "counts": {
                    "articles": len(articles),
                    "passages": len(self.slots),
                    "tokens": int(self.columns["tokens"]["shape"][0]),
                },
                "articles": {a.doc_id: a.content_hash for a in articles},
                "scripts": scripts_of(letters),
                "tokens": "int8, one float32 scale per word piece",
                "dense": dense,
                "crosslingual": manifest_section(self.crosslingual),
                "columns": self.columns,
                "files": self.files,
            },
        )


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


def _report(
    articles: list[Article],
    passages: int,
    embedded: int,
    removed: int,
    started: float,
    changed: bool,
) -> BuildReport:
    return BuildReport(
        articles=len(articles),
        passages=passages,
        embedded=embedded,
        reused=passages - embedded,
        removed_articles=removed,
        seconds=time.perf_counter() - started,
        changed=changed,
    )
