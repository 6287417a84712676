"""``newsbot add``: grow the story's corpus from URLs, local files and feeds, then rebuild."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from index.errors import NewsbotError
from newsbot.cli.options import CorpusOption, fail, friendly_errors, load_settings, out
from newsbot.cli.terminal import build_summary, counted
from newsbot.ingest.limits import MIN_ARTICLE_WORDS

if TYPE_CHECKING:
    from bot.settings import Settings
    from newsbot.ingest.pipeline import FeedResult, Outcome


@friendly_errors
def add(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="Web page URLs (http/https) or local .html, .md or .txt files.",
            show_default=False,
        ),
    ] = None,
    feed: Annotated[
        list[str] | None,
        typer.Option(
            "--feed",
            help="RSS/Atom feed URL; adds its entries about the story. Repeatable.",
            show_default=False,
        ),
    ] = None,
    match: Annotated[
        list[str] | None,
        typer.Option(
            "--match",
            help="Feed filter words (comma/space separated, repeatable): an entry is taken when "
            "it mentions any of them. Default: two of the corpus's story terms.",
            show_default=False,
        ),
    ] = None,
    corpus: CorpusOption = None,
    min_words: Annotated[
        int,
        typer.Option(
            "--min-words",
            min=1,
            help="Fewest words of paragraph text a page or file needs to be taken as an article.",
        ),
    ] = MIN_ARTICLE_WORDS,
    build: Annotated[
        bool,
        typer.Option(
            "--build/--no-build",
            help="Update the index after adding (only when something was added), so a running "
            "bot answers from the new articles after its next reload.",
        ),
    ] = True,
) -> None:
    """Add articles to the corpus: one line per item (added, skipped or failed).

    Exits with 1 when any item failed (or the rebuild did), 2 when nothing was given to add.
    """
    import httpx

    from newsbot.ingest.pipeline import ADDED, FAILED, SKIPPED, outcome_counts

    if not sources and not feed:
        raise fail("give URLs or files to add, or --feed URL", 2)
    settings = load_settings(corpus_dir=corpus)
    try:
        outcomes = _add_all(settings, sources or [], feed or [], match or [], min_words)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        # The ingest library reports what it expects as "failed" lines; anything else that a
        # hostile URL or page can raise still ends in one line, not a traceback.
        raise fail(f"could not add ({type(exc).__name__}: {exc})") from None
    counts = outcome_counts(outcomes)
    state = "updated" if counts[ADDED] else "unchanged"
    out.print(
        f"corpus {state}: {counts[ADDED]} added, {counts[SKIPPED]} skipped, {counts[FAILED]} failed"
    )
    build_failed = build and counts[ADDED] > 0 and not _rebuild(settings)
    if counts[FAILED] or build_failed:
        raise typer.Exit(1)


def _add_all(
    settings: Settings, sources: list[str], feeds: list[str], match: list[str], min_words: int
) -> list[Outcome]:
    """Add every source, then every feed, printing each result line as soon as it is known."""
    from bot.watching import open_ingester

    outcomes: list[Outcome] = []
    with open_ingester(settings, min_words) as ingester:
        for source in sources:
            outcomes.append(_echo(ingester.add(source)))
        for feed_url in feeds:
            result = ingester.add_feed(feed_url, match)
            _echo_feed_header(result, settings.max_feed_entries)
            outcomes.extend(_echo(outcome) for outcome in result.outcomes)
    return outcomes


def _echo(outcome: Outcome) -> Outcome:
    out.print(outcome.line)
    return outcome


def _echo_feed_header(result: FeedResult, max_entries: int) -> None:
    if result.error:
        return  # the feed itself failed; its failure line says so
    out.print(
        f"feed {result.feed_url}: {counted(result.entries, 'entry', 'entries')}; "
        f"story terms: {', '.join(result.terms)}"
    )
    if result.left_out:
        out.print(
            f"feed {result.feed_url}: {result.left_out} more entries about the story left out; "
            f"only the newest {max_entries} are taken (NEWSBOT_MAX_FEED_ENTRIES)"
        )


def _rebuild(settings: Settings) -> bool:
    """Run the same incremental build as ``newsbot build``; report it in one line."""
    from newsbot.engine import run_build

    out.print("updating the index...")
    try:
        report = run_build(settings)
    except NewsbotError as exc:
        fail(f"index not updated: {exc}")
        return False
    out.print(build_summary(report))
    return True
