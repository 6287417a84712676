"""Questions not in English: each signal alone, a grid over fusion weights, the abstention
margins, per-language figures, and what the channel costs (build and per question).

Signals are computed once per question; the grid re-fuses them. Weights are chosen on the
tuning set (tests/data/questions.jsonl); the holdout set is only scored.

Usage: python bench/crosslingual.py [--questions FILE] [--holdout FILE]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from index.build import build_index
from index.crosslingual import MultilingualEncoder
from index.embed import Embedder
from index.evaluate import Question, evaluate, load_questions
from index.language import romanise
from index.passages import sentence_spans
from index.search import Searcher, SearchOptions, _standardise
from index.store import IndexData, load_index

REPO = Path(__file__).resolve().parent.parent
SIGNALS = (
    "passage", "sentence", "focus_passage", "focus_sentence", "dense", "bm25", "chars", "tokens"
)  # fmt: skip
GRID = {
    "passage": (0, 0.5, 1),
    "sentence": (0, 0.5, 1),
    "focus_passage": (0, 0.5, 1),
    "focus_sentence": (0, 0.5, 1, 2),
    "dense": (0, 0.25),
    "bm25": (0, 0.25),
    "chars": (0, 0.25),
    "tokens": (0, 0.25, 0.5),
}


def signals_of(searcher: Searcher, embedder: Embedder, data: IndexData, questions: list[Question]):
    """Per question: (question, confidence per row, signals, rows answering it)."""
    out = []
    for q in questions:
        encoded = embedder.encode_tokens([romanise(q.text)])[0]
        vector = embedder.multilingual.encode([q.text])[0]
        rows, signals, _ = searcher.crosslingual_signals(q.text, encoded, vector)
        right = {n for n, r in enumerate(rows) if any(e in data.passages.text(r) for e in q.expect)}
        out.append((q, (signals["passage"] + signals["sentence"]) / 2, signals, right))
    return out


def hits(prepared, weights: dict[str, float]) -> list[bool]:
    results = []
    for _, _, signals, right in prepared:
        fused = sum(weights[s] * _standardise(signals[s]) for s in SIGNALS)
        results.append(int(np.argmax(fused)) in right)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=REPO / "tests/data/questions.jsonl")
    parser.add_argument("--holdout", type=Path, default=REPO / "tests/data/questions-holdout.jsonl")
    args = parser.parse_args()
    embedder = Embedder(threads=2)
    # The build stays on disk while the bench runs: format 2 maps its files, never reads them.
    folder = tempfile.TemporaryDirectory()
    build_index(REPO / "corpus", Path(folder.name), lambda: embedder, embedder.name)
    data = load_index(Path(folder.name))
    searcher = Searcher(data, embedder, SearchOptions())
    tuning = [q for q in load_questions(args.questions) if q.lang != "en"]
    prepared = signals_of(searcher, embedder, data, tuning)
    answerable = [p for p in prepared if p[0].expect]
    print(f"{len(answerable)} answerable questions not in English (tuning set), hit@1:")
    for signal in SIGNALS:
        alone = hits(answerable, {s: float(s == signal) for s in SIGNALS})
        print(f"  {signal:10s} alone  {sum(alone)}/{len(alone)}")
    scored = []
    for values in itertools.product(*GRID.values()):
        weights = dict(zip(GRID, values, strict=True))
        if any(weights.values()):
            scored.append((sum(hits(answerable, weights)), weights))
    best = max(score for score, _ in scored)
    plateau = [w for score, w in scored if score == best]
    print(f"grid: best {best}/{len(answerable)}, reached by {len(plateau)} of {len(scored)}")
    for w in plateau[:12]:
        print("   ", w)
    shipped = SearchOptions().crosslingual_weights.__dict__
    print(f"shipped {shipped}: {sum(hits(answerable, shipped))}/{len(answerable)}")
    confidence_margins(prepared)
    for name, path in (("tuning", args.questions), ("holdout", args.holdout)):
        report = evaluate(searcher, load_questions(path))
        print(f"{name}: hit@1 {report.hit_at(1):.3f}, off-topic {report.summary()}")
    costs(embedder, data)
    latency(searcher, load_questions(args.questions))


def latency(searcher: Searcher, questions: list[Question]) -> None:
    """Median ``ask`` time of the questions not in English over that of the English ones."""
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(2):
        for q in questions:
            started = time.perf_counter()
            searcher.ask(q.text)
            times[q.lang == "en"].append(time.perf_counter() - started)
    english, other = statistics.median(times[True]), statistics.median(times[False])
    print(
        f"ask p50: English {english * 1000:.0f} ms, other languages {other * 1000:.0f} ms, "
        f"ratio {other / english:.2f}"
    )


def confidence_margins(prepared) -> None:
    off = sorted((float(c.max()), q.text) for q, c, _, _ in prepared if not q.expect)
    on = sorted((float(c.max()), q.text) for q, c, _, _ in prepared if q.expect)
    print("off-topic, highest confidence:", [f"{c:.3f} {t}" for c, t in off[-3:]])
    print("answerable, lowest confidence:", [f"{c:.3f} {t}" for c, t in on[:3]])


def costs(embedder: Embedder, data: IndexData) -> None:
    """Encoding rates of the English model (word pieces kept, as the build does) and of the
    multilingual one (each sentence of the passages, as the build does), on the same texts."""
    texts = [p.passage.text for p in data.passages] + _extra_prose()
    sentences = [t[s:e] for t in texts for s, e in sentence_spans(t)]
    multilingual = MultilingualEncoder(threads=2)
    multilingual.encode(["warm-up"])
    embedder.encode_tokens(["warm-up"])
    for _ in range(3):
        started = time.perf_counter()
        embedder.encode_tokens(texts)
        english = time.perf_counter() - started
        started = time.perf_counter()
        multilingual.encode(sentences)
        extra = time.perf_counter() - started
        print(
            f"build encode, {len(texts)} passages: English model {len(texts) / english:.1f}/s, "
            f"multilingual {len(texts) / extra:.1f}/s, both {len(texts) / (english + extra):.1f}/s"
        )
    questions = ["How many people were detained?", "What poison was used on Navalny?"] * 10
    ratio = []
    for q in questions:
        started = time.perf_counter()
        embedder.encode_tokens([q])
        english = time.perf_counter() - started
        started = time.perf_counter()
        multilingual.encode([q])
        ratio.append((time.perf_counter() - started) / english)
    print(f"question encode, multilingual / English model: median {statistics.median(ratio):.2f}")


def _extra_prose() -> list[str]:
    """Real English paragraphs of this repository's docs, as stand-in passages for timing."""
    paragraphs = []
    for path in [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]:
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            words = block.split()
            if 30 <= len(words) <= 120 and not block.lstrip().startswith(("|", "```", "#")):
                paragraphs.append(" ".join(words))
    return paragraphs


if __name__ == "__main__":
    main()
