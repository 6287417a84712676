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

from bot.translations import ENGLISH_TEXTS, Translator, mark
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

# Fixed texts, in English as their message ids; translated where they are sent (t.gettext).
NON_TEXT = mark("I can only read text: send me your question as a message.")
APOLOGY = mark("Sorry, something went wrong while answering that. Please try again in a moment.")
EXPIRED = mark("This answer is no longer available: please ask the question again.")
ADMINS_ONLY = mark("Only the bot's admins can do that.")
NOT_FOUND = mark("I couldn't find that in the coverage.")
NOT_FOUND_HINT = mark("Try rephrasing it with words the articles would use, or see /sources.")
# Before the quotes of an answer whose verdict is "related" (about the subject, not the fact).
RELATED = mark("The coverage doesn't say this directly. Closest it gets:")


def escape(text: str) -> str:
    """``text`` safe to put anywhere in Telegram HTML, attribute values included."""
    return html.escape(text, quote=True)


def bold(text: str) -> str:
    """``text`` in bold, escaped."""
    return f"<b>{escape(text)}</b>"


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
    before, middle, after = text[:start], text[start:end], text[end:]
    if utf16_len(text) <= limit:
        return before, middle, after
    lead_needed = 1 if before.strip() else 0
    tail_needed = 1 if after.strip() else 0
    if utf16_len(middle) + lead_needed + tail_needed > limit:
        lead = ELLIPSIS if lead_needed and limit > 1 else ""
        return lead, cut_end(middle, limit - len(lead)), ""
    room = limit - utf16_len(middle)
    before_room, after_room = _share(room, utf16_len(before), utf16_len(after))
    return cut_start(before, before_room), middle, cut_end(after, after_room)


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


def answer_page(
    hits: Sequence[Hit],
    page: int,
    per_page: int,
    t: Translator = ENGLISH_TEXTS,
    related: bool = False,
    header: str = "",
) -> str:
    """Page ``page`` (from 0) of an answer: up to ``per_page`` quotes, each with its source,
    below ``header`` (HTML, short: which question a follow-up continues) if given; a
    ``related`` answer says that the coverage does not state it directly.

    A footer tells where the page is when there is more than one. If the passages cannot all
    fit in one message even with short excerpts, the last ones of the page are left out.
    The quotes stay in their articles' language; the rest is in ``t``'s. A ``related`` answer
    (the coverage is about the subject but does not state the fact) says so first and bolds
    nothing.
    """
    pages = page_count(len(hits), per_page)
    shown = list(hits[page * per_page : (page + 1) * per_page])
    footer = ""
    if pages > 1:
        first, last = page * per_page + 1, page * per_page + len(shown)
        if first == last:
            where = t.gettext("Passage %(first)d of %(total)d") % {
                "first": first,
                "total": len(hits),
            }
        else:
            where = t.gettext("Passages %(first)d–%(last)d of %(total)d") % {
                "first": first,
                "last": last,
                "total": len(hits),
            }
        footer = f"\n\n<i>{escape(where)}</i>"
    head = f"{header}\n\n" if header else ""
    if related:
        head += f"<i>{escape(t.gettext(RELATED))}</i>\n"
    bold = not related
    while len(shown) > 1:
        text = _fit_blocks(shown, head, footer, t, bold)
        if text is not None:
            return text
        shown.pop()
    fitted = _fit_blocks(shown, head, footer, t, bold)
    return fitted or head + _passage_block(shown[0], _MIN_EXCERPT, t, bold)


def page_count(hits: int, per_page: int) -> int:
    """How many pages ``hits`` passages make (at least one)."""
    return max(1, -(-hits // per_page))


def quote_message(hit: Hit, t: Translator = ENGLISH_TEXTS) -> str:
    """One passage with its source as a message of its own (inline mode)."""
    return _fit_blocks([hit], "", "", t) or _passage_block(hit, _MIN_EXCERPT, t)


def _fit_blocks(
    hits: Sequence[Hit], header: str, footer: str, t: Translator, bold: bool = True
) -> str | None:
    """The passages between ``header`` and ``footer``, excerpts as long as the 4096 limit
    allows (the highlight in bold if ``bold``); None if even short ones don't."""
    fixed = sum(telegram_length(_source_lines(hit, t)) + 4 for hit in hits)
    fixed += telegram_length(header) + telegram_length(footer)
    limit = (MAX_MESSAGE - fixed) // len(hits)
    bold = not header
    while limit >= _MIN_EXCERPT:
        blocks = "\n\n".join(_passage_block(hit, limit, t, bold) for hit in hits)
        text = header + blocks + footer
        if telegram_length(text) <= MAX_MESSAGE:
            return text
        limit = limit * 3 // 4
    return None


def _passage_block(hit: Hit, limit: int, t: Translator, bold: bool = True) -> str:
    """The quote in a blockquote with its best sentence in bold (if ``bold``), then its source
    lines.

    A long quote shows its best sentence with one sentence of context before it, and the
    rest after it in an expandable blockquote (collapsed until tapped)."""
    before, middle, after = trim_excerpt(hit.text, hit.highlight_start, hit.highlight_end, limit)
    marked = f"<b>{escape(middle)}</b>" if bold and middle.strip() else escape(middle)
    if utf16_len(before + middle + after) > LONG_QUOTE and middle.strip() and after.strip():
        shown = f"{escape(_last_sentence(before))}{marked}"
        rest = escape(after.strip())
        quote = f"<blockquote>{shown}</blockquote>\n<blockquote expandable>{rest}</blockquote>"
        return f"{quote}\n{_source_lines(hit, t)}"
    quote = f"{escape(before)}{marked}{escape(after)}"
    if not (before + middle + after).strip():
        quote = ELLIPSIS
    return f"<blockquote>{quote}</blockquote>\n{_source_lines(hit, t)}"


def _last_sentence(text: str) -> str:
    """The last sentence of ``text`` (with an ellipsis when text before it is left out)."""
    spans = sentence_spans(text)
    if len(spans) <= 1:
        return text
    start = spans[-1][0]
    return f"{ELLIPSIS}{text[start:]}"


def _source_lines(hit: Hit, t: Translator) -> str:
    """“— Title, Outlet, 14 Feb 2021” linking to the quoted sentence, and who else carries it."""
    label = clip(hit.title or hit.outlet or hit.url, _TITLE_CHARS) or t.gettext("Source")
    details = [clip(hit.outlet, _NAME_CHARS), nice_date(hit.published, t)]
    line = f"— {_link(label, hit.link or hit.url)}"
    line += "".join(f", {escape(part)}" for part in details if part)
    if hit.also:
        line += "\n" + _also_line(hit.also, t)
    return line


def _also_line(others: Sequence[Source], t: Translator) -> str:
    names = []
    for other in others[:_ALSO_SHOWN]:
        label = clip(other.outlet or other.title, _NAME_CHARS) or t.gettext("Source")
        name = _link(label, other.link)
        date = nice_date(other.published, t)
        names.append(f"{name} ({escape(date)})" if date else name)
    more = len(others) - _ALSO_SHOWN
    if more > 0:
        line = t.ngettext(
            "Also reported by %(names)s and %(count)d more",
            "Also reported by %(names)s and %(count)d more",
            more,
        )
        return escape(line) % {"names": ", ".join(names), "count": more}
    return escape(t.gettext("Also reported by %(names)s")) % {"names": ", ".join(names)}


def _link(label: str, url: str) -> str:
    """``label`` as a link to ``url``, or plain text when the URL is not a web address."""
    if not is_web_url(url):
        return escape(label)
    return f'<a href="{escape(url)}">{escape(label)}</a>'


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an http(s) address with a dotted host, which Telegram accepts."""
    match = re.match(r"https?://([^/?#:@\s]+)", url, re.IGNORECASE)
    return bool(match) and "." in match.group(1).strip(".") and not any(c.isspace() for c in url)


def nice_date(published: str, t: Translator = ENGLISH_TEXTS) -> str:
    """``2021-02-14`` as ``14 Feb 2021`` (in ``t``'s language); anything else as given."""
    try:
        day = dt.date.fromisoformat(published)
    except ValueError:
        return clip(published, 20)
    return t.date(day)


# ---- fixed texts -------------------------------------------------------------------------------
# Texts with placeholders use named ``%(name)s`` so translators may reorder them and Babel
# checks each translation keeps them. HTML tags stay outside the texts where they can.


def counted_articles(count: int, t: Translator = ENGLISH_TEXTS) -> str:
    """``1 article``, ``2 articles`` in ``t``'s language."""
    return t.ngettext("%(count)d article", "%(count)d articles", count) % {"count": count}


def counted_passages(count: int, t: Translator = ENGLISH_TEXTS) -> str:
    """``1 passage``, ``2 passages`` in ``t``'s language."""
    return t.ngettext("%(count)d passage", "%(count)d passages", count) % {"count": count}


def not_found(question: str, t: Translator = ENGLISH_TEXTS) -> str:
    """The reply when the coverage has nothing relevant; the question is echoed, shortened."""
    echoed = escape(clip(question, 80))
    found, hint = escape(t.gettext(NOT_FOUND)), escape(t.gettext(NOT_FOUND_HINT))
    return f"{found} <i>“{echoed}”</i>\n{hint}"


def start_text(
    articles: Sequence[ArticleInfo],
    examples: Sequence[str],
    username: str,
    t: Translator = ENGLISH_TEXTS,
) -> str:
    """What the bot knows (the story, how many articles) and how to ask, with examples."""
    count = len(articles)
    story = t.ngettext(
        "The story, from %(count)d article:", "The story, from %(count)d articles:", count
    )
    lines = [
        escape(
            t.gettext(
                "I answer questions about one news story by quoting its coverage, with a link "
                "to each source. I don't write anything about the story myself."
            )
        ),
        "",
        bold(story % {"count": count}),
    ]
    lines += [f"• {escape(clip(a.title, _TITLE_CHARS))}" for a in articles[:3]]
    if count > 3:
        more = t.ngettext("and %(count)d more: /sources", "and %(count)d more: /sources", count - 3)
        lines.append(f"• {escape(more % {'count': count - 3})}")
    if examples:
        lines += ["", bold(t.gettext("Try asking:"))]
        lines += [f"• {escape(clip(q, 200))}" for q in examples]
    lines += ["", _where_to_ask(username, t)]
    return "\n".join(lines)


def _where_to_ask(username: str, t: Translator) -> str:
    text = t.gettext(
        "Just send me a question here. In groups use /ask, mention @%(bot)s, or reply to one "
        "of my answers. In any chat type @%(bot)s and a question. I answer in your language; "
        "quotes stay in the language of their article."
    )
    return escape(text % {"bot": username})


def help_text(
    username: str, per_minute: int, answer_count: int, t: Translator = ENGLISH_TEXTS
) -> str:
    """How to use the bot in private chats, groups and inline, and its limits;
    ``answer_count`` is how many passages a page of an answer quotes."""
    bot = {"bot": escape(username)}
    if answer_count == 1:
        quoted = t.gettext(
            "Each answer quotes one passage, the best sentence in bold, with a link to the article."
        )
    else:
        quoted = t.ngettext(
            "Each answer quotes up to %(count)d passage, the best sentence in bold, with a "
            "link to the article.",
            "Each answer quotes up to %(count)d passages, the best sentence in bold, with a "
            "link to the article.",
            answer_count,
        )
    limit = t.ngettext(
        "Up to %(count)d question a minute per person.",
        "Up to %(count)d questions a minute per person.",
        per_minute,
    )
    return "\n".join(
        [
            bold(t.gettext("How to ask")),
            "• " + escape(t.gettext("Here: send any question as a message.")),
            "• "
            + t.gettext(
                "In a group: <code>/ask your question</code>, a message mentioning @%(bot)s, or "
                "a reply to one of my answers. Send /ask as a reply to someone's message to "
                "look that message up."
            )
            % bot,
            "• "
            + t.gettext("In any chat: type <code>@%(bot)s your question</code> and pick a quote.")
            % bot,
            "",
            escape(quoted % {"count": answer_count})
            + " "
            + escape(t.gettext("More shows further passages.")),
            "",
            escape(
                t.gettext("/sources lists the articles I quote. /start shows example questions.")
            ),
            escape(limit % {"count": per_minute}),
        ]
    )


def sources_text(articles: Sequence[ArticleInfo], t: Translator = ENGLISH_TEXTS) -> str:
    """The articles, newest first, with links and dates (the list is cut to fit a message)."""
    if not articles:
        return escape(t.gettext("The coverage is empty: no articles are indexed yet."))
    heading = t.ngettext(
        "The coverage: %(count)d article", "The coverage: %(count)d articles", len(articles)
    )
    lines = [bold(heading % {"count": len(articles)}), ""]
    for n, article in enumerate(articles[:_SOURCES_SHOWN], 1):
        label = clip(article.title, _TITLE_CHARS) or t.gettext("Untitled")
        title = _link(label, article.url)
        details = [clip(article.outlet, _NAME_CHARS), nice_date(article.published, t)]
        tail = "".join(f", {escape(part)}" for part in details if part)
        lines.append(f"{n}. {title}{tail}")
    rest = len(articles) - _SOURCES_SHOWN
    if rest > 0:
        more = t.ngettext("… and %(count)d more.", "… and %(count)d more.", rest)
        lines.append(escape(more % {"count": rest}))
    text = "\n".join(lines)
    while telegram_length(text) > MAX_MESSAGE:  # only with very many very long titles
        lines = [*lines[:-2], escape(t.gettext("… and more."))]
        text = "\n".join(lines)
    return text


def usage_text(example: str | None, t: Translator = ENGLISH_TEXTS) -> str:
    """What to do after ``/ask`` with nothing to ask."""
    sample = escape(clip(example or t.gettext("what happened?"), 200))
    text = t.gettext(
        "Put your question after the command, e.g. %(example)s, or send /ask as a reply to a "
        "message to look that message up."
    )
    return escape(text) % {"example": f"<code>/ask {sample}</code>"}


def empty_question(example: str | None, t: Translator = ENGLISH_TEXTS) -> str:
    """The reply to an empty message in a private chat, where every message is a question."""
    sample = escape(clip(example or t.gettext("what happened?"), 200))
    text = t.gettext("Send me a question about the story, for example: %(example)s")
    return escape(text) % {"example": f"<i>{sample}</i>"}


def rate_limited(per_minute: int, retry_after: float, t: Translator = ENGLISH_TEXTS) -> str:
    """The friendly message for someone asking faster than the per-minute limit."""
    seconds = max(1, round(retry_after))
    limit = t.ngettext(
        "You're asking faster than I can answer: up to %(count)d question a minute each.",
        "You're asking faster than I can answer: up to %(count)d questions a minute each.",
        per_minute,
    )
    wait = t.gettext("Please try again in %(seconds)d s.")
    return escape(f"{limit % {'count': per_minute}} {wait % {'seconds': seconds}}")


def unknown_command(command: str, t: Translator = ENGLISH_TEXTS) -> str:
    """The reply to a command the bot does not have (private chats only)."""
    text = t.gettext("I don't know %(command)s. Send /help to see what I can do.")
    return escape(text) % {"command": escape(clip(command, 40))}


def reloaded(
    changed: bool, articles: int, passages: int, build_id: str, t: Translator = ENGLISH_TEXTS
) -> str:
    """The admin's answer to /reload."""
    if changed:
        state = t.gettext("Now serving index build %(build)s: %(articles)s, %(passages)s.")
    else:
        state = t.gettext("Already serving index build %(build)s: %(articles)s, %(passages)s.")
    return escape(state) % {
        "build": f"<code>{escape(build_id)}</code>",
        "articles": escape(counted_articles(articles, t)),
        "passages": escape(counted_passages(passages, t)),
    }


def reload_failed(reason: str, t: Translator = ENGLISH_TEXTS) -> str:
    """The admin's answer when the new index could not be loaded."""
    text = t.gettext("Could not load the new index (%(reason)s); still serving the old one.")
    return escape(text) % {"reason": escape(clip(reason, 300))}
