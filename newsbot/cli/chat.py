"""``newsbot chat``: the bot in a terminal, with the same answers and the same reply texts.

Questions go through the same searcher and the same ``bot.replies`` formatting as on
Telegram; the HTML is rendered for the terminal (bold, links spelled out, quotes indented).
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

from rich.console import Console
from rich.text import Text

from bot import replies
from bot.settings import Settings
from bot.story import Story, StoryCache, newest_first
from index.errors import QuestionError
from index.live import LiveSearcher
from index.search import Hit

USERNAME = "newsbot"
PROMPT = "you> "
COMMANDS = "Commands: /more (next passages), /sources, /help, /start, /quit."

_STYLES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "code": "cyan",
    "a": "underline",
}


class _TerminalHtml(HTMLParser):
    """Telegram HTML to rich ``Text``: styles for tags, link targets in brackets, ``│`` quotes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = Text()
        self._styles: list[str] = []
        self._links: list[str] = []
        self._quoted = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "blockquote":
            self._quoted = True
            self.text.append("│ ", style="dim")
        elif tag in _STYLES:
            self._styles.append(_STYLES[tag])
        if tag == "a":
            self._links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "blockquote":
            self._quoted = False
        elif tag in _STYLES and self._styles:
            self._styles.pop()
        if tag == "a" and self._links:
            self.text.append(f" <{self._links.pop()}>", style="dim")

    def handle_data(self, data: str) -> None:
        if self._quoted:
            data = data.replace("\n", "\n│ ")
        self.text.append(data, style=" ".join(self._styles))


def terminal_text(html_text: str) -> Text:
    """A reply's Telegram HTML as styled terminal text (``.plain`` is the visible text)."""
    parser = _TerminalHtml()
    parser.feed(html_text)
    parser.close()
    return parser.text


class TerminalChat:
    """One terminal conversation: questions answered like in a private chat, /more pages."""

    def __init__(self, live: LiveSearcher, settings: Settings) -> None:
        self._live = live
        self._settings = settings
        self._last: tuple[tuple[Hit, ...], int] | None = None
        self._stories = StoryCache()

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
        if command == "/start":
            story = self.story()
            return replies.start_text(story.articles, story.examples, USERNAME)
        if command == "/help":
            settings = self._settings
            return replies.help_text(USERNAME, settings.questions_per_minute, settings.answer_count)
        if command == "/sources":
            return replies.sources_text(newest_first(self._live.searcher.data))
        if command == "/more":
            return self._more()
        return self._answer(line)

    def _answer(self, question: str) -> str:
        k = self._settings.answer_count * self._settings.max_pages
        try:
            answer = self._live.searcher.ask(question, k)
        except QuestionError:
            return replies.usage_text(None)
        if not answer.answered:
            self._last = None
            return replies.not_found(answer.question)
        self._last = (answer.passages, 0)
        return replies.answer_page(answer.passages, 0, self._settings.answer_count)

    def _more(self) -> str:
        per_page = self._settings.answer_count
        if self._last is None:
            return "Ask a question first; /more then shows further passages."
        hits, page = self._last
        if (page + 1) >= replies.page_count(len(hits), per_page):
            return "That was all I found for this question."
        self._last = (hits, page + 1)
        return replies.answer_page(hits, page + 1, per_page)


def run_chat(
    live: LiveSearcher, settings: Settings, console: Console, read: Callable[[str], str]
) -> None:
    """Talk until end of input or /quit; ``read`` prompts for and returns one line."""
    chat = TerminalChat(live, settings)
    console.print(terminal_text(chat.respond("/start")))
    console.print(COMMANDS, style="dim")
    while True:
        try:
            line = read(PROMPT)
        except EOFError:
            return
        if line.strip().lower() in ("/quit", "/exit"):
            return
        if line.strip():
            console.print(terminal_text(chat.respond(line)))
