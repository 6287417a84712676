"""Every answer of the question sets on the given indexes, one JSON line per question: to check
that a change to the engine leaves the answers as they were (diff two runs' outputs).

Usage: NEWSBOT_BACKEND=onnx-int8 python bench/answers_dump.py INDEX_DIR [...] > answers.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scale import bench_embedder  # beside this script
from story_quality import PROSE_CHECKS, QUESTION_SETS

from index.evaluate import load_questions
from index.search import Searcher, SearchOptions
from index.store import load_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dirs", type=Path, nargs="+")
    args = parser.parse_args()
    embedder = bench_embedder()
    sets = {**QUESTION_SETS, "prose": PROSE_CHECKS}
    for index_dir in args.index_dirs:
        searcher = Searcher(load_index(index_dir), embedder, SearchOptions())
        for name, path in sets.items():
            for question in load_questions(path):
                answer = searcher.ask(question.text)
                print(
                    json.dumps(
                        {
                            "index": index_dir.name,
                            "set": name,
                            "question": question.text,
                            "answered": answer.answered,
                            "verdict": answer.verdict,
                            "confidence": round(answer.confidence, 4),
                            "passages": [
                                [p.doc_id, p.paragraph, p.part, p.highlight_start, p.score]
                                for p in answer.passages
                            ],
                        },
                        ensure_ascii=False,
                    )
                )


if __name__ == "__main__":
    main()
