"""Ranking quality of each signal alone and of fusions, on the question set (no abstention).

Prints hit@1 / hit@3 / MRR over the answerable questions for: dense only, BM25 only,
character n-grams only, word-piece MaxSim only, a simple dense+BM25 fusion, and the shipped
weights. Then the shipped configuration with abstention, as `newsbot eval` reports it.

Usage: python bench/retrieval.py [--questions FILE]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from index.build import build_index
from index.embed import Embedder
from index.evaluate import evaluate, load_questions
from index.search import Searcher, SearchOptions, Weights
from index.store import load_index

REPO = Path(__file__).resolve().parent.parent
VARIANTS = {
    "dense only": Weights(1, 0, 0, 0),
    "BM25 only": Weights(0, 1, 0, 0),
    "char n-grams only": Weights(0, 0, 1, 0),
    "word-piece MaxSim only": Weights(0, 0, 0, 1),
    "dense + BM25 (equal, standardised)": Weights(1, 1, 0, 0),
    "shipped fusion": Weights(),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=Path, default=REPO / "tests/data/questions.jsonl")
    args = parser.parse_args()
    questions = load_questions(args.questions)
    embedder = Embedder(threads=2)
    with tempfile.TemporaryDirectory() as tmp:
        build_index(REPO / "corpus", Path(tmp), lambda: embedder, embedder.name)
        data = load_index(Path(tmp))
    answerable = [q for q in questions if q.expect]
    print(f"{len(answerable)} answerable questions, ranking only (no abstention):")
    for name, weights in VARIANTS.items():
        searcher = Searcher(
            data,
            embedder,
            SearchOptions(threshold=-1.0, extra_margin=float("inf"), weights=weights),
        )
        report = evaluate(searcher, answerable)
        print(
            f"  {name:36s} hit@1 {report.hit_at(1):.3f}  hit@3 {report.hit_at(3):.3f}  "
            f"MRR {report.mrr:.3f}"
        )
    shipped = evaluate(Searcher(data, embedder, SearchOptions()), questions)
    print("shipped configuration with abstention:")
    for key, value in shipped.summary().items():
        print(f"  {key:28s} {value}")


if __name__ == "__main__":
    main()
