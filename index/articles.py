"""Article files: reading them from the corpus, cleaning scraped bodies, and writing new ones.

An article file is Markdown with YAML front matter (``title``, ``url``, ``published``, ``outlet``,
optional ``language``), or a plain ``.txt`` crawl dump that starts with a `` date YYYY-MM-DD``
header (optionally preceded by the same front matter). Bodies are kept as received; the cleaning
here removes page boilerplate and turns short subheadings into section titles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from index.errors import CorpusError

ARTICLE_SUFFIXES = (".md", ".txt")
# Far above any real article (the longest news reports are a few hundred KB of text).
MAX_ARTICLE_BYTES = 5 * 1024 * 1024

_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b\s*")
_BOILERPLATE = (
    re.compile(r"^(read|also read|read more|watch|see also)\s*:", re.IGNORECASE),
    re.compile(r"^\((image|photo|picture|video)( source| credit)?s?\s*:.*\)$", re.IGNORECASE),
    re.compile(r"^(image|photo)( source| credit)\s*:", re.IGNORECASE),
)
_SENTENCE_END = tuple(".!?:;\"'”’)…")
_MAX_HEADING_WORDS = 10
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a cleaned article, with its place in the cleaned text."""

    number: int
    text: str
    section: str
    start: int
    end: int


@dataclass(frozen=True)
class Article:
    """A cleaned article and its metadata; ``text`` is the paragraphs joined by blank lines."""

    doc_id: str
    title: str
    outlet: str
    url: str
    published: str
    language: str
    paragraphs: tuple[Paragraph, ...]
    content_hash: str
    path: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


def load_corpus(corpus_dir: Path, max_bytes: int = MAX_ARTICLE_BYTES) -> list[Article]:
    """Read and clean every article file in ``corpus_dir`` (sorted by name).

    A symbolic link is read only when what it finally points to lies inside the corpus folder;
    one that leads outside is skipped unread, with a warning (one line, on the ``index.articles``
    logger, which reaches stderr when nothing else is configured). Raises ``CorpusError`` naming
    the file and the problem for the first malformed article, or one over ``max_bytes``.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it or pass --corpus")
    root = corpus_dir.resolve()
    files = []
    for path in sorted(corpus_dir.iterdir()):
        if path.suffix not in ARTICLE_SUFFIXES or path.name.startswith((".", "_")):
            continue
        if path.name == "README.md":
            continue
        problem = _link_problem(path, root) if path.is_symlink() else ""
        if problem:
            _log.warning("skipped %s: %s; not read", path, problem)
            continue
        if path.is_file():
            files.append(path)
    articles = [load_article(p, max_bytes) for p in files]
    seen: dict[str, str] = {}
    for article in articles:
        if article.doc_id in seen:
            raise CorpusError(
                f"same article id as {seen[article.doc_id]}; rename one", article.path
            )
        seen[article.doc_id] = article.path
    return articles


def _link_problem(link: Path, root: Path) -> str:
    try:
        target = link.resolve(strict=True)
    except FileNotFoundError:
        return ""  # a dangling link is no file: ignored like a folder
    except (OSError, RuntimeError):
        return "a link that cannot be followed (a loop?)"
    return "" if target.is_relative_to(root) else "a link leading outside the corpus folder"


def load_article(path: Path, max_bytes: int = MAX_ARTICLE_BYTES) -> Article:
    """Read one article file; raise ``CorpusError`` (file and problem in one line) if it is
    malformed or larger than ``max_bytes``."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise CorpusError(f"cannot read the file ({exc.strerror or exc})", path) from exc
    if len(data) > max_bytes:
        raise CorpusError(
            f"larger than {size_text(max_bytes)} (NEWSBOT_MAX_ARTICLE_BYTES); "
            "split it, shorten it, or raise the limit",
            path,
        )
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError("not UTF-8 text; save it as UTF-8", path) from exc
    return parse_article(raw, path)


def parse_article(raw: str, path: Path) -> Article:
    """Parse the text of an article file named ``path`` into a cleaned ``Article``."""
    meta, body = _split_front_matter(raw, path)
    body, header_date = _strip_date_header(body)
    if path.suffix == ".md" and not meta:
        raise CorpusError("no front matter; start the file with a '---' YAML block", path)
    paragraphs = clean_body(body)
    if not paragraphs:
        raise CorpusError("the article has no body text", path)
    title = _text_field(meta, "title", path) or (
        first_sentence(paragraphs[0].text) if path.suffix == ".txt" else ""
    )
    if not title:
        raise CorpusError("front matter has no title; add 'title: ...'", path)
    published = _date_field(meta.get("published"), path) or header_date or ""
    return Article(
        doc_id=path.stem,
        title=title,
        outlet=_text_field(meta, "outlet", path),
        url=_text_field(meta, "url", path),
        published=published,
        language=_text_field(meta, "language", path) or "en",
        paragraphs=tuple(paragraphs),
        content_hash=hashlib.sha256(raw.encode("utf-8")).hexdigest(),
        path=str(path),
        extra={k: v for k, v in meta.items() if k not in _KNOWN_FIELDS},
    )


_KNOWN_FIELDS = {"title", "url", "published", "outlet", "language"}


def clean_body(body: str) -> list[Paragraph]:
    """Split a body into paragraphs, dropping boilerplate and turning subheadings into sections."""
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", body)]
    paragraphs: list[Paragraph] = []
    section = ""
    offset = 0
    for block in blocks:
        if not block or _is_boilerplate(block):
            continue
        if _is_heading(block):
            section = block.lstrip("#").strip()
            continue
        if paragraphs:
            offset += 2  # the blank line that joins paragraphs in Article.text
        paragraphs.append(Paragraph(len(paragraphs), block, section, offset, offset + len(block)))
        offset += len(block)
    return paragraphs


def _is_boilerplate(block: str) -> bool:
    return any(p.search(block) for p in _BOILERPLATE)


def _is_heading(block: str) -> bool:
    if block.startswith("#"):
        return True
    words = block.split()
    return len(words) <= _MAX_HEADING_WORDS and not block.endswith(_SENTENCE_END)


def _split_front_matter(raw: str, path: Path) -> tuple[dict, str]:
    text = raw.lstrip("\ufeff")
    if not text.startswith("---"):
        return {}, text
    match = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", text, re.DOTALL)
    if not match:
        raise CorpusError("front matter is not closed; end it with a line '---'", path)
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except ValueError as exc:
        # YAML reads 2021-13-45 as a date and fails to build it.
        problem = f"front matter has a date that does not exist ({exc}); write it as YYYY-MM-DD"
        raise CorpusError(problem, path) from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2})" if where else ""
        raise CorpusError(f"front matter is not valid YAML{line}; fix its syntax", path) from exc
    if not isinstance(meta, dict):
        raise CorpusError("front matter must be 'key: value' lines", path)
    return meta, text[match.end() :]


def _strip_date_header(body: str) -> tuple[str, str]:
    match = _DATE_HEADER.match(body)
    if not match:
        return body, ""
    return body[match.end() :], match.group(1)


def _text_field(meta: dict, name: str, path: Path) -> str:
    value = meta.get(name)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise CorpusError(f"front matter '{name}' must be plain text", path)
    return " ".join(str(value).split())


def _date_field(value: object, path: Path) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError as exc:
        raise CorpusError("'published' is not a date; write it as YYYY-MM-DD", path) from exc


def first_sentence(text: str, limit: int = 100) -> str:
    """The first sentence of ``text``, cut at a word with an ellipsis past ``limit``."""
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + "…"


def render_article(meta: dict, paragraphs: list[str]) -> str:
    """The text of an article file: YAML front matter, then paragraphs separated by blank lines."""
    front = yaml.safe_dump(
        {k: v for k, v in meta.items() if v not in (None, "")},
        allow_unicode=True,
        sort_keys=False,
        width=10_000,
    )
    return f"---\n{front}---\n\n" + "\n\n".join(paragraphs) + "\n"


def size_text(size: int) -> str:
    """A byte count as people read it: "5.0 MB", or "1,000 bytes" under a megabyte."""
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size:,} bytes"
