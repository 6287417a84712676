"""Splitting paragraphs into passages and sentences."""

from __future__ import annotations

from index.articles import Article, Paragraph
from index.passages import sentence_spans, split_article


def _words(text: str) -> int:
    return len(text.split())


def _article(*paragraphs: str) -> Article:
    paras, offset = [], 0
    for n, text in enumerate(paragraphs):
        paras.append(Paragraph(n, text, "", offset, offset + len(text)))
        offset += len(text) + 2
    return Article("a", "T", "O", "", "", "en", tuple(paras), "h")


def test_sentences_respect_quotes_and_abbreviations() -> None:
    text = "“Putin is fear. Navalny is love.” Dr. Smith said so. The U.S. agreed! Did it?"
    spans = sentence_spans(text)
    sentences = [text[s:e] for s, e in spans]
    assert sentences == [
        "“Putin is fear.",
        "Navalny is love.”",
        "Dr. Smith said so.",
        "The U.S. agreed!",
        "Did it?",
    ]


def test_short_paragraph_is_one_passage_with_offsets() -> None:
    article = _article("One sentence. Two sentences.", "Second paragraph.")
    passages = split_article(article, _words, max_tokens=50)
    assert [p.paragraph for p in passages] == [0, 1]
    for p in passages:
        assert article.text[p.start : p.end] == p.text
        assert next(p.text[s:e] for s, e in p.sentences).endswith(".")


def test_long_paragraph_splits_at_sentence_boundaries_under_limit() -> None:
    sentence = "This sentence has exactly eight words in it."
    paragraph = " ".join([sentence] * 10)
    article = _article(paragraph)
    passages = split_article(article, _words, max_tokens=20)
    assert len(passages) >= 4
    assert all(_words(p.text) <= 20 for p in passages)
    assert " ".join(p.text for p in passages) == paragraph
    assert [p.part for p in passages] == list(range(len(passages)))
    for p in passages:
        assert article.text[p.start : p.end] == p.text


def test_single_overlong_sentence_stays_whole() -> None:
    words = " ".join(["word"] * 60) + "."
    passages = split_article(_article(words), _words, max_tokens=20)
    assert [p.text for p in passages] == [words]
