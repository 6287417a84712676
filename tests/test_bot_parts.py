"""The bot's parts on their own: question worker, rate limit, answer cache, retries, log
redaction and the terminal chat."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import io
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from rich.console import Console
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.answering import QuestionWorker
from bot.application import WATCHER, _post_shutdown
from bot.following import NOTIFIER
from bot.handlers import SERVICES
from bot.logs import REDACTED, TokenRedactor, quiet_http_loggers, redact_token
from bot.paging import AnswerCache, CachedAnswer, answer_keyboard, more_data
from bot.ratelimit import RateLimiter
from bot.retry import with_retries
from bot.settings import Settings
from bot.story import StoryCache
from index.embed import Embedder
from index.errors import QuestionError
from index.lexical import LexicalScorer, write_lexical
from index.live import LiveSearcher
from index.search import Answer, Hit
from newsbot.cli.chat import TerminalChat, run_chat, terminal_lines, terminal_text

DETAINED = "How many people have been detained since the protests began?"


@pytest.fixture
def live(seed_index: Path, embedder: Embedder) -> LiveSearcher:
    return LiveSearcher(seed_index, embedder, Settings(_env_file=None).search_options())


# ---- question worker ----------------------------------------------------------------------


async def test_worker_batches_questions_that_arrive_together(live: LiveSearcher) -> None:
    worker = QuestionWorker(lambda: live.searcher, window=0.02, max_batch=32)
    questions = [DETAINED, "What shape should the candles be arranged in?", "hi"] * 4
    try:
        answers = await asyncio.gather(*(worker.ask(q, 3) for q in questions))
    finally:
        worker.close()
    for question, answer in zip(questions, answers, strict=True):
        direct = live.searcher.ask(question, 3)
        assert [h.text for h in answer.passages] == [h.text for h in direct.passages]
        assert answer.answered == direct.answered
    assert worker.stats.questions == 12
    assert worker.stats.batches < 12


async def test_worker_one_at_a_time_when_batching_is_off(live: LiveSearcher) -> None:
    worker = QuestionWorker(lambda: live.searcher, window=0, max_batch=1)
    try:
        await asyncio.gather(*(worker.ask(DETAINED, 1) for _ in range(5)))
    finally:
        worker.close()
    assert worker.stats.batches == worker.stats.questions == 5


async def test_worker_mixed_k_and_empty_questions(live: LiveSearcher) -> None:
    worker = QuestionWorker(lambda: live.searcher, window=0.05)
    try:
        one, many = await asyncio.gather(worker.ask(DETAINED, 1), worker.ask(DETAINED, 5))
        assert len(one.passages) == 1
        assert many.passages == live.searcher.ask(DETAINED, 5).passages
        assert worker.stats.batches == 1  # different counts still share one model call
        with pytest.raises(QuestionError):
            await worker.ask(" \u200b\n ", 3)
    finally:
        worker.close()
    with pytest.raises(RuntimeError):
        await worker.ask(DETAINED, 1)


@contextlib.asynccontextmanager
async def loop_ticks() -> AsyncIterator[list[int]]:
    """Counts the event loop's 5 ms ticks while the block runs (in ``ticks[0]``)."""
    ticks = [0]

    async def tick() -> None:
        while True:
            await asyncio.sleep(0.005)
            ticks[0] += 1

    ticker = asyncio.create_task(tick())
    try:
        yield ticks
    finally:
        ticker.cancel()


async def test_worker_keeps_the_loop_free_while_encoding(live: LiveSearcher) -> None:
    worker = QuestionWorker(lambda: live.searcher)
    try:
        async with loop_ticks() as ticks:
            for _ in range(3):
                await worker.ask(DETAINED, 3)
    finally:
        worker.close()
    assert ticks[0] >= 5  # ~3 x 60 ms of encoding, during which the loop kept running


async def test_shutdown_waits_for_the_worker_off_the_event_loop() -> None:
    class SlowWorker:
        def close(self) -> None:
            time.sleep(0.1)  # finishing queued questions

    class Watcher:
        async def stop(self) -> None:
            pass

    services = SimpleNamespace(worker=SlowWorker(), record=SimpleNamespace(close=lambda: None))
    bot_data = {WATCHER: Watcher(), NOTIFIER: Watcher(), SERVICES: services}
    async with loop_ticks() as ticks:
        await _post_shutdown(SimpleNamespace(bot_data=bot_data))  # type: ignore[arg-type]
    assert ticks[0] >= 5


# ---- rate limit ---------------------------------------------------------------------------


def test_rate_limit_slides_and_tells_once() -> None:
    now = [0.0]
    limiter = RateLimiter(2, window=60, clock=lambda: now[0])
    assert limiter.check(1).allowed and limiter.check(1).allowed
    refused = limiter.check(1)
    assert not refused.allowed and refused.notify and refused.retry_after == pytest.approx(60)
    now[0] = 30
    again = limiter.check(1)
    assert not again.allowed and not again.notify and again.retry_after == pytest.approx(30)
    assert limiter.check(2).allowed  # others are unaffected
    now[0] = 60.5
    assert limiter.check(1).allowed
    now[0] = 61
    assert limiter.check(1).allowed
    assert limiter.check(1).notify


def test_rate_limit_forgets_idle_users() -> None:
    now = [0.0]
    limiter = RateLimiter(1, window=1, clock=lambda: now[0])
    for user in range(999):
        limiter.check(user)
    now[0] = 5
    limiter.check(5000)  # the 1000th check sweeps
    assert len(limiter._accepted) == 1


# ---- answer cache and buttons -------------------------------------------------------------


def _hit(n: int) -> Hit:
    url = "https://example.org/a"
    text = f"Passage {n}."
    return Hit(text, text, 0, 11, 1, 1, "T", "O", url, f"{url}#:~:text={n}", "", "d", n, 0, "")


def test_answer_cache_accepts_only_its_own_data() -> None:
    cache = AnswerCache(capacity=2)
    answer = CachedAnswer(chat_id=10, hits=tuple(_hit(n) for n in range(5)), per_page=2)
    answer_id = cache.remember(answer)
    assert cache.find(more_data(answer_id, 2), 10) == (answer_id, answer, 2)
    assert cache.find(more_data(answer_id, 3), 10) is None  # past the end
    assert cache.find(more_data(answer_id, 1), 11) is None  # another chat
    for forged in (None, "", "more", f"more:{answer_id}", f"more:{answer_id}:x", "more:a:b:1"):
        assert cache.find(forged, 10) is None
    cache.remember(answer)
    cache.remember(answer)
    assert cache.find(more_data(answer_id, 1), 10) is None  # evicted


def test_keyboard_buttons_fit_telegram() -> None:
    answer = CachedAnswer(chat_id=1, hits=tuple(_hit(n) for n in range(5)), per_page=2)
    answer_id = AnswerCache().remember(answer)
    first = answer_keyboard(answer_id, answer, 0).inline_keyboard
    assert [[b.text for b in row] for row in first] == [["More ›"]]
    middle = answer_keyboard(answer_id, answer, 1).inline_keyboard
    assert [b.text for b in middle[0]] == ["‹ Back", "More ›"]
    last = answer_keyboard(answer_id, answer, 2).inline_keyboard
    assert [b.text for b in last[0]] == ["‹ Back"]
    for row in first + middle + last:
        for button in row:
            assert button.callback_data is None or len(button.callback_data.encode()) <= 64


# ---- retries ------------------------------------------------------------------------------


async def test_network_errors_are_retried_bad_requests_are_not() -> None:
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise NetworkError("Bad Gateway")
        return "sent"

    assert await with_retries(flaky, first_delay=0.01) == "sent"
    assert len(calls) == 3

    async def bad() -> None:
        calls.append(1)
        raise BadRequest("Message text is empty")

    calls.clear()
    with pytest.raises(BadRequest):
        await with_retries(bad, first_delay=0.01)
    assert len(calls) == 1

    async def down() -> None:
        raise NetworkError("Service Unavailable")

    with pytest.raises(NetworkError):
        await with_retries(down, attempts=2, first_delay=0.01)


async def test_timeouts_are_retried_only_when_sending_again_is_safe() -> None:
    calls: list[int] = []

    def timing_out(error: TimedOut) -> Callable[[], Awaitable[str]]:
        async def call() -> str:  # fails once, then succeeds
            calls.append(1)
            if len(calls) == 1:
                raise error
            return "done"

        return call

    # Telegram may have posted a message whose request timed out: it is not sent again.
    with pytest.raises(TimedOut):
        await with_retries(timing_out(TimedOut()), first_delay=0.01)
    assert len(calls) == 1

    calls.clear()
    edit = timing_out(TimedOut())
    assert await with_retries(edit, first_delay=0.01, idempotent=True) == "done"
    assert len(calls) == 2

    for never_sent in (httpx.ConnectTimeout("connect"), httpx.PoolTimeout("pool")):
        calls.clear()
        error = TimedOut()
        error.__cause__ = never_sent
        assert await with_retries(timing_out(error), first_delay=0.01) == "done"
        assert len(calls) == 2


# ---- log redaction ------------------------------------------------------------------------


def test_redactor_cleans_messages_arguments_and_tracebacks() -> None:
    token = "123456:SECRET-part-abcdef"
    redactor = TokenRedactor([token, token.split(":")[1]])
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{token}/getMe failed")
    except RuntimeError as exc:
        error = exc
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "HTTP Request: %s", (f"/bot{token}/x",), None
    )
    record.exc_info = (RuntimeError, error, error.__traceback__)
    assert redactor.filter(record)
    text = logging.Formatter().format(record)
    assert "SECRET-part" not in text and token not in text
    assert f"/bot{REDACTED}/x" in text and f"bot{REDACTED}/getMe" in text


def test_a_malformed_log_call_fails_in_the_handler_without_the_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = "654321:MALFORMED-secret-part"
    redact_token(token)
    logger = logging.getLogger("tests.malformed")
    logger.addHandler(handler := logging.StreamHandler(io.StringIO()))
    logger.propagate = False  # pytest's own handlers fail the test on a logging error
    try:
        logger.error("%d requests to %s", "many", f"/bot{token}/getMe")  # must not raise here
        logger.error("%(count)d", {"count": token.split(":")[1]})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    reported = capsys.readouterr().err
    assert reported.count("--- Logging error ---") == 2
    assert f"/bot{REDACTED}/getMe" in reported
    assert "MALFORMED-secret-part" not in reported and token not in reported


def test_bm25s_debug_lines_stay_out_of_the_logs(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    quiet_http_loggers()  # what configure_logging and build_application do
    with caplog.at_level(logging.DEBUG):
        columns, _ = write_lexical(tmp_path, ["Candles were lit in courtyards.", "Police ran."])
        LexicalScorer(tmp_path, columns, 2).bm25("candles")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("bm25s")] == []


# ---- terminal chat ------------------------------------------------------------------------


def test_terminal_rendering_strips_tags_and_unescapes() -> None:
    link = '<a href="https://e.org">T &amp; U</a>'
    text = terminal_text(f"<blockquote>a &lt;b&gt; <b>bold</b>\nnext</blockquote>\n— {link}")
    assert text.plain == "│ a <b> bold\n│ next\n— T & U <https://e.org>"
    assert any("bold" in str(span.style) for span in text.spans)


def test_terminal_lines_wrap_by_words_with_the_bar_on_every_quote_line() -> None:
    fragment = "https://e.org/story.html#:~:text=" + "word%20" * 40
    html_text = (
        f"<blockquote>{'candles in courtyards ' * 8}<b>the answer</b></blockquote>\n"
        f'— <a href="{fragment}">Story</a>\n\n<blockquote>second</blockquote>\n— x'
    )
    lines = [line.plain for line in terminal_lines(html_text, Console(width=40))]
    quoted = [line for line in lines if line.startswith("│ ")]
    assert len(quoted) >= 4 and all(len(line) <= 40 for line in lines)
    assert all(not line.endswith("courtyar") for line in quoted)  # no word cut mid-way
    assert " ".join(line[2:].strip() for line in quoted[:-1]).endswith("the answer")
    assert "— Story <https://e.org/story.html>" in lines and "" in lines


def test_terminal_chat_knows_its_own_commands(live: LiveSearcher) -> None:
    chat = TerminalChat(live, Settings(_env_file=None))
    unknown = terminal_text(chat.respond("/foo bar")).plain
    assert unknown.startswith("There is no /foo here") and "/quit" in unknown
    help_text = terminal_text(chat.respond("/help")).plain
    assert "/quit" in help_text and "Enter" in help_text and "/ask" not in help_text


@pytest.mark.parametrize("ending", [EOFError, KeyboardInterrupt])
def test_terminal_chat_leaves_quietly(live: LiveSearcher, ending: type[BaseException]) -> None:
    def read(prompt: str) -> str:
        raise ending()

    console = Console(file=io.StringIO(), width=80)
    run_chat(live, Settings(_env_file=None), console, read)  # returns, raises nothing
    assert "error" not in console.file.getvalue()


def test_terminal_chat_uses_the_bot_replies(live: LiveSearcher) -> None:
    chat = TerminalChat(live, Settings(_env_file=None, answer_count=1))
    start = terminal_text(chat.respond("/start")).plain
    assert "from 1 article" in start and "Where will Russians" in start
    answer = terminal_text(chat.respond(DETAINED)).plain
    assert "detained over 7,000 people" in answer
    broad = terminal_text(chat.respond("what did navalny do")).plain  # several passages qualify
    assert "Passage 1 of" in broad
    assert "Passage 2 of" in terminal_text(chat.respond("/more")).plain
    assert terminal_text(chat.respond("What is the capital of France?")).plain.startswith(
        "I couldn't find that"
    )
    assert "Ask a question first" in chat.respond("/more")
    assert "1 article" in terminal_text(chat.respond("/sources")).plain


def test_terminal_chat_checks_the_examples_once_per_build(
    live: LiveSearcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    searcher = live.searcher
    checked: list[list[str]] = []
    ask_many = searcher.ask_many

    def counting(questions: list[str], k: int) -> list[Answer]:
        checked.append(list(questions))
        return ask_many(questions, k)

    monkeypatch.setattr(searcher, "ask_many", counting)
    chat = TerminalChat(live, Settings(_env_file=None))
    first, again = chat.story(), chat.story()
    assert again is first and first.examples and len(checked) == 1

    rebuilt = dataclasses.replace(
        searcher.data, manifest={**searcher.data.manifest, "build_id": "next"}
    )
    cache = StoryCache()
    kept = cache.remember(searcher.data, [])
    assert cache.cached(searcher.data) is kept and cache.cached(rebuilt) is None
