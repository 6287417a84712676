"""Adding coverage: URLs, local files and feeds, with the duplicate rules and every failure line.

A local HTTP server (tests/ingest_site.py) serves invented news pages from tests/data/site. Every
test works on a copy of the seed corpus in tmp_path.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index.articles import load_article, load_corpus
from index.errors import CorpusError
from newsbot.cli.app import app
from newsbot.ingest.duplicates import JACCARD_THRESHOLD, shingles, similarity
from newsbot.ingest.extract import extract_file
from newsbot.ingest.feeds import FeedEntry, belongs_to_story, story_terms
from newsbot.ingest.pipeline import ADDED, FAILED, SKIPPED, Ingester, outcome_counts
from newsbot.ingest.urls import url_key
from tests.ingest_site import HUGE_SIZE, MANY_ENTRIES, SITE_DIR, SiteServer, closed_port_url

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "corpus" / "2021-02-14-republicworld-navalny-valentines-candles.md"
SEED_ID = SEED.stem
SPB = "/news/2021/02/14/spb-courtyards.html"
AMP_SPB = "/amp/spb-courtyards.html"
MOSCOW = "/world/moscow-hearts-of-light.html"
LEDGER = "/partners/evening-ledger-candle-hearts.html"
KAZAN = "/regions/kazan-broken.html"
VIDEO = "/video/candles-video.html"


@pytest.fixture(scope="module")
def site():
    server = SiteServer().start()
    yield server
    server.stop()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEED, folder)
    return folder


@pytest.fixture
def ingester(corpus: Path):
    with Ingester(corpus) as ingester:
        yield ingester


def corpus_files(folder: Path) -> list[str]:
    """Every entry in the folder, hidden temporary files included."""
    return sorted(p.name for p in folder.iterdir())


def added_ids(folder: Path) -> list[str]:
    return sorted(a.doc_id for a in load_corpus(folder) if a.doc_id != SEED_ID)


# --- added -------------------------------------------------------------------------------------


def test_add_url_writes_the_article_without_page_clutter(site, ingester, corpus):
    outcome = ingester.add(site.url(SPB))

    assert outcome.status == ADDED
    assert outcome.line == (
        "added   Candles in 312 courtyards: St Petersburg marks Valentine's Day for Navalny"
        " — Neva Courier, 2021-02-14 (7 paragraphs) as "
        "2021-02-14-nevacourier-candles-in-312-courtyards-st-petersburg-marks-valentines-day.md"
    )
    article = load_article(outcome.path)
    assert outcome.path.parent == corpus
    assert article.url == site.url(SPB)
    assert (article.outlet, article.published, article.language) == (
        "Neva Courier",
        "2021-02-14",
        "en",
    )
    assert "at least 312 courtyards across St Petersburg" in article.text
    assert {p.section for p in article.paragraphs} >= {"Police presence"}
    raw = outcome.path.read_text(encoding="utf-8")
    for clutter in ("Winter sale", "Related stories", "Metro Line 5", "petrogradets", "Subscribe"):
        assert clutter not in raw
    assert "fetched_from" not in raw  # fetched from its canonical address


def test_add_url_follows_redirects_and_records_where_it_was_fetched(site, ingester):
    outcome = ingester.add(site.url("/go/spb"))

    assert outcome.status == ADDED
    assert load_article(outcome.path).url == site.url(SPB)


def test_canonical_url_is_stored_without_tracking_parameters(site, ingester):
    outcome = ingester.add(site.url(MOSCOW))

    article = load_article(outcome.path)
    assert article.url == site.url(MOSCOW)
    assert article.outlet == "Baltic Wire"
    assert article.published == "2021-02-15"


def test_broken_markup_is_still_added(site, ingester):
    outcome = ingester.add(site.url(KAZAN))

    assert outcome.status == ADDED, outcome.line
    article = load_article(outcome.path)
    assert article.title == "Kazan: 58 courtyards, one heart"
    assert article.outlet == "Volga Herald"
    assert "gathered in 58 courtyards" in article.text
    assert "Dekabristov Street" in article.text


def test_charset_from_the_http_header_and_a_non_latin_title(site, ingester, corpus):
    outcome = ingester.add(site.url("/ru/spb-dvory.html"))

    assert outcome.status == ADDED, outcome.line
    article = load_article(outcome.path)
    assert article.title.startswith("Свечи в 312 дворах")
    assert (article.outlet, article.language) == ("Невский вестник", "ru")
    assert "Жители как минимум 312 петербургских дворов" in article.text
    assert outcome.path.parent == corpus
    assert outcome.path.name.startswith("2021-02-14-article-")
    assert outcome.path.name.isascii()


def test_add_html_file(ingester):
    outcome = ingester.add(str(SITE_DIR / KAZAN.lstrip("/")))

    assert outcome.status == ADDED, outcome.line
    assert "Kazan: 58 courtyards, one heart — Volga Herald, 2021-02-14" in outcome.line
    article = load_article(outcome.path)
    assert article.url == ""  # the file names no canonical URL and was not downloaded
    assert article.extra["source_file"] == "kazan-broken.html"


def test_html_file_with_canonical_link_gets_that_url(ingester):
    outcome = ingester.add(str(SITE_DIR / SPB.lstrip("/")))

    assert load_article(outcome.path).url == "http://site.test" + SPB


def test_add_markdown_file_keeps_its_front_matter(ingester, tmp_path):
    source = tmp_path / "report.md"
    source.write_text(
        "---\ntitle: Novosibirsk lights 95 candle hearts\noutlet: Siberian Times Online\n"
        "url: https://siberian.example/novosibirsk-hearts/?utm_source=tg\n"
        "published: 2021-02-14\nlanguage: en\nauthor: Pavel Orlov\n---\n\n"
        + PARAGRAPHS_NOVOSIBIRSK,
        encoding="utf-8",
    )
    outcome = ingester.add(str(source))

    assert outcome.status == ADDED, outcome.line
    assert "Novosibirsk lights 95 candle hearts — Siberian Times Online, 2021-02-14" in outcome.line
    article = load_article(outcome.path)
    assert article.url == "https://siberian.example/novosibirsk-hearts/"
    assert article.extra["author"] == "Pavel Orlov"
    assert {p.section for p in article.paragraphs} == {"", "Cold night"}


def test_add_plain_text_file(ingester, tmp_path):
    source = tmp_path / "notes.txt"
    source.write_text(PARAGRAPHS_NOVOSIBIRSK.replace("## Cold night\n\n", ""), encoding="utf-8")
    outcome = ingester.add(str(source))

    assert outcome.status == ADDED, outcome.line
    article = load_article(outcome.path)
    assert article.title.startswith("In Novosibirsk, residents of 95 courtyards")
    assert article.outlet == ""
    assert "unknown outlet, undated (3 paragraphs)" in outcome.line
    assert outcome.path.name.startswith("undated-in-novosibirsk-residents-of-95")


# --- already present ---------------------------------------------------------------------------


def test_same_url_twice_is_skipped_without_downloading_again(site, ingester, corpus):
    first = ingester.add(site.url(SPB))
    site.requests.clear()

    for variant in (
        site.url(SPB),
        site.url(SPB) + "?utm_source=telegram&utm_medium=social",
        site.url(SPB) + "#comments",
        site.url(SPB).replace("http://", "https://"),
    ):
        second = ingester.add(variant)
        assert second.status == SKIPPED
        assert second.line == f"skipped {variant}: already present ({first.doc_id})"
    assert site.requests == []
    assert added_ids(corpus) == [first.doc_id]


def test_url_already_in_a_fresh_ingester_is_recognised(site, corpus):
    with Ingester(corpus) as first:
        added = first.add(site.url(SPB))
    with Ingester(corpus) as second:
        again = second.add(site.url(SPB))

    assert again.line.endswith(f"already present ({added.doc_id})")


def test_page_whose_canonical_is_present_is_skipped(site, ingester, corpus):
    original = ingester.add(site.url(SPB))
    copy = ingester.add(site.url(AMP_SPB))

    assert copy.status == SKIPPED
    assert copy.line == f"skipped {site.url(AMP_SPB)}: already present ({original.doc_id})"
    assert added_ids(corpus) == [original.doc_id]


def test_page_with_canonical_elsewhere_is_stored_under_the_canonical_url(site, ingester):
    amp = ingester.add(site.url(AMP_SPB))
    original = ingester.add(site.url(SPB))

    article = load_article(amp.path)
    assert article.url == site.url(SPB)
    assert article.extra["fetched_from"] == site.url(AMP_SPB)
    assert original.status == SKIPPED
    assert original.line.endswith(f"already present ({amp.doc_id})")


def test_url_key_ignores_trivial_differences():
    same = [
        "https://www.Example.com/news/story/",
        "http://example.com/news/story",
        "https://example.com/news/story?utm_source=rss&utm_campaign=feb#comments",
        "https://example.com:443/news/story/?fbclid=abc",
    ]
    assert {url_key(u) for u in same} == {"example.com/news/story"}
    assert url_key("https://example.com/news/story?id=2") != url_key(same[0])
    assert url_key("https://example.com/news/other") != url_key(same[0])


# --- near duplicate ----------------------------------------------------------------------------


def test_syndicated_copy_is_a_near_duplicate(site, ingester, corpus):
    original = ingester.add(site.url(MOSCOW))
    before = corpus_files(corpus)
    copy = ingester.add(site.url(LEDGER))

    assert copy.status == SKIPPED
    assert copy.line.startswith(
        f"skipped {site.url(LEDGER)}: near duplicate of {original.doc_id} ("
    )
    assert corpus_files(corpus) == before


def test_near_duplicate_threshold_separates_copies_from_other_reports():
    def body(path: str) -> frozenset[int]:
        return shingles(extract_file(SITE_DIR / path.lstrip("/")).blocks)

    seed = shingles(p.text for p in load_article(SEED).paragraphs)
    copy = similarity(body(MOSCOW), body(LEDGER))
    others = [
        similarity(body(MOSCOW), body(SPB)),
        similarity(body(SPB), body(KAZAN)),
        similarity(seed, body(SPB)),
        similarity(seed, body(MOSCOW)),
    ]
    assert copy >= JACCARD_THRESHOLD + 0.2
    assert max(others) < 0.05


def test_cut_down_copy_is_caught_by_containment(site, ingester, tmp_path):
    original = ingester.add(site.url(SPB))
    first_paragraphs = load_article(original.path).paragraphs[:5]
    cut = tmp_path / "cut.md"
    cut.write_text(
        "---\ntitle: Candles in St Petersburg\noutlet: Aggregator\n---\n\n"
        + "\n\n".join(p.text for p in first_paragraphs),
        encoding="utf-8",
    )
    outcome = ingester.add(str(cut))

    assert outcome.status == SKIPPED
    assert f"near duplicate of {original.doc_id}" in outcome.line


# --- failed ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_url", "reason"),
    [
        (lambda site: closed_port_url(), "cannot reach 127.0.0.1: Connection refused"),
        (lambda site: site.url("/no-such-story.html"), "the server answered HTTP 404 Not Found"),
        (lambda site: site.url("/report.pdf"), "not a web page: the server sent application/pdf"),
        (
            lambda site: site.url("/api/story.json"),
            "not a web page: the server sent application/json",
        ),
        (
            lambda site: site.url("/huge-declared.html"),
            "too large: 20.0 MB (the limit is 5.0 MB)",
        ),
        (lambda site: site.url("/go/file"), "redirected to a non-http(s) URL; refused"),
        (
            lambda site: site.url(VIDEO),
            "no article text: 0 words of paragraphs (an article has 60+)",
        ),
        (lambda site: "file:///etc/passwd", "refused 'file:' URLs; only http and https"),
        (lambda site: "ftp://127.0.0.1/story.html", "refused 'ftp:' URLs; only http and https"),
        (lambda site: "javascript:alert(1)", "refused 'javascript:' URLs"),
        (
            lambda site: site.url("/go/javascript"),
            "redirected to something that is not an http(s) URL; refused",
        ),
        (lambda site: "http://[::1", "not a valid URL (Invalid IPv6 URL)"),
        (lambda site: "http://127.0.0.1:port/a.html", "not a valid URL (Port could not be cast"),
    ],
)
def test_failures_give_one_clear_line_and_write_nothing(site, ingester, corpus, make_url, reason):
    url = make_url(site)
    before = corpus_files(corpus)
    outcome = ingester.add(url)

    assert outcome.status == FAILED
    assert outcome.line.startswith(f"failed  {url}: {reason}")
    assert "\n" not in outcome.line
    assert corpus_files(corpus) == before


def test_huge_streamed_response_is_cut_off_early(site, ingester, corpus):
    site.huge_done.clear()
    outcome = ingester.add(site.url("/huge.html"))

    assert outcome.status == FAILED
    assert outcome.line.endswith("too large: more than 5.0 MB, download stopped")
    assert site.huge_done.wait(10)
    # The server noticed the client hang up before the 20 MB were out (how much the kernel's
    # socket buffers took first depends on the machine's load: 14.7 MB was seen).
    assert site.huge_sent < HUGE_SIZE
    assert corpus_files(corpus) == [SEED.name]


def test_gzip_compressed_page_is_added(site, ingester):
    outcome = ingester.add(site.url("/gzip" + SPB))

    assert outcome.status == ADDED, outcome.line
    assert "at least 312 courtyards" in load_article(outcome.path).text


@pytest.mark.parametrize("path", ["/bomb-gzip.html", "/bomb-gzip-gzip.html"])
def test_gzip_bomb_stops_at_the_cap_with_little_memory(site, ingester, corpus, path):
    # 1 GiB once expanded; before, the whole layer was expanded in memory before the cap was
    # checked (4.4 GB peak for two layers).
    tracemalloc.start()
    try:
        outcome = ingester.add(site.url(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (
        outcome.line == f"failed  {site.url(path)}: too large: more than 5.0 MB, download stopped"
    )
    assert peak < 20 * 1024 * 1024  # the 5 MB read so far, a chunk per layer, and the bookkeeping
    assert corpus_files(corpus) == [SEED.name]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/drip.html", "too slow: not finished after 1 s, download stopped"),
        ("/drip-headers.html", "timed out after 1 s waiting for 127.0.0.1"),
    ],
)
def test_download_has_a_wall_clock_deadline(site, corpus, path, reason):
    # The server sends a byte every 0.2 s, so no single read ever times out.
    started = time.monotonic()
    with Ingester(corpus, timeout=1) as ingester:
        outcome = ingester.add(site.url(path))

    assert outcome.line == f"failed  {site.url(path)}: {reason}"
    assert time.monotonic() - started < 30  # before: as long as the server kept dripping


def test_overlong_url_is_one_short_failure_line(ingester, corpus):
    url = "http://example.test/" + "a" * 100_000
    outcome = ingester.add(url)

    assert outcome.status == FAILED
    assert outcome.line == (
        f"failed  {url[:200]}… (100,020 characters): "
        "the URL is too long (100,020 characters; the limit is 8,192)"
    )
    assert corpus_files(corpus) == [SEED.name]


def test_overlong_file_name_is_a_failure_line(ingester):
    outcome = ingester.add("/tmp/" + "a" * 100_000 + ".md")

    assert outcome.status == FAILED
    assert outcome.line.endswith(": no such file (web pages need http:// or https://)")


def test_local_file_over_the_article_cap_is_refused(corpus, tmp_path):
    big = tmp_path / "big.md"
    big.write_text("---\ntitle: Big\n---\n\n" + PARAGRAPHS_TOMSK * 100, encoding="utf-8")
    with Ingester(corpus, max_article_bytes=10_000) as ingester:
        outcome = ingester.add(str(big))

    assert (
        outcome.line
        == f"failed  {big}: too large: more than 10,000 bytes (NEWSBOT_MAX_ARTICLE_BYTES)"
    )


def test_short_article_is_added_with_a_lower_min_words(corpus, tmp_path):
    short = tmp_path / "short.md"
    short.write_text(
        "---\ntitle: Candles in Omsk\npublished: 2021-02-14\n---\n\n"
        + " ".join(PARAGRAPHS_TOMSK.split()[:52])
        + ".\n",
        encoding="utf-8",
    )
    with Ingester(corpus) as ingester:
        refused = ingester.add(str(short))
    with Ingester(corpus, min_words=50) as ingester:
        added = ingester.add(str(short))

    assert refused.line == (
        f"failed  {short}: no article text: 52 words of paragraphs (an article has 60+); "
        "to add it anyway, pass --min-words"
    )
    assert added.status == ADDED, added.line


def test_added_article_is_readable_like_any_new_file(site, ingester):
    old = os.umask(0o022)
    try:
        outcome = ingester.add(site.url(SPB))
    finally:
        os.umask(old)

    assert stat.S_IMODE(outcome.path.stat().st_mode) == 0o644


def test_timeout_is_a_failure_line(site, corpus):
    with Ingester(corpus, timeout=0.5) as ingester:
        outcome = ingester.add(site.url("/slow.html"))

    assert outcome.status == FAILED
    assert outcome.line.endswith("timed out after 0.5 s waiting for 127.0.0.1")


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.html", None, "no such file (web pages need http:// or https://)"),
        ("story.pdf", b"%PDF-1.4", "cannot add '.pdf' files; use .html, .md or .txt"),
        ("latin1.txt", "Café crème".encode("latin-1"), "not UTF-8 text; save the file as UTF-8"),
        ("short.txt", b"Navalny supporters lit candles.\n", "no article text: 4 words"),
        ("video.html", (SITE_DIR / VIDEO.lstrip("/")).read_bytes(), "no article text: 0 words"),
        ("bad.md", b"---\ntitle: [unclosed\n---\n\nText.\n", "front matter is not valid YAML"),
    ],
)
def test_bad_files_fail_with_one_line(ingester, corpus, tmp_path, name, content, reason):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    outcome = ingester.add(str(path))

    assert outcome.status == FAILED
    assert outcome.line.startswith(f"failed  {path}: {reason}")
    assert corpus_files(corpus) == [SEED.name]


def test_write_failure_leaves_no_temporary_file(ingester, corpus, monkeypatch):
    def no_space(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "link", no_space)
    outcome = ingester.add(str(SITE_DIR / KAZAN.lstrip("/")))

    assert outcome.status == FAILED
    assert outcome.line.endswith("cannot write to the corpus: No space left on device")
    assert corpus_files(corpus) == [SEED.name]


def test_broken_corpus_is_reported_before_anything_is_added(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        Ingester(tmp_path / "nowhere")


# --- file names --------------------------------------------------------------------------------


def test_hostile_title_stays_inside_the_corpus(ingester, corpus, tmp_path):
    source = tmp_path / "evil.md"
    source.write_text(
        "---\ntitle: ../../etc/passwd\noutlet: ../../../root\npublished: 2021-02-14\n---\n\n"
        + PARAGRAPHS_NOVOSIBIRSK,
        encoding="utf-8",
    )
    outcome = ingester.add(str(source))

    assert outcome.status == ADDED, outcome.line
    assert outcome.path.parent == corpus
    assert outcome.path.name == "2021-02-14-root-etc-passwd.md"
    assert load_article(outcome.path).title == "../../etc/passwd"


def test_same_name_gets_a_suffix_and_never_overwrites(ingester, corpus, tmp_path):
    taken = corpus / "2021-02-14-siberiantimes-candle-hearts.txt"
    taken.write_text(" date 2021-02-14 " + PARAGRAPHS_OTHER, encoding="utf-8")
    paths = []
    for number, text in enumerate((PARAGRAPHS_NOVOSIBIRSK, PARAGRAPHS_TOMSK)):
        source = tmp_path / f"same-title-{number}.md"
        source.write_text(
            "---\ntitle: Candle hearts\noutlet: Siberian Times\npublished: 2021-02-14\n---\n\n"
            + text,
            encoding="utf-8",
        )
        outcome = ingester.add(str(source))
        assert outcome.status == ADDED, outcome.line
        paths.append(outcome.path.name)

    assert paths == [
        "2021-02-14-siberiantimes-candle-hearts-2.md",
        "2021-02-14-siberiantimes-candle-hearts-3.md",
    ]
    assert taken.read_text(encoding="utf-8").startswith(" date 2021-02-14")
    assert len(load_corpus(corpus)) == 4


def test_non_latin_title_gets_a_stable_ascii_name(ingester, corpus, tmp_path):
    source = tmp_path / "ru.md"
    source.write_text(
        "---\ntitle: Свечи во дворах\noutlet: Новая газета\npublished: 2021-02-14\n"
        "language: ru\n---\n\n" + PARAGRAPHS_NOVOSIBIRSK,
        encoding="utf-8",
    )
    outcome = ingester.add(str(source))

    assert outcome.status == ADDED, outcome.line
    assert outcome.path.name.startswith("2021-02-14-article-")
    assert outcome.path.name.isascii()


# --- feeds -------------------------------------------------------------------------------------


def test_feed_adds_story_entries_and_skips_the_rest(site, ingester, corpus):
    present = ingester.add(site.url(SPB))
    result = ingester.add_feed(site.url("/feeds/world.xml"))

    lines = [o.line for o in result.outcomes]
    assert len(lines) == 7
    assert lines[0] == (
        f"skipped {site.url(SPB)}?utm_source=rss&utm_medium=feed: already present "
        f"({present.doc_id})"
    )
    assert lines[1] == f"skipped {site.url('/world/moscow-snowfall.html')}: not about the story"
    assert lines[2].startswith("added   Muscovites light hearts of candles in 180 courtyards")
    assert lines[3] == f"skipped {site.url('/sport/zenit-krasnodar.html')}: not about the story"
    assert lines[4].startswith("added   Kazan: 58 courtyards, one heart — Volga Herald")
    assert lines[5] == f"skipped {site.url(VIDEO)}: not an article"
    assert lines[6] == f"skipped {site.url('/markets/key-rate.html')}: not about the story"
    assert "/world/moscow-snowfall.html" not in site.requests  # filtered before downloading
    assert outcome_counts(result.outcomes) == {ADDED: 2, SKIPPED: 5, FAILED: 0}
    assert len(added_ids(corpus)) == 3


def test_feed_entries_already_present_are_skipped_on_a_second_run(site, ingester):
    ingester.add_feed(site.url("/feeds/world.xml"))
    again = ingester.add_feed(site.url("/feeds/world.xml"))

    assert outcome_counts(again.outcomes)[ADDED] == 0
    assert sum("already present" in o.line for o in again.outcomes) == 3


def test_feed_match_words_replace_the_story_terms(site, ingester):
    result = ingester.add_feed(site.url("/feeds/world.xml"), match=["kazan, Zenit"])

    added = [o.line for o in result.outcomes if o.status == ADDED]
    assert result.terms == ["kazan", "zenit"]
    assert len(added) == 1 and "Kazan: 58 courtyards" in added[0]
    zenit = next(o for o in result.outcomes if "zenit" in o.source)
    assert zenit.status == FAILED and "HTTP 404" in zenit.line  # matched, so it was fetched


def test_malformed_feed_is_one_failure_line(site, ingester, corpus):
    result = ingester.add_feed(site.url("/feeds/broken.xml"))

    assert [o.status for o in result.outcomes] == [FAILED]
    assert result.outcomes[0].line.startswith(
        f"failed  {site.url('/feeds/broken.xml')}: not a valid RSS or Atom feed ("
    )
    assert corpus_files(corpus) == [SEED.name]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/feeds/missing.xml", "the server answered HTTP 404 Not Found"),
        (SPB, "not a valid RSS or Atom feed"),
        ("/report.pdf", "not a web page: the server sent application/pdf"),
    ],
)
def test_feed_download_failures(site, ingester, path, reason):
    result = ingester.add_feed(site.url(path))

    assert [o.status for o in result.outcomes] == [FAILED]
    assert reason in result.outcomes[0].line


def test_feed_downloads_only_the_newest_entries_up_to_the_cap(site, corpus):
    site.requests.clear()
    with Ingester(corpus, max_feed_entries=3) as ingester:
        result = ingester.add_feed(site.url("/feeds/many.xml"), ["candles"])

    fetched = sorted(p for p in site.requests if p.startswith("/many/"))
    assert fetched == ["/many/9997.html", "/many/9998.html", "/many/9999.html"]
    assert (result.entries, result.left_out, len(result.outcomes)) == (MANY_ENTRIES, 9997, 3)
    assert all(o.status == FAILED for o in result.outcomes)


def test_feed_url_scheme_is_checked(ingester):
    result = ingester.add_feed("file:///etc/passwd")

    assert result.outcomes[0].line.startswith("failed  file:///etc/passwd: refused 'file:' URLs")


def test_story_terms_come_from_the_corpus_and_need_two_hits():
    terms = story_terms(load_corpus(REPO / "corpus"))

    assert {"navalny", "valentine", "candle"} <= set(terms)
    assert "said" not in terms and "february" not in terms

    def entry(title: str) -> FeedEntry:
        return FeedEntry(title=title, link="https://example.com/x", summary="")

    assert belongs_to_story(entry("Candles for Navalny in Kazan"), terms, min_hits=2)
    assert belongs_to_story(entry("Navalny's supporters light CANDLES"), terms, min_hits=2)
    assert not belongs_to_story(entry("Navalny lawyer files appeal"), terms, min_hits=2)
    assert not belongs_to_story(entry("Record snowfall in Moscow"), terms, min_hits=2)


# --- the newsbot add command ---------------------------------------------------------------------


@pytest.fixture
def cli_env(corpus: Path, tmp_path: Path, monkeypatch) -> dict[str, str]:
    """Settings for the CLI pointing at the tmp corpus and index, away from any .env file."""
    monkeypatch.chdir(tmp_path)
    return {"NEWSBOT_CORPUS_DIR": str(corpus), "NEWSBOT_INDEX_DIR": str(tmp_path / "index")}


def run_cli(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def test_cli_add_prints_one_line_per_item_and_a_summary(site, corpus, cli_env):
    result = run_cli(cli_env, "add", "--no-build", site.url(SPB), site.url(AMP_SPB))

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("added   Candles in 312 courtyards")
    assert lines[1].startswith(f"skipped {site.url(AMP_SPB)}: already present (2021-02-14-")
    assert lines[2] == "corpus updated: 1 added, 1 skipped, 0 failed"
    assert len(lines) == 3  # --no-build: no index update
    assert not (corpus.parent / "index").exists()


def test_cli_add_exits_non_zero_when_anything_failed(site, corpus, cli_env):
    result = run_cli(
        cli_env, "add", "--no-build", site.url(KAZAN), site.url("/gone.html"), "ftp://x/y"
    )

    assert result.exit_code == 1
    assert "failed  " + site.url("/gone.html") + ": the server answered HTTP 404" in result.output
    assert "failed  ftp://x/y: refused 'ftp:' URLs" in result.output
    assert result.output.splitlines()[-1] == "corpus updated: 1 added, 0 skipped, 2 failed"


def test_cli_add_feed_with_match_and_corpus_option(site, corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    feed_url = site.url("/feeds/world.xml")
    args = ["add", "--no-build", "--corpus", str(corpus), "--feed", feed_url, "--match", "Kazan"]
    result = CliRunner().invoke(app, args)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"feed {site.url('/feeds/world.xml')}: 7 entries; story terms: kazan"
    assert sum(line.startswith("added   Kazan") for line in lines) == 1
    assert lines[-1] == "corpus updated: 1 added, 6 skipped, 0 failed"


def test_cli_add_hostile_urls_fail_alone_and_the_rest_go_on(site, cli_env):
    long_url = "http://example.test/" + "a" * 100_000
    hostile = ["http://[::1", long_url, site.url("/go/javascript")]
    result = run_cli(cli_env, "add", "--no-build", *hostile, site.url(KAZAN))

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert [line.split(": ")[0] for line in lines[:3]] == [
        "failed  http://[::1",
        f"failed  {long_url[:200]}… (100,020 characters)",
        f"failed  {site.url('/go/javascript')}",
    ]
    assert lines[3].startswith("added   Kazan")
    assert lines[-1] == "corpus updated: 1 added, 0 skipped, 3 failed"


def test_cli_add_says_how_many_feed_entries_were_left_out(site, cli_env):
    env = cli_env | {"NEWSBOT_MAX_FEED_ENTRIES": "2"}
    feed_url = site.url("/feeds/many.xml")
    result = run_cli(env, "add", "--no-build", "--feed", feed_url, "--match", "candles")

    assert result.exit_code == 1  # the two entries taken are 404s
    lines = result.output.splitlines()
    assert lines[1] == (
        f"feed {feed_url}: 9998 more entries about the story left out; "
        "only the newest 2 are taken (NEWSBOT_MAX_FEED_ENTRIES)"
    )
    assert lines[-1] == "corpus unchanged: 0 added, 0 skipped, 2 failed"


def test_cli_add_min_words(site, cli_env, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text(" ".join(PARAGRAPHS_TOMSK.split()[:52]) + ".\n", encoding="utf-8")

    refused = run_cli(cli_env, "add", "--no-build", str(short))
    added = run_cli(cli_env, "add", "--no-build", "--min-words", "40", str(short))

    assert refused.exit_code == 1
    assert "pass --min-words" in refused.output
    assert added.exit_code == 0, added.output
    assert added.output.splitlines()[-1] == "corpus updated: 1 added, 0 skipped, 0 failed"


def test_cli_add_malformed_feed_fails(site, cli_env):
    result = run_cli(cli_env, "add", "--no-build", "--feed", site.url("/feeds/broken.xml"))

    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(
        f"failed  {site.url('/feeds/broken.xml')}: not a valid RSS or Atom feed"
    )


def test_cli_add_without_anything_to_add_is_a_usage_error(cli_env):
    result = run_cli(cli_env, "add")

    assert result.exit_code == 2
    assert "give URLs or files to add, or --feed URL" in result.output


def test_cli_build_refuses_an_article_over_the_size_setting(corpus, cli_env):
    result = run_cli(cli_env | {"NEWSBOT_MAX_ARTICLE_BYTES": "1000"}, "build")

    assert result.exit_code == 1
    assert (
        f"{corpus / SEED.name}: larger than 1,000 bytes (NEWSBOT_MAX_ARTICLE_BYTES)"
        in result.output
    )
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "name", ["NEWSBOT_MAX_ARTICLE_BYTES", "NEWSBOT_MAX_FEED_ENTRIES", "NEWSBOT_DOWNLOAD_TIMEOUT"]
)
def test_cli_add_limits_must_be_positive(site, cli_env, name):
    result = run_cli(cli_env | {name: "0"}, "add", "--no-build", site.url(SPB))

    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_cli_add_to_a_missing_corpus_is_one_error_line(site, tmp_path, cli_env):
    result = run_cli(cli_env, "add", "--corpus", str(tmp_path / "nope"), site.url(SPB))

    assert result.exit_code == 1
    assert result.output.strip().startswith("error: corpus folder")
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_end_to_end_add_two_articles_rebuild_and_ask(site, corpus, cli_env, embedder, monkeypatch):
    # One model per session: the build and the searcher get the session's embedder.
    monkeypatch.setattr("newsbot.engine.load_embedder", lambda settings: embedder)
    question = "How many courtyards in St Petersburg took part in the candle gatherings?"
    assert "312" not in load_article(SEED).text

    added = run_cli(cli_env, "add", site.url(SPB), site.url(KAZAN))

    assert added.exit_code == 0, added.output
    assert "corpus updated: 2 added, 0 skipped, 0 failed" in added.output
    assert "index updated: 3 articles" in added.output
    asked = run_cli(cli_env, "ask", "--json", question)
    assert asked.exit_code == 0, asked.output
    answer = json.loads(asked.stdout)
    assert answer["answered"] is True
    top = answer["passages"][0]
    assert "312 courtyards" in top["text"]
    assert top["url"] == site.url(SPB)
    assert top["outlet"] == "Neva Courier"


PARAGRAPHS_NOVOSIBIRSK = """\
In Novosibirsk, residents of 95 courtyards lit candles in the shape of hearts on Sunday evening, \
according to volunteers who gathered photographs from the Akademgorodok and Leninsky districts.

## Cold night

The temperature fell to minus 31 degrees Celsius, and several groups said their candles kept \
going out in the wind, so they used phone torches instead and stood for the full fifteen minutes.

Police patrols drove past two gatherings near Krasny Prospekt without stopping, the volunteers \
said, and nobody in the city was detained in connection with the courtyard action.
"""

PARAGRAPHS_TOMSK = """\
In Tomsk, the city where Alexei Navalny fell ill last August, about forty residents of a wooden \
house on Krasnoarmeyskaya Street placed candles along the fence of their shared courtyard.

A retired physics lecturer who organised the gathering said the neighbours had argued for a week \
about whether to take part before deciding to do so together, with children holding the torches.

Local police said on Monday they had received no complaints about the gatherings in the city and \
had no plans to question anyone who took part in them.
"""

PARAGRAPHS_OTHER = """\
An older crawl of a Siberian report on the candle hearts, kept in the corpus as a plain text dump \
from before the ingest command existed, with enough words in it to count as an article body.

It mentions the same evening but describes a courtyard in Barnaul where about twenty people met \
for the quarter of an hour that the organisers had asked for and then went home for tea.
"""
