"""Questions not in English: routed to the multilingual channel, answered from the English
coverage with its own sentence highlighted, or abstained; the channel's files are mapped."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index.build import build_index
from index.crosslingual import (
    FILES,
    CrosslingualSearch,
    CrosslingualVectors,
    story_terms,
    without_terms,
)
from index.embed import Embedder
from index.errors import IndexNotReady
from index.language import question_language, romanise
from index.search import Searcher, SearchOptions
from index.store import current_build, load_index, read_manifest, write_manifest
from tests.conftest import SEED_CORPUS


@pytest.fixture(scope="module")
def searcher(seed_index: Path, embedder: Embedder) -> Searcher:
    return Searcher(load_index(seed_index), embedder, SearchOptions())


def test_russian_question_is_answered_with_the_english_sentence_highlighted(
    searcher: Searcher,
) -> None:
    answer = searcher.ask("Чем отравили Навального?")
    assert answer.answered
    assert answer.verdict == "answer"  # index/verdict.py reads English answer types only
    top = answer.passages[0]
    assert "Novichok" in top.highlight  # the quote stays in the article's language
    assert top.text[top.highlight_start : top.highlight_end] == top.highlight
    assert top.link.startswith(top.url + "#:~:text=")


def test_russian_question_about_arrests_finds_the_count(searcher: Searcher) -> None:
    top = searcher.ask("Сколько людей задержали?").passages[0]
    assert "detained over 7,000 people" in top.highlight


@pytest.mark.parametrize(
    "question", ["Какой сегодня курс доллара?", "Як приготувати вареники?", "Привет, как дела?"]
)
def test_off_topic_question_in_cyrillic_is_abstained(searcher: Searcher, question: str) -> None:
    answer = searcher.ask(question)
    assert not answer.answered and answer.passages == ()
    assert answer.verdict == "none"


def test_english_questions_do_not_take_the_crosslingual_path(searcher: Searcher) -> None:
    english = searcher.ask("What nerve agent was Navalny poisoned with?")
    # Today's path reports today's confidence scale: dense and MaxSim, well above the
    # multilingual channel's cosines for this question.
    assert english.answered and english.confidence > SearchOptions().threshold
    assert searcher._foreign(["What nerve agent was Navalny poisoned with?"]) == [False]


def test_channel_files_are_memory_mapped_not_read(seed_index: Path) -> None:
    vectors = load_index(seed_index).crosslingual
    assert vectors is not None
    for array in (vectors.passages, vectors.sentences, vectors.sentence_starts):
        assert isinstance(array, np.memmap)
    assert vectors.passages.dtype == np.float16 and vectors.passages.shape[1] == 512
    # every sentence of every passage has a vector
    data = load_index(seed_index)
    assert int(vectors.sentence_starts[-1]) == sum(len(p.passage.sentences) for p in data.passages)


def test_a_truncated_channel_file_asks_for_a_rebuild(seed_index: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(seed_index, copy, symlinks=True)
    build = current_build(copy)
    assert build is not None
    sentences = build / FILES[1]
    sentences.write_bytes(sentences.read_bytes()[:-1024])
    with pytest.raises(IndexNotReady, match="newsbot build"):
        load_index(copy)


def _without_the_channel(index_dir: Path) -> None:
    """Make the live build of ``index_dir`` look like one written before the channel existed."""
    build = current_build(index_dir)
    assert build is not None
    manifest = read_manifest(build)
    manifest.pop("crosslingual")
    for name in FILES:
        manifest["columns"].pop(name)
        (build / name).unlink()
    write_manifest(build, manifest)


def test_build_without_the_channel_abstains_in_cyrillic_then_a_build_adds_it(
    seed_index: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(seed_index, index_dir, symlinks=True)
    _without_the_channel(index_dir)
    assert load_index(index_dir).crosslingual is None
    assert (
        not Searcher(load_index(index_dir), embedder, SearchOptions())
        .ask("Чем отравили Навального?")
        .answered
    )
    report = build_index(SEED_CORPUS, index_dir, lambda: embedder, embedder.name)
    assert report.changed and report.embedded == 0  # English vectors carried over
    rebuilt = load_index(index_dir)
    assert rebuilt.crosslingual is not None
    assert Searcher(rebuilt, embedder, SearchOptions()).ask("Чем отравили Навального?").answered


def test_incremental_build_carries_vectors_over(
    corpus_copy: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus_copy, index_dir, lambda: embedder, embedder.name)
    before = load_index(index_dir)
    (corpus_copy / "second.md").write_text(
        "---\ntitle: Vigil in Moscow\npublished: 2021-02-15\n---\n"
        "People stood in the snow with candles. The police watched from a distance.\n",
        encoding="utf-8",
    )
    report = build_index(corpus_copy, index_dir, lambda: embedder, embedder.name)
    after = load_index(index_dir)
    assert report.reused == len(before.passages)
    assert before.crosslingual is not None and after.crosslingual is not None
    rows = {p.id: r for r, p in enumerate(after.passages)}
    for row, stored in enumerate(before.passages):
        old_vector, old_sentences = before.crosslingual.of_row(row)
        new_vector, new_sentences = after.crosslingual.of_row(rows[stored.id])
        assert np.array_equal(old_vector, new_vector)
        assert np.array_equal(old_sentences, new_sentences)


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("Сколько людей задержали?", "ru"),
        ("Скільки людей затримали?", "uk"),
        ("Чим отруїли Навального?", "uk"),
        ("Womit wurde Nawalny vergiftet?", "de"),
        ("Was droht den Teilnehmern?", "de"),
        ("Combien de personnes ont été arrêtées ?", "fr"),
        ("did navalny die in prison", "en"),
        ("What was the poison?", "en"),
        ("navalny", "en"),
        ("hi", "en"),
        ("🙂🙂", "en"),
        ("", "en"),
        ("ナワリヌイ", "katakana"),
    ],
)
def test_question_language(question: str, language: str) -> None:
    assert question_language(question) == language


def test_romanise_spells_names_as_english_coverage_does() -> None:
    assert romanise("Волков в Берлине") == "Volkov v Berline"
    assert romanise("Navalny, 7 000") == "Navalny, 7 000"


def test_names_every_candidate_shares_are_dropped_from_the_question() -> None:
    texts = [
        "Navalny was flown to Berlin.",
        "Navalny is love.",
        "Leonid Volkov wrote on Twitter.",
    ]
    terms = story_terms(texts)
    assert without_terms("Чем отравили Навального?", terms) == "Чем отравили"
    assert without_terms("Womit wurde Nawalny vergiftet?", terms) == "Womit wurde vergiftet?"
    assert without_terms("Навальный?", terms) == "Навальный?"  # nothing else would be left


@pytest.mark.parametrize(
    "question",
    [
        "Сколько people were detained?",  # mixed
        "skolko zaderzhali",  # transliterated Russian: the English path
        "🙂🙂🙂",
        "ما هو السم الذي استخدم؟",  # right-to-left
        "Почему " * 700,  # longer than a Telegram message
    ],
)
def test_odd_questions_get_a_verdict_not_an_error(searcher: Searcher, question: str) -> None:
    answer = searcher.ask(question)
    assert answer.answered == bool(answer.passages)


def test_candidates_are_the_exact_nearest_of_the_stored_float16_vectors() -> None:
    generator = np.random.default_rng(7)
    passages = generator.standard_normal((3000, 512)).astype(np.float16)
    vectors = CrosslingualVectors(passages, passages[:0], np.zeros(3001, dtype=np.int64))
    search = CrosslingualSearch(vectors, encoder=None)  # type: ignore[arg-type]
    for _ in range(5):
        question = generator.standard_normal(512).astype(np.float32)
        expected = np.argsort(-(passages.astype(np.float32) @ question))[:50]
        assert search.candidates(question, 50).tolist() == sorted(expected.tolist())
    assert search.candidates(question, 5000).tolist() == list(range(3000))
