"""``newsbot run`` and ``newsbot chat`` from the outside: exit codes, one-line errors, and a real
bot process that builds its index, answers, logs no token and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import NetworkError
from typer.testing import CliRunner

from bot.runner import TelegramUnreachable, check_token, ensure_index
from bot.settings import Settings
from index.embed import Embedder
from index.store import current_build
from newsbot.cli.app import app
from tests.bot_harness import replied_to
from tests.fake_telegram import FakeTelegram

BOTFATHER_LINE = "no bot token: talk to @BotFather"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """No token or bot settings from this machine's environment, no .env file."""
    for name in list(os.environ):
        if name.startswith(("TELEGRAM_", "NEWSBOT_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return {}


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, env=env)
    return result.exit_code, result.output


def test_run_without_a_token_says_how_to_get_one(clean_env: dict[str, str], tmp_path: Path) -> None:
    code, output = invoke(["run"], clean_env)
    assert code == 2
    assert BOTFATHER_LINE in output and "TELEGRAM_BOT_TOKEN" in output
    assert "Traceback" not in output and len(output.strip().splitlines()) == 1
    assert not (tmp_path / "var").exists()  # said before building anything


def test_run_with_a_plain_http_webhook_is_refused(clean_env: dict[str, str]) -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123:abcdefghijkl"}
    code, output = invoke(["run", "--webhook-url", "http://example.org/hook"], env)
    assert code == 1 and "must start with https://" in output and "Traceback" not in output


def test_a_webhook_url_carrying_the_token_is_refused_without_repeating_it(
    clean_env: dict[str, str],
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": "123:abcdefghijkl"}
    url = "http://example.org/bot123:abcdefghijkl/hook"
    code, output = invoke(["run", "--webhook-url", url], env)
    assert code == 1 and "must start with https://" in output
    assert "abcdefghijkl" not in output and "Traceback" not in output


async def test_run_with_a_rejected_token_fails_in_one_line(
    clean_env: dict[str, str], fake_tg: FakeTelegram, tmp_path: Path
) -> None:
    fake_tg.set_token_valid(False)
    env = {"TELEGRAM_BOT_TOKEN": fake_tg.token, "TELEGRAM_API_BASE_URL": fake_tg.base_url}
    code, output = await asyncio.to_thread(invoke, ["run", "--index", str(tmp_path / "i")], env)
    assert code == 1
    assert "Telegram rejected the bot token" in output and "Traceback" not in output
    assert fake_tg.token not in output
    assert not (tmp_path / "i").exists()  # failed before loading the model or building
    assert {(r.method, r.status) for r in fake_tg.rejected} == {("getMe", 401)}
    fake_tg.requests.clear()  # the 401s were the point of this test


async def test_run_with_telegram_unreachable_fails_in_one_line(clean_env: dict[str, str]) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123:abcdefghijkl",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
    }
    code, output = await asyncio.to_thread(invoke, ["run"], env)
    assert code == 1 and "could not reach the Bot API at http://127.0.0.1:9/bot" in output
    assert "abcdefghijkl" not in output and "Traceback" not in output


def test_a_missing_index_is_built_with_the_model_already_loaded(
    corpus_copy: Path, tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def load_again(settings: Settings) -> Embedder:
        raise AssertionError("the model was loaded a second time")

    monkeypatch.setattr("newsbot.engine.load_embedder", load_again)
    settings = Settings(_env_file=None, index_dir=tmp_path / "index", corpus_dir=corpus_copy)
    ensure_index(settings, embedder)
    assert current_build(settings.index_dir) is not None


async def test_unreachable_names_no_part_of_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "123456:UNREACHABLE-secret"

    async def unreachable(bot: Bot) -> None:
        raise NetworkError(f"POST /bot{token}/getMe failed; secret UNREACHABLE-secret")

    monkeypatch.setattr(Bot, "initialize", unreachable)
    with pytest.raises(TelegramUnreachable) as caught:
        await check_token(Settings(_env_file=None), token)
    assert "UNREACHABLE-secret" not in str(caught.value)
    assert "/bot[token]/getMe" in str(caught.value)


def test_chat_answers_in_the_terminal(
    clean_env: dict[str, str], seed_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = iter(["How many people have been detained?", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    code, output = invoke(["chat", "--index", str(seed_index)], clean_env)
    assert code == 0
    words = " ".join(output.replace("│ ", " ").split())  # lines are wrapped to the terminal
    assert "Try asking:" in words and "detained over 7,000 people" in words


def test_chat_in_another_language(
    clean_env: dict[str, str], seed_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = iter(["How many people have been detained?", "/more", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    code, output = invoke(["chat", "--index", str(seed_index), "--lang", "ru"], clean_env)
    assert code == 0
    words = " ".join(output.replace("│ ", " ").split())  # lines are wrapped to the terminal
    assert "Спросите, например:" in words and "Команды: /more" in words
    assert "detained over 7,000 people" in words  # the quote stays in English
    assert "14 февр. 2021" in words

    code, output = invoke(["chat", "--index", str(seed_index), "--lang", "xx"], clean_env)
    assert code == 2 and "--lang 'xx' is not one of en, ru, uk, de, fr" in output


@pytest.mark.slow
async def test_newsbot_run_builds_its_index_answers_and_stops_on_sigterm(
    fake_tg: FakeTelegram, corpus_copy: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "NEWSBOT_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=fake_tg.token,
        TELEGRAM_API_BASE_URL=fake_tg.base_url,
        NEWSBOT_INDEX_DIR=str(index_dir),
        NEWSBOT_CORPUS_DIR=str(corpus_copy),
        NEWSBOT_POLL_TIMEOUT="1",
        NEWSBOT_LOG_LEVEL="DEBUG",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "newsbot", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await fake_tg.wait_for("setMyCommands", timeout=90)
        alice = fake_tg.user(1, "Alice")
        message = fake_tg.add_message(fake_tg.private_chat(alice), alice, "/start")
        sent = await fake_tg.wait_for(
            "sendMessage", lambda r: replied_to(r) == message["message_id"], timeout=20
        )
        assert "from 1 article" in sent.result["text"]
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    logs = (stdout + stderr).decode()
    assert process.returncode == 0, logs[-2000:]
    assert (index_dir / "current").exists()
    assert "building it from" in logs and "Traceback" not in logs
    assert fake_tg.token not in logs and fake_tg.token.split(":")[1] not in logs
