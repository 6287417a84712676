"""Measuring answers against a question set: ranking quality, abstention, and latency.

A question set is JSONL, one ``{"q": ..., "expect": [...]}`` per line: a passage answers the
question when it contains any of the ``expect`` substrings; an empty ``expect`` means the right
answer is to abstain. An optional ``kind`` labels abstain questions ("off-topic", or
"not-in-coverage" for questions about the story that the coverage does not answer), and an
optional ``lang`` (ISO 639-1, "en" when absent) gives per-language figures.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.errors import NewsbotError
from index.search import Answer, Searcher

RANKED = 10  # how deep to look for the right passage when computing MRR


@dataclass(frozen=True)
class Question:
    text: str
    expect: tuple[str, ...]
    kind: str
    lang: str = "en"


@dataclass
class Outcome:
    """One question's result: ``rank`` is 1-based, 0 when no returned passage answers it."""

    question: Question
    answered: bool
    rank: int
    seconds: float
    verdict: str = "none"


@dataclass
class Report:
    """Aggregate figures of an evaluation run."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def answerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.question.expect]

    @property
    def unanswerable(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.question.expect]

    def hit_at(self, k: int) -> float:
        return _mean([0 < o.rank <= k for o in self.answerable])

    @property
    def mrr(self) -> float:
        return _mean([1 / o.rank if o.rank else 0.0 for o in self.answerable])

    @property
    def abstain_precision(self) -> float:
        abstained = [o for o in self.outcomes if not o.answered]
        return _mean([not o.question.expect for o in abstained]) if abstained else 1.0

    @property
    def abstain_recall(self) -> float:
        return _mean([not o.answered for o in self.unanswerable]) if self.unanswerable else 1.0

    def abstained_of_kind(self, kind: str) -> tuple[int, int]:
        group = [o for o in self.unanswerable if o.question.kind == kind]
        return sum(not o.answered for o in group), len(group)

    def verdicts_of_kind(self, kind: str, wanted: tuple[str, ...]) -> tuple[int, int]:
        """How many questions of ``kind`` got one of the ``wanted`` verdicts, of how many."""
        group = [o for o in self.outcomes if o.question.kind == kind]
        return sum(o.verdict in wanted for o in group), len(group)

    @property
    def wrongly_abstained(self) -> list[Outcome]:
        return [o for o in self.answerable if not o.answered]

    def latency_ms(self, percentile: float) -> float:
        return float(np.percentile([o.seconds * 1000 for o in self.outcomes], percentile))

    def of_language(self, lang: str) -> Report:
        """The outcomes of the questions in one language."""
        return Report([o for o in self.outcomes if o.question.lang == lang])

    def by_language(self) -> dict[str, dict]:
        """Per language: answerable count, hit@1, and off-topic questions abstained."""
        figures = {}
        for lang in sorted({o.question.lang for o in self.outcomes}):
            part = self.of_language(lang)
            off_hit, off_all = part.abstained_of_kind("off-topic")
            figures[lang] = {
                "answerable": len(part.answerable),
                "hit@1": round(part.hit_at(1), 4),
                "off_topic_abstained": f"{off_hit}/{off_all}",
            }
        return figures

    def summary(self) -> dict:
        """The figures as a dictionary (for --json and for tests); ``by_language`` nests one
        small dictionary per language."""
        off_hit, off_all = self.abstained_of_kind("off-topic")
        near_hit, near_all = self.abstained_of_kind("not-in-coverage")
        honest, absent = self.verdicts_of_kind("not-in-coverage", ("related", "none"))
        kept, answerable = self.verdicts_of_kind("answerable", ("answer",))
        return {
            "questions": len(self.outcomes),
            "answerable": len(self.answerable),
            "hit@1": round(self.hit_at(1), 4),
            "hit@3": round(self.hit_at(3), 4),
            "mrr": round(self.mrr, 4),
            "abstain_precision": round(self.abstain_precision, 4),
            "abstain_recall": round(self.abstain_recall, 4),
            "off_topic_abstained": f"{off_hit}/{off_all}",
            "not_in_coverage_abstained": f"{near_hit}/{near_all}",
            "wrongly_abstained": len(self.wrongly_abstained),
            "answerable_verdict_answer": f"{kept}/{answerable}",
            "not_in_coverage_related_or_none": f"{honest}/{absent}",
            "latency_p50_ms": round(self.latency_ms(50), 1),
            "latency_p95_ms": round(self.latency_ms(95), 1),
            "by_language": self.by_language(),
        }


def load_questions(path: Path) -> list[Question]:
    """Read a question set; raise ``NewsbotError`` naming the line of a malformed entry."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise NewsbotError(f"cannot read question set {path}: {exc.strerror or exc}") from exc
    questions = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            questions.append(_question(line, path, number))
    if not questions:
        raise NewsbotError(f"question set {path} has no questions")
    return questions


def _question(line: str, path: Path, number: int) -> Question:
    try:
        row = json.loads(line)
        text, expect = row["q"], row.get("expect", [])
        if not isinstance(text, str) or not isinstance(expect, list):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        raise NewsbotError(
            f'{path}:{number}: expected {{"q": "...", "expect": ["..."]}} on each line'
        ) from exc
    kind = row.get("kind", "answerable" if expect else "off-topic")
    return Question(text, tuple(str(e) for e in expect), str(kind), str(row.get("lang", "en")))


def evaluate(searcher: Searcher, questions: list[Question]) -> Report:
    """Ask every question (one at a time, as a reader would) and score the answers."""
    report = Report()
    searcher.ask("warm-up")  # the first call pays for lazy initialisation
    for question in questions:
        started = time.perf_counter()
        answer = searcher.ask(question.text, k=RANKED)
        elapsed = time.perf_counter() - started
        rank = _rank(answer, question)
        report.outcomes.append(Outcome(question, answer.answered, rank, elapsed, answer.verdict))
    return report


def _rank(answer: Answer, question: Question) -> int:
    for rank, hit in enumerate(answer.passages, 1):
        if any(e in hit.text for e in question.expect):
            return rank
    return 0


def _mean(values: list) -> float:
    return float(np.mean(values)) if values else 0.0
