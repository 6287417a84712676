"""Answer quality at story scale: the question sets against a built story-scale index.

For each index folder: own-set hit@1 (tests/data/questions.jsonl, answerable part), holdout hit@1
(tests/data/questions-holdout.jsonl; never tuned on), off-topic questions abstained, with
`index.evaluate`; then which off-topic questions were answered, and from which outlet, so one
can see whether the extra prose really answers them (a Python question from the Python docs).

Usage: python bench/story_quality.py INDEX_DIR [INDEX_DIR ...] [--story WORDS] [--no-prior]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from index.embed import DEFAULT_BACKEND, Embedder
from index.evaluate import Report, evaluate, load_questions
from index.search import Searcher, SearchOptions
from index.store import load_index

REPO = Path(__file__).resolve().parent.parent
QUESTION_SETS = {
    "own": REPO / "tests" / "data" / "questions.jsonl",
    "holdout": REPO / "tests" / "data" / "questions-holdout.jsonl",
}
# Questions that the other prose of bench/scale_corpus.py answers (Lee news from 1k passages,
# the Python docs from 10k): answering them from that prose is right.
PROSE_CHECKS = REPO / "bench" / "prose_checks.jsonl"


def story_options(story: str | None, prior: bool) -> SearchOptions:
    """The shipped options, with the story named or the prior switched off (when the search
    module has one: this script also runs against engines without it)."""
    options = SearchOptions()
    story_field = getattr(options, "story", None)
    if story_field is None:
        return options
    from dataclasses import replace

    changed = replace(story_field, text=story or story_field.text)
    if not prior:
        changed = replace(changed, enabled=False)
    return replace(options, story=changed)


def quality(searcher: Searcher) -> dict:
    """Figures of both question sets on one searcher."""
    figures: dict = {}
    for name, path in QUESTION_SETS.items():
        report = evaluate(searcher, load_questions(path))
        figures[name] = _figures(report, searcher)
    prose = evaluate(searcher, load_questions(PROSE_CHECKS))
    figures["prose_checks"] = {
        o.question.text: "answered, rank " + str(o.rank) if o.answered else "abstained"
        for o in prose.outcomes
    }
    return figures


def _figures(report: Report, searcher: Searcher) -> dict:
    summary = report.summary()
    answered_off_topic = []
    for outcome in report.unanswerable:
        if outcome.answered and outcome.question.kind == "off-topic":
            best = searcher.ask(outcome.question.text, k=1).passages[0]
            answered_off_topic.append(f"{outcome.question.text!r} -> {best.outlet}: {best.title}")
    return {
        "hit@1": summary["hit@1"],
        "hit@3": summary["hit@3"],
        "off_topic_abstained": summary["off_topic_abstained"],
        "not_in_coverage_abstained": summary["not_in_coverage_abstained"],
        "wrongly_abstained": summary["wrongly_abstained"],
        "answered_off_topic": answered_off_topic,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dirs", type=Path, nargs="+")
    parser.add_argument("--story", default=None, help="words naming the story (the setting)")
    parser.add_argument("--no-prior", action="store_true", help="switch the story prior off")
    args = parser.parse_args()
    # The backend the indexes were built with (NEWSBOT_BACKEND: onnx-int8 or torch); an index
    # of the other one is refused, not searched.
    embedder = Embedder(threads=2, backend=os.environ.get("NEWSBOT_BACKEND", DEFAULT_BACKEND))
    options = story_options(args.story, not args.no_prior)
    for index_dir in args.index_dirs:
        data = load_index(index_dir, embedder.name)
        figures = quality(Searcher(data, embedder, options))
        print(json.dumps({"index": str(index_dir), "passages": len(data.passages), **figures}))


if __name__ == "__main__":
    main()
