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

With ``--stand-in`` (the 1M row: embedding 1M passages on 2 cores takes days), the build runs
the real ``build_index`` and writes the real index files, but a stand-in (bench/standin.py: the
real tokenizer, the model's static input-embedding rows) replaces the model's forward pass for
passages; it runs in a subprocess that reports the build's peak RSS and its stages' times.
Everything after the build is real: the index is served, reloaded and asked by the real model
(the real per-question cost). The latency is also put against the floor at 10k passages
(``index-10k``, read only), and recall@10 is measured with real question vectors and with
held-out stand-in vectors (sentences of indexed passages recombined). Quality is not measured:
answers found with stand-in vectors mean nothing. Stand-in indexes are ``index-standin-<size>``.

Built indexes are cached beside the corpora (``index-<size>``, with ``build-<size>.json`` holding
the build figures of the run that built them); ``--rebuild`` builds again. Only the public API
is used (build_index, load_index, Searcher, LiveSearcher, Embedder, evaluate), so the same script
measures any engine behind it.

Usage: python bench/scale.py [--sizes 1k,10k] [--out DIR] [--rebuild] [--rounds N] [--json]
       python bench/scale.py --stand-in [--sizes 100k,1m] ...
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
from scale_corpus import DEFAULT_OUT, parse_sizes, size_name  # beside this script
from story_quality import QUESTION_SETS, quality

from index.articles import load_corpus
from index.build import build_index
from index.embed import Embedder
from index.evaluate import load_questions
from index.language import question_language
from index.model_names import DEFAULT_BACKEND, DEFAULT_MODEL, model_identity
from index.passages import split_article
from index.search import Searcher, SearchOptions
from index.store import current_build, load_index

RAW_SAMPLE = 512  # passages encoded raw to get the model's passages/s
HELD_OUT = 500  # stand-in query vectors for the recall of the dense index
REFERENCE = "10k"  # the size whose floor the stand-in sizes are held against
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


def standin_build_figures(corpus: Path, index: Path, embedder: Embedder, rebuild: bool) -> dict:
    """Build with the stand-in embedder (unless cached) in a subprocess and return its figures,
    with the real model's raw encode rate on a sample of the built passages (what a real
    build of this size would be held against) and the real build time that rate implies."""
    record = index.parent / f"build-{index.name.removeprefix('index-')}.json"
    if record.exists() and current_build(index) is not None and not rebuild:
        return {**json.loads(record.read_text()), "cached": True}
    command = [sys.executable, __file__, "--build-stand-in", str(corpus), str(index)]
    result = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"the stand-in build of {index} failed (exit {result.returncode}): see above")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    data = load_index(index, embedder.name)
    step = max(1, len(data.passages) // RAW_SAMPLE)
    sample = [data.passages[r].passage.text for r in range(0, len(data.passages), step)]
    started = time.perf_counter()
    embedder.encode_tokens(sample[:RAW_SAMPLE], batch_size=64)
    raw = min(len(sample), RAW_SAMPLE) / (time.perf_counter() - started)
    figures["raw_encode_passages_per_s"] = round(raw, 2)
    figures["real_build_estimate_h"] = round(figures["passages"] / raw / 3600, 1)
    record.write_text(json.dumps(figures))
    return figures


def build_stand_in(corpus: Path, index_dir: Path) -> None:
    """The subprocess side of ``standin_build_figures``: a full ``build_index`` with the
    stand-in embedder, its stages timed; prints one JSON line."""
    from standin import StandInEmbedder

    import index.build as building

    name = model_identity(DEFAULT_MODEL, os.environ.get("NEWSBOT_BACKEND", DEFAULT_BACKEND))
    embedder = StandInEmbedder(name)
    stages: dict[str, dict] = {}
    for stage, owner, attribute in (
        ("read corpus", building, "load_corpus"),
        ("split passages", building, "split_article"),
        ("word pieces + pooled vectors", building._BuildWriter, "write"),
        ("cross-lingual vectors", building._BuildWriter, "write_crosslingual"),
        ("BM25 + char n-grams", building, "write_lexical"),
        ("HNSW", building, "write_ann"),
        ("finish (table, lexical, HNSW, manifest)", building._BuildWriter, "finish"),
    ):
        setattr(owner, attribute, _timed(stages, stage, getattr(owner, attribute)))
    started = time.perf_counter()
    report = building.build_index(
        corpus, index_dir, lambda: embedder, name, full=True, progress=_progress()
    )
    seconds = time.perf_counter() - started
    figures = {
        "stand_in": True,
        "passages": report.passages,
        "build_s": round(seconds, 1),
        "build_passages_per_s": round(report.passages / seconds, 2),
        "build_VmHWM_mb": _memory("x")["x_VmHWM_mb"],
        "stages": {k: {**v, "s": round(v["s"], 1)} for k, v in stages.items()},
    }
    print(json.dumps(figures))


def _timed(stages: dict, stage: str, function):
    """``function``, adding its seconds (and the peak RSS after it) to ``stages[stage]``."""

    def timed(*args, **kwargs):
        if stage != "split passages":
            print(f"[stand-in build] {stage}...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            entry = stages.setdefault(stage, {"s": 0.0})
            entry["s"] += time.perf_counter() - started
            if stage != "split passages":
                entry["VmHWM_mb"] = _memory("x")["x_VmHWM_mb"]

    return timed


def _progress():
    last = [-1]

    def report(done: int, total: int) -> None:
        tenth = done * 20 // max(total, 1)
        if tenth != last[0]:
            last[0] = tenth
            print(f"[stand-in build] {done}/{total} embedded", file=sys.stderr, flush=True)

    return report


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


def latency_figures(
    searcher: Searcher,
    embedder: Embedder,
    rounds: int,
    reference: np.ndarray | None = None,
    other_languages: int | None = None,
) -> dict:
    """Warm ask against the floor (encode + IndexFlatIP over the same vectors); with
    ``reference`` vectors (another size's), against the floor over those too. Also the English
    questions' and the others' (cross-lingual channel) ask times apart; with
    ``other_languages``, only that many non-English questions are asked per round.

    Each round times every floor, then ``ask``, each over all the questions in a block, so
    that drift on a shared machine falls on both alike. Not question by question: the floor's
    flat scan (19 MB of vectors at 12k) pushed the engine's data out of the CPU's cache just
    before each ask, about 0.6 ms an ask (7.19 against 6.62 ms at 12k) that a bot answering
    questions one after another does not pay.

    Warm means after one such round, whose p50s are given apart (``first_pass``): a process's
    first touch of a candidate's rows in the mapped columns costs a page-table fault (about
    +1 ms a question at 12k passages), which a bot that has been answering for a while has
    paid."""
    floors = {"floor": _flat(_vectors(searcher))}
    if reference is not None:
        floors[f"floor{REFERENCE}"] = _flat(reference)
    questions = [q.text for q in load_questions(QUESTION_SETS["own"])]
    english = [q for q in questions if question_language(q) == "en"]
    others = [q for q in questions if question_language(q) != "en"][:other_languages]
    for warm_up in ["warm up", *others[:1]]:  # the multilingual model loads on first use
        searcher.ask(warm_up)
    first_pass = _timed_round(searcher, embedder, floors, english, others)
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for name, values in _timed_round(searcher, embedder, floors, english, others).items():
            times.setdefault(name, []).extend(values)
    figures: dict = {"questions_en": len(english), "questions_other": len(others)}
    for name, values in first_pass.items():
        if not name.endswith("_cpu"):
            figures[f"first_pass_{name}_p50_ms"] = round(float(np.percentile(values, 50)), 1)
    for name, values in times.items():
        figures[f"{name}_p50_ms"] = round(float(np.percentile(values, 50)), 1)
        figures[f"{name}_p95_ms"] = round(float(np.percentile(values, 95)), 1)
    for name in floors:
        suffix = name.removeprefix("floor")
        for asked in ("ask", "ask_en"):
            for q in ("p50", "p95"):
                ratio = figures[f"{asked}_{q}_ms"] / figures[f"{name}_{q}_ms"]
                figures[f"{asked}_vs_floor{suffix}_{q}"] = round(ratio, 2)
                cpu = figures[f"{asked}_cpu_{q}_ms"] / figures[f"{name}_cpu_{q}_ms"]
                figures[f"{asked}_vs_floor{suffix}_cpu_{q}"] = round(cpu, 2)
    return figures


def _timed_round(
    searcher: Searcher,
    embedder: Embedder,
    floors: dict[str, faiss.Index],
    english: list[str],
    others: list[str],
) -> dict[str, list[float]]:
    """Wall and CPU ms (``*_cpu``) of one round: each floor over the questions, then ``ask``
    (all, English and other questions apart)."""
    times: dict[str, list[float]] = {}

    def timed(names: list[str], run: Callable[[], object]) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        run()
        took = (time.perf_counter() - started) * 1000
        took_cpu = (time.process_time() - cpu) * 1000
        for name in names:
            times.setdefault(name, []).append(took)
            times.setdefault(f"{name}_cpu", []).append(took_cpu)

    for name, flat in floors.items():
        for q in english + others:
            timed([name], lambda q=q, flat=flat: flat.search(embedder.encode([q]), 50))
    for q in english + others:
        kind = "ask_en" if q in english else "ask_other"
        timed(["ask", kind], lambda q=q: searcher.ask(q))
    return times


def _flat(vectors: np.ndarray) -> faiss.Index:
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return flat


def recall_figures(
    searcher: Searcher, embedder: Embedder, held_out: np.ndarray | None = None
) -> dict:
    """recall@10 of the searcher's own dense index against exact search over the same vectors,
    for the own set's questions encoded by the model (and for ``held_out`` query vectors)."""
    dense = _dense_index(searcher)
    if dense is None:
        return {"dense_index": "not found", "recall@10": None}
    kind = type(faiss.downcast_index(dense)).__name__
    if _is_flat(dense):
        return {"dense_index": kind, "recall@10": 1.0}
    exact = _flat(_vectors(searcher))
    queries = embedder.encode([q.text for q in load_questions(QUESTION_SETS["own"])])
    candidates = SearchOptions().candidates
    figures = {"dense_index": kind, "recall@10": _recall(searcher, dense, exact, queries)}
    figures[f"recall10@{candidates}"] = _recall(searcher, dense, exact, queries, candidates)
    if held_out is not None:
        figures["recall@10_held_out"] = _recall(searcher, dense, exact, held_out)
        figures[f"recall10@{candidates}_held_out"] = _recall(
            searcher, dense, exact, held_out, candidates
        )
    return figures


def _recall(
    searcher: Searcher, dense: faiss.Index, exact: faiss.Index, queries: np.ndarray, k: int = 10
) -> float:
    """Share of the exact top 10 among the dense index's top ``k``."""
    _, truth = exact.search(queries, 10)
    engine = getattr(getattr(searcher, "data", None), "dense", None)
    if hasattr(engine, "search"):  # format 2 on: the searcher's own call (its efSearch)
        found = [engine.search(q, k) for q in queries]
    else:
        found = dense.search(queries, k)[1]
    hits = [len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]
    return round(float(np.mean(hits)), 3)


def held_out_queries(searcher: Searcher, embedder: Embedder, count: int = HELD_OUT) -> np.ndarray:
    """``embedder``'s vectors of texts that are not in the index but like its passages: the
    first half of one passage's sentences joined to the second half of another's (seeded)."""
    data = searcher.data
    draw = random.Random(7)
    rows = [draw.randrange(len(data.passages)) for _ in range(2 * count)]
    texts = []
    for a, b in zip(rows[::2], rows[1::2], strict=True):
        first, second = data.passages[a].passage, data.passages[b].passage
        head = [first.text[s:e] for s, e in first.sentences][: max(1, len(first.sentences) // 2)]
        tail = [second.text[s:e] for s, e in second.sentences][len(second.sentences) // 2 :]
        texts.append(" ".join(head + tail))
    return embedder.encode(texts)


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


def measure(
    size: int, out: Path, embedder: Embedder, rebuild: bool, rounds: int, others: int | None
) -> dict:
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
        **latency_figures(searcher, embedder, rounds, other_languages=others),
        **recall_figures(searcher, embedder),
        "quality": quality(searcher),
    }


def measure_stand_in(
    size: int, out: Path, embedder: Embedder, rebuild: bool, rounds: int, others: int | None
) -> dict:
    """Every figure of one size built with stand-in vectors, served by the real model; no
    quality figures. Also serves ``index-10k`` (read only) for its floor and memory."""
    from standin import StandInEmbedder

    name = size_name(size)
    corpus, index = out / f"corpus-{name}", out / f"index-standin-{name}"
    if not corpus.is_dir():
        sys.exit(f"no corpus at {corpus}: run python bench/scale_corpus.py --sizes {name} first")
    reference = out / f"index-{REFERENCE}"
    if current_build(reference) is None:
        sys.exit(f"no index at {reference}: run python bench/scale.py --sizes {REFERENCE} first")
    build = standin_build_figures(corpus, index, embedder, rebuild)
    serving = serving_figures(index)
    reference_serving = serving_figures(reference)
    started = time.perf_counter()
    searcher = Searcher(load_index(index, embedder.name), embedder, SearchOptions())
    in_process_load_s = round(time.perf_counter() - started, 2)
    reference_data = load_index(reference, embedder.name)
    reference_vectors = np.asarray(reference_data.vectors, dtype=np.float32)
    growth = _growth_per_passage(serving, reference_serving, build["passages"], reference_data)
    held_out = held_out_queries(searcher, StandInEmbedder(embedder.name))
    return {
        "size": f"{name} (stand-in vectors)",
        **build,
        **disk_figures(index, build["passages"]),
        **serving,
        f"serving{REFERENCE}": reference_serving,
        **growth,
        "in_process_load_s": in_process_load_s,
        **latency_figures(searcher, embedder, rounds, reference_vectors, others),
        **recall_figures(searcher, embedder, held_out),
        "quality": None,
    }


def _growth_per_passage(serving: dict, reference: dict, passages: int, data) -> dict:
    """Resident memory (RssAnon + RssFile after answering, and peak) per passage beyond the
    reference size's, in KB."""
    extra = passages - len(data.passages)
    figures = {}
    for field in ("serving_VmHWM_mb", "resident"):
        if field == "resident":
            here = serving.get("serving_RssAnon_mb", 0) + serving.get("serving_RssFile_mb", 0)
            there = reference.get("serving_RssAnon_mb", 0) + reference.get("serving_RssFile_mb", 0)
        else:
            here, there = serving.get(field, 0), reference.get(field, 0)
        figures[f"{field}_growth_kb_per_passage"] = round((here - there) * 1024 / extra, 2)
    return figures


def print_row(row: dict) -> None:
    print(
        f"{row['size']}: {row['passages']} passages; build {row['build_passages_per_s']}/s ÷ raw "
        f"{row['raw_encode_passages_per_s']}/s = {row.get('build_vs_raw')}"
        f"{' (cached build)' if row.get('cached') else ''}; "
        f"disk {row['total_bytes_per_passage'] / 1024:.1f} KB/passage {row['bytes_per_passage']}"
    )
    if row.get("stand_in"):
        print(
            f"  stand-in build {row['build_s']} s, peak RSS {row['build_VmHWM_mb']} MB; a real "
            f"build at raw encode speed: ~{row['real_build_estimate_h']} h; stages "
            f"{row['stages']}"
        )
    print(
        f"  serve: start->first answer {row.get('start_to_first_answer_s')} s, peak RSS "
        f"{row.get('serving_VmHWM_mb')} MB (anon {row.get('serving_RssAnon_mb')}, file "
        f"{row.get('serving_RssFile_mb')}); reload {row.get('reload_s')} s, peak after "
        f"{row.get('reload_VmHWM_mb')} MB {row.get('error', '')}"
    )
    reference = row.get(f"serving{REFERENCE}")
    if reference:
        print(
            f"  {REFERENCE} served in the same run: start->first answer "
            f"{reference.get('start_to_first_answer_s')} s, peak "
            f"{reference.get('serving_VmHWM_mb')} MB (anon "
            f"{reference.get('serving_RssAnon_mb')}, file "
            f"{reference.get('serving_RssFile_mb')}); growth per passage: resident "
            f"{row['resident_growth_kb_per_passage']} KB, peak "
            f"{row['serving_VmHWM_mb_growth_kb_per_passage']} KB"
        )
    print(
        f"  ask p50 {row['ask_p50_ms']} ms ÷ floor {row['floor_p50_ms']} = "
        f"{row['ask_vs_floor_p50']}; p95 {row['ask_p95_ms']} ÷ {row['floor_p95_ms']} = "
        f"{row['ask_vs_floor_p95']}; dense {row['dense_index']} recall@10 {row['recall@10']}"
    )
    if "ask_en_p50_ms" in row:
        print(
            f"  English questions ({row['questions_en']}): ask p50 {row['ask_en_p50_ms']} ms "
            f"(÷ floor {row['ask_en_vs_floor_p50']}), p95 {row['ask_en_p95_ms']} ms (÷ floor "
            f"{row['ask_en_vs_floor_p95']}); other languages ({row['questions_other']}): p50 "
            f"{row.get('ask_other_p50_ms')} ms, p95 {row.get('ask_other_p95_ms')} ms"
        )
    recalls = {k: v for k, v in row.items() if k.startswith("recall") and k != "recall@10"}
    if recalls:
        print(f"  recall: {recalls}")
    if f"floor{REFERENCE}_p50_ms" in row:
        print(
            f"  against the floor at {REFERENCE} ({row[f'floor{REFERENCE}_p50_ms']} / "
            f"{row[f'floor{REFERENCE}_p95_ms']} ms): all p50 {row[f'ask_vs_floor{REFERENCE}_p50']}"
            f", p95 {row[f'ask_vs_floor{REFERENCE}_p95']}; English p50 "
            f"{row[f'ask_en_vs_floor{REFERENCE}_p50']}, p95 "
            f"{row[f'ask_en_vs_floor{REFERENCE}_p95']}"
        )
    if row["quality"] is None:
        print("  quality: not measured (stand-in vectors)")
        return
    own, holdout = row["quality"]["own"], row["quality"]["holdout"]
    print(
        f"  own hit@1 {own['hit@1']} off-topic abstained {own['off_topic_abstained']}; "
        f"holdout hit@1 {holdout['hit@1']} off-topic abstained "
        f"{holdout['off_topic_abstained']}"
    )


def with_openmp_policy() -> None:
    """Run this script again with OpenMP's wait policy set, unless it is: faiss (imported by
    this module) loaded OpenMP before the engine (index/__init__.py) could set the policy, and
    timings must be taken as the product runs."""
    if "OMP_WAIT_POLICY" not in os.environ:
        env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main() -> None:
    with_openmp_policy()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k", help="corpus sizes, e.g. 1k,10k,100k")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache of corpora/indexes")
    parser.add_argument("--rebuild", action="store_true", help="build again even if cached")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the question set")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    parser.add_argument(
        "--other-languages",
        type=int,
        help="non-English questions asked per round (default all; each scans the cross-lingual "
        "channel's passage vectors)",
    )
    parser.add_argument(
        "--stand-in", action="store_true", help="build with stand-in vectors (bench/standin.py)"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--build-stand-in", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    if args.build_stand_in:
        build_stand_in(*args.build_stand_in)
        return
    embedder = bench_embedder()
    for size in parse_sizes(args.sizes):
        run = measure_stand_in if args.stand_in else measure
        row = run(size, args.out, embedder, args.rebuild, args.rounds, args.other_languages)
        print(json.dumps(row) if args.json else "", end="\n" if args.json else "")
        print_row(row)


if __name__ == "__main__":
    main()
