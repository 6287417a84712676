"""Which language to answer a reader in: the question's own language, else Telegram's
``language_code``, else English.

A question is short (three to fifteen words), full of names, and often half in another
language, which is where general-purpose detectors (character n-gram classifiers) guess
wildly. The bot only needs to tell apart the languages it has catalogs for, so it looks at
what is reliable in a question: the script of its letters (Cyrillic with ``і ї є ґ`` or
Ukrainian question words such as ``що`` is Ukrainian, other Cyrillic Russian) and, for Latin
letters, the letters only one language uses (``ß ä ö ü``; ``é è ç œ``) and the small words
every question has (question words, articles, auxiliaries). A Latin question with no such
evidence, transliterated Russian for example, says nothing about its language and the
reader's Telegram setting decides.
"""

from __future__ import annotations

import re
import unicodedata

ENGLISH = "en"
# Languages with a catalog (bot/locale); the first is the fallback.
LANGUAGES = ("en", "ru", "uk", "de", "fr")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_UKRAINIAN_LETTERS = set("іїєґІЇЄҐ")
_RUSSIAN_LETTERS = set("ыэъёЫЭЪЁ")
# Question words and pronouns spelled differently in the two ("що"/"что"), for questions that
# happen to have none of the letters above.
_CYRILLIC_WORDS = {
    "uk": _words(
        "що хто як чому коли скільки який яка яке які де чи це був була було були він "
        "вона вони його з від після"
    ),
    "ru": _words(
        "что кто как почему когда сколько какой какая какое какие где ли это был была "
        "было были он она они его с из от после"
    ),
}
_LATIN_LETTERS = {
    "de": set("äöüßÄÖÜ"),
    "fr": set("éèêëàâçîïôœùûÉÈÊÀÇŒ"),
}
# Words that are frequent in questions of one language and rare in the others' (so "die",
# "was", "des" and "est", shared with English or each other, are weighed by their company).
_STOPWORDS = {
    "en": _words(
        "the a an of to in on at is are was were be been did do does what who whom whose why "
        "when where which how many much and or with for from about has have had it its this "
        "that there their they he she his her will would can could should"
    ),
    "de": _words(
        "der die das den dem des ein eine einen einem einer und oder ist sind war waren wird "
        "wurde wurden hat haben hatte wie was wer wen wem wessen warum wann wo woher wohin "
        "welche welcher welches wieviel wieviele viele mit von für über auf im zu nicht auch "
        "es sie er ihr ihre sein seine gegen nach bei aus"
    ),
    "fr": _words(
        "le la les un une des du de et ou est sont était étaient a ont qui que quoi où quand "
        "comment combien pourquoi quel quelle quels quelles avec pour sur dans par pas il "
        "elle ils elles son sa ses leur leurs ce cette ces été au aux"
    ),
}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def detect_language(text: str) -> str | None:
    """The language of ``text`` among ``LANGUAGES``, or None when the text gives no evidence
    (no letters, a script without a catalog, Latin words that are no language's small words).

    Mixed text goes by the script with the most letters.
    """
    letters = [c for c in unicodedata.normalize("NFC", text) if c.isalpha()]
    cyrillic = [c for c in letters if _script(c) == "CYRILLIC"]
    latin = [c for c in letters if _script(c) == "LATIN"]
    if not letters or max(len(cyrillic), len(latin)) * 2 < len(letters):
        return None  # mostly another script (Arabic, Hebrew, CJK...), or none at all
    if len(cyrillic) > len(latin):
        return _cyrillic_language(text, cyrillic)
    return _latin_language(text, latin)


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0]


def _cyrillic_language(text: str, letters: list[str]) -> str:
    words = [w.casefold() for w in _WORD.findall(text)]
    ukrainian = 2 * sum(c in _UKRAINIAN_LETTERS for c in letters)
    russian = 2 * sum(c in _RUSSIAN_LETTERS for c in letters)
    ukrainian += sum(w in _CYRILLIC_WORDS["uk"] for w in words)
    russian += sum(w in _CYRILLIC_WORDS["ru"] for w in words)
    return "uk" if ukrainian > russian else "ru"


def _latin_language(text: str, letters: list[str]) -> str | None:
    words = [w.casefold() for w in _WORD.findall(text)]
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    for lang, special in _LATIN_LETTERS.items():
        scores[lang] += 2 * sum(c in special for c in letters)
    best = max(scores.values())
    if best == 0:
        return None
    winners = [lang for lang, score in scores.items() if score == best]
    # A tie with English (e.g. one shared word) stays English: it is the fallback anyway.
    return ENGLISH if ENGLISH in winners or len(winners) > 1 else winners[0]


def supported(language_code: str | None) -> str | None:
    """The catalog language of a Telegram ``language_code`` (``de-AT`` -> ``de``), or None."""
    if not language_code:
        return None
    base = language_code.replace("_", "-").split("-", 1)[0].casefold()
    return base if base in LANGUAGES else None


def choose_language(question: str | None, language_code: str | None) -> str:
    """The language to answer in: the question's, else the reader's Telegram language, else
    English (unknown codes count as none)."""
    detected = detect_language(question) if question else None
    return detected or supported(language_code) or ENGLISH
