"""Shared fixtures: one embedding model and one built index per test session."""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings
from index.build import build_index
from index.embed import Embedder
from tests.bot_harness import BotUnderTest, bot_settings, running_bot
from tests.fake_telegram import FakeTelegram

REPO = Path(__file__).resolve().parent.parent
SEED_CORPUS = REPO / "corpus"
QUESTIONS = REPO / "tests" / "data" / "questions.jsonl"


# Tests that need the real model: everything using the ``embedder`` fixture (directly or through
# ``seed_index``, ``bot``...) is marked slow here; tests that load it in a subprocess carry the
# mark themselves. `pytest -m "not slow"` (make test-fast) leaves them out; make test and CI run
# everything.
MODEL_FIXTURES = {"embedder"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# --- the answering core (lead) ---------------------------------------------------------------


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default model, loaded once."""
    return Embedder(threads=2)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """An index built from the seed corpus, shared read-only by the session's tests."""
    index_dir = tmp_path_factory.mktemp("seed-index")
    build_index(SEED_CORPUS, index_dir, lambda: embedder, embedder.name)
    return index_dir


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the seed corpus that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target


@pytest.fixture
def core_settings(seed_index: Path) -> Settings:
    """Settings pointing at the shared seed index, with no token and no .env file."""
    return Settings(_env_file=None, index_dir=seed_index, corpus_dir=SEED_CORPUS)


# --- the Telegram bot (bot/handlers.py and friends) --------------------------------------------

BotStarter = Callable[..., Awaitable[BotUnderTest]]


@pytest.fixture
async def fake_tg() -> AsyncIterator[FakeTelegram]:
    """The strict fake Bot API server; afterwards, no request may have been rejected."""
    async with FakeTelegram() as server:
        yield server
    assert [(r.method, r.description) for r in server.rejected] == []
    assert server.internal_errors == []


@pytest.fixture
def bot_logs(fake_tg: FakeTelegram) -> Iterator[io.StringIO]:
    """Every log record of the test at DEBUG; afterwards, the token must appear in none."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    text = stream.getvalue()
    assert fake_tg.token not in text
    assert fake_tg.token.split(":", 1)[1] not in text


@pytest.fixture
async def start_bot(
    fake_tg: FakeTelegram,
    seed_index: Path,
    embedder: Embedder,
    bot_logs: io.StringIO,
    tmp_path: Path,
) -> AsyncIterator[BotStarter]:
    """Start the real bot against ``fake_tg``: ``await start_bot(**settings)``; stopped after.
    Each test gets its own state file (the question record, chat data) in its own folder."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> BotUnderTest:
            overrides.setdefault("index_dir", seed_index)
            overrides.setdefault("state_path", tmp_path / "state" / "state.sqlite3")
            settings = bot_settings(fake_tg, **overrides)
            application = await stack.enter_async_context(running_bot(settings, embedder))
            return BotUnderTest(fake_tg, application)

        yield start


@pytest.fixture
async def bot(start_bot: BotStarter) -> BotUnderTest:
    """The bot with test settings over the seed index."""
    return await start_bot()
