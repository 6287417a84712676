"""``newsbot add``: grow the story's corpus from URLs, local files and feeds, then rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings
from index.errors import NewsbotError
from index.ingest import ADDED, FAILED, SKIPPED, FeedResult, Ingester, Outcome, outcome_counts
from newsbot.cli.options import load_settings
from newsbot.engine import run_build


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
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Corpus folder (default: NEWSBOT_CORPUS_DIR).")
    ] = None,
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
    if not sources and not feed:
        typer.echo("error: give URLs or files to add, or --feed URL", err=True)
        raise typer.Exit(2)
    settings = load_settings(corpus_dir=corpus)
    try:
        outcomes = _add_all(settings.corpus_dir, sources or [], feed or [], match or [])
    except NewsbotError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    counts = outcome_counts(outcomes)
    typer.echo(f"{counts[ADDED]} added, {counts[SKIPPED]} skipped, {counts[FAILED]} failed")
    build_failed = build and counts[ADDED] > 0 and not _rebuild(settings)
    if counts[FAILED] or build_failed:
        raise typer.Exit(1)


def _add_all(
    corpus_dir: Path, sources: list[str], feeds: list[str], match: list[str]
) -> list[Outcome]:
    """Add every source, then every feed, printing each result line as soon as it is known."""
    outcomes: list[Outcome] = []
    with Ingester(corpus_dir) as ingester:
        for source in sources:
            outcomes.append(_echo(ingester.add(source)))
        for feed_url in feeds:
            result = ingester.add_feed(feed_url, match)
            _echo_feed_header(result)
            outcomes.extend(_echo(outcome) for outcome in result.outcomes)
    return outcomes


def _echo(outcome: Outcome) -> Outcome:
    typer.echo(outcome.line)
    return outcome


def _echo_feed_header(result: FeedResult) -> None:
    if result.error:
        return  # the feed itself failed; its failure line says so
    typer.echo(
        f"feed {result.feed_url}: {len(result.outcomes)} entries; "
        f"story terms: {', '.join(result.terms)}"
    )


def _rebuild(settings: Settings) -> bool:
    """Run the same incremental build as ``newsbot build``; report it in one line."""
    typer.echo("updating the index...")
    try:
        report = run_build(settings)
    except NewsbotError as exc:
        typer.echo(f"error: index not updated: {exc}", err=True)
        return False
    typer.echo(
        f"index updated: {report.articles} articles, {report.passages} passages, "
        f"{report.embedded} embedded now, {report.seconds:.1f} s"
    )
    return True
