"""Article files: reading them from the corpus, cleaning scraped bodies, and writing new ones.

An article file is Markdown with YAML front matter (``title``, ``url``, ``published``, ``outlet``,
optional ``language``), or a plain ``.txt`` crawl dump that starts with a `` date YYYY-MM-DD``
header (optionally preceded by the same front matter). Bodies are kept as received; the cleaning
here removes page boilerplate and turns short subheadings into section titles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from index.errors import CorpusError

ARTICLE_SUFFIXES = (".md", ".txt")

_DATE_HEADER = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\b\s*")
_BOILERPLATE = (
    re.compile(r"^(read|also read|read more|watch|see also)\s*:", re.IGNORECASE),
    re.compile(r"^\((image|photo|picture|video)( source| credit)?s?\s*:.*\)$", re.IGNORECASE),
    re.compile(r"^(image|photo)( source| credit)\s*:", re.IGNORECASE),
)
_SENTENCE_END = tuple(".!?:;\"'”’)…")
_MAX_HEADING_WORDS = 10


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


def load_corpus(corpus_dir: Path) -> list[Article]:
    """Read and clean every article file in ``corpus_dir`` (sorted by name).

    Raises ``CorpusError`` naming the file and the problem for the first malformed article.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist: create it or pass --corpus")
    files = sorted(p for p in corpus_dir.iterdir() if p.suffix in ARTICLE_SUFFIXES and p.is_file())
    files = [p for p in files if not p.name.startswith((".", "_")) and p.name != "README.md"]
    articles = [load_article(p) for p in files]
    seen: dict[str, str] = {}
    for article in articles:
        if article.doc_id in seen:
            raise CorpusError(
                f"{article.path}: same article id as {seen[article.doc_id]}; rename one"
            )
        seen[article.doc_id] = article.path
    return articles


def load_article(path: Path) -> Article:
    """Read one article file; raise ``CorpusError`` (file and problem in one line) if malformed."""
    try:
        raw = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not UTF-8 text; save it as UTF-8") from exc
    return parse_article(raw, path)


def parse_article(raw: str, path: Path) -> Article:
    """Parse the text of an article file named ``path`` into a cleaned ``Article``."""
    meta, body = _split_front_matter(raw, path)
    body, header_date = _strip_date_header(body)
    if path.suffix == ".md" and not meta:
        raise CorpusError(f"{path}: no front matter; start the file with a '---' YAML block")
    paragraphs = clean_body(body)
    if not paragraphs:
        raise CorpusError(f"{path}: the article has no body text")
    title = _text_field(meta, "title", path) or (
        first_sentence(paragraphs[0].text) if path.suffix == ".txt" else ""
    )
    if not title:
        raise CorpusError(f"{path}: front matter has no title; add 'title: ...'")
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
        raise CorpusError(f"{path}: front matter is not closed; end it with a line '---'")
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2})" if where else ""
        raise CorpusError(f"{path}: front matter is not valid YAML{line}; fix its syntax") from exc
    if not isinstance(meta, dict):
        raise CorpusError(f"{path}: front matter must be 'key: value' lines")
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
        raise CorpusError(f"{path}: front matter '{name}' must be plain text")
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
        raise CorpusError(f"{path}: 'published' is not a date; write it as YYYY-MM-DD") from exc


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
