"""The bot's languages: choosing one (bot/language.py) and the catalogs (bot/locale).

A text the bot can send that a catalog lacks, an empty or fuzzy translation, a placeholder
lost in translation, a template behind the code, or a ``.mo`` behind its ``.po``: each fails
here, naming the text.
"""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot import replies
from bot.language import LANGUAGES, choose_language, detect_language, supported
from bot.translations import DOMAIN, LOCALE_DIR, translator

TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
REPO = Path(__file__).resolve().parent.parent
# Where texts a reader sees are written: the bot, and the terminal chat that shows its replies.
TEXT_SOURCES = (REPO / "bot", REPO / "newsbot" / "cli")
KEYWORDS = {"gettext": 1, "ngettext": 2, "mark": 1}
COUNTS = [*range(200), 1_000_000]  # French has a form for millions


def read_catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def msgid(message) -> str:  # type: ignore[no-untyped-def]
    return message.id[0] if isinstance(message.id, tuple) else message.id


def template_ids() -> set[str]:
    return {msgid(m) for m in read_catalog(TEMPLATE) if m.id}


# ---- choosing the language ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Сколько людей задержали?", "ru"),
        ("Чем отравили Навального?", "ru"),
        ("Скільки людей затримали?", "uk"),
        ("Що сталося з Навальним?", "uk"),  # no і ї є ґ, a Ukrainian question word
        ("Wie viele Menschen wurden festgenommen?", "de"),
        ("Warum gehen die Leute auf die Straße?", "de"),
        ("Combien de personnes ont été arrêtées ?", "fr"),
        ("Où les gens se réunissent-ils ?", "fr"),
        ("How many people were detained?", "en"),
        ("Сколько people were detained by the police?", "en"),  # mostly English
        ("Navalny ареста сколько было людей?", "ru"),  # mostly Russian
        ("skolko zaderzhali", None),  # transliterated: no evidence
        ("Navalny", None),
        ("🕯️❤️🚓", None),
        ("ما هو السم الذي استخدم؟", None),  # Arabic: no catalog
        ("מה קרה לנבלני?", None),  # Hebrew
        ("", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("question", "code", "language"),
    [
        ("Сколько людей задержали?", "en", "ru"),  # the question wins
        ("How many were detained?", "ru", "en"),
        ("Navalny candles?", "de", "de"),  # no evidence: the reader's Telegram language
        ("skolko zaderzhali", "ru", "ru"),
        ("skolko zaderzhali", None, "en"),
        ("Navalny?", "pt-BR", "en"),  # unknown codes fall back to English
        ("Navalny?", "de-AT", "de"),
        ("Navalny?", "xx", "en"),
        (None, "uk", "uk"),  # a command: the reader's language
        (None, None, "en"),
    ],
)
def test_choose_language(question: str | None, code: str | None, language: str) -> None:
    assert choose_language(question, code) == language


def test_supported_codes() -> None:
    assert [supported(c) for c in ("ru", "RU", "uk-UA", "en_GB", "", None, "zz")] == [
        "ru",
        "ru",
        "uk",
        "en",
        None,
        None,
        None,
    ]


# ---- the catalogs --------------------------------------------------------------------------


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated(language: str) -> None:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    catalog = read_catalog(path, language)
    translated = {msgid(m): m for m in catalog if m.id}
    problems = []
    for text in sorted(template_ids()):
        message = translated.get(text)
        strings = message.string if message else None
        forms = strings if isinstance(strings, tuple) else (strings,)
        if message is None:
            problems.append(f"missing: {text!r}")
        elif not all(forms) or len(forms) != (catalog.num_plurals if message.pluralizable else 1):
            problems.append(f"empty or incomplete: {text!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {text!r}")
    # Babel's checkers: the translation keeps the msgid's %(name)s placeholders, and more.
    problems += [f"{m.id!r}: {e}" for m, errors in catalog.check() for e in errors]
    assert problems == [], f"{path}: " + "; ".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalogs_match_their_sources(language: str) -> None:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    source = read_catalog(folder / f"{DOMAIN}.po", language)
    with (folder / f"{DOMAIN}.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for message in source:
        if not message.id:
            continue
        if message.pluralizable:
            for n, form in enumerate(message.string):
                count = next(c for c in COUNTS if compiled.plural(c) == n)
                assert compiled.ngettext(*message.id, count) == form, "run make translations"
        else:
            assert compiled.gettext(message.id) == message.string, "run make translations"


def texts_in_code() -> set[str]:
    """Every literal given to gettext/ngettext/mark in bot/ and newsbot/cli/ (f-strings
    included, which Babel's extractor cannot see into)."""
    found: set[str] = set()
    for path in (p for folder in TEXT_SOURCES for p in folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in KEYWORDS and node.args and isinstance(node.args[0], ast.Constant):
                found.add(node.args[0].value)
    return found


def test_the_template_has_every_text_of_the_code() -> None:
    assert texts_in_code() - template_ids() == set(), "run make translations"
    assert template_ids() - texts_in_code() == set(), "texts no longer used: make translations"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_formats_every_text(language: str) -> None:
    t = translator(language)
    assert t.language == language
    texts = [
        replies.help_text("NewsBot", 1, 1, t),
        replies.help_text("NewsBot", 21, 5, t),
        replies.rate_limited(2, 3.0, t),
        replies.unknown_command("/x", t),
        replies.usage_text(None, t),
        replies.reloaded(True, 1, 22, "b1", t),
        replies.reload_failed("x", t),
        replies.sources_text([], t),
        replies.not_found("q", t),
    ]
    assert all(texts)
    if language != "en":
        assert replies.not_found("q", t) != replies.not_found("q", translator("en"))
        assert t.gettext(replies.NON_TEXT) != replies.NON_TEXT


def test_plural_forms_follow_the_language() -> None:
    ru, uk, de = translator("ru"), translator("uk"), translator("de")
    assert [replies.counted_articles(n, ru) for n in (1, 3, 5, 21)] == [
        "1 статья",
        "3 статьи",
        "5 статей",
        "21 статья",
    ]
    assert replies.counted_articles(2, uk) == "2 статті"
    assert replies.counted_passages(2, de) == "2 Textstellen"
    assert replies.nice_date("2021-02-14", de) == "14 Feb. 2021"
    assert replies.nice_date("2021-02-14") == "14 Feb 2021"
