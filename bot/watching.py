"""Following the story's feeds: one check adds new entries with exactly the rules of
``newsbot add --feed`` and brings the index up to date.

``check_feeds`` is the one call into the ingest pipeline; the bot runs it on PTB's JobQueue
(bot/following.py) and ``newsbot watch`` runs it in a loop without the bot. A feed that fails,
or a corpus that cannot be read, is one logged line; the next check tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.settings import Settings
from index.build import BuildReport
from index.embed import Embedder
from index.errors import NewsbotError
from newsbot.engine import run_build
from newsbot.ingest.limits import MIN_ARTICLE_WORDS
from newsbot.ingest.pipeline import ADDED, FAILED, Ingester, Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedCheck:
    """What one check did: the articles added (doc ids), every outcome line, the build."""

    added: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    failures: int = 0
    build: BuildReport | None = None
    errors: list[str] = field(default_factory=list)


def check_feeds(settings: Settings, embedder: Embedder | None = None) -> FeedCheck:
    """Add the new story entries of ``settings.feeds`` to the corpus and, when any was added,
    update the index incrementally (with ``embedder`` if one is loaded). Never raises for a
    failing feed, corpus or build: each is logged and counted, and the next check retries."""
    outcomes: list[Outcome] = []
    errors: list[str] = []
    try:
        with open_ingester(settings) as ingester:
            for url in settings.feeds:
                result = ingester.add_feed(url, settings.feed_match)
                if result.error:
                    log.warning("feed %s failed, retried next check: %s", url, result.error)
                    errors.append(f"{url}: {result.error}")
                else:
                    for outcome in result.outcomes:
                        if outcome.status == FAILED:
                            log.warning("%s", outcome.line)
                outcomes.extend(result.outcomes)
    except NewsbotError as exc:
        log.warning("feeds not checked, retried next check: %s", exc)
        return FeedCheck(errors=[str(exc)])
    added = tuple(o.doc_id for o in outcomes if o.status == ADDED)
    failures = sum(o.status == FAILED for o in outcomes)
    report = None
    if added:
        try:
            report = run_build(settings, embedder=embedder)
        except NewsbotError as exc:
            log.warning("index not updated after adding %d articles: %s", len(added), exc)
            errors.append(f"index not updated: {exc}")
    lines = tuple(o.line for o in outcomes)
    return FeedCheck(added, lines, failures, report, errors)


def open_ingester(settings: Settings, min_words: int = MIN_ARTICLE_WORDS) -> Ingester:
    """The ingest pipeline of ``newsbot add``, with its limits from ``settings``."""
    return Ingester(
        settings.corpus_dir,
        timeout=settings.download_timeout,
        max_article_bytes=settings.max_article_bytes,
        max_feed_entries=settings.max_feed_entries,
        min_words=min_words,
    )


def watch(
    settings: Settings,
    echo: Callable[[str], None],
    once: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> FeedCheck:
    """``newsbot watch``: check the feeds every ``settings.feed_interval`` seconds (once with
    ``once``), printing one line per entry and a summary per check. Returns the last check."""
    while True:
        check = check_feeds(settings)
        for line in check.lines:  # failures are logged (stderr) as well
            echo(line)
        built = check.build
        index = (
            f"; index: {_counted(built.articles, 'article')}, {_counted(built.passages, 'passage')}"
            if built
            else ""
        )
        echo(f"checked {_counted(len(settings.feeds), 'feed')}: {len(check.added)} added{index}")
        if once:
            return check
        sleep(settings.feed_interval)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
