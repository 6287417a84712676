"""The bot's replies as Telegram HTML: quoted passages with their sources, and the fixed texts.

Everything here is pure formatting. Every text from outside (passages, titles, outlets, URLs,
questions) is escaped, and every reply is at most 4096 characters as Telegram counts them
(UTF-16 code units of the visible text). Excerpts are trimmed on the raw text, before escaping
and tagging, so a cut can never fall inside a tag or an entity.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Sequence

from index.passages import sentence_spans
from index.search import Hit, Source
from index.store import ArticleInfo

MAX_MESSAGE = 4096
ELLIPSIS = "…"

_TAG = re.compile(r"<[^>]*>")
_TITLE_CHARS = 150
_NAME_CHARS = 60
_ALSO_SHOWN = 3
_MIN_EXCERPT = 40
_SOURCES_SHOWN = 40
# Quotes longer than this (UTF-16 units) keep the rest after the best sentence collapsed.
LONG_QUOTE = 400

NON_TEXT = "I can only read text: send me your question as a message."
APOLOGY = "Sorry, something went wrong while answering that. Please try again in a moment."
EXPIRED = "This answer is no longer available: please ask the question again."
ADMINS_ONLY = "Only the bot's admins can reload the index."
NOT_FOUND = "I couldn't find that in the coverage."
NOT_FOUND_HINT = "Try rephrasing it with words the articles would use, or see /sources."


def escape(text: str) -> str:
    """``text`` safe to put anywhere in Telegram HTML, attribute values included."""
    return html.escape(text, quote=True)


def telegram_length(html_text: str) -> int:
    """The length Telegram checks against 4096: UTF-16 units of the visible, stripped text.

    Exact for HTML built here, where every ``<`` of the text is escaped.
    """
    return utf16_len(html.unescape(_TAG.sub("", html_text)).strip())


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


# ---- trimming ------------------------------------------------------------------------------


def trim_excerpt(text: str, start: int, end: int, limit: int) -> tuple[str, str, str]:
    """Cut ``text`` to at most ``limit`` UTF-16 units around ``text[start:end]``.

    Returns (before, highlight, after), ellipses included where text was dropped. The whole
    highlight is kept when it fits with its ellipses; otherwise its beginning is kept. The
    context left over is shared between both sides, and cuts prefer word boundaries.
    """
    before, mark, after = text[:start], text[start:end], text[end:]
    if utf16_len(text) <= limit:
        return before, mark, after
    lead_needed = 1 if before.strip() else 0
    tail_needed = 1 if after.strip() else 0
    if utf16_len(mark) + lead_needed + tail_needed > limit:
        lead = ELLIPSIS if lead_needed and limit > 1 else ""
        return lead, cut_end(mark, limit - len(lead)), ""
    room = limit - utf16_len(mark)
    before_room, after_room = _share(room, utf16_len(before), utf16_len(after))
    return cut_start(before, before_room), mark, cut_end(after, after_room)


def _share(room: int, before: int, after: int) -> tuple[int, int]:
    """Split ``room`` between the two sides; what one side does not need goes to the other."""
    half = room // 2
    if before <= half:
        return before, room - before
    if after <= room - half:
        return room - after, after
    return half, room - half


def cut_end(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` units, else its beginning followed by an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    if limit < 1:
        return ""
    keep = _prefix_within(text, limit - 1)
    space = keep.rfind(" ")
    if space > len(keep) // 2 and not text[len(keep)].isspace():
        keep = keep[:space]
    return keep.rstrip() + ELLIPSIS


def cut_start(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` units, else an ellipsis followed by its end."""
    if utf16_len(text) <= limit:
        return text
    if limit < 1:
        return ""
    keep = _prefix_within(text[::-1], limit - 1)[::-1]
    space = keep.find(" ")
    cut_at = len(text) - len(keep)
    if 0 <= space < len(keep) // 2 and not text[cut_at - 1].isspace():
        keep = keep[space + 1 :]
    return ELLIPSIS + keep.lstrip()


def _prefix_within(text: str, units: int) -> str:
    """The longest prefix of ``text`` of at most ``units`` UTF-16 units."""
    total = 0
    for n, char in enumerate(text):
        total += 2 if ord(char) > 0xFFFF else 1
        if total > units:
            return text[:n]
    return text


def clip(text: str, limit: int) -> str:
    """One line of ``text`` (spaces folded), cut to ``limit`` units with an ellipsis."""
    return cut_end(" ".join(text.split()), limit)


# ---- passages --------------------------------------------------------------------------------


def answer_page(hits: Sequence[Hit], page: int, per_page: int, header: str = "") -> str:
    """Page ``page`` (from 0) of an answer: up to ``per_page`` quotes, each with its source,
    below ``header`` (HTML, short) if given.

    A footer tells where the page is when there is more than one. If the passages cannot all
    fit in one message even with short excerpts, the last ones of the page are left out.
    """
    pages = page_count(len(hits), per_page)
    shown = list(hits[page * per_page : (page + 1) * per_page])
    footer = ""
    if pages > 1:
        first = page * per_page + 1
        footer = f"\n\n<i>Passages {first}–{first + len(shown) - 1} of {len(hits)}</i>"
    head = f"{header}\n\n" if header else ""
    while len(shown) > 1:
        text = _fit_blocks(shown, footer, head)
        if text is not None:
            return text
        shown.pop()
    return _fit_blocks(shown, footer, head) or head + _passage_block(shown[0], _MIN_EXCERPT)


def page_count(hits: int, per_page: int) -> int:
    """How many pages ``hits`` passages make (at least one)."""
    return max(1, -(-hits // per_page))


def quote_message(hit: Hit) -> str:
    """One passage with its source as a message of its own (inline mode)."""
    return _fit_blocks([hit], "") or _passage_block(hit, _MIN_EXCERPT)


def _fit_blocks(hits: Sequence[Hit], footer: str, header: str = "") -> str | None:
    """The passages, excerpts as long as the 4096 limit allows; None if even short ones don't."""
    fixed = sum(telegram_length(_source_lines(hit)) + 4 for hit in hits)
    fixed += telegram_length(footer) + telegram_length(header)
    limit = (MAX_MESSAGE - fixed) // len(hits)
    while limit >= _MIN_EXCERPT:
        text = header + "\n\n".join(_passage_block(hit, limit) for hit in hits) + footer
        if telegram_length(text) <= MAX_MESSAGE:
            return text
        limit = limit * 3 // 4
    return None


def _passage_block(hit: Hit, limit: int) -> str:
    """The quote in a blockquote with its best sentence in bold, then its source lines.

    A long quote shows its best sentence with one sentence of context before it, and the
    rest after it in an expandable blockquote (collapsed until tapped)."""
    before, mark, after = trim_excerpt(hit.text, hit.highlight_start, hit.highlight_end, limit)
    marked = f"<b>{escape(mark)}</b>" if mark.strip() else escape(mark)
    if utf16_len(before + mark + after) > LONG_QUOTE and mark.strip() and after.strip():
        shown = f"{escape(_last_sentence(before))}{marked}"
        rest = escape(after.strip())
        quote = f"<blockquote>{shown}</blockquote>\n<blockquote expandable>{rest}</blockquote>"
        return f"{quote}\n{_source_lines(hit)}"
    quote = f"{escape(before)}{marked}{escape(after)}"
    if not (before + mark + after).strip():
        quote = ELLIPSIS
    return f"<blockquote>{quote}</blockquote>\n{_source_lines(hit)}"


def _last_sentence(text: str) -> str:
    """The last sentence of ``text`` (with an ellipsis when text before it is left out)."""
    spans = sentence_spans(text)
    if len(spans) <= 1:
        return text
    start = spans[-1][0]
    return f"{ELLIPSIS}{text[start:]}"


def _source_lines(hit: Hit) -> str:
    """“— Title, Outlet, 14 Feb 2021” linking to the quoted sentence, and who else carries it."""
    label = clip(hit.title or hit.outlet or hit.url, _TITLE_CHARS) or "Source"
    details = [clip(hit.outlet, _NAME_CHARS), nice_date(hit.published)]
    line = f"— {_link(label, hit.link or hit.url)}"
    line += "".join(f", {escape(part)}" for part in details if part)
    if hit.also:
        line += "\n" + _also_line(hit.also)
    return line


def _also_line(others: Sequence[Source]) -> str:
    names = []
    for other in others[:_ALSO_SHOWN]:
        name = _link(clip(other.outlet or other.title, _NAME_CHARS) or "Source", other.link)
        date = nice_date(other.published)
        names.append(f"{name} ({escape(date)})" if date else name)
    more = len(others) - _ALSO_SHOWN
    tail = f" and {more} more" if more > 0 else ""
    return f"Also reported by {', '.join(names)}{tail}"


def _link(label: str, url: str) -> str:
    """``label`` as a link to ``url``, or plain text when the URL is not a web address."""
    if not is_web_url(url):
        return escape(label)
    return f'<a href="{escape(url)}">{escape(label)}</a>'


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an http(s) address with a dotted host, which Telegram accepts."""
    match = re.match(r"https?://([^/?#:@\s]+)", url, re.IGNORECASE)
    return bool(match) and "." in match.group(1).strip(".") and not any(c.isspace() for c in url)


def nice_date(published: str) -> str:
    """``2021-02-14`` as ``14 Feb 2021``; anything else as given."""
    try:
        day = dt.date.fromisoformat(published)
    except ValueError:
        return clip(published, 20)
    return f"{day.day} {day:%b %Y}"


# ---- fixed texts -------------------------------------------------------------------------------


def counted(count: int, noun: str) -> str:
    """``1 article``, ``2 articles``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def not_found(question: str) -> str:
    """The reply when the coverage has nothing relevant; the question is echoed, shortened."""
    return f"{NOT_FOUND} <i>“{escape(clip(question, 80))}”</i>\n{NOT_FOUND_HINT}"


def start_text(articles: Sequence[ArticleInfo], examples: Sequence[str], username: str) -> str:
    """What the bot knows (the story, how many articles) and how to ask, with examples."""
    count = len(articles)
    lines = [
        "I answer questions about one news story by quoting its coverage, with a link to each "
        "source. I don't write anything about the story myself.",
        "",
        f"<b>The story</b>, from {counted(count, 'article')}:",
    ]
    lines += [f"• {escape(clip(a.title, _TITLE_CHARS))}" for a in articles[:3]]
    if count > 3:
        lines.append(f"• and {count - 3} more: /sources")
    if examples:
        lines += ["", "<b>Try asking</b>:"]
        lines += [f"• {escape(clip(q, 200))}" for q in examples]
    lines += ["", _where_to_ask(username)]
    return "\n".join(lines)


def _where_to_ask(username: str) -> str:
    name = escape(username)
    return (
        "Just send me a question here. In groups use /ask, mention @"
        f"{name}, or reply to one of my answers. In any chat type @{name} and a question."
    )


def help_text(username: str, per_minute: int, answer_count: int) -> str:
    """How to use the bot in private chats, groups and inline, and its limits;
    ``answer_count`` is how many passages a page of an answer quotes."""
    name = escape(username)
    quoted = "one passage" if answer_count == 1 else f"up to {answer_count} passages"
    return "\n".join(
        [
            "<b>How to ask</b>",
            "• Here: send any question as a message.",
            f"• In a group: <code>/ask your question</code>, a message mentioning @{name}, or "
            "a reply to one of my answers. Send /ask as a reply to someone's message to look "
            "that message up.",
            f"• In any chat: type <code>@{name} your question</code> and pick a quote.",
            "",
            f"Each answer quotes {quoted}, the best sentence in bold, with a link to the "
            "article. <b>More</b> shows further passages.",
            "",
            "/sources lists the articles I quote. /start shows example questions.",
            f"Up to {per_minute} questions a minute per person.",
        ]
    )


def sources_text(articles: Sequence[ArticleInfo]) -> str:
    """The articles, newest first, with links and dates (the list is cut to fit a message)."""
    if not articles:
        return "The coverage is empty: no articles are indexed yet."
    lines = [f"<b>The coverage: {counted(len(articles), 'article')}</b>", ""]
    for n, article in enumerate(articles[:_SOURCES_SHOWN], 1):
        title = _link(clip(article.title, _TITLE_CHARS) or "Untitled", article.url)
        details = [clip(article.outlet, _NAME_CHARS), nice_date(article.published)]
        tail = "".join(f", {escape(part)}" for part in details if part)
        lines.append(f"{n}. {title}{tail}")
    rest = len(articles) - _SOURCES_SHOWN
    if rest > 0:
        lines.append(f"… and {rest} more.")
    text = "\n".join(lines)
    while telegram_length(text) > MAX_MESSAGE:  # only with very many very long titles
        lines = [*lines[:-2], "… and more."]
        text = "\n".join(lines)
    return text


def usage_text(example: str | None) -> str:
    """What to do after ``/ask`` with nothing to ask."""
    sample = escape(clip(example or "what happened?", 200))
    return (
        f"Put your question after the command, e.g. <code>/ask {sample}</code>, "
        "or send /ask as a reply to a message to look that message up."
    )


def rate_limited(per_minute: int, retry_after: float) -> str:
    """The friendly message for someone asking faster than the per-minute limit."""
    seconds = max(1, round(retry_after))
    return (
        f"You're asking faster than I can answer: up to {per_minute} questions a minute each. "
        f"Please try again in {seconds} s."
    )


def unknown_command(command: str) -> str:
    """The reply to a command the bot does not have (private chats only)."""
    return f"I don't know {escape(clip(command, 40))}. Send /help to see what I can do."


def reloaded(changed: bool, articles: int, passages: int, build_id: str) -> str:
    """The admin's answer to /reload."""
    state = "Now serving" if changed else "Already serving"
    build = f"<code>{escape(build_id)}</code>"
    sizes = f"{counted(articles, 'article')}, {counted(passages, 'passage')}"
    return f"{state} index build {build}: {sizes}."


def reload_failed(reason: str) -> str:
    """The admin's answer when the new index could not be loaded."""
    return f"Could not load the new index ({escape(clip(reason, 300))}); still serving the old one."
