"""RSS/Atom feeds: reading their entries and deciding which entries belong to the story.

The story filter. An entry belongs to the story when its title and summary mention at least
``MIN_TERM_HITS`` (2) different *story terms*. Story terms are the ``STORY_TERMS`` (15) words that
weigh most in the corpus: every word of an article's headline counts ``TITLE_WEIGHT`` (3) times,
every word of its body once, after dropping common English words, numbers and words shorter than
four letters; words are compared by their stem, so "candles" matches "candle". Two terms, not one,
because a single shared word such as "Moscow" or "Russia" is what unrelated news from the same
country has in common with the story.

``--match WORDS`` replaces the automatic terms: an entry then belongs when it mentions any one of
the given words. Use it when the automatic terms are wrong, or to follow a new turn of the story.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import feedparser
import Stemmer

from index.articles import Article
from index.errors import NewsbotError

STORY_TERMS = 15
TITLE_WEIGHT = 3
MIN_TERM_HITS = 2
_MIN_WORD_LETTERS = 4
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_TAG = re.compile(r"<[^>]+>")
_STEMMER = Stemmer.Stemmer("english")
_COMMON_TEXT = """
    about above after again against also although among another anyone anything around away
    back because been before being below between both came cannot come could couldn does doing
    done down during each earlier either else even ever every from further gave given have
    having here hers herself himself however into itself just last later least less like made
    make many more most much must near never next none only other others ours ourselves over
    own past people said same says several shall should since some such than that their theirs
    them themselves then there these they thing things this those though through thus time
    times today told took towards under until upon very want was were what when where whether
    which while whom whose will with within without would year years your yours yourself
    yourselves week weeks month months monday tuesday wednesday thursday friday saturday sunday
    january february march april june july august september october november december new news
    first second third according report reported reports including hold held show
"""
_COMMON_WORDS = frozenset(_COMMON_TEXT.split())


class FeedError(NewsbotError):
    """A feed that cannot be read as RSS or Atom; ``str()`` says so in one line."""


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed: where it links to and the text the story filter looks at."""

    title: str
    link: str
    summary: str
    published: str = ""  # ISO date and time (UTC) when the feed gives one, else empty


def parse_feed(content: bytes, feed_url: str = "") -> list[FeedEntry]:
    """Parse RSS/Atom ``content`` into entries (those without a link are left out); relative
    entry links are resolved against ``feed_url``.

    Feeds with small faults that feedparser can read past are accepted; a document from which no
    entries can be read and that feedparser reports as malformed raises ``FeedError``.
    """
    headers = {"content-location": feed_url} if feed_url else None
    parsed = feedparser.parse(content, response_headers=headers)
    if parsed.bozo and not parsed.entries:
        reason = _first_line(parsed.get("bozo_exception")) or "unknown problem"
        raise FeedError(f"not a valid RSS or Atom feed ({reason})")
    if not parsed.version and not parsed.entries:
        raise FeedError("not an RSS or Atom feed")
    entries = []
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if link:
            entries.append(
                FeedEntry(
                    title=" ".join((entry.get("title") or "").split()),
                    link=link,
                    summary=" ".join(_TAG.sub(" ", entry.get("summary") or "").split()),
                    published=_entry_time(entry),
                )
            )
    return entries


def newest(entries: Iterable[FeedEntry], count: int) -> list[FeedEntry]:
    """The ``count`` most recently published entries; undated ones rank after dated ones, in
    feed order (feeds list their newest entries first)."""
    return sorted(entries, key=lambda e: e.published, reverse=True)[:count]


def story_terms(articles: Iterable[Article], count: int = STORY_TERMS) -> list[str]:
    """The ``count`` words that best characterise the corpus (see the module docstring).

    Each term is returned in its most frequent spelling; matching compares stems.
    """
    weights: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for article in articles:
        for text, weight in ((article.title, TITLE_WEIGHT), (article.text, 1)):
            for word in _content_words(text):
                stem = _stem(word)
                weights[stem] += weight
                spellings.setdefault(stem, Counter())[word] += weight
    return [spellings[stem].most_common(1)[0][0] for stem, _ in weights.most_common(count)]


def split_words(words: Iterable[str]) -> list[str]:
    """Operator-given ``--match`` words, split on commas and spaces, lower-cased, deduplicated."""
    found = (w for text in words for w in _WORD.findall(text.casefold()))
    return sorted({_strip_possessive(w) for w in found})


def belongs_to_story(entry: FeedEntry, terms: Iterable[str], *, min_hits: int) -> bool:
    """True when the entry's title and summary mention at least ``min_hits`` of ``terms``
    (compared by stem, case-insensitively)."""
    wanted = {_stem(_strip_possessive(t.casefold())) for t in terms}
    text = f"{entry.title} {entry.summary}".casefold()
    found = {_stem(_strip_possessive(w)) for w in _WORD.findall(text)}
    return len(found & wanted) >= min_hits


def _content_words(text: str) -> list[str]:
    words = (_strip_possessive(w) for w in _WORD.findall(text.casefold()))
    return [w for w in words if len(w) >= _MIN_WORD_LETTERS and w not in _COMMON_WORDS]


def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def _strip_possessive(word: str) -> str:
    return re.sub(r"['’]s$", "", word)


def _entry_time(entry: dict) -> str:
    moment = entry.get("published_parsed") or entry.get("updated_parsed")
    if not moment:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%S", moment)


def _first_line(value: object) -> str:
    text = str(value or "").strip()
    return text.splitlines()[0] if text else ""
