"""Near-identical questions counted once: the editor's list of what readers ask.

Questions are normalised (case, punctuation, spaces, accents kept), identical forms counted
together, then forms are merged greedily, most asked first, into the first group whose
representative shares enough character 3-grams (Jaccard similarity). That catches typos,
word order and small rewordings ("how many were detained" / "How many people were
detained?") without a model, and costs a set intersection per pair of distinct forms: cheap
for the thousands of distinct questions a story gets in a week.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

SIMILARITY = 0.6
_NGRAM = 3
_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclass(frozen=True)
class QuestionGroup:
    """Questions that ask the same thing: the most asked phrasing, how many times the group
    was asked, and its other phrasings (most asked first)."""

    question: str
    count: int
    variants: tuple[str, ...] = ()


def normalise(question: str) -> str:
    """``question`` compared case-, punctuation- and spacing-blind."""
    text = unicodedata.normalize("NFKC", question).casefold()
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def ngrams(text: str) -> frozenset[str]:
    """The character 3-grams of ``text`` padded with spaces (whole text if shorter)."""
    padded = f" {text} "
    if len(padded) <= _NGRAM:
        return frozenset([padded])
    return frozenset(padded[i : i + _NGRAM] for i in range(len(padded) - _NGRAM + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def group_questions(
    questions: Sequence[str], similarity: float = SIMILARITY
) -> list[QuestionGroup]:
    """``questions`` grouped by near-identity, the most asked group first (ties: the group
    asked first). A group is shown by its most frequent phrasing."""
    phrasings: dict[str, Counter[str]] = {}
    for question in questions:
        key = normalise(question)
        if key:
            phrasings.setdefault(key, Counter())[question.strip()] += 1
    forms = sorted(phrasings, key=lambda k: -sum(phrasings[k].values()))  # stable: first asked
    groups: list[tuple[frozenset[str], list[str]]] = []
    for form in forms:
        grams = ngrams(form)
        for representative, members in groups:
            # Jaccard >= s needs the sizes within a factor s of each other: skip the rest cheaply.
            small, large = sorted((len(grams), len(representative)))
            if small >= similarity * large and jaccard(grams, representative) >= similarity:
                members.append(form)
                break
        else:
            groups.append((grams, [form]))
    result = [_group(members, phrasings) for _, members in groups]
    result.sort(key=lambda g: -g.count)
    return result


def _group(forms: list[str], phrasings: dict[str, Counter[str]]) -> QuestionGroup:
    counts: Counter[str] = Counter()
    for form in forms:
        counts.update(phrasings[form])
    ranked = [text for text, _ in counts.most_common()]
    return QuestionGroup(ranked[0], sum(counts.values()), tuple(ranked[1:]))
