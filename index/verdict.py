"""Whether the quoted sentence states what was asked, or only touches the question's subject.

A bi-encoder finds the passage about the question's subject well, but it cannot tell "How old is
Navalny's wife?" from "How old is Navalny?": both land on the sentence with "the 44-year old".
Without a reader model (none ships offline), two classic question-answering checks decide:

- **expected answer type**: "how many" wants a number, "when" a date, "what time" a clock time,
  "where" a place, "who is the judge" a name beside the word "judge", and so on; the highlighted
  sentence must contain one;
- **focus coverage**: the question's own content words (not names of the story, not question
  words) must be met in that sentence, by the same word, a misspelling of it, or a contextual
  word-piece vector close to it (the MaxSim vectors the search already has).

When either fails the verdict is ``related``: the coverage is about the subject but does not say
this. The thresholds were set on ``tests/data/questions.jsonl``, never on the holdout set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

import numpy as np
import Stemmer

Verdict = Literal["answer", "related", "none"]

# Mean focus coverage below which the sentence does not state what was asked.
FOCUS_BAR = 0.30
# Contextual similarity at which a question word counts as the same word as a sentence word.
SAME_WORD = 0.45
# Letter-sequence similarity at which two words are one word misspelt.
SPELLING = 0.8
# How many words away from the asked-about noun a number ("7,000 detained people") may stand.
NEAR = 4
# How many words away from the asked-about noun a name may stand: apposition ("the judge, Ms
# X", "Judge X", "lawyer Olga Mikhailova").
BESIDE = 3

_STEMMER = Stemmer.Stemmer("english")


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_WORD = re.compile(r"[\w][\w'’\-]*")

# Words that say what kind of answer is wanted, or that any question has: never focus words.
_FUNCTION_WORDS = _wordset(
    """
    a an the of to in on at for from by with about into onto over under after before since until
    and or but if so than then as is are was were be been being am do does did done doing have
    has had having will would shall should can could may might must what whats which who whom
    whose when where why how that this these those there here it its it's he him his she her
    they them their theirs we us our you your i me my mine one ones someone somebody anyone
    anybody something anything thing things stuff any some many much more most very really
    actually just also even still ever not no yes get got gets getting go goes going went come
    comes came coming make makes made take takes took taken put puts give gives gave say says
    said tell told think thinks thought know knew want wants wanted need needs supposed lol
    ppl r u ur pls please guy guys article story news coverage report reports name called old
    long far often exactly kind sort back off out up down now so far yet vs
    """
)

_NUMBER_WORDS = _wordset(
    """
    one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
    sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
    hundred hundreds thousand thousands million millions billion billions dozen dozens half
    several few couple score
    """
)
_DURATION_WORDS = _wordset(
    """
    second seconds minute minutes hour hours day days week weeks month months year years decade
    decades spring summer autumn fall winter night nights
    """
)
_MONTHS = _wordset(
    """
    january february march april may june july august september october november december jan
    feb mar apr jun jul aug sep sept oct nov dec
    """
)
_WEEKDAYS = _wordset("monday tuesday wednesday thursday friday saturday sunday")
_RELATIVE_TIME = _wordset(
    """
    today yesterday tomorrow tonight ago earlier later last next recently soon spring summer
    autumn winter week month year weekend morning evening night since
    """
)
_CLOCK = re.compile(
    r"\b\d{1,2}([:.]\d{2})?\s*(am|pm|a\.m\.|p\.m\.)|\bo'clock\b|\bnoon\b|\bmidnight\b"
)
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"\b(1[89]|20)\d\d\b")

_PLACE_NOUNS = _wordset(
    """
    city town village country region capital street streets square courtyard courtyards home
    homes house houses prison jail hospital court border airport abroad
    """
)
_PERSON_NOUNS = _wordset(
    """
    people person man woman men women ally allies supporter supporters doctor doctors police
    authorities official officials judge lawyer lawyers veteran president minister prosecutor
    prosecutors leader leaders critic critics aide aides wife husband spokesman spokeswoman
    activist activists protesters journalists government kremlin
    """
)
# "which X" / "what X" nouns whose answer is a name: the sentence must name one.
_NAMED_CLASSES = _PLACE_NOUNS | _wordset(
    """
    university school company newspaper outlet party organisation organization agency
    foundation group team channel
    """
) - {"home", "homes", "house", "houses", "street", "streets", "courtyard", "courtyards"}
_ROLE_NOUNS = _PERSON_NOUNS - {"people", "person", "man", "woman", "men", "women"}


@dataclass(frozen=True)
class Frame:
    """What a question asks for: ``kind`` of answer and ``target``, the noun asked about."""

    kind: str  # number, age, duration, date, time, place, person, named, open
    target: str = ""


@dataclass(frozen=True)
class SentenceTokens:
    """The highlighted sentence with the similarities the search computed for it.

    ``sims`` has one row per word piece of the question (``question_spans`` are their character
    spans in the question) and one column per word piece of the sentence (``sentence_spans``,
    character spans in ``sentence``).
    """

    sentence: str
    sims: np.ndarray
    question_spans: np.ndarray
    sentence_spans: np.ndarray


def frame_of(question: str) -> Frame:
    """The kind of answer ``question`` expects (``open`` when no type can be told)."""
    q = " ".join(w.lower() for w in _WORD.findall(question.replace("’", "'")))
    rules: Sequence[tuple[str, str]] = (
        (r"\bhow old\b|\bwhat age\b", "age"),
        (r"\bhow (many|much)\b(?: of)?(?: the)? ?(\w+)?|\bnumber of (\w+)", "number"),
        (r"\bhow long\b|\bhow many (days|weeks|months|years|hours|minutes)\b", "duration"),
        (r"\bwhat time\b|\bat what time\b|\bwhat hour\b", "time"),
        (r"\bwhen\b|\bwhat (year|date|day|month)\b|\bsince when\b", "date"),
        (r"\bwhere\b|\b(which|what) (city|country|town|place|region)\b", "place"),
        (r"\bnames? of (?:the |his |her |their |\w+'s )?(\w+)", "named"),
        (r"\bwhat(?: is|'s) (?:the |his |her |their |\w+'s )?(\w+)'s name", "named"),
        (r"\bwho (?:is|was|are|were) (?:the |his |her |their |\w+'s )(\w+)", "named"),
        (r"\b(which|what) (\w+)", "which"),
        (r"\bwho(m|se)?\b", "person"),
    )
    for pattern, kind in rules:
        match = re.search(pattern, q)
        if match is None:
            continue
        if kind == "number":
            target = match.group(2) or match.group(3) or ""
            if target in _DURATION_WORDS:
                return Frame("duration")
            return Frame("number", _noun(target))
        if kind == "named":
            return Frame("named", _noun(next((g for g in match.groups() if g), "")))
        if kind == "which":
            noun = _noun(match.group(2))
            if noun in _NAMED_CLASSES:
                return Frame("named", noun)
            continue
        return Frame(kind)
    return Frame("open")


def _noun(word: str) -> str:
    word = word.removesuffix("'s")
    return "" if word in _FUNCTION_WORDS else word


def judge(
    question: str,
    tokens: SentenceTokens,
    names: frozenset[str],
) -> Verdict:
    """``answer`` when the sentence has the expected kind of answer and meets the question's
    focus words; ``related`` otherwise. ``names`` are the lower-cased proper names of the
    story (they tell what the question is about, not what it asks)."""
    frame = frame_of(question)
    words = _words(tokens.sentence)
    if not _has_answer_type(frame, question, words, tokens, names):
        return "related"
    return "answer" if _focus_coverage(question, tokens, names, words) >= FOCUS_BAR else "related"


@dataclass(frozen=True)
class _Word:
    text: str
    lower: str
    start: int
    end: int
    capitalised: bool


def _words(text: str) -> list[_Word]:
    out = []
    for n, m in enumerate(_WORD.finditer(text)):
        word = m.group()
        before = m.start()  # the last character before the word that is not a space
        while before and text[before - 1].isspace():
            before -= 1
        sentence_start = n == 0 or (before > 0 and text[before - 1] in '.!?“"')
        capitalised = word[:1].isupper() and not sentence_start
        out.append(_Word(word, word.lower().replace("’", "'"), m.start(), m.end(), capitalised))
    return out


def _has_answer_type(
    frame: Frame, question: str, words: list[_Word], tokens: SentenceTokens, names: frozenset[str]
) -> bool:
    lowers = [w.lower for w in words]
    text = tokens.sentence.lower()
    if frame.kind == "open":
        return True
    if frame.kind in ("number", "age"):
        positions = [i for i, w in enumerate(lowers) if _is_number(w)]
        if not positions:
            return False
        if frame.kind == "age" or not frame.target:
            return True
        return any(
            _matches(frame.target, question, words[j], tokens)
            for i in positions
            for j in range(i + 1, min(i + 1 + NEAR, len(words)))
        )
    if frame.kind == "duration":
        return any(_is_number(w) or w in _DURATION_WORDS for w in lowers)
    if frame.kind == "time":
        return bool(_CLOCK.search(text))
    if frame.kind == "date":
        return bool(_YEAR.search(text)) or any(
            w in _MONTHS or w in _WEEKDAYS or w in _RELATIVE_TIME or w.endswith("day's")
            for w in lowers
        )
    asked = {w.lower().removesuffix("'s") for w in _WORD.findall(question.replace("’", "'"))}
    new_names = [
        i
        for i, w in enumerate(words)
        if w.capitalised
        and w.lower.removesuffix("'s") not in asked
        and w.lower not in _MONTHS | _WEEKDAYS  # a date is not a name
    ]
    if frame.kind == "place":
        return bool(new_names) or any(w in _PLACE_NOUNS for w in lowers)
    if frame.kind == "person":
        return bool(new_names) or any(w in _PERSON_NOUNS for w in lowers)
    # "named": a name beside the asked-about noun where the sentence has that noun, else anywhere.
    spots = [
        i
        for i, w in enumerate(words)
        if frame.target and _matches(frame.target, question, w, tokens)
    ]
    if not spots:
        return bool(new_names) and frame.target not in _ROLE_NOUNS
    return any(abs(i - j) <= BESIDE for i in spots for j in new_names)


def _is_number(word: str) -> bool:
    return bool(_DIGIT.search(word)) or word in _NUMBER_WORDS


def _focus_coverage(
    question: str, tokens: SentenceTokens, names: frozenset[str], sentence_words: list[_Word]
) -> float:
    """Mean over the question's focus words of how well the sentence (its ``sentence_words``)
    meets each (1 for the same word or a misspelling of it, else the best contextual
    similarity)."""
    scores = []
    for m in _WORD.finditer(question.replace("’", "'")):
        word = m.group().lower().removesuffix("'s")
        if word in _FUNCTION_WORDS or _is_number(word) or _is_name(word, names):
            continue
        scores.append(_word_score(word, (m.start(), m.end()), sentence_words, tokens))
    return float(np.mean(scores)) if scores else 1.0


def _is_name(word: str, names: frozenset[str]) -> bool:
    return word in names or any(_spelling_close(word, n) for n in names)


def _word_score(
    word: str, span: tuple[int, int], sentence_words: list[_Word], tokens: SentenceTokens
) -> float:
    stem = _STEMMER.stemWord(word)
    for w in sentence_words:
        other = w.lower.removesuffix("'s")
        if _STEMMER.stemWord(other) == stem or _spelling_close(word, other):
            return 1.0
    rows = _pieces_within(tokens.question_spans, span[0], span[1])
    if not rows or tokens.sims.shape[1] == 0:
        return 0.0
    return float(tokens.sims[rows].max(axis=1).mean())


def _matches(target: str, question: str, word: _Word, tokens: SentenceTokens) -> bool:
    """Whether sentence ``word`` is the question's ``target`` noun or close to it in context."""
    other = word.lower.removesuffix("'s")
    if _STEMMER.stemWord(other) == _STEMMER.stemWord(target) or _spelling_close(target, other):
        return True
    found = re.search(rf"\b{re.escape(target)}\b", question.lower().replace("’", "'"))
    if found is None:
        return False
    rows = _pieces_within(tokens.question_spans, found.start(), found.end())
    cols = _pieces_within(tokens.sentence_spans, word.start, word.end)
    if not rows or not cols:
        return False
    return float(tokens.sims[np.ix_(rows, cols)].max()) >= SAME_WORD


def _pieces_within(spans: np.ndarray, start: int, end: int) -> list[int]:
    """The word pieces (rows of ``spans``) that lie inside characters ``start``..``end``."""
    spans = np.asarray(spans).reshape(-1, 2)
    starts, ends = spans[:, 0], spans[:, 1]
    return np.flatnonzero((starts >= start) & (ends <= end) & (ends > starts)).tolist()


def _spelling_close(a: str, b: str) -> bool:
    """A misspelling of the same word ("navalney", "poisend"): both long enough to tell, and
    nearly the same letters in the same order."""
    if min(len(a), len(b)) < 5 or a[0] != b[0]:
        return False
    return SequenceMatcher(None, a, b).ratio() >= SPELLING
