"""Near-duplicate article bodies: the same wire story published again under another URL.

Two bodies are compared as sets of overlapping 5-word sequences ("shingles") of their
lower-cased words, punctuation removed. A republished wire story with an edited headline, another
byline or a trimmed last paragraph keeps most shingles, while independent reports of the same event
share almost none, because reporters rarely write five identical words in a row outside quotes.
On the test pages (tests/data/site): wire copy 0.89 Jaccard; AMP copy with 5 of 7 paragraphs
0.73 Jaccard, 1.0 containment; four independent reports of the same evening, each pair at most
0.004. A new body is a near duplicate of a corpus article when either

* Jaccard similarity (shared / all shingles) is at least ``JACCARD_THRESHOLD`` (0.5), or
* at least ``CONTAINMENT_THRESHOLD`` (0.8) of the shorter body's shingles occur in the longer
  one, which catches a wire story republished cut down to its first paragraphs.

Containment is only used when the shorter body has ``MIN_SHINGLES`` shingles or more, so that a
very short text quoting a few sentences of a long article is not called a copy of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SHINGLE_WORDS = 5
JACCARD_THRESHOLD = 0.5
CONTAINMENT_THRESHOLD = 0.8
MIN_SHINGLES = 40

_WORD = re.compile(r"\w+")


def shingles(paragraphs: Iterable[str]) -> frozenset[int]:
    """The hashed 5-word shingles of the paragraphs (each paragraph shingled on its own)."""
    result: set[int] = set()
    for paragraph in paragraphs:
        words = _WORD.findall(paragraph.casefold())
        if 0 < len(words) < SHINGLE_WORDS:
            result.add(hash(tuple(words)))
        for start in range(len(words) - SHINGLE_WORDS + 1):
            result.add(hash(tuple(words[start : start + SHINGLE_WORDS])))
    return frozenset(result)


def is_near_duplicate(new: frozenset[int], existing: frozenset[int]) -> bool:
    """True when the two shingle sets are the same text by the rule in the module docstring."""
    if not new or not existing:
        return False
    shared = len(new & existing)
    if shared / len(new | existing) >= JACCARD_THRESHOLD:
        return True
    smaller = min(len(new), len(existing))
    return smaller >= MIN_SHINGLES and shared / smaller >= CONTAINMENT_THRESHOLD


def similarity(new: frozenset[int], existing: frozenset[int]) -> float:
    """Jaccard similarity of two shingle sets (0.0 when either is empty); for reports and tests."""
    if not new or not existing:
        return 0.0
    return len(new & existing) / len(new | existing)
