"""``newsbot watch``: follow the story's feeds without the bot (for cron or compose)."""

from __future__ import annotations

from typing import Annotated

import typer

from newsbot.cli.options import fail, friendly_errors, load_settings


@friendly_errors
def watch(
    once: Annotated[
        bool, typer.Option("--once", help="Check the feeds once and exit (for cron).")
    ] = False,
) -> None:
    """Follow NEWSBOT_FEEDS without the bot: add new story entries and update the index
    every NEWSBOT_FEED_INTERVAL seconds. A running bot serves each new build on its own."""
    # The download and index stack is imported only when the command runs (--help stays light).
    from bot.logs import configure_logging
    from bot.watching import watch as watch_feeds

    settings = load_settings()
    configure_logging(settings.log_level)
    if not settings.feeds:
        raise fail("no feeds to follow: set NEWSBOT_FEEDS to comma-separated feed URLs", 2)
    try:
        check = watch_feeds(settings, typer.echo, once=once)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    if check.errors:
        raise typer.Exit(1)
