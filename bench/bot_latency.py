"""Latency and throughput of the whole bot, measured over HTTP against the fake Bot API server.

Latency is from the moment an update is queued on the fake server to the moment the bot's
``sendMessage`` answering it is received there: long polling, PTB, the question worker,
formatting and the reply request are all inside it. Each figure is printed against the
in-process ``Searcher.ask`` latency measured in the same run.

- one chat: questions asked one after another, each after the previous answer.
- N chats at once: N users each ask at the same moment, for several rounds; latency of every
  answer, and answers per second (N / time until the last answer).
- with micro-batching (the default settings) and without (window 0, batches of 1).

Telegram's overall flood limit (30 messages/s, ``NEWSBOT_MAX_SENDS_PER_SECOND``) caps any
bot's answers per second; it is switched off for the batching comparison, so that the figure
measures the bot, and measured once on its own with the default limit.

Usage: python bench/bot_latency.py [--chats N] [--rounds N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the fake server and harness live in tests/, not installed

from bot.settings import Settings  # noqa: E402
from index.build import build_index  # noqa: E402
from index.embed import Embedder  # noqa: E402
from index.search import Searcher, SearchOptions  # noqa: E402
from index.store import load_index  # noqa: E402
from tests.bot_harness import bot_settings, replied_to, running_bot  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402

QUESTIONS = REPO / "tests" / "data" / "questions.jsonl"
BATCHING_OFF = {"batch_window_ms": 0.0, "max_batch": 1}
NO_FLOOD_LIMIT = {"max_sends_per_second": 0.0}


def load_questions() -> list[str]:
    return [json.loads(line)["q"] for line in QUESTIONS.read_text().splitlines() if line.strip()]


def summary(latencies_s: list[float]) -> dict[str, float]:
    ms = np.array(latencies_s) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def in_process(
    embedder: Embedder, index_dir: Path, questions: list[str], options: SearchOptions, k: int
) -> dict:
    """``Searcher.ask`` latency, warm, with the bot's options and passage count."""
    searcher = Searcher(load_index(index_dir), embedder, options)
    for question in questions:  # torch is slow the first time it sees each input length
        searcher.ask(question, k)
    times = []
    for question in questions:
        start = time.perf_counter()
        searcher.ask(question, k)
        times.append(time.perf_counter() - start)
    return summary(times)


async def one_chat(tg: FakeTelegram, questions: list[str]) -> list[float]:
    user = tg.user(1, "Reader")
    chat = tg.private_chat(user)
    latencies = []
    for question in questions:
        started = time.perf_counter()
        message = tg.add_message(chat, user, question)
        sent = await tg.wait_for(
            "sendMessage", lambda r, m=message: replied_to(r) == m["message_id"], timeout=30
        )
        latencies.append(sent.at - started)
    return latencies


async def many_chats(
    tg: FakeTelegram, questions: list[str], chats: int, rounds: int
) -> tuple[list[float], list[float]]:
    """Latencies of every answer, and answers per second of every round."""
    users = [tg.user(1000 + n, f"Reader {n}") for n in range(chats)]
    rooms = [tg.private_chat(u) for u in users]
    latencies, rates = [], []
    for round_number in range(rounds):
        mark = tg.mark()
        started = time.perf_counter()
        messages = [
            tg.add_message(room, user, questions[(round_number * chats + n) % len(questions)])
            for n, (room, user) in enumerate(zip(rooms, users, strict=True))
        ]
        wanted = {(m["chat"]["id"], m["message_id"]) for m in messages}
        sent = await tg.wait_for_all(
            "sendMessage",
            chats,
            lambda r, wanted=wanted: (r.params.get("chat_id"), replied_to(r)) in wanted and r.ok,
            timeout=120,
            since=mark,
        )
        latencies += [r.at - started for r in sent]
        rates.append(chats / (max(r.at for r in sent) - started))
        await asyncio.sleep(0.2)
    return latencies, rates


async def measure_bot(
    embedder: Embedder, index_dir: Path, questions: list[str], chats: int, rounds: int, **overrides
) -> dict[str, Any]:
    async with FakeTelegram() as tg:
        settings = bot_settings(tg, index_dir, questions_per_minute=100_000, **overrides)
        async with running_bot(settings, embedder) as application:
            await one_chat(tg, questions[:5])  # warm up
            single = await one_chat(tg, questions)
            stats = application.bot_data["newsbot"].worker.stats
            before = (stats.questions, stats.batches)
            latencies, rates = await many_chats(tg, questions, chats, rounds)
            batched = (stats.questions - before[0]) / max(stats.batches - before[1], 1)
        assert not tg.rejected, tg.rejected[:3]
    return {
        "one_chat": summary(single),
        "many_chats": summary(latencies),
        "answers_per_s": statistics.mean(rates),
        "mean_batch": batched,
    }


async def run(chats: int, rounds: int) -> dict[str, Any]:
    questions = load_questions()
    embedder = Embedder(threads=2)
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = Path(tmp) / "index"
        build_index(REPO / "corpus", index_dir, lambda: embedder, embedder.name)
        defaults = Settings(_env_file=None)
        k = defaults.answer_count * defaults.max_pages  # what the bot asks for
        baseline = in_process(embedder, index_dir, questions, defaults.search_options(), k)
        results: dict[str, Any] = {"in_process_ask": baseline, "chats": chats, "rounds": rounds}
        for name, overrides in (
            ("batching", NO_FLOOD_LIMIT),
            ("no_batching", {**NO_FLOOD_LIMIT, **BATCHING_OFF}),
            ("batching_default_flood_limit", {}),
        ):
            results[name] = await measure_bot(
                embedder, index_dir, questions, chats, rounds, **overrides
            )
    return results


def report(results: dict[str, Any]) -> str:
    base = results["in_process_ask"]["p50_ms"]
    lines = [
        f"in-process Searcher.ask: p50 {base:.1f} ms, p95 "
        f"{results['in_process_ask']['p95_ms']:.1f} ms (the baseline)",
    ]
    for name in ("batching", "no_batching", "batching_default_flood_limit"):
        r = results[name]
        one, many = r["one_chat"], r["many_chats"]
        lines.append(
            f"{name:29s} one chat p50 {one['p50_ms']:6.1f} ms ({one['p50_ms'] / base:.2f}x), "
            f"p95 {one['p95_ms']:6.1f} ms | {results['chats']} chats p50 {many['p50_ms']:7.1f} ms "
            f"({many['p50_ms'] / base:.1f}x), p95 {many['p95_ms']:7.1f} ms | "
            f"{r['answers_per_s']:5.1f} answers/s, mean batch {r['mean_batch']:.1f}"
        )
    speedup = results["batching"]["answers_per_s"] / results["no_batching"]["answers_per_s"]
    lines.append(f"micro-batching throughput: {speedup:.2f}x one-at-a-time")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON.")
    args = parser.parse_args()
    results = asyncio.run(run(args.chats, args.rounds))
    print(json.dumps(results, indent=2) if args.json else report(results))


if __name__ == "__main__":
    main()
