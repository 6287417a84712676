"""Which language a question is written in, well enough to route it, and Cyrillic in Latin letters.

Questions are short, so a statistical language identifier has little to go on; what decides
routing here is cheap and explainable: the script of the letters (Cyrillic, Greek, CJK, ...), and
for Latin-script questions the function words ("der", "wurde", "combien", "où", "qué") and
letters (ß, ç, ñ) of the languages readers are likely to use. A question with no such marks is
English, the language of the default model, so an English question never leaves today's path.
"""

from __future__ import annotations

import re
import unicodedata

ENGLISH = "en"

_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Function words that mark a language in a question. A word that is one in English too ("was",
# "die", "in") counts for both; English wins ties, so it moves only a question that has others.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the a an in is are was were what who whom whose where when why how did does do of to "
        "on for with and his her he she they them their have has had been will would which about "
        "many much this that there from by at it its can could should"
    ),
    "de": _words(
        "der die das was war in und ist sind wurde wurden wird wie wer wo wann warum weshalb "
        "welche welcher welches womit wofür woher wohin wieso mit von zu zum zur den dem des "
        "ein eine einen einem nicht auf für sich haben hat ihre ihren seine seinen nach bei "
        "gibt viele wieviel vor über unter gegen noch schon auch nur"
    ),
    "fr": _words(
        "le la les un une des du est sont qui que quoi quel quelle quels quelles où quand "
        "pourquoi comment combien avec pour dans sur il elle ils elles ont été au aux ce cette "
        "ces son sa ses pas ne qu l d c t était avait fait depuis après"
    ),
    "es": _words(
        "el los las una es son qué quién quiénes dónde cuándo cómo cuál cuáles cuánto cuántos "
        "cuántas por para con del al y se su sus fue está están hay"
    ),
    "it": _words(
        "il lo gli della delle degli che chi cosa dove quando perché come quanto quanti quale "
        "con per è sono stato stata hanno"
    ),
    "pt": _words(
        "o os as um uma é são quem onde quando porque como quanto quantos qual com para do da "
        "dos das foi está não"
    ),
    "nl": _words(
        "de het een is zijn wat wie waar wanneer waarom hoe hoeveel welke met van voor naar "
        "niet werd worden"
    ),
}
_MARK_LETTERS = {"de": "äöüß", "fr": "çœèêàùâîôë", "es": "ñ¿¡", "pt": "ãõ"}
_UKRAINIAN_LETTERS = frozenset("іїєґ")
_UKRAINIAN_WORDS = _words("що як хто де коли чому який яка яке які чим скільки за та або але")
_RUSSIAN_WORDS = _words("что как кто где когда почему какой какая какое какие чем сколько за и")


def question_language(text: str) -> str:
    """An ISO 639-1 guess for ``text``: "en" unless its script or its words say otherwise.

    Cyrillic is "uk" when it has letters only Ukrainian uses, else "ru"; another non-Latin
    script gives the lower-cased first word of its Unicode name (for example "greek", "cjk").
    """
    letters = [c for c in text.lower() if c.isalpha()]
    if not letters:
        return ENGLISH
    script = _main_script(letters)
    if script == "CYRILLIC":
        return _cyrillic_language(text.lower(), letters)
    if script != "LATIN":
        return script.lower()
    return _latin_language(text.lower())


def _main_script(letters: list[str]) -> str:
    counts: dict[str, int] = {}
    for char in letters:
        script = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
        counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda s: counts[s])


def _cyrillic_language(lowered: str, letters: list[str]) -> str:
    if _UKRAINIAN_LETTERS.intersection(letters):
        return "uk"
    words = _WORD.findall(lowered)
    ukrainian = sum(w in _UKRAINIAN_WORDS for w in words)
    return "uk" if ukrainian > sum(w in _RUSSIAN_WORDS for w in words) else "ru"


def _latin_language(lowered: str) -> str:
    words = _WORD.findall(lowered)
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _FUNCTION_WORDS.items()}
    for lang, marks in _MARK_LETTERS.items():
        scores[lang] += any(c in lowered for c in marks)
    best = max(scores, key=lambda lang: scores[lang])
    # English keeps ties: an English question routed away would lose today's figures.
    return best if scores[best] > scores[ENGLISH] else ENGLISH


# BGN/PCGN-like romanisation, close to how Russian and Ukrainian names are spelled in English
# coverage ("Навальный" -> "navalnyy", "Волков" -> "volkov", "Берлин" -> "berlin").
_CYRILLIC_TO_LATIN = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "і": "i", "ї": "yi",
    "є": "ye", "ґ": "g",
}  # fmt: skip


def romanise(text: str) -> str:
    """``text`` with Cyrillic letters written in Latin ones; other characters are kept."""
    out = []
    for char in text:
        latin = _CYRILLIC_TO_LATIN.get(char.lower())
        if latin is None:
            out.append(char)
        else:
            out.append(latin.capitalize() if char.isupper() else latin)
    return "".join(out)
