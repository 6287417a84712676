"""How answers and sources look in a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from index.search import Answer, Hit
from index.store import ArticleInfo

NOT_FOUND = "I couldn't find that in the coverage. Try rephrasing, or see `newsbot sources`."


def print_answer(console: Console, answer: Answer) -> None:
    """Quotes with the best sentence in bold, each followed by its source line."""
    if not answer.answered:
        console.print(NOT_FOUND, markup=False)
        return
    for n, hit in enumerate(answer.passages):
        if n:
            console.print()
        console.print(_quote(hit))
        console.print(f"  — {escape(_source_line(hit))}")
        for other in hit.also:
            console.print(
                f"  also: {escape(other.outlet or other.title)} {escape(other.link or other.url)}"
            )


def _quote(hit: Hit) -> str:
    before = escape(hit.text[: hit.highlight_start])
    marked = escape(hit.text[hit.highlight_start : hit.highlight_end])
    after = escape(hit.text[hit.highlight_end :])
    return f"  “{before}[bold]{marked}[/bold]{after}”"


def _source_line(hit: Hit) -> str:
    parts = [hit.title, hit.outlet, hit.published]
    line = ", ".join(p for p in parts if p)
    return f"{line} {hit.link or hit.url}".rstrip()


def print_sources(console: Console, articles: list[ArticleInfo]) -> None:
    """One line per article: date, outlet, title, passage count, URL."""
    for a in articles:
        line = (
            f"{a.published or '----------'}  {a.outlet or '?'}: {a.title} ({a.passages} passages)"
        )
        console.print(escape(line))
        if a.url:
            console.print(f"            {escape(a.url)}")
    console.print(f"{len(articles)} articles")
