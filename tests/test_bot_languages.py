"""The bot in the reader's language, its question record and /stats, end to end over HTTP
against the strict fake Bot API server (see test_bot_e2e.py for the set-up)."""

from __future__ import annotations

import asyncio
import io
import json
import re
import sqlite3
from pathlib import Path

import pytest

from bot import replies
from bot.application import GROUP_COMMANDS, PRIVATE_COMMANDS
from bot.language import LANGUAGES
from bot.question_record import SETTLE_SECONDS
from bot.translations import translator
from tests.bot_harness import ADMIN_ID, BotUnderTest, button, buttons, entity_texts
from tests.conftest import BotStarter

RU, UK, DE, FR, EN = (translator(lang) for lang in ("ru", "uk", "de", "fr", "en"))
# No word of any language's list: the reader's Telegram language decides.
NEUTRAL = "Navalny supporters detained?"
NEUTRAL_TWO_PASSAGES = "candles courtyards Valentine's Day?"
OFF_TOPIC = "What is the capital of France?"
ANSWERABLE = "How many people have been detained since the protests began?"


def no_handler_errors(logs: io.StringIO) -> None:
    text = logs.getvalue()
    assert "handling update" not in text and "Traceback" not in text


# ---- the reader's language --------------------------------------------------------------------


async def test_a_russian_question_gets_russian_texts(bot: BotUnderTest) -> None:
    tg = bot.tg
    reader = tg.user(11, "Ivan", language_code="en")  # the question's language wins
    sent = await bot.say(tg.private_chat(reader), reader, "Сколько людей задержали?")
    text = sent.result["text"]
    quotes = entity_texts(sent.result, "blockquote")
    # Answered by the multilingual channel: Russian texts around the article's English quote.
    assert quotes, text
    assert re.search(r"[A-Za-z]{4}", quotes[0]) and not re.search("[А-я]", quotes[0])
    assert entity_texts(sent.result, "text_link")  # the source line links to the article
    assert not text.startswith(RU.gettext(replies.NOT_FOUND))


async def test_the_readers_telegram_language_frames_an_english_quote(
    start_bot: BotStarter,
) -> None:
    bot = await start_bot(answer_count=1)
    tg = bot.tg
    reader = tg.user(12, "Olga", language_code="ru")
    chat = tg.private_chat(reader)
    sent = await bot.say(chat, reader, NEUTRAL_TWO_PASSAGES)
    message = sent.result
    quote = entity_texts(message, "blockquote")[0]
    assert "candle" in quote  # the quote stays in the article's English
    assert "14 февр. 2021" in message["text"]  # the source line's date in Russian
    labels = [b["text"] for b in buttons(message)]
    assert RU.gettext("More ›") in labels
    assert RU.gettext("Open article") not in labels  # the source line links to the article

    mark = tg.mark()
    tg.add_callback_query(reader, message, button(message, RU.gettext("More ›"))["callback_data"])
    edit = await tg.wait_for("editMessageText", since=mark)
    assert "Фрагмент 2 из" in edit.result["text"]
    assert button(edit.result, RU.gettext("‹ Back"))

    german = tg.user(13, "Jonas", language_code="de-DE")
    sent = await bot.say(tg.private_chat(german), german, NEUTRAL)
    assert "14 Feb. 2021" in sent.result["text"]


@pytest.mark.parametrize(
    ("code", "t"),
    [("uk", UK), ("fr", FR), ("de", DE), ("ru", RU), ("pt-BR", EN), (None, EN), ("xx", EN)],
)
async def test_commands_answer_in_the_readers_language(
    bot: BotUnderTest, code: str | None, t
) -> None:  # type: ignore[no-untyped-def]
    tg = bot.tg
    reader = tg.user(14, "Reader", language_code=code)
    chat = tg.private_chat(reader)
    start = (await bot.say(chat, reader, "/start")).result["text"]
    heading = t.ngettext("The story, from %(count)d article:", "", 1) % {"count": 1}
    assert heading in start
    help_text = (await bot.say(chat, reader, "/help")).result["text"]
    assert t.gettext("How to ask") in help_text
    sources = (await bot.say(chat, reader, "/sources")).result["text"]
    assert replies.nice_date("2021-02-14", t) in sources
    sticker = tg.add_sticker(chat, reader)
    assert (await bot.reply_to(sticker)).result["text"] == t.gettext(replies.NON_TEXT)
    unknown = (await bot.say(chat, reader, "/weather")).result["text"]
    assert unknown == t.gettext("I don't know %(command)s. Send /help to see what I can do.") % {
        "command": "/weather"
    }


async def test_command_menus_are_registered_in_every_language(bot: BotUnderTest) -> None:
    menus = {
        (json.loads(scope)["type"], language): {c["command"]: c["description"] for c in cmds}
        for (scope, language), cmds in bot.tg.commands.items()
    }
    for language in LANGUAGES:
        t = translator(language)
        code = "" if language == "en" else language
        for scope, commands in (
            ("all_private_chats", PRIVATE_COMMANDS),
            ("all_group_chats", GROUP_COMMANDS),
        ):
            expected = {name: t.gettext(text) for name, text in commands}
            assert menus[(scope, code)] == expected
    assert menus[("all_private_chats", "ru")]["help"] == "Как задавать мне вопросы"


async def test_inline_mode_in_the_readers_language(bot: BotUnderTest) -> None:
    tg = bot.tg
    reader = tg.user(15, "Taras", language_code="uk")
    mark = tg.mark()
    tg.add_inline_query(reader, NEUTRAL)
    answer = await tg.wait_for("answerInlineQuery", since=mark)
    result = answer.params["results"][0]
    assert result["reply_markup"]["inline_keyboard"][0][0]["text"] == UK.gettext("Open article")
    assert "14 лют. 2021" in result["input_message_content"]["message_text"]

    mark = tg.mark()
    tg.add_inline_query(reader, "")
    empty = await tg.wait_for("answerInlineQuery", since=mark)
    assert empty.params["button"]["text"] == UK.gettext("Type a question about the story")


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "code", "t"),
    [
        ("Сколько people were detained since the protests began?", None, EN),  # mixed
        ("Navalny ареста сколько было людей?", None, RU),  # mixed, mostly Russian
        ("skolko zaderzhali", "ru", RU),  # transliterated: the reader's language
        ("skolko zaderzhali", None, EN),
        ("🕯️❤️🚓", "de", DE),  # emoji only
        ("كم عدد المعتقلين؟", "ar", EN),  # right to left, no catalog
        ("מה קרה לנבלני?", None, EN),
        (("Сколько людей задержали за время протестов? " * 100)[:4096], None, RU),
    ],
)
async def test_bad_input_gets_a_sensible_reply(
    bot: BotUnderTest, bot_logs: io.StringIO, question: str, code: str | None, t
) -> None:  # type: ignore[no-untyped-def]
    tg = bot.tg
    reader = tg.user(16, "Reader", language_code=code)
    sent = await bot.say(tg.private_chat(reader), reader, question)
    assert sent.ok and len(sent.result["text"]) <= 4096
    text = sent.result["text"]
    assert text != t.gettext(replies.APOLOGY)
    if entity_texts(sent.result, "blockquote"):
        assert entity_texts(sent.result, "text_link")  # the source line links to the article
    else:
        assert text.startswith(t.gettext(replies.NOT_FOUND))
    no_handler_errors(bot_logs)


# ---- the question record and /stats -------------------------------------------------------------


async def test_stats_for_admins_and_a_polite_no_for_others(
    start_bot: BotStarter, tmp_path: Path
) -> None:
    state = tmp_path / "record" / "state.sqlite3"
    bot = await start_bot(state_path=state)
    tg = bot.tg
    alice = tg.user(21, "Alice", username="alice_secret", language_code="en")
    chat = tg.private_chat(alice)
    for question in (OFF_TOPIC, "what is the capital of france", ANSWERABLE):
        await bot.say(chat, alice, question)
    group = tg.group_chat(-100777, "Readers")
    await bot.say(group, alice, f"/ask {OFF_TOPIC}")

    admin = tg.user(ADMIN_ID, "Admin", language_code="en")
    stats = await bot.say(tg.private_chat(admin), admin, "/stats")
    text = stats.result["text"]
    assert "4 questions today (UTC), from 2 chats" in text
    assert "Answered: 25% (1)" in text
    unanswered = text.split(EN.gettext("Most asked without an answer (7 days):"))[1]
    assert unanswered.strip().splitlines()[0] == f"1. {OFF_TOPIC} (×3)"
    assert ANSWERABLE not in unanswered

    russian_admin = tg.user(ADMIN_ID, "Admin", language_code="ru")
    stats = await bot.say(tg.private_chat(russian_admin), russian_admin, "/stats")
    assert "4 вопроса сегодня (UTC), из 2 чатов" in stats.result["text"]

    bob = tg.user(22, "Bob", language_code="de")
    refused = await bot.say(tg.private_chat(bob), bob, "/stats")
    assert refused.result["text"] == DE.gettext(replies.ADMINS_ONLY)

    # Nothing that names a reader is stored.
    dump = "\n".join(sqlite3.connect(state).iterdump())
    for secret in ("21", "Alice", "alice_secret", "-100777", "Readers", str(ADMIN_ID)):
        assert not re.search(rf"(?<![\w.-]){re.escape(secret)}(?![\w.])", dump), secret
    with sqlite3.connect(state) as conn:
        rows = conn.execute(
            "SELECT chat_type, language, verdict, doc_id, latency_ms FROM questions "
            "ORDER BY asked_at"
        ).fetchall()
    assert [r[0] for r in rows] == ["private", "private", "private", "group"]
    assert [r[2] for r in rows] == ["none", "none", "answer", "none"]
    assert rows[2][3] is not None and all(r[4] > 0 for r in rows)


async def test_a_damaged_state_file_does_not_stop_the_bot(
    start_bot: BotStarter, tmp_path: Path, bot_logs: io.StringIO
) -> None:
    state = tmp_path / "damaged" / "state.sqlite3"
    state.parent.mkdir()
    state.write_bytes(b"\x00garbage, not SQLite" * 500)
    bot = await start_bot(state_path=state)
    tg = bot.tg
    reader = tg.user(31, "Reader")
    sent = await bot.say(tg.private_chat(reader), reader, ANSWERABLE)
    assert entity_texts(sent.result, "blockquote")
    assert "is damaged" in bot_logs.getvalue()
    assert len(list(state.parent.glob("state.sqlite3.damaged-*"))) == 1
    admin = tg.user(ADMIN_ID, "Admin")
    stats = await bot.say(tg.private_chat(admin), admin, "/stats")
    assert "1 question today (UTC)" in stats.result["text"]  # a fresh file took its place


async def test_an_unwritable_state_file_does_not_stop_the_bot(
    start_bot: BotStarter, tmp_path: Path, bot_logs: io.StringIO
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    bot = await start_bot(state_path=blocker / "state.sqlite3")
    tg = bot.tg
    reader = tg.user(32, "Reader")
    sent = await bot.say(tg.private_chat(reader), reader, ANSWERABLE)
    assert entity_texts(sent.result, "blockquote")
    admin = tg.user(ADMIN_ID, "Admin")
    stats = await bot.say(tg.private_chat(admin), admin, "/stats")
    assert stats.result["text"].startswith("The question record is off")
    assert "question record off" in bot_logs.getvalue()
    no_handler_errors(bot_logs)


async def test_inline_questions_are_recorded_once_settled(
    start_bot: BotStarter, tmp_path: Path
) -> None:
    state = tmp_path / "inline" / "state.sqlite3"
    bot = await start_bot(state_path=state)
    tg = bot.tg
    reader = tg.user(41, "Typist", language_code="de")
    for typed in ("how many", "how many people were", ANSWERABLE):
        mark = tg.mark()
        tg.add_inline_query(reader, typed)
        await tg.wait_for("answerInlineQuery", since=mark)
    await asyncio.sleep(SETTLE_SECONDS + 1)
    admin = tg.user(ADMIN_ID, "Admin")
    stats = await bot.say(tg.private_chat(admin), admin, "/stats")
    assert "1 question today (UTC)" in stats.result["text"]
    with sqlite3.connect(state) as conn:
        query = "SELECT chat_type, language, verdict, question FROM questions"
        rows = conn.execute(query).fetchall()
    assert rows == [("inline", "en", "answer", ANSWERABLE)]
