"""Answers across several articles: one quote per fact, with the other outlets named."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from index.build import build_index
from index.embed import Embedder
from index.search import Searcher, SearchOptions
from index.store import load_index
from newsbot.cli.app import app

WIRE = """---
title: Navalny allies call for courtyard vigils
outlet: Example Wire
url: https://wire.example.test/navalny-vigils
published: 2021-02-13
---

Supporters of the jailed opposition politician were asked to step outside on Sunday evening.

“(President Vladimir) Putin is fear. Navalny is love. That’s why we will win,” Leonid Volkov, \
one of Navalny’s close allies based in Lithuania, wrote on Twitter calling on people to gather.

The team has not said how many people it expects to take part across the country.
"""


@pytest.fixture(scope="module")
def two_outlets(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    root = tmp_path_factory.mktemp("two-outlets")
    corpus = root / "corpus"
    corpus.mkdir()
    seed = next((Path(__file__).resolve().parent.parent / "corpus").glob("*.md"))
    (corpus / seed.name).write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    (corpus / "2021-02-13-wire-vigils.md").write_text(WIRE, encoding="utf-8")
    build_index(corpus, root / "index", lambda: embedder, embedder.name)
    return root / "index"


def test_same_quote_in_two_articles_is_shown_once_with_the_other_outlet(
    two_outlets: Path, embedder: Embedder
) -> None:
    searcher = Searcher(load_index(two_outlets), embedder, SearchOptions(k=3))
    answer = searcher.ask("What did Volkov write on Twitter?")
    top = answer.passages[0]
    assert "Putin is fear" in top.text
    carriers = {top.outlet} | {s.outlet for s in top.also}
    assert carriers == {"Republic World", "Example Wire"}
    assert all(s.link.startswith(s.url + "#:~:text=") for s in top.also)
    quotes = [h for h in answer.passages if "Putin is fear" in h.text]
    assert len(quotes) == 1, "the same quote must not be repeated"


def test_cli_names_the_other_outlet_and_lists_sources_newest_first(two_outlets: Path) -> None:
    runner = CliRunner()
    asked = runner.invoke(app, ["ask", "--index", str(two_outlets), "what did volkov tweet"])
    assert asked.exit_code == 0
    assert "also:" in asked.output
    listed = runner.invoke(app, ["sources", "--index", str(two_outlets)])
    lines = [line for line in listed.output.splitlines() if line[:4].isdigit()]
    assert [line[:10] for line in lines] == ["2021-02-14", "2021-02-13"]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was Navalny arrested?", "arrested by the Russian authorities"),
        ("How many people have been detained?", "detained over 7,000 people"),
        ("what did volkov tweet", "Putin is fear"),
    ],
)
def test_candidate_shortlist_keeps_the_right_passage(
    two_outlets: Path, embedder: Embedder, question: str, expected: str
) -> None:
    # With fewer candidates than passages, FAISS and BM25 shortlists feed the fusion.
    searcher = Searcher(load_index(two_outlets), embedder, SearchOptions(candidates=2))
    assert expected in searcher.ask(question).passages[0].text
