"""Turning a downloaded page or a local file into article text and metadata.

HTML goes through trafilatura, which drops navigation, ads, related links and comments and copes
with broken markup. ``.md`` and ``.txt`` files are read with the corpus's own article parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import trafilatura

from index.articles import (
    ARTICLE_SUFFIXES,
    MAX_ARTICLE_BYTES,
    clean_body,
    first_sentence,
    parse_article,
    size_text,
)
from index.errors import CorpusError, NewsbotError
from newsbot.ingest.limits import MIN_ARTICLE_WORDS
from newsbot.ingest.urls import UrlError, check_url, clean_url

if TYPE_CHECKING:
    from lxml.html import HtmlElement

HTML_SUFFIXES = (".html", ".htm")
TEXT_SUFFIXES = ARTICLE_SUFFIXES

_BYLINE = re.compile(r"^by\s", re.IGNORECASE)
_MAX_BYLINE_WORDS = 12
_LANGUAGE = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]+)*$", re.IGNORECASE)


class ExtractError(NewsbotError):
    """A page or file from which no article could be taken; ``str()`` says why."""


class NotAnArticle(ExtractError):
    """The page has too little article text: a video page, a gallery, an index page."""


@dataclass(frozen=True)
class ExtractedArticle:
    """An article ready to be written to the corpus.

    ``blocks`` are paragraphs and subheadings in reading order, as they go into the file.
    ``url`` is the canonical URL when the page names one, else where it was fetched from,
    else empty (a local file that names no URL).
    """

    title: str
    outlet: str
    url: str
    published: str
    language: str
    blocks: tuple[str, ...]
    extra: dict = field(default_factory=dict, compare=False)


def extract_html(
    html: bytes | str, page_url: str = "", *, min_words: int = MIN_ARTICLE_WORDS
) -> ExtractedArticle:
    """Extract the article in ``html`` (fetched from ``page_url``, if known).

    Raises ``NotAnArticle`` when fewer than ``min_words`` words of paragraph text remain once
    navigation, ads, related links and comments are removed.
    """
    tree = trafilatura.load_html(html)
    if tree is None:
        raise NotAnArticle("no article text: the page is empty or not HTML")
    # Read these before trafilatura runs: it prunes the tree it is given.
    url = canonical_url(tree, page_url) or _safe_clean(page_url)
    language = page_language(tree)
    document = trafilatura.bare_extraction(
        tree,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_images=False,
        include_formatting=False,
        # Only dates the page states in its markup; the extensive search guesses from
        # copyright lines and such, and a wrong date is worse than none.
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if document is None or not (document.text or "").strip():
        raise NotAnArticle("no article text found on the page")
    lines = [" ".join(line.split()) for line in document.text.splitlines()]
    title = " ".join((document.title or "").split())
    blocks = _drop_title_and_byline([line for line in lines if line], title)
    _require_article_text(blocks, min_words)
    return ExtractedArticle(
        title=title or _first_sentence(blocks),
        outlet=(document.sitename or "").strip() or _host(url),
        url=url,
        published=document.date or "",
        language=language,
        blocks=tuple(blocks),
    )


def extract_file(
    path: Path, *, min_words: int = MIN_ARTICLE_WORDS, max_bytes: int = MAX_ARTICLE_BYTES
) -> ExtractedArticle:
    """Read a local ``.html``/``.htm``, ``.md`` or ``.txt`` file as an article.

    HTML is extracted like a downloaded page (its URL is its canonical link, if any). A ``.md``
    file with front matter keeps its metadata; ``.md`` without front matter and ``.txt`` are plain
    text whose first sentence becomes the title. Files over ``max_bytes`` are refused unread
    past the limit. Raises ``ExtractError`` with a one-line reason.
    """
    suffix = path.suffix.lower()
    if suffix not in HTML_SUFFIXES + TEXT_SUFFIXES:
        raise ExtractError(f"cannot add '{suffix or 'no extension'}' files; use .html, .md or .txt")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ExtractError(f"cannot read the file: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        limit = size_text(max_bytes)
        raise ExtractError(f"too large: more than {limit} (NEWSBOT_MAX_ARTICLE_BYTES)")
    if suffix in HTML_SUFFIXES:
        return extract_html(data, min_words=min_words)
    return _extract_text(data, path, min_words)


def canonical_url(tree: HtmlElement, page_url: str = "") -> str:
    """The page's own idea of its address: ``<link rel="canonical">``, else ``og:url``.

    Relative links are resolved against ``page_url``; anything that does not end up as an
    http(s) URL is ignored (returns ``""``). Tracking parameters and fragments are removed.
    """
    candidates = [
        link.get("href", "")
        for link in tree.iter("link")
        if "canonical" in (link.get("rel") or "").lower().split()
    ]
    candidates += [
        meta.get("content", "")
        for meta in tree.iter("meta")
        if (meta.get("property") or meta.get("name") or "").lower() == "og:url"
    ]
    for candidate in candidates:
        url = _safe_clean(urljoin(page_url, candidate.strip())) if candidate.strip() else ""
        if url:
            return url
    return ""


def page_language(tree: HtmlElement) -> str:
    """The page's declared language as a primary subtag ("en-GB" -> "en"), or ``""``."""
    declared = [tree.get("lang") or tree.get("xml:lang") or ""]
    declared += [
        meta.get("content", "")
        for meta in tree.iter("meta")
        if (meta.get("http-equiv") or "").lower() == "content-language"
        or (meta.get("property") or "").lower() == "og:locale"
    ]
    for value in declared:
        match = _LANGUAGE.match(value.strip().split(",")[0].strip())
        if match:
            return match.group(1).lower()
    return ""


def _extract_text(data: bytes, path: Path, min_words: int) -> ExtractedArticle:
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExtractError("not UTF-8 text; save the file as UTF-8") from exc
    # Without front matter a .md file is plain text, read like a .txt crawl dump.
    as_path = path if raw.lstrip("\ufeff").startswith("---") else path.with_suffix(".txt")
    try:
        article = parse_article(raw, as_path)
    except CorpusError as exc:
        raise ExtractError(exc.problem) from exc
    blocks: list[str] = []
    section = ""
    for paragraph in article.paragraphs:
        if paragraph.section and paragraph.section != section:
            blocks.append(f"## {paragraph.section}")
        section = paragraph.section
        blocks.append(paragraph.text)
    _require_article_text(blocks, min_words)
    return ExtractedArticle(
        title=article.title,
        outlet=article.outlet,
        url=_safe_clean(article.url),
        published=article.published,
        language=article.language,
        blocks=tuple(blocks),
        extra=dict(article.extra),
    )


def _drop_title_and_byline(lines: list[str], title: str) -> list[str]:
    if lines and title and lines[0].casefold() == title.casefold():
        lines = lines[1:]
    # A byline is not a subheading; left in, the corpus cleaner would make it a section title.
    return [
        line
        for line in lines
        if not (_BYLINE.match(line) and len(line.split()) <= _MAX_BYLINE_WORDS)
    ]


def _require_article_text(blocks: list[str], min_words: int) -> None:
    words = sum(len(p.text.split()) for p in clean_body("\n\n".join(blocks)))
    if words < min_words:
        hint = "; to add it anyway, pass --min-words" if words else ""
        raise NotAnArticle(
            f"no article text: {words} words of paragraphs (an article has {min_words}+){hint}"
        )


def _first_sentence(blocks: list[str]) -> str:
    paragraphs = clean_body("\n\n".join(blocks))
    return first_sentence(paragraphs[0].text) if paragraphs else ""


def _safe_clean(url: str) -> str:
    if not url:
        return ""
    try:
        return clean_url(check_url(url))
    except (UrlError, ValueError):
        return ""


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")
