"""Every user-visible text of the living-story features (following, /latest, /settings,
/share, follow-ups, the bot's description). Fixed texts are marked for the catalogs and
translated where they are sent (``t.gettext``); the functions take the reader's translator.
Telegram HTML; outside text is escaped."""

from __future__ import annotations

from collections.abc import Sequence

from bot.replies import MAX_MESSAGE, clip, escape, is_web_url, nice_date, telegram_length
from bot.translations import Translator, mark
from index.store import ArticleInfo

FOLLOWING = mark(
    "Following the story: I'll send a message here when new coverage arrives. /unfollow to stop."
)
ALREADY_FOLLOWING = mark("This chat already follows the story. /unfollow to stop.")
UNFOLLOWED = mark("Stopped: no more messages about new coverage. /follow to start again.")
NOT_FOLLOWING = mark("This chat does not follow the story. /follow to be told about new coverage.")
GROUP_ADMINS_ONLY = mark("In a group, only its admins can change that.")
NO_ARTICLES = mark("No articles yet.")
FOLLOW_COMMAND = mark("Be told when new coverage arrives")
UNFOLLOW_COMMAND = mark("Stop messages about new coverage")
LATEST_COMMAND = mark("The newest articles")

_QUOTE_CHARS = 600
_TITLE_CHARS = 150


def article_line(article: ArticleInfo, t: Translator) -> str:
    """``Title`` (linked) — outlet, date."""
    title = escape(clip(article.title or article.doc_id, _TITLE_CHARS))
    if is_web_url(article.url):
        title = f'<a href="{escape(article.url)}">{title}</a>'
    details = ", ".join(p for p in (escape(article.outlet), nice_date(article.published, t)) if p)
    return f"<b>{title}</b>" + (f" — {details}" if details else "")


def latest_text(articles: Sequence[ArticleInfo], t: Translator) -> str:
    """/latest: the newest articles, one line each."""
    if not articles:
        return escape(t.gettext(NO_ARTICLES))
    count = len(articles)
    heading = t.ngettext("The newest article:", "The %(count)d newest articles:", count)
    lines = [f"• {article_line(a, t)}" for a in articles]
    return _fit(escape(heading % {"count": count}), lines, t)


def new_coverage_text(items: Sequence[tuple[ArticleInfo, str]], t: Translator) -> str:
    """One notification for one check: each new article with its "what's new" quote."""
    heading = escape(t.gettext("New coverage of the story:"))
    new = escape(t.gettext("What's new:"))
    blocks = []
    for article, quote in items:
        block = article_line(article, t)
        if quote:
            block += f"\n{new}\n<blockquote>{escape(clip(quote, _QUOTE_CHARS))}</blockquote>"
        blocks.append(block)
    return _fit(heading, blocks, t, separator="\n\n")


def _fit(heading: str, blocks: Sequence[str], t: Translator, separator: str = "\n") -> str:
    """``heading`` and as many ``blocks`` as fit in one message, with a count of the rest."""
    text = heading
    for n, block in enumerate(blocks):
        candidate = f"{text}{separator}{block}"
        rest = len(blocks) - n - 1
        tail = f"{separator}{_more(rest, t)}" if rest else ""
        if telegram_length(candidate + tail) > MAX_MESSAGE - 40:
            return f"{text}{separator}{_more(len(blocks) - n, t)}"
        text = candidate
    return text


def _more(rest: int, t: Translator) -> str:
    line = t.ngettext("…and %(count)d more: /latest", "…and %(count)d more: /latest", rest)
    return escape(line % {"count": rest})


NEW_CONTEXT = mark("Starting afresh: your next message is a new question.")
NEW_COMMAND = mark("Start a new question (forget the previous one)")


def continuing(earlier_question: str, t: Translator) -> str:
    """The line above a follow-up answer: which question it continues."""
    line = t.gettext("Continuing “%(question)s”:") % {"question": clip(earlier_question, 120)}
    return f"<i>{escape(line)}</i>"


# ---- /share, /settings, the bot's profile -------------------------------------------------

NOTHING_TO_SHARE = mark("Ask me something first: /share gives a link that asks your last question.")
SHARE_COMMAND = mark("A link that asks your last question")
SETTINGS_COMMAND = mark("Passages per answer, language, following")
SETTINGS_SAVED = mark("Saved.")
AUTOMATIC = mark("Automatic")
# Each language by its own name, as readers look for it.
LANGUAGE_NAMES = {
    "en": "English",
    "ru": "Русский",
    "uk": "Українська",
    "de": "Deutsch",
    "fr": "Français",
}
DESCRIPTION = mark(
    "I answer questions about one news story by quoting its coverage, with a link to each "
    "source; I don't write anything about the story myself. Send me a question, or /follow "
    "to be told when new coverage arrives."
)
SHORT_DESCRIPTION = mark("Answers questions about a news story by quoting its coverage.")


def share_text(question: str, link: str, t: Translator) -> str:
    """/share: a link that opens the bot and asks ``question``."""
    line = t.gettext("This link asks me “%(question)s”:") % {"question": clip(question, 200)}
    return f'{escape(line)}\n<a href="{escape(link)}">{escape(link)}</a>'


def settings_text(
    per_page: int, following: bool, t: Translator, language: str | None = None
) -> str:
    """/settings: the chat's current choices, above the buttons that change them."""
    follow = t.gettext("on") if following else t.gettext("off")
    title = escape(t.gettext("Settings for this chat"))
    passages = t.gettext("Passages per answer: %(count)d") % {"count": per_page}
    name = LANGUAGE_NAMES.get(language or "", "") or t.gettext(AUTOMATIC)
    chosen = t.gettext("Language: %(language)s") % {"language": name}
    messages = t.gettext("Messages about new coverage: %(state)s") % {"state": follow}
    return f"<b>{title}</b>\n{escape(passages)}\n{escape(chosen)}\n{escape(messages)}"


def language_button(code: str, chosen: bool, t: Translator) -> str:
    """A language button (``auto`` or a language code); the chosen one is marked."""
    label = LANGUAGE_NAMES.get(code) or t.gettext(AUTOMATIC)
    return f"• {label} •" if chosen else label


def per_page_button(count: int, chosen: bool) -> str:
    """A passages-per-answer button; the chosen one is marked."""
    return f"• {count} •" if chosen else str(count)


def follow_button(following: bool, t: Translator) -> str:
    """The button that turns following on or off."""
    if following:
        return t.gettext("Stop new-coverage messages")
    return t.gettext("Tell me about new coverage")
