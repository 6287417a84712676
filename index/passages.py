"""Passages: the units the index stores and quotes, cut from cleaned articles.

A passage is a paragraph; a paragraph longer than the model's comfortable input is split at
sentence boundaries into parts that each stay under the limit. A sentence that is alone over the
limit (or text with no sentence ends at all) is cut between words, and a single "word" over the
limit between characters, so no passage exceeds the limit. Every passage keeps its place in the
cleaned article (character offsets) and the spans of its sentences, for highlighting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from index.articles import Article, Paragraph

# Abbreviations after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "col", "lt", "sgt", "capt",
    "gov", "sen", "rep", "pres", "rev", "no", "vs", "etc", "inc", "ltd", "co", "corp", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k",
    "e.g", "i.e", "a.m", "p.m",
}  # fmt: skip
_WORD_SPAN = re.compile(r"\S+")
_SENTENCE_BREAK = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9А-ЯЁ])")


@dataclass(frozen=True)
class Passage:
    """A quotable piece of an article.

    ``start``/``end`` are offsets into ``Article.text``; ``sentences`` are (start, end) spans
    relative to ``text``.
    """

    doc_id: str
    paragraph: int
    part: int
    section: str
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]

    @property
    def key(self) -> str:
        return f"{self.doc_id}#{self.paragraph}.{self.part}"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentences; return their (start, end) spans, whitespace excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        end = match.end()
        if _ends_with_abbreviation(text[start:end]):
            continue
        spans.append((start, end))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text):
        spans.append((start, len(text.rstrip())))
    return [(s, e) for s, e in spans if e > s]


def _ends_with_abbreviation(sentence: str) -> bool:
    if not sentence.endswith("."):
        return False
    words = sentence[:-1].split()
    if not words:  # a lone full stop, as in a paragraph that starts with ". "
        return False
    last = words[-1].lower().lstrip("(\"'“‘")
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def split_article(
    article: Article, count_tokens: Callable[[str], int], max_tokens: int = 128
) -> list[Passage]:
    """Cut an article into passages of at most ``max_tokens`` word pieces.

    Cuts fall between sentences; only a sentence longer than the limit on its own is cut
    between words (its parts then count as its sentences).
    """
    passages: list[Passage] = []
    for paragraph in article.paragraphs:
        passages.extend(_split_paragraph(article.doc_id, paragraph, count_tokens, max_tokens))
    return passages


def _split_paragraph(
    doc_id: str, paragraph: Paragraph, count_tokens: Callable[[str], int], max_tokens: int
) -> Iterable[Passage]:
    text = paragraph.text
    spans = sentence_spans(text)
    if count_tokens(text) <= max_tokens:
        groups = [spans]
    else:
        spans = [
            cut for span in spans for cut in _cut_overlong(text, span, count_tokens, max_tokens)
        ]
        groups = _group_sentences(text, spans, count_tokens, max_tokens)
    for part, group in enumerate(groups):
        first, last = group[0][0], group[-1][1]
        yield Passage(
            doc_id=doc_id,
            paragraph=paragraph.number,
            part=part,
            section=paragraph.section,
            text=text[first:last],
            start=paragraph.start + first,
            end=paragraph.start + last,
            sentences=tuple((s - first, e - first) for s, e in group),
        )


def _group_sentences(
    text: str,
    spans: list[tuple[int, int]],
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> list[list[tuple[int, int]]]:
    """Pack consecutive sentences into groups under the limit, balancing the group sizes."""
    sizes = [count_tokens(text[s:e]) for s, e in spans]
    parts = max(2, -(-sum(sizes) // max_tokens))
    target = sum(sizes) / parts
    groups: list[list[tuple[int, int]]] = [[]]
    used = 0
    for span, size in zip(spans, sizes, strict=True):
        over_limit = used + size > max_tokens
        past_target = used >= target and len(groups) < parts
        if groups[-1] and (over_limit or past_target):
            groups.append([])
            used = 0
        groups[-1].append(span)
        used += size
    return groups


def _cut_overlong(
    text: str, span: tuple[int, int], count_tokens: Callable[[str], int], max_tokens: int
) -> list[tuple[int, int]]:
    """``span`` itself when it fits; otherwise consecutive runs of its words, each the longest
    run from its start that fits (a word alone over the limit is cut between characters)."""
    start, end = span
    if count_tokens(text[start:end]) <= max_tokens:
        return [span]
    words = [(start + m.start(), start + m.end()) for m in _WORD_SPAN.finditer(text[start:end])]
    cuts: list[tuple[int, int]] = []
    first = 0
    while first < len(words):
        # Every word is at least one word piece, so more than max_tokens words never fit.
        ends = [e for _, e in words[first : first + max_tokens]]
        taken = _fitting(text, words[first][0], ends, count_tokens, max_tokens)
        if taken:
            cuts.append((words[first][0], ends[taken - 1]))
        else:
            cuts.extend(_cut_word(text, words[first], count_tokens, max_tokens))
        first += max(taken, 1)
    return cuts


def _cut_word(
    text: str, span: tuple[int, int], count_tokens: Callable[[str], int], max_tokens: int
) -> list[tuple[int, int]]:
    cuts = []
    start, end = span
    while start < end:
        ends = list(range(start + 1, min(end, start + max_tokens * 8) + 1))
        # At least one character per cut, so even a character the tokenizer blows up moves on.
        taken = max(1, _fitting(text, start, ends, count_tokens, max_tokens))
        cuts.append((start, ends[taken - 1]))
        start = ends[taken - 1]
    return cuts


def _fitting(
    text: str, start: int, ends: list[int], count_tokens: Callable[[str], int], max_tokens: int
) -> int:
    """How many of the increasing ``ends`` give a ``text[start:end]`` within ``max_tokens``."""
    low, high = 0, len(ends)
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens(text[start : ends[middle - 1]]) <= max_tokens:
            low = middle
        else:
            high = middle - 1
    return low
