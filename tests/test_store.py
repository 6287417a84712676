"""The lean on-disk index: mapped not read, candidate-only scoring, ANN recall, and the ways a
stored index can be broken (old format, malformed manifest, link loops, a full disk)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import columns
from index.build import build_index
from index.dense import ANN_FILE, DenseIndex, dense_spec, ef_search_for, write_ann
from index.embed import Embedder
from index.errors import IndexNotReady
from index.matching import Match
from index.model_names import DEFAULT_BACKEND, DEFAULT_MODEL, model_identity
from index.search import Searcher, SearchOptions
from index.store import IndexWriteError, current_build, load_index

SEED_QUESTION = "What nerve agent was Navalny poisoned with?"


def _copy_index(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return current_build(target)


def _bytes_read() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def test_load_maps_the_arrays_and_reads_little(seed_index: Path, embedder: Embedder) -> None:
    tokens_bytes = (current_build(seed_index) / "tokens").stat().st_size
    before = _bytes_read()
    data = load_index(seed_index)
    searcher = Searcher(data, embedder, SearchOptions())
    read = _bytes_read() - before
    for array in (data.tokens, data.token_ids, data.token_offsets, data.vectors, data.token_idf):
        assert isinstance(array, np.memmap)
    assert isinstance(data.passages.rows, np.memmap)
    assert read < tokens_bytes / 4, f"load read {read} bytes; the word pieces are {tokens_bytes}"
    assert searcher.ask(SEED_QUESTION).answered


def _advised_random(path: Path) -> bool:
    """Whether this process maps ``path`` with the kernel told to expect random reads (the
    ``rr`` flag of its mapping in /proc/self/smaps)."""
    mapped = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if line[:1].isalnum() and "-" in line.split(" ", 1)[0]:  # a mapping's first line
            mapped = line.rsplit(" ", 1)[-1]
        elif line.startswith("VmFlags:") and mapped == str(path):
            return "rr" in line.split()
    raise AssertionError(f"{path} is not mapped")


def test_columns_are_mapped_for_random_reads(seed_index: Path) -> None:
    """A question reads a few rows of each column: no read-ahead around them."""
    data = load_index(seed_index)
    build = current_build(seed_index).resolve()
    assert data.tokens is not None
    assert _advised_random(build / "tokens") and _advised_random(build / "vectors")


BULK_TOPICS = ["harbour ferries", "mountain railways", "orchard pests", "choir rehearsals"]


def _bulk_articles(corpus: Path, paragraphs: int = 30) -> None:
    for n, topic in enumerate(BULK_TOPICS):
        body = "\n\n".join(
            f"Note {i} on {topic}: the committee met on day {i} and reviewed {topic} again."
            for i in range(paragraphs)
        )
        (corpus / f"bulk-{n}.md").write_text(f"---\ntitle: On {topic}\n---\n\n{body}\n")


@pytest.fixture(scope="module")
def bulk_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The seed article among 120 other passages, with the HNSW graph forced on."""
    root = tmp_path_factory.mktemp("bulk")
    corpus = root / "corpus"
    shutil.copytree(Path(__file__).resolve().parent.parent / "corpus", corpus)
    _bulk_articles(corpus)
    build_index(corpus, root / "index", lambda: embedder, embedder.name, ann_from=10)
    return root / "index"


def test_expensive_signals_score_only_the_candidates(
    bulk_index: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = load_index(bulk_index)
    assert len(data.passages) == 125 and data.manifest["dense"]["kind"] == "hnsw"
    options = SearchOptions(candidates=10)
    searcher = Searcher(data, embedder, options)
    scored: dict[str, list[int]] = {"chars": [], "tokens": []}
    chars, tokens = data.lexical.chars, searcher._matcher.match

    def spy_chars(question: str, rows: list[int]) -> np.ndarray:
        scored["chars"].append(len(rows))
        return chars(question, rows)

    def spy_tokens(question: np.ndarray, weights: np.ndarray, rows: list[int]) -> Match:
        scored["tokens"].append(len(rows))
        return tokens(question, weights, rows)

    monkeypatch.setattr(data.lexical, "chars", spy_chars)
    monkeypatch.setattr(searcher._matcher, "match", spy_tokens)
    answer = searcher.ask(SEED_QUESTION)
    assert answer.answered and "Novichok" in answer.passages[0].highlight
    assert scored["chars"] and scored["tokens"]
    assert max(scored["chars"] + scored["tokens"]) <= 2 * options.candidates < len(data.passages)


def test_ann_graph_is_built_from_the_setting_and_finds_the_exact_neighbours(
    bulk_index: Path,
) -> None:
    data = load_index(bulk_index)
    assert (data.folder / ANN_FILE).is_file() and data.dense.ann is not None
    exact = DenseIndex(data.vectors)
    hits = [
        len(set(exact.search(v, 10)) & set(data.dense.search(v, 10)))
        for v in np.asarray(data.vectors)
    ]
    assert sum(hits) / (10 * len(hits)) >= 0.95


def _mapped_files() -> set[str]:
    return {line.split(maxsplit=5)[-1] for line in Path("/proc/self/maps").read_text().splitlines()}


def test_ann_graph_is_mapped_not_read(bulk_index: Path) -> None:
    graph = current_build(bulk_index) / ANN_FILE
    before = _bytes_read()
    data = load_index(bulk_index)
    read = _bytes_read() - before
    assert str(graph) in _mapped_files()
    assert read < graph.stat().st_size, f"load read {read} bytes; the graph is {graph.stat()}"
    assert len(data.dense.search(np.asarray(data.vectors[0]), 5)) == 5


def test_ann_recall_at_10_on_a_synthetic_set(tmp_path: Path) -> None:
    # Vectors with a low intrinsic dimension, as sentence embeddings have.
    rng = np.random.default_rng(7)
    latent = rng.standard_normal((4000, 12)).astype(np.float32)
    vectors = latent @ rng.standard_normal((12, 96)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    spec = write_ann(tmp_path / ANN_FILE, vectors)
    ann = DenseIndex.open(tmp_path, vectors, spec)
    exact = DenseIndex(vectors)
    queries = vectors[rng.choice(len(vectors), 200, replace=False)]
    queries = queries + 0.05 * rng.standard_normal(queries.shape).astype(np.float32)
    recall = np.mean([len(set(exact.search(q, 10)) & set(ann.search(q, 10))) / 10 for q in queries])
    assert isinstance(ann.ann, faiss.IndexHNSWSQ)
    assert recall >= 0.95
    # The graph is memory-mapped at load, not read into anonymous memory.
    assert str(tmp_path / ANN_FILE) in Path("/proc/self/maps").read_text()


def test_old_format_says_rebuild_needed_and_build_rebuilds(
    seed_index: Path, tmp_path: Path, corpus_copy: Path, embedder: Embedder
) -> None:
    index = tmp_path / "index"
    build = _copy_index(seed_index, index)
    manifest = json.loads((build / "manifest.json").read_text())
    (build / "manifest.json").write_text(json.dumps(dict(manifest, format_version=1)))
    with pytest.raises(IndexNotReady, match=r"older format \(1\), rebuild needed"):
        load_index(index)
    report = build_index(corpus_copy, index, lambda: embedder, embedder.name)
    assert report.changed and report.embedded == 5
    assert len(load_index(index).passages) == 5


@pytest.mark.parametrize(
    "change",
    [
        {"files": []},
        {"columns": "tokens"},
        {"counts": {"passages": "five"}},
        {"columns": {"tokens": {"dtype": "i1", "shape": [1, 384], "bytes": 384}}},
    ],
)
def test_malformed_manifest_is_one_line(seed_index: Path, tmp_path: Path, change: dict) -> None:
    build = _copy_index(seed_index, tmp_path / "index")
    manifest = json.loads((build / "manifest.json").read_text())
    (build / "manifest.json").write_text(json.dumps({**manifest, **change}))
    with pytest.raises(IndexNotReady, match=r"damaged.*run `newsbot build`") as caught:
        load_index(tmp_path / "index")
    assert "\n" not in str(caught.value)


def test_non_dict_manifest_is_one_line(seed_index: Path, tmp_path: Path) -> None:
    build = _copy_index(seed_index, tmp_path / "index")
    (build / "manifest.json").write_text("[1, 2]")
    with pytest.raises(IndexNotReady, match="unknown format"):
        load_index(tmp_path / "index")


def test_unreadable_manifest_says_unreadable(
    seed_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = _copy_index(seed_index, tmp_path / "index")
    read_text = Path.read_text

    def denied(path: Path, *args, **kwargs) -> str:
        if path == build / "manifest.json":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(IndexNotReady, match="unreadable") as caught:
        load_index(tmp_path / "index")
    assert "damaged" not in str(caught.value)


def test_current_link_to_itself_is_one_line(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    os.symlink("current", index / "current")
    with pytest.raises(IndexNotReady, match="cannot be followed"):
        load_index(index)
    result = subprocess.run(
        [sys.executable, "-m", "newsbot", "sources", "--index", str(index)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "cannot be followed" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0


def test_build_replaces_a_current_link_to_itself(
    tmp_path: Path, corpus_copy: Path, embedder: Embedder
) -> None:
    index = tmp_path / "index"
    index.mkdir()
    os.symlink("current", index / "current")
    report = build_index(corpus_copy, index, lambda: embedder, embedder.name)
    assert report.embedded == 5 and len(load_index(index).passages) == 5


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _faiss_disk_full(*args, **kwargs):
    raise RuntimeError("Error in faiss::FileIOWriter: fwrite failed: No space left on device")


@pytest.mark.parametrize(
    ("target", "name", "replacement"),
    [
        (columns.ColumnWriter, "append", _disk_full),
        (os, "pwrite", _disk_full),
        (faiss, "write_index", _faiss_disk_full),
    ],
)
def test_full_disk_keeps_the_old_index_and_says_so(
    seed_index: Path,
    tmp_path: Path,
    corpus_copy: Path,
    embedder: Embedder,
    monkeypatch: pytest.MonkeyPatch,
    target: object,
    name: str,
    replacement: object,
) -> None:
    index = tmp_path / "index"
    live = _copy_index(seed_index, index)
    monkeypatch.setattr(target, name, replacement)
    with pytest.raises(IndexWriteError) as caught:
        build_index(corpus_copy, index, lambda: embedder, embedder.name, full=True, ann_from=1)
    monkeypatch.undo()
    assert str(caught.value) == (
        f"no space left on device writing the index in {index}: "
        "free space and run newsbot build again"
    )
    assert current_build(index) == live
    assert not list((index / "builds").glob(".staging-*"))
    assert len(load_index(index).passages) == 5


def test_no_change_build_removes_staging_left_by_a_killed_build(
    seed_index: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    _copy_index(seed_index, index)
    stale = index / "builds" / ".staging-20260101T000000-deadbeef"
    stale.mkdir()
    (stale / "tokens").write_bytes(b"\0" * 1000)

    def no_model() -> Embedder:
        raise AssertionError("a no-change build must not load the model")

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    default = model_identity(DEFAULT_MODEL, DEFAULT_BACKEND)  # what the seed index was built with
    report = build_index(corpus, index, no_model, default)
    assert not report.changed
    assert not stale.exists()


def test_unchanged_corpus_gets_the_dense_index_its_size_now_calls_for(
    seed_index: Path, tmp_path: Path
) -> None:
    """A build made when the graph began at a larger size is rebuilt with the graph, without
    embedding anything again, and is then left alone."""
    index = tmp_path / "index"
    _copy_index(seed_index, index)
    assert load_index(index).dense.ann is None

    def no_model() -> Embedder:
        raise AssertionError("laying out the dense index again must not load the model")

    corpus = Path(__file__).resolve().parent.parent / "corpus"
    default = model_identity(DEFAULT_MODEL, DEFAULT_BACKEND)
    report = build_index(corpus, index, no_model, default, ann_from=5)
    assert report.changed and report.embedded == 0
    assert load_index(index).dense.ann is not None
    assert not build_index(corpus, index, no_model, default, ann_from=5).changed

    # A graph an older version built with other parameters is built again.
    manifest_path = current_build(index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["dense"] = {"kind": "hnsw", "m": 32}
    manifest_path.write_text(json.dumps(manifest))
    assert build_index(corpus, index, no_model, default, ann_from=5).changed
    assert load_index(index).manifest["dense"] == dense_spec(5, 5)


def test_exact_search_gives_the_flat_index_rows_and_leaves_the_thread_count() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((20_000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat = faiss.IndexFlatIP(16)
    flat.add(vectors)
    threads = faiss.omp_get_max_threads()
    dense = DenseIndex(vectors)
    for query in vectors[:5] + 0.1:
        _, expected = flat.search(query[None, :], 10)
        assert dense.search(query, 10).tolist() == expected[0].tolist()
    assert faiss.omp_get_max_threads() == threads


def test_larger_graphs_search_wider() -> None:
    sizes = [12_000, 100_000, 1_000_000]
    widths = [ef_search_for(n) for n in sizes]
    assert widths == sorted(widths) and widths[0] < widths[-1]
    vectors = np.zeros((12_000, 4), dtype=np.float32)
    assert DenseIndex(vectors).ef_search == widths[0]
