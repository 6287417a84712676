"""The stored index: one folder per build, and a ``current`` link swapped atomically.

Layout of an index folder (format 3; 2 lacked article_vectors)::

    current -> builds/<name>        the live build (a relative symlink, replaced by rename)
    builds/<name>/manifest.json     format, model, counts, per-article hashes, and the dtype,
                                    shape, size and SHA-256 of every file below
    builds/<name>/articles.json     article metadata, in corpus order
    builds/<name>/passages          the passage table: 14 int64 per passage (id, article,
                                    paragraph, part, character span, word-piece span, spans of
                                    its text, section and sentences in the columns below)
    builds/<name>/texts             passage texts, one UTF-8 blob
    builds/<name>/sections          section titles, one UTF-8 blob (each title once)
    builds/<name>/sentences         sentence spans of all passages, int32 pairs
    builds/<name>/vectors           pooled passage vectors, float32, rows follow the table
    builds/<name>/article_vectors   each article's sum of its passages' pooled vectors, float32,
                                    rows follow articles.json (the story prior's input)
    builds/<name>/dense.hnsw        HNSW graph over them, only from ``ann_from`` passages
    builds/<name>/tokens            word-piece vectors, int8, one scale each in token_scales
    builds/<name>/token_ids         their vocabulary ids; token_offsets their character spans
    builds/<name>/token_idf         MaxSim IDF by vocabulary id, computed at build time
    builds/<name>/chars_*           character n-gram counts (CSR rows), IDF and row norms
    builds/<name>/bm25/             the BM25 index as bm25s saves it
    builds/<name>/ml_*              multilingual passage and sentence vectors, float16, and
                                    each passage's first sentence row (index/crosslingual.py)

Every array is a raw file memory-mapped at load with the shape the manifest gives, so loading
reads the manifest and the small JSON files, checks file sizes, and maps the rest: nothing is
parsed per passage, fitted or hashed. Checksums are computed while the build is written and
kept in the manifest for an audit. A build is written beside the live one and swapped in by
renaming the link, so a reader sees the old build or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.columns import ColumnWriter, open_column
from index.errors import IndexNotReady, NewsbotError
from index.model_names import mismatch_advice, shown_identity
from index.passages import Passage

if TYPE_CHECKING:
    # Loaded only when an index is searched: listing its articles needs neither faiss nor bm25s.
    from index.crosslingual import CrosslingualVectors
    from index.dense import DenseIndex
    from index.lexical import LexicalScorer

FORMAT_VERSION = 3
_KEEP_BUILDS = 2
_REBUILD_HINT = "run `newsbot build`"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)

# Columns of the passage table, in order.
_ROW = (
    "id", "article", "paragraph", "part", "start", "end", "tok_start", "tok_end",
    "text_start", "text_end", "section_start", "section_end", "sentence_start", "sentence_end",
)  # fmt: skip
_COL = {name: n for n, name in enumerate(_ROW)}
_TABLE_COLUMNS = ("passages", "texts", "sections", "sentences")
TOKEN_COLUMNS = ("tokens", "token_scales", "token_ids", "token_offsets")


@dataclass(frozen=True)
class ArticleInfo:
    """What the index keeps of an article: enough to cite it."""

    doc_id: str
    title: str
    outlet: str
    url: str
    published: str
    language: str
    content_hash: str
    passages: int


@dataclass(frozen=True)
class StoredPassage:
    """A passage with its FAISS id and the range of its word pieces in the token arrays."""

    id: int
    passage: Passage
    tok_start: int
    tok_end: int


class PassageTable(Sequence[StoredPassage]):
    """The passages of a build, read from the mapped columns one row at a time."""

    def __init__(
        self,
        rows: np.ndarray,
        texts: np.ndarray,
        sections: np.ndarray,
        sentences: np.ndarray,
        doc_ids: Sequence[str],
    ) -> None:
        self.rows = rows
        # Plain views of the mappings (nothing copied): indexing an np.memmap builds a memmap
        # object each time, which a question pays for every passage it quotes.
        self._rows = np.asarray(rows)
        self._texts = np.asarray(texts)
        self._sections = np.asarray(sections)
        self._sentences = np.asarray(sentences)
        self._doc_ids = doc_ids

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, row: int) -> StoredPassage:  # type: ignore[override]
        values = self._rows[row].tolist()
        get = dict(zip(_ROW, values, strict=True))
        spans = self._sentences[get["sentence_start"] : get["sentence_end"]].tolist()
        passage = Passage(
            doc_id=self._doc_ids[get["article"]],
            paragraph=get["paragraph"],
            part=get["part"],
            section=_decode(self._sections, get["section_start"], get["section_end"]),
            text=self.text(row),
            start=get["start"],
            end=get["end"],
            sentences=tuple((s, e) for s, e in spans),
        )
        return StoredPassage(get["id"], passage, get["tok_start"], get["tok_end"])

    def __iter__(self) -> Iterator[StoredPassage]:
        return (self[row] for row in range(len(self)))

    def rows_of(self, doc_ids: Iterable[str]) -> list[int]:
        """The rows of the passages of the articles ``doc_ids``, in order."""
        names = set(doc_ids)
        wanted = [n for n, doc_id in enumerate(self._doc_ids) if doc_id in names]
        column = self.rows[:, _ROW.index("article")]
        return [int(row) for row in np.flatnonzero(np.isin(column, wanted))]

    def text(self, row: int) -> str:
        """The text of passage ``row``, without building the whole passage."""
        start, end = self._rows[row, _COL["text_start"] : _COL["text_end"] + 1]
        return _decode(self._texts, int(start), int(end))

    @property
    def ids(self) -> np.ndarray:
        """The stable id of each row."""
        return self.rows[:, _COL["id"]]

    @property
    def articles(self) -> np.ndarray:
        """The article (a position in ``articles.json``) of each row."""
        return self.rows[:, _COL["article"]]

    @property
    def token_spans(self) -> np.ndarray:
        """(start, end) rows of each passage's word pieces in the token columns."""
        return self.rows[:, _COL["tok_start"] : _COL["tok_end"] + 1]


def _decode(blob: np.ndarray, start: int, end: int) -> str:
    return bytes(blob[start:end]).decode("utf-8")


@dataclass
class IndexData:
    """One build, mapped: rows of ``vectors`` follow ``passages``.

    The token columns hold the word-piece vectors (int8, with ``token_scales``), their ids and
    character offsets; ``token_idf`` is the MaxSim IDF by vocabulary id. ``article_vectors``
    holds each article's sum of pooled vectors, rows in the order of ``articles``.
    """

    manifest: dict
    folder: Path
    articles: dict[str, ArticleInfo]
    passages: PassageTable
    vectors: np.ndarray
    tokens: np.ndarray
    token_scales: np.ndarray
    token_ids: np.ndarray
    token_offsets: np.ndarray
    token_idf: np.ndarray
    article_vectors: np.ndarray
    dense: DenseIndex
    lexical: LexicalScorer
    crosslingual: CrosslingualVectors | None = None  # cross-lingual channel; None: built without

    @property
    def build_id(self) -> str:
        return str(self.manifest.get("build_id", ""))


class BuildLocked(NewsbotError):
    """Another build is writing to the same index folder."""


class IndexWriteError(NewsbotError):
    """A build could not be written (the disk is full, say); the live build stays."""


def current_build(index_dir: Path) -> Path | None:
    """The folder of the live build, or None when there is none yet.

    Raises ``IndexNotReady`` when the ``current`` link cannot be followed (a link that points
    to itself, say); a build replaces such a link.
    """
    link = index_dir / "current"
    if not link.is_symlink() and not link.exists():
        return None
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return None
    except (OSError, RuntimeError) as exc:
        raise IndexNotReady(
            f"the index link {link} cannot be followed ({_reason(exc)}): {_REBUILD_HINT}"
        ) from exc
    return target if target.is_dir() else None


def current_build_id(index_dir: Path) -> str | None:
    """A cheap fingerprint of the live build, for noticing that it changed."""
    try:
        return os.readlink(index_dir / "current")
    except OSError:
        return None


def load_index(index_dir: Path, model: str | None = None, link: str | None = None) -> IndexData:
    """Map the live build (or the build that ``link``, a value of ``current_build_id``, named).

    Loading checks the manifest and file sizes, then maps the arrays: its cost does not grow
    with the number of passages. Raises ``IndexNotReady`` with a one-line instruction when the
    index is missing, damaged, unreadable, of another format, or built with a model other than
    ``model``.
    """
    build, manifest = _checked_build(index_dir, model, link)
    try:
        return _read_build(build, manifest)
    except PermissionError as exc:
        raise IndexNotReady(
            f"index file in {build} is unreadable ({_reason(exc)}): "
            "check the permissions of the index folder"
        ) from exc
    except FileNotFoundError as exc:
        raise IndexNotReady(f"index file {exc.filename} is missing: {_REBUILD_HINT}") from exc
    except (OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError) as exc:
        raise IndexNotReady(
            f"index file in {build} is damaged ({_reason(exc)}): {_REBUILD_HINT}"
        ) from exc


def load_articles(index_dir: Path, model: str | None = None) -> dict[str, ArticleInfo]:
    """The articles of the live build, checked as by ``load_index`` (manifest, model, file
    sizes) but without mapping the arrays or loading FAISS: what ``newsbot sources`` lists."""
    build, _ = _checked_build(index_dir, model, None)
    try:
        rows = json.loads((build / "articles.json").read_text(encoding="utf-8"))
        return {row["doc_id"]: ArticleInfo(**row) for row in rows}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexNotReady(
            f"index file in {build} is damaged ({_reason(exc)}): {_REBUILD_HINT}"
        ) from exc


def _checked_build(index_dir: Path, model: str | None, link: str | None) -> tuple[Path, dict]:
    """The build folder (the live one, or ``link``'s) and its checked manifest."""
    build = current_build(index_dir) if link is None else index_dir / link
    if build is None or not build.is_dir():
        raise IndexNotReady(f"no index in {index_dir}: {_REBUILD_HINT}")
    manifest = read_manifest(build)
    built = manifest.get("model")
    if model is not None and built != model:
        if not isinstance(built, str):
            raise IndexNotReady(f"the index in {index_dir} names no model: {_REBUILD_HINT}")
        # Vectors of another model or backend are another space: never searched or reused.
        raise IndexNotReady(
            f"the index in {index_dir} was built with {shown_identity(built)}, not the "
            f"configured {shown_identity(model)}: {mismatch_advice(built, model)}"
        )
    return build, manifest


def _dense_index(build: Path, vectors: np.ndarray, spec: dict) -> DenseIndex:
    from index.dense import DenseIndex

    return DenseIndex.open(build, vectors, spec)


def _crosslingual(columns: dict, section: dict | None, passages: int) -> CrosslingualVectors | None:
    from index.crosslingual import load_vectors

    return load_vectors(columns, section, passages)


def _lexical_scorer(build: Path, columns: dict, passages: int) -> LexicalScorer:
    from index.lexical import LexicalScorer

    return LexicalScorer(build, columns, passages)


def read_manifest(build: Path) -> dict:
    """The manifest of ``build``, checked for shape; ``IndexNotReady`` if it is not usable."""
    path = build / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexNotReady(f"index in {build} has no manifest: {_REBUILD_HINT}") from exc
    except PermissionError as exc:
        raise IndexNotReady(
            f"index manifest {path} is unreadable (permission denied): "
            "check the permissions of the index folder"
        ) from exc
    except (OSError, ValueError) as exc:
        raise IndexNotReady(f"index manifest in {build} is damaged: {_REBUILD_HINT}") from exc
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if isinstance(version, int) and version < FORMAT_VERSION:
        raise IndexNotReady(
            f"the index in {build} has an older format ({version}), rebuild needed: {_REBUILD_HINT}"
        )
    if version != FORMAT_VERSION:
        raise IndexNotReady(
            f"index in {build} has an unknown format, rebuild needed: {_REBUILD_HINT} --full"
        )
    if not _well_formed(manifest):
        raise IndexNotReady(f"index manifest in {build} is damaged: {_REBUILD_HINT}")
    return manifest


def _well_formed(manifest: dict) -> bool:
    files, columns, counts = (manifest.get(k) for k in ("files", "columns", "counts"))
    return (
        isinstance(files, dict)
        and all(isinstance(v, dict) and isinstance(v.get("bytes"), int) for v in files.values())
        and isinstance(columns, dict)
        and all(isinstance(v, dict) and isinstance(v.get("shape"), list) for v in columns.values())
        and isinstance(counts, dict)
        and all(isinstance(counts.get(k), int) for k in ("articles", "passages", "tokens"))
        and isinstance(manifest.get("articles"), dict)
        and isinstance(manifest.get("dense", {}), dict)
    )


def _read_build(build: Path, manifest: dict) -> IndexData:
    for name, spec in manifest["files"].items():
        size = (build / name).stat().st_size
        if size != spec["bytes"]:
            raise ValueError(f"{name} holds {size} bytes, the manifest says {spec['bytes']}")
    columns = {name: open_column(build / name, spec) for name, spec in manifest["columns"].items()}
    counts = manifest["counts"]
    _check_counts(columns, counts, int(manifest["dimension"]))
    rows = json.loads((build / "articles.json").read_text(encoding="utf-8"))
    articles = {row["doc_id"]: ArticleInfo(**row) for row in rows}
    if len(articles) != counts["articles"]:
        raise ValueError(f"{len(articles)} articles, the manifest says {counts['articles']}")
    passages = PassageTable(
        columns["passages"],
        columns["texts"],
        columns["sections"],
        columns["sentences"],
        list(articles),
    )
    return IndexData(
        manifest=manifest,
        folder=build,
        articles=articles,
        passages=passages,
        vectors=columns["vectors"],
        tokens=columns["tokens"],
        token_scales=columns["token_scales"],
        token_ids=columns["token_ids"],
        token_offsets=columns["token_offsets"],
        token_idf=columns["token_idf"],
        article_vectors=columns["article_vectors"],
        dense=_dense_index(build, columns["vectors"], manifest.get("dense", {})),
        lexical=_lexical_scorer(build, manifest["columns"], counts["passages"]),
        crosslingual=_crosslingual(columns, manifest.get("crosslingual"), counts["passages"]),
    )


def _check_counts(columns: dict[str, np.ndarray], counts: dict, dimension: int) -> None:
    expected = {
        "passages": (counts["passages"], len(_ROW)),
        "vectors": (counts["passages"], dimension),
        "article_vectors": (counts["articles"], dimension),
        "tokens": (counts["tokens"], dimension),
        "token_scales": (counts["tokens"],),
        "token_ids": (counts["tokens"],),
        "token_offsets": (counts["tokens"], 2),
        "chars_norms": (counts["passages"],),
        "chars_indptr": (counts["passages"] + 1,),
    }
    for name, shape in expected.items():
        if name not in columns or columns[name].shape != shape:
            got = columns[name].shape if name in columns else "nothing"
            raise ValueError(f"{name} has shape {got}, the manifest's counts say {shape}")
    table = columns["passages"]
    if len(table):
        last = table[-1]
        limits = {"text_end": "texts", "section_end": "sections", "sentence_end": "sentences"}
        for field, column in limits.items():
            if int(last[_COL[field]]) > len(columns[column]):
                raise ValueError(f"the passage table points past the end of {column}")


class PassageTableWriter:
    """Writes the passage table's columns, one passage at a time, in row order."""

    def __init__(self, folder: Path) -> None:
        self._texts = ColumnWriter(folder / "texts", "u1")
        self._sections = ColumnWriter(folder / "sections", "u1")
        self._sentences = ColumnWriter(folder / "sentences", "<i4", (2,))
        self._rows = ColumnWriter(folder / "passages", "<i8", (len(_ROW),))
        self._section_spans: dict[str, tuple[int, int]] = {}

    def append(self, stored: StoredPassage, article: int) -> None:
        """Add ``stored`` (of the article at position ``article``) as the next row."""
        passage = stored.passage
        text = self._texts.append(np.frombuffer(passage.text.encode("utf-8"), dtype=np.uint8))
        section = self._section_spans.get(passage.section)
        if section is None:
            encoded = np.frombuffer(passage.section.encode("utf-8"), dtype=np.uint8)
            section = self._sections.append(encoded)
            self._section_spans[passage.section] = section
        spans = np.asarray(passage.sentences, dtype=np.int32).reshape(-1, 2)
        sentences = self._sentences.append(spans)
        place = (passage.paragraph, passage.part, passage.start, passage.end)
        words = (stored.tok_start, stored.tok_end)
        row = (stored.id, article, *place, *words, *text, *section, *sentences)
        self._rows.append(np.asarray([row], dtype=np.int64))

    def close(self) -> dict[str, dict]:
        """Finish the table; return its columns' descriptions."""
        return {
            "passages": self._rows.close(),
            "texts": self._texts.close(),
            "sections": self._sections.close(),
            "sentences": self._sentences.close(),
        }

    def abandon(self) -> None:
        for writer in (self._rows, self._texts, self._sections, self._sentences):
            writer.abandon()


def write_articles(folder: Path, articles: Sequence[ArticleInfo]) -> None:
    """Write the article metadata; their order gives the article positions of the table."""
    rows = [asdict(a) for a in articles]
    (folder / "articles.json").write_text(
        json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8"
    )


def write_manifest(folder: Path, manifest: dict) -> None:
    """Write the manifest last, with the build's format version."""
    manifest = dict(manifest, format_version=FORMAT_VERSION)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


@contextlib.contextmanager
def new_build(index_dir: Path) -> Iterator[tuple[Path, str]]:
    """A staging folder for a new build, and its name; made live when the block ends.

    The block writes the build's files into the folder. When it ends normally the folder is
    renamed into place and ``current`` is pointed at it; when it raises, the folder is removed
    and the live build stays. A full disk raises ``IndexWriteError`` with a one-line message.
    """
    builds = index_dir / "builds"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{uuid.uuid4().hex[:8]}"
    staging = builds / f".staging-{name}"
    final = builds / name
    try:
        builds.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        yield staging, name
        _fsync_tree(staging)
        staging.rename(final)
        _fsync_dir(builds)
        _point_current(index_dir, Path("builds") / name)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if current_build_id(index_dir) != str(Path("builds") / name):
            shutil.rmtree(final, ignore_errors=True)
        if _disk_full(exc):
            raise IndexWriteError(
                f"no space left on device writing the index in {index_dir}: "
                "free space and run newsbot build again"
            ) from exc
        raise
    _prune(index_dir, keep=final)


def _disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno in _DISK_FULL
    # FAISS reports a failed write as a RuntimeError carrying the C library's message.
    return isinstance(exc, RuntimeError) and "No space left on device" in str(exc)


def remove_stale_staging(index_dir: Path) -> None:
    """Remove staging folders left by builds that were killed (call with the build lock)."""
    builds = index_dir / "builds"
    if builds.is_dir():
        for stale in builds.glob(".staging-*"):
            shutil.rmtree(stale, ignore_errors=True)


def _point_current(index_dir: Path, target: Path) -> None:
    tmp = index_dir / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(target, tmp)
    try:
        os.replace(tmp, index_dir / "current")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(index_dir)


def _prune(index_dir: Path, keep: Path) -> None:
    builds = sorted(
        (p for p in (index_dir / "builds").iterdir() if p.is_dir()),
        key=lambda p: p.name,
    )
    finished = [p for p in builds if not p.name.startswith(".")]
    for old in finished[:-_KEEP_BUILDS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock; raise ``BuildLocked`` if another build has it."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".build.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLocked(
                f"another build is writing {index_dir}: wait for it to finish, then try again"
            ) from exc
        yield


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        else:
            _fsync_dir(path)
    _fsync_dir(folder)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
