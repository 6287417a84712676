"""The embedding backends side by side: question latency, build throughput, answer quality.

Each ONNX variant is compared with torch in the same run, interleaved, so the ratios hold on a
busy machine. Quality is `newsbot eval` on an index built with each backend.

Usage: python bench/backends.py [--onnx NAME=FILE ...] [--build-corpus DIR] [--passages N]
  Always compares torch with the onnx-int8 backend (its packaged weights); each --onnx adds
  the onnx-int8 backend over another ONNX file of the model (a local export, say).
  --build-corpus: articles to build from (default: the seed copied to N passages).
  Builds are timed twice: the encoding stage interleaved chunk by chunk, then whole builds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from index.articles import load_article, load_corpus
from index.build import build_index
from index.embed import Embedder
from index.evaluate import evaluate, load_questions
from index.passages import split_article
from index.search import Searcher, SearchOptions
from index.store import load_index

REPO = Path(__file__).resolve().parent.parent
QUESTION_SETS = [REPO / "tests/data/questions.jsonl", REPO / "tests/data/questions-holdout.jsonl"]


def question_latency(embedders: dict[str, Embedder], rounds: int) -> dict[str, dict]:
    """Encoding one question as `ask` does (pooled + word pieces), interleaved per question."""
    texts = [q.text for path in QUESTION_SETS for q in load_questions(path)]
    times: dict[str, list[float]] = {name: [] for name in embedders}
    for e in embedders.values():
        e.encode_tokens(["warm up"])
    for _ in range(rounds):
        for text in texts:
            for name, e in embedders.items():
                t = time.perf_counter()
                e.encode_tokens([text])
                times[name].append((time.perf_counter() - t) * 1000)
    return {
        name: {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}
        for name, ms in times.items()
    } | {"questions": len(texts) * rounds}


def pick_articles(source: Path, target: Path, passages: int, embedder: Embedder) -> None:
    """Copy articles of ``source`` (dated ones first, then by name) until ``passages``."""
    target.mkdir(parents=True)
    count = 0
    for path in sorted(source.glob("*.md"), key=lambda p: (not p.name[:4].isdigit(), p.name)):
        if count >= passages:
            break
        shutil.copy(path, target / path.name)
        count += len(split_article(load_article(path), embedder.count_tokens))


def seed_copies(target: Path, passages: int) -> None:
    seed = next((REPO / "corpus").glob("*.md"))
    target.mkdir(parents=True)
    for n in range(max(1, passages // 5)):
        shutil.copy(seed, target / f"copy-{n:04d}.md")


def build_throughput(embedders: dict[str, Embedder], corpus: Path, repeats: int) -> dict[str, dict]:
    """Full builds of ``corpus`` and raw pooled encodes of its passages, interleaved."""
    first = next(iter(embedders.values()))
    texts = [p.text for a in load_corpus(corpus) for p in split_article(a, first.count_tokens)]
    build_s: dict[str, list[float]] = {name: [] for name in embedders}
    raw_s: dict[str, list[float]] = {name: [] for name in embedders}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(repeats):
            for name, e in embedders.items():
                t = time.perf_counter()
                e.encode(texts)
                raw_s[name].append(time.perf_counter() - t)
                t = time.perf_counter()
                build_index(corpus, Path(tmp) / f"{name}-{n}", lambda e=e: e, e.name, full=True)
                build_s[name].append(time.perf_counter() - t)
    return {
        name: {
            "build_passages_per_s": len(texts) / float(np.median(build_s[name])),
            "raw_passages_per_s": len(texts) / float(np.median(raw_s[name])),
            "build_runs_s": [round(s, 2) for s in build_s[name]],
        }
        for name in embedders
    } | {"passages": len(texts)}


def build_encode(embedders: dict[str, Embedder], corpus: Path, repeats: int) -> dict[str, dict]:
    """The build's encoding stage (``encode_tokens`` over length-sorted chunks of 64 passages,
    as ``build_index`` does), interleaved chunk by chunk and alternating which backend goes
    first: on a shared machine, whole builds minutes apart meet different loads."""
    first = next(iter(embedders.values()))
    texts = [p.text for a in load_corpus(corpus) for p in split_article(a, first.count_tokens)]
    texts.sort(key=len)
    chunks = [texts[i : i + 64] for i in range(0, len(texts), 64)]
    seconds = dict.fromkeys(embedders, 0.0)
    names = list(embedders)
    for n in range(repeats):
        for c, chunk in enumerate(chunks):
            for name in names if (n + c) % 2 == 0 else names[::-1]:
                t = time.perf_counter()
                embedders[name].encode_tokens(chunk, batch_size=64)
                seconds[name] += time.perf_counter() - t
    return {
        name: {"encode_passages_per_s": len(texts) * repeats / seconds[name]} for name in embedders
    }


def quality(embedders: dict[str, Embedder], corpus: Path) -> dict[str, dict]:
    """`newsbot eval` figures of each question set on an index built with each backend."""
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, e in embedders.items():
            build_index(corpus, Path(tmp) / name, lambda e=e: e, e.name)
            searcher = Searcher(load_index(Path(tmp) / name, e.name), e, SearchOptions())
            out[name] = {}
            for path in QUESTION_SETS:
                questions = load_questions(path)
                report = evaluate(searcher, questions)
                summary = report.summary()
                confidences = [searcher.ask(q.text).confidence for q in questions]
                summary["highest_abstain_confidence"] = round(
                    max(c for c, q in zip(confidences, questions, strict=True) if not q.expect), 4
                )
                summary["lowest_answer_confidence"] = round(
                    min(c for c, q in zip(confidences, questions, strict=True) if q.expect), 4
                )
                summary["misses"] = [
                    o.question.text
                    for o in report.outcomes
                    if (o.rank != 1 if o.question.expect else o.answered)
                ]
                out[name][path.name] = summary
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onnx", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--build-corpus", type=Path)
    parser.add_argument("--passages", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-quality", action="store_true", help="timings only")
    args = parser.parse_args()
    embedders = {
        "torch": Embedder(threads=args.threads, backend="torch"),
        "onnx-int8": Embedder(threads=args.threads, backend="onnx-int8"),
    }
    for spec in args.onnx or []:
        name, file = spec.split("=", 1)
        embedders[name] = Embedder(threads=args.threads, backend="onnx-int8", onnx_file=Path(file))
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        if args.build_corpus:
            pick_articles(args.build_corpus, corpus, args.passages, embedders["torch"])
        else:
            seed_copies(corpus, args.passages)
        results: dict = {"started": started}
        # Each stage is printed when done: on a loaded machine the whole run takes a while.
        if not args.no_quality:
            results["quality"] = quality(embedders, REPO / "corpus")
            print(json.dumps({"quality": results["quality"]}), flush=True)
        results["latency"] = question_latency(embedders, args.rounds)
        print(json.dumps({"latency": results["latency"]}), flush=True)
        results["build_encode"] = build_encode(embedders, corpus, args.repeats)
        print(json.dumps({"build_encode": results["build_encode"]}), flush=True)
        results["build"] = build_throughput(embedders, corpus, args.repeats)
    base_lat, base_build = results["latency"]["torch"], results["build"]["torch"]
    base_encode = results["build_encode"]["torch"]["encode_passages_per_s"]
    print(
        f"{started}; {results['latency']['questions']} question encodes per backend; "
        f"build of {results['build']['passages']} passages x{args.repeats}"
    )
    for name in embedders:
        lat, build = results["latency"][name], results["build"][name]
        encode = results["build_encode"][name]["encode_passages_per_s"]
        print(
            f"{name:12s} question p50 {lat['p50_ms']:.1f} ms "
            f"({lat['p50_ms'] / base_lat['p50_ms']:.2f}x)"
            f" p95 {lat['p95_ms']:.1f} ms ({lat['p95_ms'] / base_lat['p95_ms']:.2f}x); "
            f"build {build['build_passages_per_s']:.1f} passages/s "
            f"({build['build_passages_per_s'] / base_build['build_passages_per_s']:.2f}x), "
            f"raw {build['raw_passages_per_s']:.1f}/s "
            f"({build['raw_passages_per_s'] / base_build['raw_passages_per_s']:.2f}x), "
            f"build encode interleaved {encode:.1f}/s ({encode / base_encode:.2f}x)"
        )
        for set_name, s in results.get("quality", {}).get(name, {}).items():
            right = round(s["hit@1"] * s["answerable"])
            print(
                f"    {set_name:26s} hit@1 {s['hit@1']:.3f} ({right}/{s['answerable']}) "
                f"hit@3 {s['hit@3']:.3f} "
                f"off-topic {s['off_topic_abstained']} not-in-coverage "
                f"{s['not_in_coverage_abstained']} wrongly abstained {s['wrongly_abstained']}; "
                f"abstain max {s['highest_abstain_confidence']:.3f}, "
                f"answer min {s['lowest_answer_confidence']:.3f}"
            )
            # English questions take the English model alone; the others the cross-lingual
            # channel, which fuses the English model's signals too.
            print("      " + ", ".join(_language_line(k, v) for k, v in s["by_language"].items()))
    print(json.dumps(results))


def _language_line(lang: str, figures: dict) -> str:
    right = round(figures["hit@1"] * figures["answerable"])
    return f"{lang} {right}/{figures['answerable']} off-topic {figures['off_topic_abstained']}"


if __name__ == "__main__":
    main()
