"""The stored index: one folder per build, and a ``current`` link swapped atomically.

Layout of an index folder::

    current -> builds/<name>         the live build (a relative symlink, replaced by rename)
    builds/<name>/manifest.json      format, model, per-article hashes, counts, file checksums
    builds/<name>/vectors.faiss      pooled passage vectors, inner product, stable ids (IDMap2)
    builds/<name>/passages.jsonl     the passage table, one JSON object per line, in id order
    builds/<name>/articles.json      article metadata by id
    builds/<name>/tokens.npy         word-piece vectors of all passages (float16), for matching
    builds/<name>/token_ids.npy      their vocabulary ids
    builds/<name>/token_offsets.npy  their character spans inside each passage
    builds/<name>/ml_*.npy           multilingual passage and sentence vectors (crosslingual.py)

A build is written beside the live one and swapped in by renaming the link, so a reader sees the
old build or the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

from index.crosslingual import CrosslingualVectors, load_vectors, save_vectors
from index.errors import IndexNotReady, NewsbotError
from index.passages import Passage

FORMAT_VERSION = 1
_FILES = (
    "vectors.faiss",
    "passages.jsonl",
    "articles.json",
    "tokens.npy",
    "token_ids.npy",
    "token_offsets.npy",
)
_KEEP_BUILDS = 2
_REBUILD_HINT = "run `newsbot build`"


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


@dataclass
class IndexData:
    """Everything a build holds, in memory. Rows of ``vectors`` follow ``passages``."""

    manifest: dict
    articles: dict[str, ArticleInfo]
    passages: list[StoredPassage]
    vectors: np.ndarray
    tokens: np.ndarray
    token_ids: np.ndarray
    token_offsets: np.ndarray
    crosslingual: CrosslingualVectors | None = None  # cross-lingual channel; None: built without

    @property
    def build_id(self) -> str:
        return str(self.manifest.get("build_id", ""))


class BuildLocked(NewsbotError):
    """Another build is writing to the same index folder."""


def current_build(index_dir: Path) -> Path | None:
    """The folder of the live build, or None when there is none yet."""
    link = index_dir / "current"
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def current_build_id(index_dir: Path) -> str | None:
    """A cheap fingerprint of the live build, for noticing that it changed."""
    try:
        return os.readlink(index_dir / "current")
    except OSError:
        return None


def load_index(index_dir: Path, model: str | None = None, link: str | None = None) -> IndexData:
    """Load and verify the live build (or the build that ``link``, a value of
    ``current_build_id``, named).

    Raises ``IndexNotReady`` with a one-line instruction when the index is missing, damaged,
    of another format, or built with a model other than ``model``.
    """
    build = current_build(index_dir) if link is None else index_dir / link
    if build is None or not build.is_dir():
        raise IndexNotReady(f"no index in {index_dir}: {_REBUILD_HINT}")
    manifest = _read_manifest(build)
    if model is not None and manifest.get("model") != model:
        raise IndexNotReady(
            f"the index in {index_dir} was built with model {manifest.get('model')!r}, "
            f"not the configured {model!r}: {_REBUILD_HINT} --full"
        )
    _verify_files(build, manifest)
    try:
        return _read_build(build, manifest)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexNotReady(f"index file in {build} is damaged ({exc}): {_REBUILD_HINT}") from exc


def _read_manifest(build: Path) -> dict:
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexNotReady(f"index in {build} has no manifest: {_REBUILD_HINT}") from exc
    except (OSError, ValueError) as exc:
        raise IndexNotReady(f"index manifest in {build} is damaged: {_REBUILD_HINT}") from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexNotReady(f"index in {build} has an unknown format: {_REBUILD_HINT} --full")
    return manifest


def _verify_files(build: Path, manifest: dict) -> None:
    expected = manifest.get("files", {})
    for name in _FILES:
        path = build / name
        if not path.is_file():
            raise IndexNotReady(f"index file {path} is missing: {_REBUILD_HINT}")
        if expected.get(name) != _sha256(path):
            raise IndexNotReady(f"index file {path} is damaged: {_REBUILD_HINT}")


def _read_build(build: Path, manifest: dict) -> IndexData:
    index = faiss.read_index(str(build / "vectors.faiss"))
    with (build / "passages.jsonl").open(encoding="utf-8") as handle:
        passages = [_passage_from_row(json.loads(line)) for line in handle]
    articles_raw = json.loads((build / "articles.json").read_text(encoding="utf-8"))
    articles = {doc_id: ArticleInfo(**row) for doc_id, row in articles_raw.items()}
    vectors = _vectors_in_order(index, [p.id for p in passages])
    return IndexData(
        manifest=manifest,
        articles=articles,
        passages=passages,
        vectors=vectors,
        tokens=np.load(build / "tokens.npy"),
        token_ids=np.load(build / "token_ids.npy"),
        token_offsets=np.load(build / "token_offsets.npy"),
        crosslingual=load_vectors(build, manifest.get("crosslingual"), len(passages)),
    )


def _vectors_in_order(index: faiss.Index, ids: list[int]) -> np.ndarray:
    if index.ntotal != len(ids):
        raise ValueError(f"{index.ntotal} vectors for {len(ids)} passages")
    if not ids:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_batch(np.asarray(ids, dtype=np.int64)).astype(np.float32)


def _passage_from_row(row: dict) -> StoredPassage:
    sentences = tuple(tuple(s) for s in row["sentences"])
    passage = Passage(
        doc_id=row["doc_id"],
        paragraph=row["paragraph"],
        part=row["part"],
        section=row["section"],
        text=row["text"],
        start=row["start"],
        end=row["end"],
        sentences=sentences,  # type: ignore[arg-type]
    )
    return StoredPassage(row["id"], passage, row["tok_start"], row["tok_end"])


def _passage_row(stored: StoredPassage) -> dict:
    row = {"id": stored.id, **asdict(stored.passage)}
    row["sentences"] = [list(s) for s in stored.passage.sentences]
    row.update(tok_start=stored.tok_start, tok_end=stored.tok_end)
    return row


def save_index(index_dir: Path, data: IndexData) -> Path:
    """Write ``data`` as a new build beside the live one, then make it live by renaming a link.

    Returns the new build's folder. Old builds beyond the previous one are removed.
    """
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{uuid.uuid4().hex[:8]}"
    staging = builds / f".staging-{name}"
    staging.mkdir()
    try:
        _write_build(staging, data, name)
        final = builds / name
        staging.rename(final)
        _fsync_dir(builds)
        _point_current(index_dir, Path("builds") / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _prune(index_dir, keep=final)
    return final


def _write_build(folder: Path, data: IndexData, name: str) -> None:
    ids = np.array([p.id for p in data.passages], dtype=np.int64)
    dim = int(data.vectors.shape[1]) if data.vectors.size else int(data.manifest["dimension"])
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    if len(ids):
        index.add_with_ids(np.ascontiguousarray(data.vectors, dtype=np.float32), ids)
    faiss.write_index(index, str(folder / "vectors.faiss"))
    lines = [json.dumps(_passage_row(p), ensure_ascii=False) for p in data.passages]
    (folder / "passages.jsonl").write_text("".join(f"{x}\n" for x in lines), encoding="utf-8")
    articles = {k: asdict(v) for k, v in data.articles.items()}
    (folder / "articles.json").write_text(
        json.dumps(articles, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    np.save(folder / "tokens.npy", data.tokens.astype(np.float16))
    np.save(folder / "token_ids.npy", data.token_ids.astype(np.int32))
    np.save(folder / "token_offsets.npy", data.token_offsets.astype(np.int32))
    manifest = dict(data.manifest, build_id=name, format_version=FORMAT_VERSION)
    manifest["files"] = {f: _sha256(folder / f) for f in _FILES}
    manifest.pop("crosslingual", None)  # cross-lingual channel: checked by size, not hashed
    if data.crosslingual is not None:
        manifest["crosslingual"] = save_vectors(folder, data.crosslingual)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    for path in folder.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(folder)


def _point_current(index_dir: Path, target: Path) -> None:
    tmp = index_dir / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(target, tmp)
    os.replace(tmp, index_dir / "current")
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
    for stale in (p for p in builds if p.name.startswith(".staging-")):
        shutil.rmtree(stale, ignore_errors=True)


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
