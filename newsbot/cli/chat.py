"""``newsbot chat``: the bot in a terminal, with the same answers and the same reply texts.

Questions go through the same searcher and the same ``bot.replies`` formatting as on
Telegram; the HTML is rendered for the terminal: bold stays bold, lines wrap by words, a quote
has its bar on every line, and a link shows the article's address (without the long text
fragment that points at the sentence).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from rich.console import Console
from rich.text import Text

from bot import replies
from bot.language import choose_language
from bot.settings import Settings
from bot.story import Story, StoryCache, newest_first
from bot.translations import Translator, mark, translator
from bot.verdict import verdict_of
from index.errors import QuestionError
from index.live import LiveSearcher
from index.search import Hit

USERNAME = "newsbot"
PROMPT = "you> "
QUIT = ("/quit", "/exit")
COMMANDS = mark("Commands: /more (next passages), /sources, /help, /start, /quit.")
ASK_FIRST = mark("Ask a question first; /more then shows further passages.")
ALL_SHOWN = mark("That was all I found for this question.")
BAR = "│ "
HELP = (
    "Type a question about the story and press Enter: I answer by quoting the coverage, the "
    "sentence that answers in bold, with a link to each article.\n"
    "/more shows further passages of the last answer, /sources the articles I quote, /start "
    "the story and example questions, /quit (or Ctrl-D, Ctrl-C) leaves.\n"
    "The arrow keys edit the line and go through earlier questions. On Telegram the same "
    "answers come with More and Open article buttons."
)

_STYLES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "code": "cyan",
    "a": "underline",
}


def short_link(url: str) -> str:
    """The article's address without a text fragment (``#:~:text=...``, often 200 characters)."""
    return url.split("#:~:", 1)[0]


@dataclass
class _Block:
    """A run of text that is either quoted (a bar on every line) or not."""

    quoted: bool
    text: Text = field(default_factory=Text)


class _TerminalHtml(HTMLParser):
    """Telegram HTML to styled blocks: styles for tags, link targets shortened in brackets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = [_Block(quoted=False)]
        self._styles: list[str] = []
        self._links: list[str] = []

    def _start_block(self, quoted: bool) -> None:
        self.blocks.append(_Block(quoted=quoted))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "blockquote":
            self._start_block(quoted=True)
        elif tag in _STYLES:
            self._styles.append(_STYLES[tag])
        if tag == "a":
            self._links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._start_block(quoted=False)
        elif tag in _STYLES and self._styles:
            self._styles.pop()
        if tag == "a" and self._links:
            self.blocks[-1].text.append(f" <{short_link(self._links.pop())}>", style="dim")

    def handle_data(self, data: str) -> None:
        self.blocks[-1].text.append(data, style=" ".join(self._styles))


def _blocks(html_text: str) -> list[_Block]:
    parser = _TerminalHtml()
    parser.feed(html_text)
    parser.close()
    blocks = [b for b in parser.blocks if b.text.plain]
    # A quote is a block of its own: the line break written next to it is not one more line.
    for before, after in itertools.pairwise(blocks):
        if before.quoted != after.quoted:
            if before.text.plain.endswith("\n"):
                before.text = before.text[:-1]
            if after.text.plain.startswith("\n"):
                after.text = after.text[1:]
    return [b for b in blocks if b.text.plain]


def _block_lines(block: _Block) -> Iterator[Text]:
    for line in block.text.split("\n", allow_blank=True):
        yield Text.assemble((BAR, "dim"), line) if block.quoted else line


def terminal_text(html_text: str) -> Text:
    """A reply's Telegram HTML as styled text, a bar before every line of a quote
    (``.plain`` is the visible text; no wrapping)."""
    lines = [line for block in _blocks(html_text) for line in _block_lines(block)]
    return Text("\n").join(lines)


def terminal_lines(html_text: str, console: Console, width: int | None = None) -> list[Text]:
    """A reply wrapped by words to ``width`` (the console's), a bar on every line of a quote."""
    width = width or console.width
    lines: list[Text] = []
    for block in _blocks(html_text):
        room = max(10, width - (len(BAR) if block.quoted else 0))
        for line in block.text.split("\n", allow_blank=True):
            wrapped = line.wrap(console, room) if line.plain else [line]
            for part in wrapped:
                part.rstrip()
                lines.append(Text.assemble((BAR, "dim"), part) if block.quoted else part)
    return lines


@dataclasses.dataclass(frozen=True)
class _Shown:
    """The answer on screen: its passages, the page shown, its language, whether related."""

    hits: tuple[Hit, ...]
    page: int
    texts: Translator
    related: bool


class TerminalChat:
    """One terminal conversation: questions answered like in a private chat, /more pages.

    ``language`` fixes the bot's language (to see a catalog's texts); without it each
    question's language is used (English for commands), as for a Telegram reader without a
    language setting.
    """

    def __init__(self, live: LiveSearcher, settings: Settings, language: str | None = None) -> None:
        self._live = live
        self._settings = settings
        self._language = language
        self._last: _Shown | None = None
        self._stories = StoryCache()

    def texts(self, question: str | None = None) -> Translator:
        """The texts for a reply to ``question`` (None for a command)."""
        return translator(self._language or choose_language(question, None))

    def story(self) -> Story:
        """The story of the index in service (example questions are checked once per build)."""
        searcher = self._live.searcher
        story = self._stories.cached(searcher.data)
        if story is None:
            examples = self._settings.example_questions
            answers = searcher.ask_many(examples, 1) if examples else []
            story = self._stories.remember(searcher.data, answers)
        return story

    def respond(self, line: str) -> str:
        """The HTML reply to one line typed by the user."""
        command = line.strip().split(maxsplit=1)[0].lower() if line.strip() else ""
        t = self.texts()
        if command == "/start":
            story = self.story()
            return replies.start_text(story.articles, story.examples, USERNAME, t)
        if command == "/help":
            return replies.escape(HELP)
        if command == "/sources":
            return replies.sources_text(newest_first(self._live.searcher.data), t)
        if command == "/more":
            return self._more()
        if command.startswith("/"):
            return replies.escape(f"There is no {command} here. {t.gettext(COMMANDS)}")
        return self._answer(line)

    def _answer(self, question: str) -> str:
        k = self._settings.answer_count * self._settings.max_pages
        t = self.texts(question)
        try:
            answer = self._live.searcher.ask(question, k)
        except QuestionError:
            return replies.usage_text(None, t)
        if not answer.answered:
            self._last = None
            return replies.not_found(answer.question, t)
        self._last = _Shown(answer.passages, 0, t, verdict_of(answer) == "related")
        return self._page(self._last)

    def _more(self) -> str:
        shown = self._last
        if shown is None:
            return replies.escape(self.texts().gettext(ASK_FIRST))
        if (shown.page + 1) >= replies.page_count(len(shown.hits), self._settings.answer_count):
            return replies.escape(shown.texts.gettext(ALL_SHOWN))
        self._last = dataclasses.replace(shown, page=shown.page + 1)
        return self._page(self._last)

    def _page(self, shown: _Shown) -> str:
        per_page = self._settings.answer_count
        return replies.answer_page(shown.hits, shown.page, per_page, shown.texts, shown.related)


def terminal_input() -> Callable[[str], str]:
    """``input`` with line editing and history (readline) when talking to a terminal."""
    import sys

    if sys.stdin.isatty():
        # Importing readline gives input() line editing and history; not on every platform.
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401
    return input


def run_chat(
    live: LiveSearcher,
    settings: Settings,
    console: Console,
    read: Callable[[str], str],
    language: str | None = None,
) -> None:
    """Talk until end of input, /quit, Ctrl-C or Ctrl-D; ``read`` prompts for one line.
    ``language`` fixes the bot's language (see ``TerminalChat``)."""
    chat = TerminalChat(live, settings, language)

    def show(html_text: str) -> None:
        for line in terminal_lines(html_text, console):
            console.print(line, soft_wrap=True)

    try:
        show(chat.respond("/start"))
        console.print(chat.texts().gettext(COMMANDS), style="dim", markup=False)
        while True:
            line = read(PROMPT)
            if line.strip().lower() in QUIT:
                return
            if line.strip():
                show(chat.respond(line))
    except (EOFError, KeyboardInterrupt):
        console.print()  # end the prompt's line; leave quietly
