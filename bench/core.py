"""Benchmarks of the answering core, each printed as a ratio against a baseline from the same run.

- Query latency: a full in-process `ask` (warm) against the model alone encoding the question.
- Build: passages per second of a full build against raw `model.encode` over the same passages.
- No-change rebuild: seconds, with the model never loaded.

Usage: python bench/core.py [--copies N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from index.articles import load_corpus
from index.build import build_index
from index.embed import Embedder
from index.passages import split_article
from index.search import Searcher, SearchOptions
from index.store import load_index

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "tests" / "data" / "questions.jsonl"


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


def bench_query(embedder: Embedder, index_dir: Path, rounds: int) -> dict:
    searcher = Searcher(load_index(index_dir), embedder, SearchOptions())
    questions = [
        json.loads(line)["q"] for line in QUESTIONS.read_text().splitlines() if line.strip()
    ]
    searcher.ask("warm up")
    embedder.encode(["warm up"])
    ask_ms, encode_ms = [], []
    for _ in range(rounds):
        for q in questions:
            # Interleaved so both see the same machine state.
            t = time.perf_counter()
            embedder.encode([q])
            encode_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            searcher.ask(q)
            ask_ms.append((time.perf_counter() - t) * 1000)
    return {
        "questions": len(ask_ms),
        "ask_p50_ms": percentile(ask_ms, 50),
        "ask_p95_ms": percentile(ask_ms, 95),
        "encode_p50_ms": percentile(encode_ms, 50),
        "encode_p95_ms": percentile(encode_ms, 95),
        "ratio_p50": percentile(ask_ms, 50) / percentile(encode_ms, 50),
        "ratio_p95": percentile(ask_ms, 95) / percentile(encode_ms, 95),
    }


def make_corpus(target: Path, copies: int) -> None:
    """The seed article under `copies` different ids: same text, real passage lengths."""
    seed = next((REPO / "corpus").glob("*.md"))
    target.mkdir(parents=True)
    for n in range(copies):
        shutil.copy(seed, target / f"copy-{n:04d}.md")


def bench_build(embedder: Embedder, copies: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        make_corpus(corpus, copies)
        texts = [
            p.text for a in load_corpus(corpus) for p in split_article(a, embedder.count_tokens)
        ]
        t = time.perf_counter()
        embedder.encode(texts)
        raw = time.perf_counter() - t
        t = time.perf_counter()
        report = build_index(corpus, index, lambda: embedder, embedder.name, full=True)
        built = time.perf_counter() - t
        loads = []
        t = time.perf_counter()
        again = build_index(corpus, index, lambda: loads.append(1) or embedder, embedder.name)
        unchanged = time.perf_counter() - t
    return {
        "passages": report.passages,
        "raw_encode_passages_per_s": len(texts) / raw,
        "build_passages_per_s": report.passages / built,
        "build_vs_raw": (report.passages / built) / (len(texts) / raw),
        "no_change_rebuild_s": unchanged,
        "no_change_embedded": again.embedded,
        "no_change_model_loads": len(loads),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100, help="seed copies in the build corpus")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the question set")
    args = parser.parse_args()
    t = time.perf_counter()
    embedder = Embedder(threads=2)
    load_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "index"
        build_index(REPO / "corpus", index, lambda: embedder, embedder.name)
        query = bench_query(embedder, index, args.rounds)
    build = bench_build(embedder, args.copies)
    print(f"model load: {load_s:.2f} s")
    print(
        f"query: ask p50 {query['ask_p50_ms']:.1f} ms / p95 {query['ask_p95_ms']:.1f} ms; "
        f"encode alone p50 {query['encode_p50_ms']:.1f} ms / p95 {query['encode_p95_ms']:.1f} ms; "
        f"ratio p50 {query['ratio_p50']:.2f}, p95 {query['ratio_p95']:.2f} "
        f"({query['questions']} asks)"
    )
    print(
        f"build: {build['passages']} passages, {build['build_passages_per_s']:.1f} passages/s "
        f"vs raw encode {build['raw_encode_passages_per_s']:.1f}/s; "
        f"ratio {build['build_vs_raw']:.2f}"
    )
    print(
        f"no-change rebuild: {build['no_change_rebuild_s']:.3f} s, "
        f"{build['no_change_embedded']} embedded, "
        f"model loaded {build['no_change_model_loads']} times"
    )
    print(json.dumps({"query": query, "build": build, "model_load_s": load_s}))


if __name__ == "__main__":
    main()
