"""The engine at story scale: build, disk, memory, start-up, reload, latency and quality per size.

Per corpus size (made by bench/scale_corpus.py, cached outside git), it prints:
- build: passages/s of ``build_index`` ÷ raw ``Embedder.encode`` passages/s (raw encode timed on
  a fixed sample of the same passages, right after the build, in the same run);
- disk: bytes per passage of each file in the build folder;
- serving, in a fresh subprocess that loads the index and answers (as ``newsbot ask`` does):
  process start -> first answer, peak RSS (VmHWM) and RssAnon / RssFile after answering, then a
  forced hot reload (``LiveSearcher.reload``): its seconds and the peak RSS after it;
- ask p50/p95 ÷ floor: warm in-process ``Searcher.ask`` against the floor, the model encoding
  the question plus ``faiss.IndexFlatIP`` over the same vectors, interleaved in the same run;
- recall@10 of the searcher's dense index against exact search (1.0 by construction when the
  searcher's index is flat);
- own-set and holdout hit@1 and off-topic abstentions (bench/story_quality.py).

Built indexes are cached beside the corpora (``index-<size>``, with ``build-<size>.json`` holding
the build figures of the run that built them); ``--rebuild`` builds again. Only the public API
is used (build_index, load_index, Searcher, LiveSearcher, Embedder, evaluate), so the same script
measures any engine behind it.

Usage: python bench/scale.py [--sizes 1k,10k] [--out DIR] [--rebuild] [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import faiss
import numpy as np
from scale_corpus import DEFAULT_OUT, parse_sizes, size_name  # beside this script
from story_quality import QUESTION_SETS, quality

from index.articles import load_corpus
from index.build import build_index
from index.embed import DEFAULT_BACKEND, Embedder
from index.evaluate import load_questions
from index.passages import split_article
from index.search import Searcher, SearchOptions
from index.store import current_build, load_index

RAW_SAMPLE = 512  # passages encoded raw to get the model's passages/s
FIRST_QUESTION = "why did people light candles"


def build_figures(corpus: Path, index: Path, embedder: Embedder, rebuild: bool) -> dict:
    """Build (unless cached) and return the build figures of the run that built it."""
    record = index.parent / f"build-{index.name.removeprefix('index-')}.json"
    if record.exists() and current_build(index) is not None and not rebuild:
        return {**json.loads(record.read_text()), "cached": True}
    started = time.perf_counter()
    report = build_index(corpus, index, lambda: embedder, embedder.name, full=rebuild)
    seconds = time.perf_counter() - started
    if not report.embedded:  # built before, by another script: no build figures to give
        return {
            "passages": report.passages,
            "build_passages_per_s": None,
            "raw_encode_passages_per_s": None,
            "build_vs_raw": None,
        }
    texts = [p.text for a in load_corpus(corpus) for p in split_article(a, embedder.count_tokens)]
    sample = texts[:: max(1, len(texts) // RAW_SAMPLE)][:RAW_SAMPLE]
    started = time.perf_counter()
    embedder.encode(sample)
    raw = len(sample) / (time.perf_counter() - started)
    figures = {
        "passages": report.passages,
        "build_s": round(seconds, 1),
        "build_passages_per_s": round(report.embedded / seconds, 2),
        "raw_encode_passages_per_s": round(raw, 2),
        "build_vs_raw": round(report.embedded / seconds / raw, 2),
    }
    record.write_text(json.dumps(figures))
    return figures


def disk_figures(index: Path, passages: int) -> dict:
    """Bytes per passage of each file of the live build, and in all."""
    build = current_build(index)
    sizes = {p.name: p.stat().st_size for p in sorted(build.iterdir()) if p.is_file()}
    per = {name: round(size / passages) for name, size in sizes.items()}
    total = round(sum(sizes.values()) / passages)
    return {"bytes_per_passage": per, "total_bytes_per_passage": total}


def serving_figures(index: Path) -> dict:
    """Start a fresh process that loads, answers, reloads: start -> first answer and memory."""
    result = subprocess.run(
        [sys.executable, __file__, "--serve", str(index)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["?"])[-1]}
    lines = result.stdout.strip().splitlines()
    first = json.loads(lines[0])
    first["start_to_first_answer_s"] = round(first.pop("answered_at"), 2)
    return {**first, **json.loads(lines[1])}


def serve(index: Path) -> None:
    """The subprocess side of ``serving_figures``: print two JSON lines."""
    from index.live import LiveSearcher

    spawned = time.perf_counter() - _process_age()  # when the kernel started this process
    embedder = bench_embedder()
    live = LiveSearcher(index, embedder, SearchOptions())
    live.searcher.ask(FIRST_QUESTION)
    answered = time.perf_counter() - spawned
    print(json.dumps({"answered_at": answered, **_memory("serving")}), flush=True)
    started = time.perf_counter()
    live.reload(force=True)
    live.searcher.ask(FIRST_QUESTION)
    print(json.dumps({"reload_s": round(time.perf_counter() - started, 2), **_memory("reload")}))


def _process_age() -> float:
    """Seconds since this process started (from /proc), so start-up includes interpreter start."""
    ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - ticks / os.sysconf("SC_CLK_TCK")


def _memory(prefix: str) -> dict:
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "RssAnon", "RssFile"):
            fields[f"{prefix}_{name}_mb"] = round(int(value.split()[0]) / 1024)
    return fields


def latency_figures(searcher: Searcher, embedder: Embedder, rounds: int) -> dict:
    """Warm ask against the floor (encode + IndexFlatIP over the same vectors), interleaved.

    Wall-clock and CPU time (``time.process_time``: all threads of this process) both: on a
    shared machine a millisecond of work can take tens of wall milliseconds when the process
    is preempted, while its CPU time stays what the work costs."""
    vectors = _vectors(searcher)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    questions = [q.text for q in load_questions(QUESTION_SETS["own"])]
    searcher.ask("warm up")
    times: dict[str, list[float]] = {"ask": [], "floor": [], "ask_cpu": [], "floor_cpu": []}
    for _ in range(rounds):
        for q in questions:
            for name, run in (
                ("floor", lambda q=q: flat.search(embedder.encode([q]), 50)),
                ("ask", lambda q=q: searcher.ask(q)),
            ):
                started, cpu = time.perf_counter(), time.process_time()
                run()
                times[f"{name}_cpu"].append((time.process_time() - cpu) * 1000)
                times[name].append((time.perf_counter() - started) * 1000)
    figures: dict = {}
    for suffix in ("", "_cpu"):
        for p in (50, 95):
            ask = float(np.percentile(times[f"ask{suffix}"], p))
            floor = float(np.percentile(times[f"floor{suffix}"], p))
            figures[f"ask{suffix}_p{p}_ms"] = round(ask, 1)
            figures[f"floor{suffix}_p{p}_ms"] = round(floor, 1)
            figures[f"ask_vs_floor{suffix}_p{p}"] = round(ask / floor, 2)
    return figures


def recall_figures(searcher: Searcher, embedder: Embedder) -> dict:
    """recall@10 of the searcher's own dense index against exact search over the same vectors."""
    dense = _dense_index(searcher)
    if dense is None:
        return {"dense_index": "not found", "recall@10": None}
    kind = type(faiss.downcast_index(dense)).__name__
    if _is_flat(dense):
        return {"dense_index": kind, "recall@10": 1.0}
    vectors = _vectors(searcher)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    queries = embedder.encode([q.text for q in load_questions(QUESTION_SETS["own"])])
    _, truth = exact.search(queries, 10)
    _, found = dense.search(queries, 10)
    hits = [len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]
    return {"dense_index": kind, "recall@10": round(float(np.mean(hits)), 3)}


def bench_embedder() -> Embedder:
    """The model as NEWSBOT_THREADS and NEWSBOT_BACKEND (onnx-int8 or torch) configure it."""
    threads = int(os.environ.get("NEWSBOT_THREADS", "2"))
    return Embedder(threads=threads, backend=os.environ.get("NEWSBOT_BACKEND", DEFAULT_BACKEND))


def _dense_index(searcher: Searcher) -> faiss.Index | None:
    """The searcher's FAISS index, wherever the engine keeps it."""
    dense = getattr(getattr(searcher, "data", None), "dense", None)
    if dense is not None and hasattr(dense, "ann"):  # format 2 on: HNSW, or exact when none
        return dense.ann if dense.ann is not None else faiss.IndexFlatIP(dense.vectors.shape[1])
    for holder in (searcher, getattr(searcher, "data", None)):
        for value in vars(holder).values() if holder is not None else ():
            if isinstance(value, faiss.Index):
                return value
    return None


def _is_flat(index: faiss.Index) -> bool:
    inner = faiss.downcast_index(index)
    while hasattr(inner, "index") and not isinstance(inner, faiss.IndexFlat):
        inner = faiss.downcast_index(inner.index)
    return isinstance(inner, faiss.IndexFlat)


def _vectors(searcher: Searcher) -> np.ndarray:
    vectors = getattr(searcher.data, "vectors", None)
    if vectors is None:
        dense = _dense_index(searcher)
        vectors = dense.reconstruct_n(0, dense.ntotal)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def measure(size: int, out: Path, embedder: Embedder, rebuild: bool, rounds: int) -> dict:
    """Every figure of one size."""
    name = size_name(size)
    corpus, index = out / f"corpus-{name}", out / f"index-{name}"
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus}: run python bench/scale_corpus.py --sizes {name} first")
    build = build_figures(corpus, index, embedder, rebuild)
    serving = serving_figures(index)
    started = time.perf_counter()
    searcher = Searcher(load_index(index, embedder.name), embedder, SearchOptions())
    in_process_load_s = round(time.perf_counter() - started, 2)
    return {
        "size": name,
        **build,
        **disk_figures(index, build["passages"]),
        **serving,
        "in_process_load_s": in_process_load_s,
        **latency_figures(searcher, embedder, rounds),
        **recall_figures(searcher, embedder),
        "quality": quality(searcher),
    }


def print_row(row: dict) -> None:
    own, holdout = row["quality"]["own"], row["quality"]["holdout"]
    print(
        f"{row['size']}: {row['passages']} passages; build {row['build_passages_per_s']}/s ÷ raw "
        f"{row['raw_encode_passages_per_s']}/s = {row['build_vs_raw']}"
        f"{' (cached build)' if row.get('cached') else ''}; "
        f"disk {row['total_bytes_per_passage'] / 1024:.1f} KB/passage {row['bytes_per_passage']}"
    )
    print(
        f"  serve: start->first answer {row.get('start_to_first_answer_s')} s, peak RSS "
        f"{row.get('serving_VmHWM_mb')} MB (anon {row.get('serving_RssAnon_mb')}, file "
        f"{row.get('serving_RssFile_mb')}); reload {row.get('reload_s')} s, peak after "
        f"{row.get('reload_VmHWM_mb')} MB {row.get('error', '')}"
    )
    print(
        f"  ask p50 {row['ask_p50_ms']} ms ÷ floor {row['floor_p50_ms']} = "
        f"{row['ask_vs_floor_p50']}; p95 {row['ask_p95_ms']} ÷ {row['floor_p95_ms']} = "
        f"{row['ask_vs_floor_p95']}; dense {row['dense_index']} recall@10 {row['recall@10']}"
    )
    print(
        f"  own hit@1 {own['hit@1']} off-topic abstained {own['off_topic_abstained']}; "
        f"holdout hit@1 {holdout['hit@1']} off-topic abstained "
        f"{holdout['off_topic_abstained']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k", help="corpus sizes, e.g. 1k,10k,100k")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache of corpora/indexes")
    parser.add_argument("--rebuild", action="store_true", help="build again even if cached")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the question set")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    embedder = bench_embedder()
    for size in parse_sizes(args.sizes):
        row = measure(size, args.out, embedder, args.rebuild, args.rounds)
        print(json.dumps(row) if args.json else "", end="\n" if args.json else "")
        print_row(row)


if __name__ == "__main__":
    main()
