"""Follow-up questions (issue 10), end to end: a reply to an answer, or a short follow-up in a
private chat, is searched with the earlier question; /new forgets it."""

from __future__ import annotations

from pathlib import Path

from bot import replies
from bot.followup import reads_as_follow_up
from index.embed import Embedder
from tests.bot_harness import BotUnderTest, bot_settings, running_bot
from tests.conftest import BotStarter
from tests.fake_telegram import FakeTelegram

DETAINED = "How many people have been detained since the protests began?"
WHEN = "and when was that?"  # on its own, the coverage has no answer to it
CONTINUING = f"Continuing “{DETAINED}”:"


def test_what_reads_as_a_follow_up() -> None:
    for text in (WHEN, "And who organised it?", "what about Moscow", "when was that", "why?"):
        assert reads_as_follow_up(text, 8) == (text != "why?")
    assert not reads_as_follow_up("Where will Russians hold the candlelight gatherings?", 8)
    long = "and what did the police say about the number of people in the courtyards that night"
    assert not reads_as_follow_up(long, 8)


async def test_follow_ups_in_a_private_chat(start_bot: BotStarter) -> None:
    bot = await start_bot()
    tg = bot.tg
    alice, bob = tg.user(1, "Alice"), tg.user(2, "Bob")
    chat = tg.private_chat(alice)
    alone = await bot.say(tg.private_chat(bob), bob, WHEN)
    assert alone.result["text"].startswith(replies.NOT_FOUND)

    first = await bot.say(chat, alice, DETAINED)
    assert "7,000" in first.result["text"]
    by_reply = await bot.say(chat, alice, WHEN, reply_to=first.result["message_id"])
    assert by_reply.result["text"].startswith(CONTINUING)
    assert "7,000" in by_reply.result["text"]

    plain = await bot.say(chat, alice, WHEN)  # within minutes of an answer: a follow-up too
    assert plain.result["text"].startswith("Continuing “")

    await bot.say(chat, alice, "/new")
    fresh = await bot.say(chat, alice, WHEN)
    assert fresh.result["text"].startswith(replies.NOT_FOUND)


async def test_a_reply_in_a_group_continues_the_answer(start_bot: BotStarter) -> None:
    bot = await start_bot(answer_count=1)
    tg = bot.tg
    alice = tg.user(1, "Alice")
    group = tg.group_chat(-1005, "Readers")
    first = await bot.say(group, alice, f"/ask {DETAINED}")
    follow = await bot.say(group, alice, WHEN, reply_to=first.result["message_id"])
    assert follow.result["text"].startswith(CONTINUING)


async def test_a_reply_to_an_answer_from_before_a_restart_continues_it(
    fake_tg: FakeTelegram, seed_index: Path, embedder: Embedder, tmp_path: Path, bot_logs
) -> None:
    settings = bot_settings(fake_tg, seed_index, state_path=tmp_path / "state.sqlite3")
    alice = fake_tg.user(1, "Alice")
    chat = fake_tg.private_chat(alice)
    async with running_bot(settings, embedder) as application:
        first = await BotUnderTest(fake_tg, application).say(chat, alice, DETAINED)
    async with running_bot(settings, embedder) as application:
        bot = BotUnderTest(fake_tg, application)
        follow = await bot.say(chat, alice, WHEN, reply_to=first.result["message_id"])
    assert follow.result["text"].startswith(CONTINUING)
