"""Adding articles to the corpus from URLs, local files and feeds, never twice.

Duplicate rules, checked in this order for every item:

1. Same article: the canonical URL (``<link rel="canonical">``, else ``og:url``, else the address
   the page was downloaded from after redirects) is the article's identity. URLs are compared after
   removing tracking parameters (``utm_*``, ``fbclid``...), the fragment, a trailing slash, ``www.``
   and the http/https difference. A URL given on the command line or in a feed that is already in
   the corpus is skipped without downloading it.
2. Near duplicate: a body that is mostly the text of an article already in the corpus (a wire story
   republished by another outlet) is skipped and reported as "near duplicate of <doc_id>"; the
   corpus keeps the copy that came first. The rule is in ``index.duplicates``.

New files are named ``<published>-<outlet>-<title words>.md`` from ASCII letters, digits and
hyphens only, so no title can lead outside the corpus folder. A name already taken (by an ``.md``
or ``.txt`` file, which would give the same article id) gets ``-2``, ``-3``... Files appear in the
corpus whole or not at all: they are written to a hidden temporary file and hard-linked into place,
and the link fails rather than replace a file that appeared meanwhile.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from index.articles import (
    ARTICLE_SUFFIXES,
    Article,
    clean_body,
    load_corpus,
    parse_article,
    render_article,
)
from index.duplicates import is_near_duplicate, shingles, similarity
from index.errors import NewsbotError
from index.extract import ExtractedArticle, NotAnArticle, extract_file, extract_html
from index.feeds import (
    MIN_TERM_HITS,
    belongs_to_story,
    parse_feed,
    split_words,
    story_terms,
)
from index.fetch import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, FEED_TYPES, fetch, make_client
from index.urls import check_url, url_key

ADDED, SKIPPED, FAILED = "added", "skipped", "failed"
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_MAX_TITLE_SLUG = 60
_MAX_OUTLET_SLUG = 24


@dataclass(frozen=True)
class Outcome:
    """What happened to one item: ``status`` is added, skipped or failed; ``line`` says it."""

    status: str
    source: str
    line: str
    doc_id: str = ""
    path: Path | None = None


@dataclass(frozen=True)
class FeedResult:
    """The entries of one feed and what happened to each; ``terms`` decided the story filter."""

    feed_url: str
    terms: list[str]
    outcomes: list[Outcome] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class _Known:
    doc_id: str
    url_key: str
    shingles: frozenset[int]


class Ingester:
    """Adds articles to one corpus folder, knowing what is there, including what it just added.

    Use it as a context manager so that its HTTP connections are closed. Reading the corpus at
    the start raises ``CorpusError`` if an article file in it is malformed.
    """

    def __init__(
        self,
        corpus_dir: Path,
        *,
        client: httpx.Client | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_feed_entries: int | None = None,
    ) -> None:
        self.corpus_dir = corpus_dir
        self._articles: list[Article] = load_corpus(corpus_dir)
        self._known = [_remember(a.doc_id, a.url, a.paragraphs) for a in self._articles]
        self._client = client or make_client(timeout)
        self._owns_client = client is None
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._max_feed_entries = max_feed_entries

    def __enter__(self) -> Ingester:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this ingester created it."""
        if self._owns_client:
            self._client.close()

    def add(self, source: str) -> Outcome:
        """Add a URL (anything that looks like ``scheme:...``) or a local file path."""
        if _URL_LIKE.match(source) and not Path(source).exists():
            return self.add_url(source)
        return self.add_file(Path(source))

    def add_url(self, url: str, *, from_feed: bool = False) -> Outcome:
        """Download and add one web page. Pages without article text are *failed* when asked for
        directly, and *skipped* ("not an article") when they come from a feed."""
        try:
            check_url(url)
            present = self._find_url(url)
            if present:
                return _skipped(url, f"already present ({present})", present)
            download = fetch(
                url, client=self._client, timeout=self._timeout, max_bytes=self._max_bytes
            )
            article = extract_html(download.html(), download.url)
        except NotAnArticle as exc:
            return _skipped(url, "not an article") if from_feed else _failed(url, str(exc))
        except NewsbotError as exc:
            return _failed(url, str(exc))
        fetched_from = download.url if url_key(download.url) != url_key(article.url) else ""
        return self._store(url, article, {"fetched_from": fetched_from})

    def add_file(self, path: Path) -> Outcome:
        """Add one local ``.html``/``.htm``, ``.md`` or ``.txt`` file."""
        source = str(path)
        if not path.is_file():
            hint = "" if _URL_LIKE.match(source) else " (web pages need http:// or https://)"
            return _failed(source, f"no such file{hint}")
        try:
            article = extract_file(path)
        except NewsbotError as exc:
            return _failed(source, str(exc))
        return self._store(source, article, {"source_file": path.name})

    def add_feed(self, feed_url: str, match: Sequence[str] = ()) -> FeedResult:
        """Add the entries of an RSS/Atom feed that belong to the story (see ``index.feeds``).

        With ``match`` words, an entry belongs when it mentions any of them; otherwise when it
        mentions two of the corpus's story terms. Entries already present are skipped unfetched.
        Only the feed's first ``max_feed_entries`` entries are looked at.
        """
        words = split_words(match)
        terms = words or story_terms(self._articles)
        try:
            check_url(feed_url)
            if not terms:
                raise NewsbotError("the corpus is empty, so the story is unknown: use --match")
            download = fetch(
                feed_url,
                accept=FEED_TYPES,
                client=self._client,
                timeout=self._timeout,
                max_bytes=self._max_bytes,
            )
            entries = parse_feed(download.content, download.url)
        except NewsbotError as exc:
            return FeedResult(feed_url, terms, [_failed(feed_url, str(exc))], str(exc))
        min_hits = 1 if words else MIN_TERM_HITS
        outcomes = []
        for entry in entries[: self._max_feed_entries]:
            present = self._find_url(entry.link)
            if present:
                outcomes.append(_skipped(entry.link, f"already present ({present})", present))
            elif not belongs_to_story(entry, terms, min_hits=min_hits):
                outcomes.append(_skipped(entry.link, "not about the story"))
            else:
                outcomes.append(self.add_url(entry.link, from_feed=True))
        return FeedResult(feed_url, terms, outcomes)

    def _find_url(self, url: str) -> str:
        key = url_key(url)
        return next((k.doc_id for k in self._known if key and k.url_key == key), "")

    def _store(self, source: str, article: ExtractedArticle, provenance: dict) -> Outcome:
        present = self._find_url(article.url)
        if present:
            return _skipped(source, f"already present ({present})", present)
        body = shingles(p.text for p in clean_body("\n\n".join(article.blocks)))
        for known in self._known:
            if is_near_duplicate(body, known.shingles):
                shared = f"{similarity(body, known.shingles):.0%} of text shared"
                detail = f"near duplicate of {known.doc_id} ({shared})"
                return _skipped(source, detail, known.doc_id)
        text = render_article(_front_matter(article, provenance), list(article.blocks))
        stem = file_stem(article)
        try:
            parsed = parse_article(text, self.corpus_dir / f"{stem}.md")
            path = write_new_article(self.corpus_dir, stem, text)
        except (NewsbotError, OSError) as exc:
            return _failed(source, _one_line(exc))
        # The file holds exactly ``text``; only its name may have gained a -2, -3 suffix.
        written = dataclasses.replace(parsed, doc_id=path.stem, path=str(path))
        self._articles.append(written)
        self._known.append(_remember(written.doc_id, written.url, written.paragraphs))
        return Outcome(ADDED, source, _added_line(written), written.doc_id, path)


def file_stem(article: ExtractedArticle) -> str:
    """``<published>-<outlet>-<title words>``, ASCII letters, digits and hyphens only."""
    date = article.published or "undated"
    outlet = _slug(article.outlet, _MAX_OUTLET_SLUG).replace("-", "")
    title = _slug(article.title, _MAX_TITLE_SLUG) if _mostly_latin(article.title) else ""
    if not title:
        # A Cyrillic (say) title would leave only its digits, or nothing, to slug.
        seed = article.url or "\n".join(article.blocks)
        title = "article-" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:10]
    return "-".join(part for part in (date, outlet, title) if part)


def write_new_article(corpus_dir: Path, stem: str, text: str) -> Path:
    """Write ``text`` as ``<stem>.md`` in ``corpus_dir``, or ``<stem>-2.md``, ``-3``... when the
    name (or the same article id as a ``.txt`` file) is taken. Never replaces a file; readers see
    no file or the whole file. Returns the path written."""
    fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=f".{stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        for number in itertools.count(1):
            name = stem if number == 1 else f"{stem}-{number}"
            if any((corpus_dir / f"{name}{suffix}").exists() for suffix in ARTICLE_SUFFIXES):
                continue
            target = corpus_dir / f"{name}.md"
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            return target
    finally:
        Path(tmp).unlink(missing_ok=True)
    raise AssertionError("unreachable")


def outcome_counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    """How many items were added, skipped and failed."""
    counts = {ADDED: 0, SKIPPED: 0, FAILED: 0}
    for outcome in outcomes:
        counts[outcome.status] += 1
    return counts


def _front_matter(article: ExtractedArticle, provenance: dict) -> dict:
    meta = {
        "title": article.title,
        "outlet": article.outlet,
        "url": article.url,
        "published": article.published,
        "language": article.language,
    }
    extra = {k: v for k, v in article.extra.items() if k not in meta}
    provenance = {k: v for k, v in provenance.items() if k not in meta and v}
    return meta | provenance | extra


def _remember(doc_id: str, url: str, paragraphs: Iterable) -> _Known:
    return _Known(doc_id, url_key(url), shingles(p.text for p in paragraphs))


def _mostly_latin(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return sum(c.isascii() for c in letters) * 2 >= len(letters) > 0


def _slug(text: str, limit: int) -> str:
    text = re.sub(r"['’]", "", text)  # "Valentine's" -> "valentines", not "valentine-s"
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) <= limit:
        return slug
    return slug[: limit + 1].rsplit("-", 1)[0] or slug[:limit]


def _added_line(article: Article) -> str:
    outlet = article.outlet or "unknown outlet"
    date = article.published or "undated"
    count = len(article.paragraphs)
    noun = "paragraph" if count == 1 else "paragraphs"
    return f"added   {article.title} — {outlet}, {date} ({count} {noun}) as {article.doc_id}.md"


def _skipped(source: str, why: str, doc_id: str = "") -> Outcome:
    return Outcome(SKIPPED, source, f"skipped {source}: {why}", doc_id)


def _failed(source: str, why: str) -> Outcome:
    return Outcome(FAILED, source, f"failed  {source}: {why}")


def _one_line(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"cannot write to the corpus: {exc.strerror or exc}"
    return str(exc)
