"""How answers and sources look in a terminal.

Data (questions, passages, titles, URLs) is printed as ``rich.text.Text`` with styles attached,
never as markup: a console that parsed markup or emoji codes would print ``:x:`` in a question
as an emoji, and ``[b]`` in a title as bold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from index.build import BuildReport
    from index.search import Answer, Hit
    from index.store import ArticleInfo

NOT_FOUND = "I couldn't find that in the coverage. Try rephrasing, or see `newsbot sources`."
OPENING_QUOTES = "“\"'‘«„"
CLOSING_QUOTES = "”\"'’»“"


def data_console(stderr: bool = False) -> Console:
    """A console that prints text as given: no markup, no emoji codes, no highlighting, no
    wrapping (the terminal wraps; piped output stays one line per line)."""
    return Console(stderr=stderr, markup=False, emoji=False, highlight=False, soft_wrap=True)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 article``, ``2 articles`` (``plural`` when it is not ``noun`` + s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def print_answer(console: Console, answer: Answer) -> None:
    """Quotes with the best sentence in bold, each followed by its source line."""
    if not answer.answered:
        console.print(NOT_FOUND)
        return
    for n, hit in enumerate(answer.passages):
        if n:
            console.print()
        console.print(quote(hit))
        console.print(Text(f"  — {source_line(hit)}"))
        for other in hit.also:
            console.print(Text(f"  also: {other.outlet or other.title} {other.link or other.url}"))


def print_question(console: Console, question: str, first: bool) -> None:
    """The question a streamed answer belongs to, after a blank line unless it is the first."""
    if not first:
        console.print()
    console.print(Text.assemble(("Q: ", "bold"), question))


def quote(hit: Hit) -> Text:
    """The passage in quotation marks (not doubled when it has its own), highlight in bold."""
    text = hit.text
    opening = "" if text[:1] in OPENING_QUOTES else "“"
    closing = "" if text[-1:] in CLOSING_QUOTES else "”"
    return Text.assemble(
        f"  {opening}",
        text[: hit.highlight_start],
        (text[hit.highlight_start : hit.highlight_end], "bold"),
        text[hit.highlight_end :],
        closing,
    )


def source_line(hit: Hit) -> str:
    """Title, outlet, date and the link to the highlighted sentence."""
    parts = [hit.title, hit.outlet, hit.published]
    line = ", ".join(p for p in parts if p)
    return f"{line} {hit.link or hit.url}".rstrip()


def print_sources(console: Console, articles: list[ArticleInfo]) -> None:
    """One line per article: date, outlet, title, passage count, URL; then the count."""
    for a in articles:
        passages = counted(a.passages, "passage")
        console.print(
            Text(f"{a.published or '----------'}  {a.outlet or '?'}: {a.title} ({passages})")
        )
        if a.url:
            console.print(Text(f"            {a.url}"))
    console.print(counted(len(articles), "article"))


def build_summary(report: BuildReport) -> str:
    """The one line that ends ``newsbot build`` and ``newsbot add``."""
    state = "updated" if report.changed else "already up to date"
    return (
        f"index {state}: {counted(report.articles, 'article')}, "
        f"{counted(report.passages, 'passage')}, {report.embedded} embedded now, "
        f"{report.reused} reused, {counted(report.removed_articles, 'article')} removed, "
        f"{report.seconds:.1f} s"
    )
