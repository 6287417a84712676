"""Answers from the seed index: ranking, highlighting, links, abstention, odd questions."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from index.embed import Embedder
from index.errors import QuestionError
from index.highlight import text_fragment_link
from index.search import Searcher, SearchOptions
from index.store import load_index


@pytest.fixture(scope="module")
def searcher(seed_index: Path, embedder: Embedder) -> Searcher:
    return Searcher(load_index(seed_index), embedder, SearchOptions())


def test_answer_carries_quote_highlight_and_source(searcher: Searcher) -> None:
    answer = searcher.ask("What nerve agent was Navalny poisoned with?")
    assert answer.answered
    top = answer.passages[0]
    assert "Novichok" in top.highlight
    assert top.text[top.highlight_start : top.highlight_end] == top.highlight
    assert top.outlet == "Republic World" and top.published == "2021-02-14"
    assert top.url.startswith("https://www.republicworld.com/")
    assert top.link.startswith(top.url + "#:~:text=")
    assert top.paragraph == 4 and top.section == "Navalny returns to court"


def test_k_limits_passages(searcher: Searcher) -> None:
    assert len(searcher.ask("Navalny court defamation trial", k=1).passages) == 1
    assert len(searcher.ask("Navalny court defamation trial", k=5).passages) <= 5


def test_off_topic_question_abstains_without_passages(searcher: Searcher) -> None:
    answer = searcher.ask("What is the capital of France?")
    assert not answer.answered and answer.passages == ()


def test_question_in_a_script_the_coverage_lacks_goes_to_the_multilingual_channel(
    searcher: Searcher,
) -> None:
    # The English model reads Cyrillic as single letters; the multilingual channel answers
    # (an index built without that channel abstains: tests/test_crosslingual.py).
    answer = searcher.ask("когда арестовали Навального?")
    assert answer.answered
    assert any("arrested by the Russian authorities" in h.text for h in answer.passages)
    assert searcher.ask("¿cuándo fue arrestado Navalny?").question


def test_batch_gives_same_answers_as_one_by_one(searcher: Searcher) -> None:
    questions = ["how long was he in a coma", "who is leonid volkov", "best pizza in naples"]
    batch = searcher.ask_many(questions)
    single = [searcher.ask(q) for q in questions]
    assert [a.answered for a in batch] == [a.answered for a in single]
    assert [[h.text for h in a.passages] for a in batch] == [
        [h.text for h in a.passages] for a in single
    ]


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "\x00\x01\x07"])
def test_empty_questions_raise_a_clear_error(searcher: Searcher, question: str) -> None:
    with pytest.raises(QuestionError, match="empty"):
        searcher.ask(question)


@pytest.mark.parametrize(
    "question",
    [
        "x" * 10_000,
        "Navalny " * 2_000,
        "когда арестовали Навального?",
        "¿Dónde está Navalny? 🕯️❤️",
        "<b>&</i> novichok\u202e\u200b",
        "\U0001f600" * 300,
    ],
)
def test_odd_questions_get_an_answer_or_abstention(searcher: Searcher, question: str) -> None:
    answer = searcher.ask(question)
    assert len(answer.question) <= 1000
    assert answer.answered == bool(answer.passages)


def test_text_fragment_links_escape_directive_characters() -> None:
    short = text_fragment_link("https://a.test/x#old", "Putin is fear, love & hope - now")
    assert short.startswith("https://a.test/x#:~:text=")
    directive = short.split("#:~:text=")[1]
    assert "," not in directive and "&" not in directive and "-" not in directive
    assert unquote(directive) == "Putin is fear, love & hope - now"
    long = text_fragment_link("https://a.test/x", " ".join(f"w{i}" for i in range(20)))
    assert long.endswith("#:~:text=w0%20w1%20w2%20w3,w16%20w17%20w18%20w19")
    assert text_fragment_link("", "anything") == ""
