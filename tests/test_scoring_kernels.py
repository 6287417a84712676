"""The search's fast paths give what the plain computations give: word-piece products from int8
matrix products, a question's character n-grams and BM25 words without the libraries' per-call
set-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bm25s
import numpy as np
import pytest
import Stemmer
from hypothesis import given, settings
from hypothesis import strategies as st

from index import matching
from index.embed import Embedder
from index.evaluate import load_questions
from index.lexical import LexicalScorer, _hasher, char_ngram_counts, top_rows
from index.matching import Match, int8_products, quantize
from index.search import Searcher, SearchOptions
from index.store import load_index

DATA = Path(__file__).parent / "data"
QUESTIONS = [
    q.text
    for name in ("questions.jsonl", "questions-holdout.jsonl")
    for q in load_questions(DATA / name)
]


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize("pieces", [1, 7, 40])
def test_int8_products_equal_the_float_products(pieces: int):
    rng = np.random.default_rng(pieces)
    codes, _ = quantize(_unit(rng.standard_normal((3000, 384))))
    question = _unit(rng.standard_normal((pieces, 384))).astype(np.float16)
    expected = codes.astype(np.float32) @ question.astype(np.float32).T
    got = int8_products(codes, question)
    assert got.shape == (3000, pieces) and got.dtype == np.float32
    # Closer than the float16 question is to the float32 one it was stored from (2e-4).
    np.testing.assert_allclose(got, expected, rtol=0, atol=5e-5 * np.abs(expected).max())


def test_int8_products_without_an_int8_kernel_are_the_float_products(
    monkeypatch: pytest.MonkeyPatch,
):
    rng = np.random.default_rng(0)
    codes, _ = quantize(_unit(rng.standard_normal((50, 384))))
    question = _unit(rng.standard_normal((5, 384))).astype(np.float16)
    monkeypatch.setattr(matching, "_int_mm", lambda: None)
    expected = codes.astype(np.float32) @ question.astype(np.float32).T
    np.testing.assert_array_equal(int8_products(codes, question), expected)


def test_sentence_scores_come_from_the_candidates_products(seed_index: Path, embedder: Embedder):
    data = load_index(seed_index)
    matcher = Searcher(data, embedder, SearchOptions())._matcher
    encoded = embedder.encode_tokens(["What nerve agent was Navalny poisoned with?"])[0]
    weights = matcher.weights(encoded.token_ids)
    rows = list(range(len(data.passages)))
    match = matcher.match(encoded.tokens, weights, rows)
    assert isinstance(match, Match)
    for row in rows:
        passage = data.passages[row].passage
        by_sentence = match.sentence_scores(row, passage.sentences)
        # Each sentence's score is the MaxSim over its own word pieces, so the passage's score
        # is at least its best sentence's and the poisoning sentence wins where it is.
        assert len(by_sentence) == len(passage.sentences)
        assert float(np.max(by_sentence)) <= float(match.scores[row]) + 1e-6
        if "Novichok" in passage.text:
            best = passage.sentences[int(np.argmax(by_sentence))]
            assert "Novichok" in passage.text[best[0] : best[1]]


def _scorer() -> LexicalScorer:
    scorer = LexicalScorer.__new__(LexicalScorer)  # only the question-side helpers are used
    scorer._stemmer = Stemmer.Stemmer("english")
    return scorer


def _check_ngrams(text: str) -> None:
    expected = _hasher().transform([text])
    expected.sum_duplicates()
    ids, counts = char_ngram_counts(text)
    assert ids.tolist() == expected.indices.tolist()
    assert counts.tolist() == expected.data.tolist()


def _check_words(text: str) -> None:
    expected = bm25s.tokenize(
        [text], stopwords="en", stemmer=Stemmer.Stemmer("english"), show_progress=False,
        return_ids=False,
    )[0]  # fmt: skip
    assert _scorer().bm25_words(text) == expected


# Odd texts the build and a question may meet: empty, one letter, folded white space, other
# scripts, ligatures and letters whose lower case is longer.
ODD_TEXTS = [
    "",
    "?",
    "a",
    "ab",
    "abc",
    "  x  y\t\nz  ",
    "U.S.A. 2021 — don't",
    "日本語",
    "Was NAVALNEY poisoned?! «Светите фонариками!» 東京 🙂 naïve ﬁ İ",
    "Police detained 37 people at a courtyard gathering in St Petersburg on Sunday evening.",
]


@pytest.mark.parametrize("question", [*QUESTIONS, *ODD_TEXTS])
def test_question_ngrams_and_words_are_the_libraries(question: str):
    _check_ngrams(question)
    _check_words(question)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_text_hashes_and_splits_as_the_libraries_do(text: str):
    _check_ngrams(text)
    _check_words(text)


def test_the_int8_kernel_is_exact_at_the_extremes_and_needs_no_torch():
    code = """
import sys
import numpy as np
from index import matching
rng = np.random.default_rng(1)
codes = rng.integers(-128, 128, (700, 384), dtype=np.int8)
codes[0] = -128
codes[1] = 127
layers = rng.integers(-128, 128, (384, 30), dtype=np.int8)
layers[:, 0] = -128
kernel = matching._int_mm()
expected = codes.astype(np.int64) @ layers.astype(np.int64)
print(kernel is not None, bool((kernel(codes, layers) == expected).all()), "torch" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["True", "True", "False"]


@pytest.mark.parametrize(
    ("positives", "k"), [(59_000, 50), (300_000, 50), (30, 50), (0, 50), (70, 50), (5_000, 1)]
)
def test_top_rows_of_a_million_scores_are_the_highest_positive_ones(positives: int, k: int):
    rng = np.random.default_rng(positives + k)
    scores = np.zeros(1_000_000, dtype=np.float32)
    rows = rng.choice(len(scores), positives, replace=False)
    # Rounded, so that many scores tie, as BM25's do for passages sharing one rare word.
    scores[rows] = np.round(rng.gamma(2.0, 2.0, positives), 1).astype(np.float32) + 0.1
    got = top_rows(scores, k)
    expected = np.sort(scores[scores > 0])[::-1][:k]
    assert len(set(got.tolist())) == len(got) == len(expected)
    np.testing.assert_array_equal(np.sort(scores[got])[::-1], expected)
