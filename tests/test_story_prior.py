"""The story prior: the story among other prose (a small story-among-distractors corpus)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.settings import Settings
from index.articles import render_article
from index.build import build_index
from index.embed import Embedder
from index.search import Searcher, SearchOptions
from index.store import IndexData, PassageTable, load_index
from index.story_prior import StoryOptions, StoryPrior
from tests.conftest import SEED_CORPUS

# Other prose, all published after the seed article (2021-02-14), so the seed defines the story.
DISTRACTORS = {
    "vigil": (
        "Mourners gather for candlelight vigil after bushfire",
        "2022-01-10",
        [
            "Hundreds of residents lit candles in the town square on Sunday night to remember "
            "the four firefighters who died fighting the bushfire near Goulburn.",
            "The mayor said the candles were a way for the community to grieve together and to "
            "thank the volunteers who saved most of the homes in the valley.",
        ],
    ),
    "cricket": (
        "Australia wins the third Test against India in Sydney",
        "2022-01-12",
        [
            "Australia won the third cricket Test against India at the Sydney Cricket Ground by "
            "seven wickets, with the opening batsman scoring an unbeaten century on the last day.",
            "The captain praised the fast bowlers, who took eighteen wickets between them in "
            "hot and windy conditions.",
        ],
    ),
    "python": (
        "os.path — Common pathname manipulations",
        "2023-02-08",
        [
            "The function os.path.join joins one or more path components intelligently; the "
            "return value is the concatenation of path and all members of paths, with exactly "
            "one directory separator following each non-empty part except the last.",
            "The function os.path.exists returns True if path refers to an existing path or an "
            "open file descriptor, and False for broken symbolic links.",
        ],
    ),
    "fire": (
        "Fire in a Paris hotel near the Chatelet theatre",
        "2022-02-02",
        [
            "The inferno began at around 3am in the elevator shaft of the six-storey hotel, next "
            "to the Theatre du Chatelet in Paris' first arrondissement, the centre of the French "
            "capital.",
        ],
    ),
    "rates": (
        "Reserve Bank cuts official interest rates again",
        "2022-03-01",
        [
            "The Reserve Bank has cut official interest rates by a quarter of a percentage point, "
            "still concerned about the slowing global economy and weak business investment.",
            "Economists expect the banks to pass the cut on to home loan customers within a week.",
        ],
    ),
}


@pytest.fixture(scope="module")
def story_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The seed article among five articles of other prose."""
    corpus = tmp_path_factory.mktemp("story-corpus")
    for seed in SEED_CORPUS.glob("*.md"):
        shutil.copy(seed, corpus / seed.name)
    for name, (title, published, paragraphs) in DISTRACTORS.items():
        meta = {"title": title, "outlet": "Elsewhere", "url": f"https://example.org/{name}"}
        text = render_article({**meta, "published": published}, paragraphs)
        (corpus / f"other-{name}.md").write_text(text, encoding="utf-8")
    index = tmp_path_factory.mktemp("story-index")
    build_index(corpus, index, lambda: embedder, embedder.name)
    return index


@pytest.fixture(scope="module")
def story_data(story_index: Path) -> IndexData:
    return load_index(story_index)


def _membership(data: IndexData, embedder: Embedder, options: StoryOptions) -> dict[str, float]:
    prior = StoryPrior(data, embedder, options)
    return {doc_id: float(m) for doc_id, m in zip(data.articles, prior.membership, strict=True)}


def test_the_build_stores_each_articles_vector_sum(story_data: IndexData):
    spec = story_data.manifest["columns"]["article_vectors"]
    assert spec["shape"] == [len(story_data.articles), story_data.vectors.shape[1]]
    for number, _ in enumerate(story_data.articles):
        rows = np.flatnonzero(np.asarray(story_data.passages.articles) == number)
        expected = np.asarray(story_data.vectors[rows]).sum(axis=0)
        np.testing.assert_allclose(story_data.article_vectors[number], expected, atol=1e-5)


def test_the_prior_reads_no_passage_at_load(
    story_data: IndexData, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
):
    def refuse(self, row):
        raise AssertionError("a passage was built while loading the story prior")

    monkeypatch.setattr(PassageTable, "__getitem__", refuse)
    prior = StoryPrior(story_data, embedder, StoryOptions())
    assert len(prior.membership) == len(story_data.articles)


def test_a_minority_story_brings_its_closest_passages_to_the_candidates(
    story_data: IndexData, embedder: Embedder
):
    prior = StoryPrior(story_data, embedder, StoryOptions(text="cricket Test match"))
    vector = embedder.encode(["who scored the century"])[0]
    found = prior.candidates(vector, 1)
    assert len(found) == 1
    assert story_data.passages[found[0]].passage.doc_id == "other-cricket"


def test_the_earliest_coverage_defines_the_story(story_data: IndexData, embedder: Embedder):
    membership = _membership(story_data, embedder, StoryOptions())
    seed = [m for doc, m in membership.items() if not doc.startswith("other-")]
    assert seed == [1.0]
    assert membership["other-python"] == 0.0
    assert membership["other-cricket"] == 0.0


def test_the_story_setting_names_the_story(story_data: IndexData, embedder: Embedder):
    membership = _membership(story_data, embedder, StoryOptions(text="cricket Test match"))
    assert membership["other-cricket"] > max(
        m for doc, m in membership.items() if doc != "other-cricket"
    )


def test_a_question_that_names_nothing_is_answered_from_the_story(
    story_data: IndexData, embedder: Embedder
):
    answer = Searcher(story_data, embedder, SearchOptions()).ask("why did people light candles")
    assert answer.answered
    assert not answer.passages[0].doc_id.startswith("other-")


def test_off_topic_questions_the_other_prose_does_not_answer_are_abstained(
    story_data: IndexData, embedder: Embedder
):
    searcher = Searcher(story_data, embedder, SearchOptions())
    for question in ("how do I bake sourdough bread", "what's the weather tomorrow", "hi"):
        assert not searcher.ask(question).answered, question


def test_a_question_the_other_prose_answers_clearly_is_still_answered(
    story_data: IndexData, embedder: Embedder
):
    searcher = Searcher(story_data, embedder, SearchOptions())
    answer = searcher.ask("what does os.path.join return when joining path components?")
    assert answer.answered
    assert answer.passages[0].doc_id == "other-python"


def test_coverage_alone_is_untouched_by_the_prior(seed_index: Path, embedder: Embedder):
    data = load_index(seed_index)
    prior = StoryPrior(data, embedder, StoryOptions())
    rows = list(range(len(data.passages)))
    assert np.all(prior.discount(rows) == 0)
    confidence = np.linspace(0.1, 0.5, len(rows), dtype=np.float32)
    assert prior.focus(rows, confidence).tolist() == rows  # every candidate is ranked, as before


def test_the_story_setting_reaches_the_search_options(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NEWSBOT_STORY", "Navalny, candles")
    assert Settings(_env_file=None).search_options().story.text == "Navalny, candles"


def test_other_prose_must_meet_the_question_alone_to_make_the_bot_answer(
    story_data: IndexData, embedder: Embedder
):
    prior = StoryPrior(story_data, embedder, StoryOptions())
    story_row = story_data.passages.rows_of(
        ["2021-02-14-republicworld-navalny-valentines-candles"]
    )[0]
    other_row = story_data.passages.rows_of(["other-fire"])[0]
    rows = [story_row, other_row]
    dense = np.array([0.30, 0.10], dtype=np.float32)
    tokens = np.array([0.20, 0.90], dtype=np.float32)
    penalty = StoryOptions().penalty
    # The other passage's word matches no longer lift the story passage's dense similarity:
    # it counts with its own dense similarity, both after its discount.
    expected = max((0.30 + 0.20) / 2, (0.10 + 0.90) / 2 - penalty)
    assert prior.overall(rows, dense, tokens) == pytest.approx(expected)


def test_within_the_story_the_best_similarities_of_two_passages_combine(
    seed_index: Path, embedder: Embedder
):
    data = load_index(seed_index)
    prior = StoryPrior(data, embedder, StoryOptions())
    dense = np.array([0.30, 0.10, 0.0, 0.0, 0.0], dtype=np.float32)
    tokens = np.array([0.20, 0.90, 0.0, 0.0, 0.0], dtype=np.float32)
    assert prior.overall(list(range(5)), dense, tokens) == pytest.approx((0.30 + 0.90) / 2)


def test_a_word_match_in_other_prose_does_not_answer_an_off_topic_question(
    story_data: IndexData, embedder: Embedder
):
    answer = Searcher(story_data, embedder, SearchOptions()).ask("What is the capital of France?")
    assert not answer.answered


def test_a_question_in_another_language_is_answered_from_the_story(
    story_data: IndexData, embedder: Embedder
):
    searcher = Searcher(story_data, embedder, SearchOptions())
    for question in (
        "Warum haben die Leute Kerzen angezündet?",
        "Зачем люди зажигали свечи?",
    ):
        answer = searcher.ask(question)
        assert answer.answered, question
        assert not answer.passages[0].doc_id.startswith("other-"), question


def test_the_story_prior_lowers_the_multilingual_similarity_of_other_prose(
    story_data: IndexData, embedder: Embedder
):
    searcher = Searcher(story_data, embedder, SearchOptions())
    without = Searcher(story_data, embedder, SearchOptions(story=StoryOptions(enabled=False)))
    question = "Wie hoch sind die Leitzinsen der Reserve Bank?"
    assert searcher.ask(question).confidence < without.ask(question).confidence
