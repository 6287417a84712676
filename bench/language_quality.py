"""Both question sets on built indexes, the English questions and the others apart (with the
others' per-language figures, as ``newsbot eval --json`` reports ``by_language``): to check a
change to the search against the same indexes before and after.

Usage: NEWSBOT_BACKEND=onnx-int8 python bench/language_quality.py INDEX_DIR [...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scale import bench_embedder  # beside this script
from story_quality import QUESTION_SETS

from index.evaluate import evaluate, load_questions
from index.search import Searcher, SearchOptions
from index.store import load_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dirs", type=Path, nargs="+")
    args = parser.parse_args()
    embedder = bench_embedder()
    for index_dir in args.index_dirs:
        searcher = Searcher(load_index(index_dir), embedder, SearchOptions())
        for name, path in QUESTION_SETS.items():
            questions = load_questions(path)
            for group, chosen in (
                ("english", [q for q in questions if q.lang == "en"]),
                ("not_english", [q for q in questions if q.lang != "en"]),
            ):
                summary = evaluate(searcher, chosen).summary()
                row = {
                    "index": str(index_dir),
                    "set": name,
                    "questions": group,
                    "hit@1": summary["hit@1"],
                    "off_topic_abstained": summary["off_topic_abstained"],
                    "wrongly_abstained": summary["wrongly_abstained"],
                }
                if group == "not_english":
                    row["by_language"] = {
                        lang: {"hit@1": f["hit@1"], "off_topic": f["off_topic_abstained"]}
                        for lang, f in summary["by_language"].items()
                    }
                print(json.dumps(row))


if __name__ == "__main__":
    main()
