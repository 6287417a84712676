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


def test_paragraph_starting_with_a_full_stop_is_split() -> None:
    # Met in the Debian manuals' prose while making the 1M story-scale corpus: it crashed.
    passages = split_article(_article(". Then it went on. And on."), _words, max_tokens=50)
    assert [p.text for p in passages] == [". Then it went on. And on."]
    assert [passages[0].text[s:e] for s, e in passages[0].sentences][-1] == "And on."


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


def _pieces(text: str) -> int:
    """A word-piece-like count: a word of n letters is ceil(n / 4) pieces."""
    return sum(-(-len(word) // 4) for word in text.split())


def test_overlong_sentence_is_cut_between_words_under_the_limit() -> None:
    words = " ".join(["word"] * 60) + "."
    passages = split_article(_article(words), _words, max_tokens=20)
    assert [_words(p.text) for p in passages] == [20, 20, 20]
    assert " ".join(p.text for p in passages) == words


def test_megabyte_paragraph_without_sentence_ends_stays_under_the_limit() -> None:
    words = ["candles", "in", "courtyards", "across", "Russia", "Navalny", "supporters"]
    paragraph = " ".join(words[i % len(words)] for i in range(150_000))
    assert len(paragraph) > 1_000_000
    article = _article("A short first paragraph.", paragraph)
    passages = split_article(article, _pieces, max_tokens=128)
    long_parts = [p for p in passages if p.paragraph == 1]
    assert len(long_parts) > 1000
    assert all(_pieces(p.text) <= 128 for p in passages)
    # Nearly full parts: the cut is by the limit, not word by word.
    assert sum(_pieces(p.text) for p in long_parts) / len(long_parts) > 120
    assert " ".join(p.text for p in long_parts) == paragraph
    for p in long_parts[:50]:
        assert article.text[p.start : p.end] == p.text
        assert p.sentences == ((0, len(p.text)),)


def test_a_word_longer_than_the_limit_is_cut_between_characters() -> None:
    paragraph = "Before. " + "x" * 400 + " after."
    passages = split_article(_article(paragraph), _pieces, max_tokens=20)
    assert all(_pieces(p.text) <= 20 for p in passages)
    assert "".join(p.text for p in passages).replace(" ", "") == paragraph.replace(" ", "")


def test_sentences_under_the_limit_are_never_cut() -> None:
    sentence = "This sentence has exactly eight words in it."
    paragraph = " ".join([sentence, " ".join(["long"] * 30) + ".", sentence])
    passages = split_article(_article(paragraph), _words, max_tokens=20)
    assert passages[0].text.startswith(sentence)
    assert passages[-1].text.endswith(sentence)
    assert all(_words(p.text) <= 20 for p in passages)
