"""Building the stored index: incremental, atomic, verified on load."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.build import build_index
from index.embed import Embedder
from index.errors import CorpusError, IndexNotReady
from index.store import current_build, load_index

EXTRA = """---
title: Police detain dozens at courtyard gathering
outlet: Example Wire
url: https://example.test/courtyard
published: 2021-02-15
---

Police in St Petersburg detained 37 people at a courtyard gathering on Sunday evening.

The organisers said the gathering lasted fifteen minutes.
"""


class CountingEmbedder:
    """Wraps the real model and counts the passages it was asked to embed."""

    def __init__(self, real: Embedder) -> None:
        self.real = real
        self.name = real.name
        self.dim = real.dim
        self.multilingual = real.multilingual
        self.embedded = 0
        self.loads = 0

    def load(self) -> CountingEmbedder:
        self.loads += 1
        return self

    def encode_tokens(self, texts: list[str], batch_size: int = 32):
        self.embedded += len(texts)
        return self.real.encode_tokens(texts, batch_size=batch_size)

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)


def _build(corpus: Path, index: Path, counter: CountingEmbedder, full: bool = False):
    return build_index(corpus, index, counter.load, counter.name, full=full)  # type: ignore[arg-type]


def test_incremental_rebuilds(corpus_copy: Path, tmp_path: Path, embedder: Embedder) -> None:
    index = tmp_path / "index"
    counter = CountingEmbedder(embedder)
    first = _build(corpus_copy, index, counter)
    assert first.changed and first.embedded == first.passages == 5

    again = _build(corpus_copy, index, counter)
    assert (again.changed, again.embedded, again.reused) == (False, 0, 5)
    assert counter.loads == 1, "a no-change rebuild must not load the model"

    (corpus_copy / "2021-02-15-extra.md").write_text(EXTRA, encoding="utf-8")
    added = _build(corpus_copy, index, counter)
    assert (added.articles, added.embedded, added.reused) == (2, 2, 5)

    ids_before = {p.passage.key: p.id for p in load_index(index).passages}
    extra = corpus_copy / "2021-02-15-extra.md"
    extra.write_text(EXTRA.replace("37 people", "41 people"), encoding="utf-8")
    changed = _build(corpus_copy, index, counter)
    assert (changed.embedded, changed.reused) == (2, 5)
    data = load_index(index)
    assert any("41 people" in p.passage.text for p in data.passages)
    ids_after = {p.passage.key: p.id for p in data.passages}
    seed_keys = [k for k in ids_before if not k.startswith("2021-02-15-extra")]
    assert all(ids_before[k] == ids_after[k] for k in seed_keys), "ids of kept passages are stable"

    extra.unlink()
    removed = _build(corpus_copy, index, counter)
    assert (removed.articles, removed.embedded, removed.removed_articles) == (1, 0, 1)
    assert set(load_index(index).articles) == {p.stem for p in corpus_copy.glob("*.md")}

    full = _build(corpus_copy, index, counter, full=True)
    assert full.embedded == 5


def test_malformed_article_keeps_previous_index(
    corpus_copy: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index = tmp_path / "index"
    counter = CountingEmbedder(embedder)
    _build(corpus_copy, index, counter)
    live = current_build(index)
    (corpus_copy / "broken.md").write_text("---\ntitle: [oops\n---\nBody", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"broken\.md"):
        _build(corpus_copy, index, counter)
    assert current_build(index) == live
    assert len(load_index(index).passages) == 5


def test_manifest_records_model_hashes_and_counts(seed_index: Path) -> None:
    manifest = json.loads((current_build(seed_index) / "manifest.json").read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2 [onnx-int8]"
    assert manifest["dimension"] == 384
    assert manifest["counts"]["passages"] == 5
    assert len(manifest["articles"]) == 1
    assert manifest["built_at"] and manifest["format_version"] == 3


def test_missing_damaged_and_foreign_indexes_say_run_build(
    seed_index: Path, tmp_path: Path
) -> None:
    with pytest.raises(IndexNotReady, match="newsbot build"):
        load_index(tmp_path / "nothing")
    with pytest.raises(IndexNotReady, match=r"built with all-MiniLM-L6-v2 \[onnx-int8\]"):
        load_index(seed_index, model="other-model")
    copy = tmp_path / "copy"
    build = current_build(seed_index)
    (copy / "builds").mkdir(parents=True)
    target = copy / "builds" / build.name
    subprocess.run(["cp", "-r", str(build), str(target)], check=True)
    os.symlink(Path("builds") / build.name, copy / "current")
    assert len(load_index(copy).passages) == 5
    with (target / "tokens").open("r+b") as handle:
        handle.truncate(100)
    damaged = r"damaged \(tokens holds 100 bytes.*: run `newsbot build`"
    with pytest.raises(IndexNotReady, match=damaged):
        load_index(copy)


def _bulk_corpus(corpus: Path) -> None:
    for n in range(40):  # enough work that a build takes several seconds
        body = "\n\n".join(
            f"Paragraph {n}-{i} about the courtyard gatherings and the police." for i in range(30)
        )
        (corpus / f"bulk-{n:02d}.md").write_text(f"---\ntitle: Bulk {n}\n---\n\n{body}\n")


def _wait_for_staging(index: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if list((index / "builds").glob(".staging-*")):
            return
        time.sleep(0.002)


@pytest.mark.parametrize("moment", ["while embedding", "while writing"])
def test_killed_build_leaves_a_whole_index(
    corpus_copy: Path, tmp_path: Path, seed_index: Path, moment: str
) -> None:
    index = tmp_path / "index"
    subprocess.run(["cp", "-r", str(seed_index), str(index)], check=True)
    before = current_build(index)
    _bulk_corpus(corpus_copy)
    env = dict(os.environ, NEWSBOT_INDEX_DIR=str(index), NEWSBOT_CORPUS_DIR=str(corpus_copy))
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsbot", "build"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if moment == "while embedding":
        time.sleep(6)
    else:
        _wait_for_staging(index, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    data = load_index(index)  # whichever build is live, it loads whole
    if current_build(index) == before:
        assert len(data.passages) == 5
    else:
        assert len(data.passages) == 5 + 40 * 30
