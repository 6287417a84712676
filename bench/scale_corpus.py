"""A story-scale corpus: the seed story among 1k, 10k, 100k or 1M passages of other English prose.

The other prose, all real text under free licences, shipped by package registries:
- ``lee``: gensim's Lee background corpus (300 ABC news articles, one per line), read from the
  gensim wheel (``pip download gensim --no-deps``; the wheel is a zip, nothing is installed);
- ``debian-handbook``, ``debian-reference``, ``python-doc``, ``linux-doc``: the HTML manuals of
  Debian packages (``apt-get download``, unpacked with ``dpkg-deb -x``), one article per page,
  its ``<p>`` paragraphs as the body.

The script downloads with apt and pip when it runs (the generated corpus is for benchmarks and
story-scale evaluation only: nothing in the product downloads anything). Everything goes under
``--out`` (default ``~/.cache/newsbot-scale``), outside git:

    src/                the downloaded packages and their unpacked files
    corpus-1k/ ...      one folder per size: the seed corpus plus other prose, ready to build

Real prose runs out at about 138k passages. Past it (the 1M corpus), articles are
**recombined** from it: each new article takes the real sentences of one source (the news or one
manual) at random and joins them into paragraphs of 30-72 word pieces (a passage each, about 52
on average, as the real prose's 45-55), 8 to 30 paragraphs an article. Every sentence is real
text; the articles, paragraphs, titles (the first sentence), dates (2001-2026), outlets and URLs
(``https://www.<outlet>.example/<date>/<slug>``, a reserved domain) are made up. No paragraph
is used twice. The draw is seeded, so the corpus is the same on every run; the smaller corpora
have no recombined articles and the 1M corpus holds all of them, the seed story included.

Sizes are passage counts as the build will cut them (paragraphs split to at most 128 word
pieces, counted with the model's tokenizer). The smaller corpora are subsets of the larger ones
and the choice is deterministic: all of the news first (the hardest distractors for a news
story), then the manuals' pages taken in turn, each manual's pages in path order.

Usage: python bench/scale_corpus.py [--sizes 1k,10k,100k,1m] [--out DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import random
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import html

from index.articles import first_sentence, parse_article, render_article
from index.embed import Embedder
from index.errors import CorpusError
from index.passages import sentence_spans, split_article

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path.home() / ".cache" / "newsbot-scale"
DEBIAN_PACKAGES = ("debian-handbook", "debian-reference-en", "python3.11-doc", "linux-doc-6.1")
MIN_WORDS = 8  # shorter blocks are captions, headings and navigation, not prose
SEED = 20261201
PARAGRAPH_PIECES = (30, 52)  # a recombined paragraph grows until past a target drawn in here
PARAGRAPH_MAX = 72  # ... and takes no sentence that would make it longer than this
ARTICLE_PARAGRAPHS = (8, 30)
SENTENCE_PIECES = (6, 60)  # real sentences outside this range are not recombined
NEWS_OUTLETS = (
    "The Harbour Courier", "Northern Daily Star", "Capital Evening Post", "The Valley Herald",
    "Coastal News Service", "The Morning Ledger", "Riverside Gazette", "Metro Wire",
)  # fmt: skip
TECH_OUTLETS = (
    "Sysadmin Weekly", "The Open Source Review", "Kernel Notes", "Packaging Journal",
    "Developer Dispatch", "The Command Line Times",
)  # fmt: skip


@dataclass(frozen=True)
class Manual:
    """Where a Debian package keeps its English HTML pages, and how to cite them."""

    name: str
    folder: str
    pattern: str
    outlet: str
    base_url: str
    published: str


MANUALS = (
    Manual(
        "debian-handbook",
        "usr/share/doc/debian-handbook/html/en-US",
        "*.html",
        "The Debian Administrator's Handbook",
        "https://debian-handbook.info/browse/en-US/stable/",
        "2022-09-22",
    ),
    Manual(
        "debian-reference",
        "usr/share/debian-reference",
        "*.en.html",
        "Debian Reference",
        "https://www.debian.org/doc/manuals/debian-reference/",
        "2023-01-01",
    ),
    Manual(
        "python-doc",
        "usr/share/doc/python3.11/html",
        "**/*.html",
        "Python 3.11 documentation",
        "https://docs.python.org/3.11/",
        "2023-02-08",
    ),
    Manual(
        "linux-doc",
        "usr/share/doc/linux-doc-6.1/html",
        "**/*.html",
        "The Linux Kernel documentation",
        "https://www.kernel.org/doc/html/v6.1/",
        "2022-12-11",
    ),
)


@dataclass(frozen=True)
class Prose:
    """One article of other prose, ready to be written as a corpus file."""

    doc_id: str
    meta: dict
    paragraphs: list[str]
    passages: int | None = None  # known without the tokenizer (recombined: one a paragraph)


def parse_sizes(text: str) -> list[int]:
    """``"1k,10k,100k"`` -> ``[1000, 10000, 100000]``."""
    units = {"k": 1_000, "m": 1_000_000}
    sizes = []
    for part in text.lower().split(","):
        part = part.strip()
        scale = units.get(part[-1:], 1)
        sizes.append(int(float(part.rstrip("km")) * scale))
    return sizes


def size_name(size: int) -> str:
    if size % 1_000_000 == 0:
        return f"{size // 1_000_000}m"
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def fetch_sources(src: Path) -> None:
    """Download and unpack the packages (once; kept in ``src``)."""
    src.mkdir(parents=True, exist_ok=True)
    unpacked = src / "unpacked"
    if not list(src.glob("gensim-*.whl")):
        _run(["pip", "download", "gensim", "--no-deps", "--quiet", "-d", str(src)], src)
    missing = [p for p in DEBIAN_PACKAGES if not list(src.glob(f"{p}_*.deb"))]
    if missing:
        _run(["apt-get", "update", "-qq"], src)
        _run(["apt-get", "download", *missing], src)
    if not unpacked.is_dir():
        partial = src / "unpacked.partial"
        shutil.rmtree(partial, ignore_errors=True)
        for deb in sorted(src.glob("*.deb")):
            _run(["dpkg-deb", "-x", str(deb), str(partial)], src)
        partial.rename(unpacked)


def _run(command: list[str], cwd: Path) -> None:
    print("$", " ".join(command), file=sys.stderr)
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
        sys.exit(f"{command[0]} failed ({' '.join(tail)}); check the network and try again")


def lee_articles(src: Path) -> list[Prose]:
    """The 300 news articles of gensim's Lee background corpus (the source has no dates)."""
    wheel = next(iter(sorted(src.glob("gensim-*.whl"))))
    with zipfile.ZipFile(wheel) as zipped:
        lines = zipped.read("gensim/test/test_data/lee_background.cor").decode("utf-8")
    articles = []
    for number, line in enumerate(lines.splitlines(), 1):
        text = " ".join(line.split())
        if len(text.split()) < MIN_WORDS:
            continue
        meta = {
            "title": first_sentence(text),
            "outlet": "ABC News (Lee background corpus)",
            "url": f"https://abc.net.au/news/lee-background/{number}",
            "language": "en",
        }
        articles.append(Prose(f"lee-{number:03d}", meta, _sentences_to_paragraphs(text)))
    return articles


def _sentences_to_paragraphs(text: str) -> list[str]:
    """News paragraphs of two or three sentences, as a wire article has them (the source
    flattened each article to one line)."""
    sentences = re.split(r"(?<=[.!?\"”'])\s+(?=[\"“A-Z])", text)
    return [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]


def manual_pages(src: Path, manual: Manual) -> Iterator[Prose]:
    """The pages of one manual that have prose, in path order."""
    root = src / "unpacked" / manual.folder
    for path in sorted(root.glob(manual.pattern)):
        relative = path.relative_to(root).as_posix()
        if relative.startswith(("_", "genindex", "search", "py-modindex")):
            continue
        title, paragraphs = _page_text(path)
        if not paragraphs:
            continue
        slug = re.sub(r"[^a-z0-9]+", "-", relative.lower().removesuffix(".html")).strip("-")
        meta = {
            "title": title or first_sentence(paragraphs[0]),
            "outlet": manual.outlet,
            "url": manual.base_url + relative,
            "published": manual.published,
            "language": "en",
        }
        yield Prose(f"{manual.name}-{slug}", meta, paragraphs)


def _page_text(path: Path) -> tuple[str, list[str]]:
    tree = html.fromstring(path.read_bytes())
    title = " ".join((tree.findtext(".//title") or "").split()).split(" — ")[0]
    seen: set[str] = set()
    paragraphs = []
    for element in tree.iter("p"):
        text = " ".join(element.text_content().split())
        if len(text.split()) >= MIN_WORDS and text not in seen:
            seen.add(text)
            paragraphs.append(text)
    return title, paragraphs


def all_prose(src: Path) -> Iterator[Prose]:
    """Every article of other prose in the deterministic order that sizes are cut from."""
    yield from lee_articles(src)
    pages = [manual_pages(src, m) for m in MANUALS]
    for page in itertools.chain.from_iterable(itertools.zip_longest(*pages)):
        if page is not None:
            yield page


def sentence_pools(src: Path, count_tokens) -> dict[str, list[tuple[str, int]]]:
    """Every real sentence of the other prose with its word-piece count, by source."""
    pools: dict[str, list[tuple[str, int]]] = {}
    for prose in all_prose(src):
        source = prose.doc_id.split("-")[0] if prose.doc_id.startswith("lee-") else None
        source = source or next(m.name for m in MANUALS if prose.doc_id.startswith(m.name))
        pool = pools.setdefault(source, [])
        for paragraph in prose.paragraphs:
            for start, end in sentence_spans(paragraph):
                sentence = paragraph[start:end]
                pieces = count_tokens(sentence)
                if SENTENCE_PIECES[0] <= pieces <= SENTENCE_PIECES[1]:
                    pool.append((sentence, pieces))
    return pools


def recombined_paragraphs(pool: list[tuple[str, int]], draw: random.Random) -> Iterator[str]:
    """Endless paragraphs of real sentences of one pool, at most ``PARAGRAPH_MAX`` word pieces
    (a sentence alone may be longer, up to ``SENTENCE_PIECES[1]``)."""
    while True:
        target = draw.randint(*PARAGRAPH_PIECES)
        sentences: list[str] = []
        used = 0
        while used < target:
            sentence, pieces = pool[draw.randrange(len(pool))]
            if used + pieces > PARAGRAPH_MAX and sentences:
                break
            sentences.append(sentence)
            used += pieces
        yield " ".join(sentences)


def recombined_prose(pools: dict[str, list[tuple[str, int]]], seed: int = SEED) -> Iterator[Prose]:
    """Endless made-up articles of real sentences (see the module's docstring), deterministic."""
    draw = random.Random(seed)
    names = sorted(pools)
    weights = [len(pools[n]) for n in names]
    streams = {n: recombined_paragraphs(pools[n], draw) for n in names}
    seen: set[bytes] = set()
    first_day = dt.date(2001, 1, 1).toordinal()
    last_day = dt.date(2026, 11, 30).toordinal()
    for number in itertools.count(1):
        source = draw.choices(names, weights)[0]
        wanted = draw.randint(*ARTICLE_PARAGRAPHS)
        paragraphs: list[str] = []
        while len(paragraphs) < wanted:
            paragraph = next(streams[source])
            digest = hashlib.blake2b(paragraph.encode("utf-8"), digest_size=8).digest()
            if digest not in seen:
                seen.add(digest)
                paragraphs.append(paragraph)
        outlet = draw.choice(NEWS_OUTLETS if source == "lee" else TECH_OUTLETS)
        published = dt.date.fromordinal(draw.randint(first_day, last_day))
        title = first_sentence(paragraphs[0])
        slug = "-".join(re.sub(r"[^a-z0-9 ]+", "", title.lower()).split()[:8]) or "story"
        domain = re.sub(r"[^a-z]+", "", outlet.lower().removeprefix("the "))
        meta = {
            "title": title,
            "outlet": outlet,
            "url": f"https://www.{domain}.example/{published:%Y/%m/%d}/{slug}-{number}",
            "published": published.isoformat(),
            "language": "en",
        }
        # Each paragraph is under the passage limit by construction: one passage each.
        yield Prose(f"recombined-{number:07d}", meta, paragraphs, len(paragraphs))


def write_corpora(out: Path, sizes: list[int], embedder: Embedder) -> None:
    """Write one corpus folder per size (skipping those already complete)."""
    seed_files = sorted((REPO / "corpus").glob("*.md"))
    todo = [s for s in sorted(sizes) if not (out / f"corpus-{size_name(s)}" / ".complete").exists()]
    if not todo:
        return
    folders = {s: out / f"corpus-{size_name(s)}.partial" for s in todo}
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for seed in seed_files:
            shutil.copy(seed, folder / seed.name)
    count = sum(_passages(seed.read_text(encoding="utf-8"), seed, embedder) for seed in seed_files)
    for prose in _real_then_recombined(out / "src", embedder):
        if count >= todo[-1]:
            break
        text = render_article(prose.meta, prose.paragraphs)
        name = f"{prose.doc_id}.md"
        try:
            passages = prose.passages or _passages(text, Path(name), embedder)
        except CorpusError:
            continue  # nothing but what the corpus reader drops as boilerplate
        for size, folder in folders.items():
            if count < size:
                (folder / name).write_text(text, encoding="utf-8")
        count += passages
    for size, folder in folders.items():
        files = len(list(folder.glob("*.md")))
        (folder / ".complete").write_text(f"{files} articles\n")
        final = out / f"corpus-{size_name(size)}"
        shutil.rmtree(final, ignore_errors=True)
        folder.rename(final)
        print(f"{final}: {files} articles", file=sys.stderr)
    if count < todo[-1]:
        print(f"only {count} passages of prose available (asked for {todo[-1]})", file=sys.stderr)


def _real_then_recombined(src: Path, embedder: Embedder) -> Iterator[Prose]:
    yield from all_prose(src)
    print("real prose used up: recombining its sentences", file=sys.stderr)
    yield from recombined_prose(sentence_pools(src, embedder.count_tokens))


def _passages(text: str, path: Path, embedder: Embedder) -> int:
    return len(split_article(parse_article(text, path), embedder.count_tokens))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k,100k", help="passage counts, e.g. 1k,10k,1m")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="cache folder (not in git)")
    args = parser.parse_args()
    fetch_sources(args.out / "src")
    write_corpora(args.out, parse_sizes(args.sizes), Embedder(threads=2))


if __name__ == "__main__":
    main()
