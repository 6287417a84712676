"""The bot's texts in the reader's language: gettext catalogs made with Babel.

The English texts in the code are the message ids; ``bot/locale/newsbot.pot`` is the template
extracted from the code and ``bot/locale/<lang>/LC_MESSAGES/newsbot.po`` the translations.
The compiled ``.mo`` files are committed next to them (and shipped in the wheel), so nothing
is compiled at install or start-up; ``make translations`` extracts, updates and compiles after
a text changes, and tests/test_translations.py fails when a catalog misses a text or a ``.mo``
is stale.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
from dataclasses import dataclass
from pathlib import Path

from babel.dates import format_date

from bot.language import ENGLISH, LANGUAGES

DOMAIN = "newsbot"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"


@dataclass(frozen=True)
class Translator:
    """The texts of one language; ``gettext``/``ngettext`` as in the standard library."""

    language: str
    catalog: gettext.NullTranslations

    def gettext(self, message: str) -> str:
        """``message`` in this language."""
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """The form of ``singular``/``plural`` for ``count`` in this language."""
        return self.catalog.ngettext(singular, plural, count)

    def date(self, day: dt.date) -> str:
        """``day`` as a short date in this language (``14 Feb 2021``, ``14 февр. 2021``)."""
        return format_date(day, "d MMM y", locale=self.language)


@functools.cache
def translator(language: str) -> Translator:
    """The translator for ``language`` (one of ``LANGUAGES``; anything else gets English)."""
    if language not in LANGUAGES or language == ENGLISH:
        return Translator(ENGLISH, gettext.NullTranslations())
    catalog = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language])
    return Translator(language, catalog)


def mark(message: str) -> str:
    """``message`` unchanged: marks a fixed text for extraction into the catalogs; it is
    translated where it is sent (``t.gettext(NAME)``)."""
    return message


ENGLISH_TEXTS = translator(ENGLISH)
