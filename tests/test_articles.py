"""Reading and cleaning article files, and the one-line errors for malformed ones."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest

from index.articles import MAX_ARTICLE_BYTES, load_article, load_corpus
from index.errors import CorpusError

SEED = Path(__file__).resolve().parent.parent / "corpus"


def test_seed_article_is_cleaned_of_boilerplate() -> None:
    [article] = load_corpus(SEED)
    assert article.outlet == "Republic World"
    assert article.published == "2021-02-14"
    assert article.url.startswith("https://www.republicworld.com/")
    text = article.text
    assert "Read:" not in text
    assert "(Image source: AP)" not in text
    assert not text.startswith("date") and "2021-02-14" not in text
    assert text.startswith("Hundreds of Russians")
    assert len(article.paragraphs) == 5


def test_subheading_becomes_section_of_following_paragraphs() -> None:
    [article] = load_corpus(SEED)
    sections = [p.section for p in article.paragraphs]
    assert sections == ["", "", "", "Navalny returns to court", "Navalny returns to court"]
    assert all(p.text != "Navalny returns to court" for p in article.paragraphs)


def test_paragraph_offsets_point_into_cleaned_text() -> None:
    [article] = load_corpus(SEED)
    for p in article.paragraphs:
        assert article.text[p.start : p.end] == p.text


def test_txt_crawl_dump_is_read(tmp_path: Path) -> None:
    dump = tmp_path / "dump.txt"
    dump.write_text(
        " date 2021-02-15 Police detained dozens in Moscow. More followed.\n\n"
        "Read: Something else\n\nA second paragraph here.\n",
        encoding="utf-8",
    )
    article = load_article(dump)
    assert article.published == "2021-02-15"
    assert article.title == "Police detained dozens in Moscow."
    assert [p.text for p in article.paragraphs][1] == "A second paragraph here."


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("---\ntitle: [unclosed\n---\n\nBody.", "not valid YAML"),
        ("---\nurl: https://x.test/a\n---\n\nBody text here.", "no title"),
        ("---\ntitle: T\n---\n\n", "no body text"),
        ("---\ntitle: T\n\nBody without a closing line.", "not closed"),
        ("---\ntitle: T\npublished: yesterday\n---\n\nBody.", "not a date"),
        ("Just text in a markdown file.", "no front matter"),
        ("---\ntitle: T\npublished: 2021-13-45\n---\n\nBody.", "date that does not exist"),
        ("---\ntitle: T\npublished: 2021-02-30\n---\n\nBody.", "date that does not exist"),
    ],
)
def test_malformed_article_names_file_and_problem(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "bad.md"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        load_corpus(tmp_path)
    message = str(caught.value)
    assert "bad.md" in message and problem in message
    assert "\n" not in message
    assert caught.value.path == str(path)
    assert message == f"{path}: {caught.value.problem}"


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    (tmp_path / "latin.md").write_bytes(b"---\ntitle: caf\xe9\n---\n\nBody.")
    with pytest.raises(CorpusError, match=r"latin\.md: not UTF-8"):
        load_corpus(tmp_path)


def test_missing_corpus_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_article_over_the_size_cap_is_refused_naming_the_file(tmp_path: Path) -> None:
    body = "Candles were lit in courtyards across Russia on Sunday evening. " * 2000
    path = tmp_path / "big.md"
    path.write_text(f"---\ntitle: Big\n---\n\n{body}", encoding="utf-8")
    assert len(load_corpus(tmp_path)) == 1  # under the default cap
    with pytest.raises(CorpusError) as caught:
        load_corpus(tmp_path, max_bytes=64 * 1024)
    assert str(caught.value) == (
        f"{path}: larger than 65,536 bytes (NEWSBOT_MAX_ARTICLE_BYTES); "
        "split it, shorten it, or raise the limit"
    )
    assert MAX_ARTICLE_BYTES >= 1024 * 1024


def _corpus_with_links(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(next(SEED.glob("*.md")), corpus)
    secret = tmp_path / "secret.txt"
    secret.write_text(" date 2021-02-14 root:x:0:0:root:/root:/bin/bash. " * 20)
    os.symlink(secret, corpus / "passwd.txt")
    os.symlink("../corpus/../secret.txt", corpus / "relative.txt")
    os.symlink("loop.md", corpus / "loop.md")
    archive = corpus / "archive"
    archive.mkdir()
    (archive / "kept.md").write_text(
        "---\ntitle: Kept\n---\n\nAn archived report kept in a folder of the corpus.\n"
    )
    os.symlink("archive/kept.md", corpus / "linked.md")
    return corpus


def test_links_leading_outside_the_corpus_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = _corpus_with_links(tmp_path)
    with caplog.at_level(logging.WARNING, logger="index.articles"):
        articles = load_corpus(corpus)

    assert sorted(a.doc_id for a in articles) == sorted(["linked", next(SEED.glob("*.md")).stem])
    assert all("root:x" not in a.text for a in articles)
    warnings = sorted(r.getMessage() for r in caplog.records)
    outside = "a link leading outside the corpus folder; not read"
    assert warnings == [
        f"skipped {corpus / 'loop.md'}: a link that cannot be followed (a loop?); not read",
        f"skipped {corpus / 'passwd.txt'}: {outside}",
        f"skipped {corpus / 'relative.txt'}: {outside}",
    ]
