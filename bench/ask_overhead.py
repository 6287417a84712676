"""Where a warm ``Searcher.ask`` spends its time beyond encoding the question.

For each index folder: ``--runs`` times, the own question set interleaved with the floor (the
model encoding the question + ``faiss.IndexFlatIP`` over the same vectors, as bench/scale.py
measures it), printing ask p50/p95 ÷ floor per run and the median over runs; with ``--profile``,
a cProfile of the asks (the functions with the most cumulative time).

With ``--sections``, the median milliseconds per ask spent in each part (encoding, BM25,
candidates, MaxSim, character n-grams, sentence highlight, verdict, the rest).

Usage: NEWSBOT_BACKEND=onnx-int8 python bench/ask_overhead.py INDEX_DIR [...] [--runs 5]
       [--rounds 2] [--profile | --sections] [--json]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import time
from pathlib import Path

import numpy as np
from scale import bench_embedder, latency_figures, with_openmp_policy  # beside this script
from story_quality import QUESTION_SETS

from index.evaluate import load_questions
from index.search import Searcher, SearchOptions
from index.store import load_index


def profile(searcher: Searcher, rounds: int, top: int = 35) -> str:
    """cProfile of ``rounds`` passes of the own question set through ``ask``."""
    questions = [q.text for q in load_questions(QUESTION_SETS["own"])]
    searcher.ask("warm up")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        for q in questions:
            searcher.ask(q)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# What to time inside one ask: (holder attribute path, method name).
SECTIONS = (
    ("_embedder", "encode_tokens"),
    ("_lexical", "bm25"),
    ("", "_candidates"),
    ("_story", "candidates"),
    ("_dense", "scores"),
    ("_story", "focus"),
    ("_lexical", "chars"),
    ("_matcher", "match"),
    ("_matcher", "scores"),  # engines before TokenMatcher.match
    ("_matcher", "sentence_scores"),
    ("", "_hit"),
    ("", "_merge_duplicate"),
    ("", "_verdict"),
)


def sections(searcher: Searcher, rounds: int) -> dict[str, float]:
    """Median ms per ask spent in each of ``SECTIONS`` (wrapped on this searcher's objects),
    and in the rest of ``ask``."""
    spent: dict[str, float] = {}

    def timed(name: str, method):
        def run(*args, **kwargs):
            started = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - started

        return run

    for holder_name, method_name in SECTIONS:
        holder = getattr(searcher, holder_name) if holder_name else searcher
        if not hasattr(holder, method_name):
            continue  # a part this engine does not have
        name = f"{holder_name}.{method_name}".lstrip(".")
        setattr(holder, method_name, timed(name, getattr(holder, method_name)))
    questions = [q.text for q in load_questions(QUESTION_SETS["own"])]
    searcher.ask("warm up")
    per_ask: dict[str, list[float]] = {}
    for _ in range(rounds):
        for q in questions:
            spent.clear()
            started = time.process_time()
            searcher.ask(q)
            total = time.process_time() - started
            # Nested sections (chars inside _fuse is not wrapped; scores inside nothing) add up.
            spent["rest of ask"] = total - sum(spent.values())
            spent["ask"] = total
            for name, seconds in spent.items():
                per_ask.setdefault(name, []).append(seconds * 1000)
    return {name: round(float(np.median(v)), 3) for name, v in per_ask.items()}


# The ratios summarised over runs: all questions, then the English ones alone (a question in
# another language is also encoded by the multilingual model, which the floor is not).
KEYS = (
    "ask_vs_floor_p50",
    "ask_vs_floor_p95",
    "ask_vs_floor_cpu_p50",
    "ask_en_vs_floor_p50",
    "ask_en_vs_floor_cpu_p50",
)


def main() -> None:
    with_openmp_policy()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dirs", type=Path, nargs="+")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2, help="passes over the set per run")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sections", action="store_true", help="median ms per part of ask")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    embedder = bench_embedder()
    for index_dir in args.index_dirs:
        data = load_index(index_dir)
        searcher = Searcher(data, embedder, SearchOptions())
        if args.profile:
            print(profile(searcher, args.rounds))
            continue
        if args.sections:
            print(json.dumps({"index": str(index_dir), **sections(searcher, args.rounds)}))
            continue
        runs = [latency_figures(searcher, embedder, args.rounds) for _ in range(args.runs)]
        row = {"index": str(index_dir), "passages": len(data.passages)}
        for key in KEYS:
            values = [r[key] for r in runs]
            row[f"{key}_median"] = float(np.median(values))
            row[f"{key}_range"] = [min(values), max(values)]
        row["runs"] = runs
        if args.json:
            print(json.dumps(row))
            continue
        print(f"{index_dir} ({len(data.passages)} passages)")
        for r in runs:
            print(
                f"  ask p50 {r['ask_p50_ms']} ÷ floor {r['floor_p50_ms']} = "
                f"{r['ask_vs_floor_p50']}; p95 {r['ask_p95_ms']} ÷ {r['floor_p95_ms']} = "
                f"{r['ask_vs_floor_p95']}; CPU p50 {r['ask_cpu_p50_ms']} ÷ "
                f"{r['floor_cpu_p50_ms']} = {r['ask_vs_floor_cpu_p50']}"
            )
        for key in KEYS:
            low, high = row[f"{key}_range"]
            print(f"  median of {len(runs)} runs, {key}: {row[f'{key}_median']:.2f} ({low}–{high})")


if __name__ == "__main__":
    main()
