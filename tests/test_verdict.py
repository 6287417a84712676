"""Verdicts: the quoted sentence states the answer, only touches the subject, or nothing fits."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.embed import Embedder
from index.evaluate import evaluate, load_questions
from index.search import Searcher, SearchOptions
from index.store import load_index
from index.verdict import Frame, frame_of

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def searcher(seed_index: Path, embedder: Embedder) -> Searcher:
    return Searcher(load_index(seed_index), embedder, SearchOptions())


@pytest.mark.parametrize(
    ("question", "frame"),
    [
        ("How many people were detained?", Frame("number", "people")),
        ("how old is navalny", Frame("age")),
        ("How long was he in a coma?", Frame("duration")),
        ("how many years was he sentenced to", Frame("duration")),
        ("When was Navalny arrested?", Frame("date")),
        ("What time will the gatherings start?", Frame("time")),
        ("Where is Leonid Volkov based?", Frame("place")),
        ("Who is the judge in the trial?", Frame("named", "judge")),
        ("What is the name of Navalny's lawyer?", Frame("named", "lawyer")),
        ("Which hospital treated him?", Frame("named", "hospital")),
        ("What shape are the candles in?", Frame("open")),
        ("who worked out that he had been poisoned", Frame("person")),
        ("why did people light candles", Frame("open")),
    ],
)
def test_question_frames(question: str, frame: Frame) -> None:
    assert frame_of(question) == frame


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("How old is Navalny?", "answer"),
        ("How many people have been detained since the protests began?", "answer"),
        ("Where is Leonid Volkov based?", "answer"),
        ("How old is Navalny's wife?", "related"),  # "44-year old" is about Navalny
        ("When was Navalny born?", "related"),  # a date is there, birth is not
        ("How much was the fine for joining the protests?", "related"),  # "hefty fines", no sum
        ("What is the name of Navalny's lawyer?", "related"),  # his lawyer, unnamed
        ("What is the capital of France?", "none"),
    ],
)
def test_each_verdict(searcher: Searcher, question: str, verdict: str) -> None:
    answer = searcher.ask(question)
    assert answer.verdict == verdict
    assert answer.answered is (verdict != "none")
    assert answer.to_dict()["verdict"] == verdict


@pytest.mark.parametrize(
    "question", ["skolko zaderzhali", "🙂🙂🙂", "שלום מה שלומך", "How many? " * 400]
)
def test_odd_questions_get_a_verdict(searcher: Searcher, question: str) -> None:
    assert searcher.ask(question).verdict in ("answer", "related", "none")


def test_question_set_verdicts_hold_the_bar(searcher: Searcher) -> None:
    """The tuning set: most on-story questions the article does not answer are not presented
    as answered, and at most two answerable questions with the right passage lose "answer"."""
    report = evaluate(searcher, load_questions(REPO / "tests/data/questions.jsonl"))
    honest, absent = report.verdicts_of_kind("not-in-coverage", ("related", "none"))
    assert absent >= 15 and honest * 3 >= absent * 2
    lost = [o for o in report.answerable if o.rank == 1 and o.verdict != "answer"]
    assert len(lost) <= 2
