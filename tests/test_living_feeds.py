"""Following the story's feeds (issue 10), end to end: a local feed server whose feed grows, the
real bot on the fake Bot API checking it on PTB's JobQueue, followers told once per check.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import living_texts
from bot.following import FOLLOW
from bot.handlers import SERVICES
from bot.settings import Settings
from bot.watching import check_feeds, watch
from index.embed import Embedder
from index.store import load_index
from newsbot.cli.app import app
from tests.bot_harness import ADMIN_ID, BotUnderTest, bot_settings, running_bot
from tests.conftest import SEED_CORPUS
from tests.fake_telegram import FakeTelegram
from tests.ingest_site import PLACEHOLDER, SITE_DIR, SiteServer

SPB_TITLE = "Candles in 312 courtyards: St Petersburg marks Valentine's Day for Navalny"
SPB_ITEM = f"""<item>
  <title>{SPB_TITLE}</title>
  <link>{PLACEHOLDER}/news/2021/02/14/spb-courtyards.html</link>
  <description>Residents of at least 312 courtyards came out with candles for Alexei Navalny.
  </description>
</item>"""
OFF_STORY_ITEM = f"""<item>
  <title>Record snowfall paralyses Moscow traffic</title>
  <link>{PLACEHOLDER}/world/moscow-snowfall.html</link>
</item>"""
SPB_QUESTION = "How many courtyards in St Petersburg came out with candles?"


def write_feed(site_root: Path, items: list[str], name: str = "live.xml") -> None:
    """Replace the feed at /feeds/<name> (written beside, then renamed)."""
    body = "\n".join(items)
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Live</title><link>{PLACEHOLDER}/</link>
<description>Live feed</description>
{body}
</channel></rss>"""
    tmp = site_root / "feeds" / f".{name}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(site_root / "feeds" / name)


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    shutil.copytree(SITE_DIR, root)
    write_feed(root, [OFF_STORY_ITEM])
    return root


@pytest.fixture
def site(site_root: Path):
    server = SiteServer(site_root).start()
    yield server
    server.stop()


@pytest.fixture
def story_dirs(tmp_path: Path, seed_index: Path) -> tuple[Path, Path]:
    """A private corpus and a private copy of the seed index built from it."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, corpus)
    index = tmp_path / "index"
    shutil.copytree(seed_index, index, symlinks=True)
    return corpus, index


async def test_followers_get_one_notification_and_the_new_article_is_answered(
    fake_tg: FakeTelegram,
    embedder: Embedder,
    site,
    site_root: Path,
    story_dirs: tuple[Path, Path],
    tmp_path: Path,
    bot_logs,
) -> None:
    tg = fake_tg
    corpus, index = story_dirs
    settings = bot_settings(
        tg,
        index,
        corpus_dir=corpus,
        feeds=f"{site.url('/feeds/live.xml')}, {site.url('/feeds/missing.xml')}",
        feed_interval=0.5,
        state_path=tmp_path / "state.sqlite3",
    )
    alice, bob, carol = tg.user(1, "Alice"), tg.user(2, "Bob"), tg.user(3, "Carol")
    alice_chat, carol_chat = tg.private_chat(alice), tg.private_chat(carol)
    group = tg.group_chat(-1001, "Readers")
    tg.set_admins(group["id"], [ADMIN_ID])
    admin = tg.user(ADMIN_ID, "Admin")
    async with running_bot(settings, embedder) as application:
        bot = BotUnderTest(tg, application)
        assert (await bot.say(alice_chat, alice, "/follow")).result["text"] == (
            living_texts.FOLLOWING
        )
        refused = await bot.say(group, bob, "/follow")
        assert refused.result["text"] == living_texts.GROUP_ADMINS_ONLY
        assert (await bot.say(group, admin, "/follow")).ok
        assert (await bot.say(carol_chat, carol, "/follow")).ok
        tg.block_bot(carol_chat["id"])
        flood = [tg.add_message(alice_chat, alice, "/follow") for _ in range(40)]
        # A flood of /follow gets no more replies than the per-minute limit allows...
        await bot.reply_to(flood[0], timeout=10)
        await asyncio.sleep(1)
        assert sum(bool(bot.replies_to(m)) for m in flood) < settings.questions_per_minute
        # ...and the bot keeps answering everyone else.
        assert (await bot.say(tg.private_chat(bob), bob, SPB_QUESTION)).ok

        mark = tg.mark()
        tg.flood("sendMessage", retry_after=1)  # the first notification meets a 429
        write_feed(site_root, [OFF_STORY_ITEM, SPB_ITEM])
        told = await tg.wait_for(
            "sendMessage",
            lambda r: r.ok and r.params["chat_id"] == alice_chat["id"],
            60,
            since=mark,
        )
        text = told.result["text"]
        assert text.startswith("New coverage of the story:")
        assert SPB_TITLE in text and "Neva Courier" in text and "What's new:" in text
        quotes = [e for e in told.result["entities"] if e["type"] == "blockquote"]
        assert len(quotes) == 1
        await tg.wait_for(
            "sendMessage", lambda r: r.params["chat_id"] == group["id"], 10, since=mark
        )
        await asyncio.sleep(1.5)  # three more checks: nothing new, nothing sent
        sent = [r for r in tg.calls("sendMessage", mark) if r.ok]
        assert sorted(r.params["chat_id"] for r in sent) == [group["id"], alice_chat["id"]]
        assert 429 in [r.status for r in tg.calls("sendMessage", mark) if r.injected]
        blocked = [r for r in tg.calls("sendMessage", mark) if r.params["chat_id"] == 3]
        assert [r.status for r in blocked][-1:] == [403]
        assert application.chat_data[carol_chat["id"]][FOLLOW] is False

        latest = await bot.say(alice_chat, alice, "/latest")
        assert f"• {SPB_TITLE} — Neva Courier, 14 Feb 2021" in latest.result["text"].splitlines()
        answer = await bot.say(tg.private_chat(bob), bob, SPB_QUESTION)
        assert "312" in answer.result["text"] and "Neva Courier" in answer.result["text"]
        assert len(application.bot_data[SERVICES].live.searcher.data.articles) == 2
    assert "feed " in bot_logs.getvalue() and "missing.xml failed" in bot_logs.getvalue()

    # After a restart the follows are remembered, the block is not forgotten either.
    async with running_bot(settings, embedder) as application:
        assert application.chat_data[alice_chat["id"]][FOLLOW] is True
        assert application.chat_data[group["id"]][FOLLOW] is True
        assert application.chat_data[carol_chat["id"]][FOLLOW] is False


def test_watch_adds_and_builds_without_the_bot(
    site, site_root: Path, story_dirs: tuple[Path, Path], embedder: Embedder
) -> None:
    corpus, index = story_dirs
    feed = site.url("/feeds/live.xml")
    settings = Settings(_env_file=None, corpus_dir=corpus, index_dir=index, feeds=feed)
    lines: list[str] = []
    first = watch(settings, lines.append, once=True)
    assert first.added == () and lines[-1] == "checked 1 feed: 0 added"
    write_feed(site_root, [SPB_ITEM])
    second = watch(settings, lines.append, once=True)
    assert len(second.added) == 1 and second.build is not None
    assert lines[-1] == "checked 1 feed: 1 added; index: 2 articles, " + (
        f"{second.build.passages} passages"
    )
    assert second.added[0] in load_index(index).articles


def test_a_huge_or_garbage_feed_is_capped_or_logged(
    site, site_root: Path, story_dirs: tuple[Path, Path], caplog
) -> None:
    corpus, index = story_dirs
    entries = [
        f"<item><title>Navalny candles {n}</title><link>{PLACEHOLDER}/nothing/{n}.html</link>"
        "<description>Navalny supporters lit candles.</description></item>"
        for n in range(10_000)
    ]
    write_feed(site_root, entries, "huge.xml")
    (site_root / "feeds" / "garbage.xml").write_bytes(b"\x00\xff<rss<<<" * 500)
    settings = Settings(
        _env_file=None,
        corpus_dir=corpus,
        index_dir=index,
        feeds=[site.url(f"/feeds/{name}") for name in ("huge.xml", "garbage.xml")]
        + [site.url("/slow.html")],
        max_feed_entries=5,
        download_timeout=1,
    )
    check = check_feeds(settings)
    assert check.added == () and len(check.lines) == 7  # 5 entries + 2 failed feeds
    assert check.failures == 7  # 5 pages not found, garbage, timed out
    assert "garbage.xml failed" in caplog.text and "slow.html failed" in caplog.text


def test_watch_command_line(site, story_dirs: tuple[Path, Path], monkeypatch) -> None:
    corpus, index = story_dirs
    monkeypatch.chdir(index.parent)
    for name, value in {
        "NEWSBOT_CORPUS_DIR": str(corpus),
        "NEWSBOT_INDEX_DIR": str(index),
        "NEWSBOT_FEEDS": site.url("/feeds/live.xml"),
    }.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["watch", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "checked 1 feed: 0 added"

    monkeypatch.setenv("NEWSBOT_FEED_INTERVAL", "0")
    result = CliRunner().invoke(app, ["watch", "--once"])
    assert result.exit_code == 2
    assert "NEWSBOT_FEED_INTERVAL is invalid" in result.output


async def test_followers_hear_of_builds_made_outside_the_bot(
    fake_tg: FakeTelegram,
    embedder: Embedder,
    site,
    site_root: Path,
    story_dirs: tuple[Path, Path],
    tmp_path: Path,
    bot_logs,
) -> None:
    tg = fake_tg
    corpus, index = story_dirs
    # No feeds of its own: newsbot watch adds the article.
    settings = bot_settings(tg, index, corpus_dir=corpus, state_path=tmp_path / "s.sqlite3")
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    write_feed(site_root, [SPB_ITEM])
    async with running_bot(settings, embedder) as application:
        bot = BotUnderTest(tg, application)
        await bot.say(chat, alice, "/follow")
        mark = tg.mark()
        watched = settings.model_copy(update={"feeds": [site.url("/feeds/live.xml")]})
        check = await asyncio.to_thread(watch, watched, lambda line: None, True)
        assert len(check.added) == 1
        told = await tg.wait_for("sendMessage", lambda r: r.ok, 60, since=mark)
        assert told.params["chat_id"] == chat["id"] and SPB_TITLE in told.result["text"]
        await asyncio.sleep(1)
        assert len(tg.calls("sendMessage", mark)) == 1
