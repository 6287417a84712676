"""Every user-visible text of the living-story features (following, /latest), in one place so
they can move into translation catalogs together. Telegram HTML; outside text is escaped."""

from __future__ import annotations

from collections.abc import Sequence

from bot.replies import MAX_MESSAGE, clip, escape, is_web_url, nice_date, telegram_length
from index.store import ArticleInfo

FOLLOWING = (
    "Following the story: I'll send a message here when new coverage arrives. /unfollow to stop."
)
ALREADY_FOLLOWING = "This chat already follows the story. /unfollow to stop."
UNFOLLOWED = "Stopped: no more messages about new coverage. /follow to start again."
NOT_FOLLOWING = "This chat does not follow the story. /follow to be told about new coverage."
GROUP_ADMINS_ONLY = "In a group, only its admins can change that."
NO_ARTICLES = "No articles yet."
FOLLOW_COMMAND = "Be told when new coverage arrives"
UNFOLLOW_COMMAND = "Stop messages about new coverage"
LATEST_COMMAND = "The newest articles"

_QUOTE_CHARS = 600
_TITLE_CHARS = 150


def article_line(article: ArticleInfo) -> str:
    """``Title`` (linked) — outlet, date."""
    title = escape(clip(article.title or article.doc_id, _TITLE_CHARS))
    if is_web_url(article.url):
        title = f'<a href="{escape(article.url)}">{title}</a>'
    details = ", ".join(p for p in (escape(article.outlet), nice_date(article.published)) if p)
    return f"<b>{title}</b>" + (f" — {details}" if details else "")


def latest_text(articles: Sequence[ArticleInfo]) -> str:
    """/latest: the newest articles, one line each."""
    if not articles:
        return NO_ARTICLES
    lines = [f"The {len(articles)} newest articles:"]
    lines += [f"• {article_line(a)}" for a in articles]
    return _fit("\n".join(lines[:1]), lines[1:])


def new_coverage_text(items: Sequence[tuple[ArticleInfo, str]]) -> str:
    """One notification for one check: each new article with its "what's new" quote."""
    heading = "New coverage of the story:"
    blocks = []
    for article, quote in items:
        block = article_line(article)
        if quote:
            block += f"\nWhat's new:\n<blockquote>{escape(clip(quote, _QUOTE_CHARS))}</blockquote>"
        blocks.append(block)
    return _fit(heading, blocks, separator="\n\n")


def _fit(heading: str, blocks: Sequence[str], separator: str = "\n") -> str:
    """``heading`` and as many ``blocks`` as fit in one message, with a count of the rest."""
    text = heading
    for n, block in enumerate(blocks):
        candidate = f"{text}{separator}{block}"
        rest = len(blocks) - n - 1
        tail = f"{separator}…and {rest} more: /latest" if rest else ""
        if telegram_length(candidate + tail) > MAX_MESSAGE - 40:
            return f"{text}{separator}…and {len(blocks) - n} more: /latest"
        text = candidate
    return text


NEW_CONTEXT = "Starting afresh: your next message is a new question."
NEW_COMMAND = "Start a new question (forget the previous one)"


def continuing(earlier_question: str) -> str:
    """The line above a follow-up answer: which question it continues."""
    return f"<i>Continuing “{escape(clip(earlier_question, 120))}”:</i>"


# ---- /share, /settings, the bot's profile -------------------------------------------------

NOTHING_TO_SHARE = "Ask me something first: /share gives a link that asks your last question."
SHARE_COMMAND = "A link that asks your last question"
SETTINGS_COMMAND = "Passages per answer, following"
SETTINGS_SAVED = "Saved."
PER_PAGE_LABEL = "Passages per answer:"
DESCRIPTION = (
    "I answer questions about one news story by quoting its coverage, with a link to each "
    "source; I don't write anything about the story myself. Send me a question, or /follow "
    "to be told when new coverage arrives."
)
SHORT_DESCRIPTION = "Answers questions about a news story by quoting its coverage."


def share_text(question: str, link: str) -> str:
    """/share: a link that opens the bot and asks ``question``."""
    return (
        f"This link asks me “{escape(clip(question, 200))}”:\n"
        f'<a href="{escape(link)}">{escape(link)}</a>'
    )


def settings_text(per_page: int, following: bool) -> str:
    """/settings: the chat's current choices, above the buttons that change them."""
    follow = "on" if following else "off"
    return (
        "<b>Settings for this chat</b>\n"
        f"Passages per answer: {per_page}\n"
        f"Messages about new coverage: {follow}"
    )


def per_page_button(count: int, chosen: bool) -> str:
    """A passages-per-answer button; the chosen one is marked."""
    return f"• {count} •" if chosen else str(count)


def follow_button(following: bool) -> str:
    """The button that turns following on or off."""
    return "Stop new-coverage messages" if following else "Tell me about new coverage"
