"""The real bot, end to end over HTTP against the strict fake Bot API server.

Every test starts the real Application (bot.application) from Settings pointing at the fake
server; updates are queued on the fake and fetched by the bot's long polling; replies are
checked as the fake received them. The ``fake_tg`` fixture asserts afterwards that the fake
rejected no request, and ``bot_logs`` that the token appears in no log line (DEBUG level).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
from pathlib import Path

import httpx
import pytest

from bot import replies
from bot.runner import webhook_options
from index.build import build_index
from index.embed import Embedder
from tests.bot_harness import (
    ADMIN_ID,
    BotUnderTest,
    bot_settings,
    button,
    buttons,
    entity_texts,
    replied_to,
    running_bot,
)
from tests.conftest import QUESTIONS, BotStarter
from tests.fake_telegram import QUERY_TOO_OLD, FakeTelegram

NO_PREVIEW = {"is_disabled": True}
ANSWERABLE = [
    "Where will Russians hold the candlelight gatherings for Navalny?",
    "How many people have been detained since the protests began?",
    "What did law enforcement warn Navalny's supporters about?",
    "when did the demonstrations kick off",
    "How long are supporters asked to gather outside their homes?",
    "What shape should the candles be arranged in?",
]
OFF_TOPIC = "What is the capital of France?"
DETAINED = "How many people have been detained since the protests began?"

PENGUIN_ARTICLE = """---
title: "Tomsk zoo's oldest penguin turns forty"
outlet: Siberian Courier
url: https://example.org/tomsk-penguin
published: 2021-02-15
---
The Tomsk zoo said on Monday that its oldest penguin, a bird named Captain Frost, celebrated
his fortieth birthday with a cake made of frozen herring and a crowd of schoolchildren.

Keepers said Captain Frost had outlived every other penguin the zoo has ever housed, and that
he still leads the colony to the pool each morning.
"""
PENGUIN_QUESTION = "What did the penguin Captain Frost get for his birthday?"

# One paragraph of ten sentences (> 128 word pieces), split into two passages that each open
# with a sentence about the bridge: two hits from one paragraph, both highlighted at offset 0.
BRIDGE_SENTENCES = [
    "The Harbour Bridge in Townsville reopened to traffic on Monday after repairs.",
    "Rain fell steadily over the quiet market square for most of the afternoon.",
    "A local choir rehearsed carols in the old church hall on the hill.",
    "Fishermen mended their nets beside the pier while gulls circled overhead.",
    "The library extended its opening hours for students during the exam season.",
    "The Harbour Bridge in Townsville reopened to cyclists on Tuesday after repairs.",
    "A bakery on the corner sold out of bread before nine in the morning.",
    "Children flew kites in the park until the wind dropped in the evening.",
    "The museum put a collection of old maps on display in its east wing.",
    "Volunteers planted trees along the river path to mark the spring festival.",
]
BRIDGE_FRONT_MATTER = """---
title: Townsville bridge reopens
outlet: Example Post
url: https://post.example.test/bridge
published: 2024-05-06
---
"""
BRIDGE_ARTICLE = f"{BRIDGE_FRONT_MATTER}\n{' '.join(BRIDGE_SENTENCES)}\n"
BRIDGE_QUESTION = "When did the Harbour Bridge in Townsville reopen?"


def expected(question: str) -> list[str]:
    for line in QUESTIONS.read_text().splitlines():
        row = json.loads(line)
        if row["q"] == question:
            return row["expect"]
    raise KeyError(question)


# ---- commands -----------------------------------------------------------------------------


async def test_start_help_sources_and_command_menus(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)

    start = await bot.say(chat, alice, "/start")
    text = start.result["text"]
    assert "from 1 article" in text
    assert "Russians to hold candle light gatherings" in text
    assert "Where will Russians hold the candlelight gatherings?" in text  # an example
    assert start.params["link_preview_options"] == NO_PREVIEW
    assert start.params["parse_mode"] == "HTML"

    help_reply = await bot.say(chat, alice, "/help")
    assert "/ask" in help_reply.result["text"] and "@NewsTestBot" in help_reply.result["text"]

    sources = await bot.say(chat, alice, "/sources")
    links = [e["url"] for e in sources.result["entities"] if e["type"] == "text_link"]
    assert links == ["https://www.republicworld.com/world-news/rest-of-the-world-news/"
                     "russians-to-hold-candles-light-gatherings-to-show-support-to-navalny-on-"
                     "valentines-day.html"]  # fmt: skip
    assert "14 Feb 2021" in sources.result["text"]

    menus = {json.loads(scope)["type"]: [c["command"] for c in cmds]
             for (scope, _), cmds in tg.commands.items()}  # fmt: skip
    assert set(menus["all_private_chats"]) == {
        *("start", "help", "sources", "ask"),
        *("new", "settings", "share", "latest", "follow", "unfollow"),
    }
    assert set(menus["all_group_chats"]) >= {"ask", "sources", "help"}


async def test_unknown_command_and_non_text_in_private_chat(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    unknown = await bot.say(chat, alice, "/weather")
    assert "/help" in unknown.result["text"]

    mark = tg.mark()
    sticker = tg.add_sticker(chat, alice)
    hint = await bot.reply_to(sticker, since=mark)
    assert hint.result["text"] == replies.NON_TEXT
    photo = tg.add_photo(chat, alice, caption="what is this?")
    assert (await bot.reply_to(photo, since=mark)).result["text"] == replies.NON_TEXT


# ---- private questions --------------------------------------------------------------------


@pytest.mark.parametrize("question", ANSWERABLE)
async def test_private_question_quotes_the_right_passage(bot: BotUnderTest, question: str) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    sent = await bot.say(chat, alice, question)
    message = sent.result
    quotes = entity_texts(message, "blockquote")
    assert 1 <= len(quotes) <= 3
    assert any(e in quotes[0] for e in expected(question)), (question, quotes[0])
    bold = entity_texts(message, "bold")
    assert bold and bold[0] in quotes[0]  # the best sentence of the first quote
    links = [e["url"] for e in message["entities"] if e["type"] == "text_link"]
    assert links and all("#:~:text=" in url for url in links)  # deep links to the sentence
    assert sent.params["link_preview_options"] == NO_PREVIEW
    # The source line links to the article: no second "Open article" button.
    assert not any(b.get("url") for b in buttons(message))


async def test_off_topic_question_is_not_answered(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    sent = await bot.say(chat, alice, OFF_TOPIC)
    assert sent.result["text"].startswith(replies.NOT_FOUND)
    assert "/sources" in sent.result["text"]
    assert entity_texts(sent.result, "blockquote") == []
    assert "reply_markup" not in sent.result


async def test_hostile_and_huge_questions(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    hostile = "<b>&</i> " * 40 + "&amp; &nbsp; <a href='x'>"
    sent = await bot.say(chat, alice, hostile)
    assert sent.ok and "<b>&</i>" in sent.result["text"]  # echoed, escaped, shown literally

    huge = ("How many people have been detained? " * 300)[:10_000]
    assert len(huge) == 10_000
    sent = await bot.say(chat, alice, huge)
    assert sent.ok
    assert len(sent.result["text"]) <= 4096

    emoji = "🕯️❤️ " * 50 + "how many were detained 🚓?"
    assert (await bot.say(chat, alice, emoji)).ok


async def test_edited_questions_are_ignored(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    first = tg.add_message(chat, alice, OFF_TOPIC)
    await bot.reply_to(first)
    tg.add_edited_message(first, DETAINED)
    later = await bot.say(chat, alice, "/help")  # handled after the edit would have been
    assert later.ok
    assert len(bot.replies_to(first)) == 1


# ---- groups -------------------------------------------------------------------------------


async def test_group_ways_to_ask(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice, bob = tg.user(1, "Alice"), tg.user(2, "Bob")
    group = tg.group_chat(-1001, "Readers")

    plain = await bot.say(group, alice, f"/ask {DETAINED}")
    assert "detained over 7,000 people" in entity_texts(plain.result, "blockquote")[0]

    addressed = await bot.say(group, alice, f"/ask@NewsTestBot {DETAINED}")
    assert "detained over 7,000 people" in entity_texts(addressed.result, "blockquote")[0]

    mention = await bot.say(group, bob, f"@NewsTestBot {DETAINED}")
    assert "detained over 7,000 people" in entity_texts(mention.result, "blockquote")[0]

    follow_up = await bot.say(
        group,
        bob,
        "What shape should the candles be arranged in?",
        reply_to=mention.result["message_id"],
    )
    assert "in the shape of a heart" in entity_texts(follow_up.result, "blockquote")[0]

    original = tg.add_message(group, bob, "where do people gather with candles?")
    looked_up = await bot.say(group, alice, "/ask", reply_to=original["message_id"])
    assert entity_texts(looked_up.result, "blockquote")
    assert replied_to(looked_up) != original["message_id"]

    usage = await bot.say(group, alice, "/ask")
    assert "/ask" in usage.result["text"] and not entity_texts(usage.result, "blockquote")


async def test_group_ignores_chatter_and_other_bots(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    group = tg.group_chat(-1002, "Chatter")
    chatter = tg.add_message(group, alice, f"lol {DETAINED}")
    other_bot = tg.add_message(group, alice, f"/ask@OtherBot {DETAINED}")
    reply_to_human = tg.add_message(
        group, alice, DETAINED, reply_to_message_id=chatter["message_id"]
    )
    sticker = tg.add_sticker(group, alice)
    answered = await bot.say(group, alice, f"/ask {DETAINED}")
    await asyncio.sleep(0.3)  # updates are handled concurrently: give the others time
    assert answered.ok
    for ignored in (chatter, other_bot, reply_to_human, sticker):
        assert bot.replies_to(ignored) == []
    assert len(tg.sent_messages(group)) == 1


# ---- "More" and inline mode ---------------------------------------------------------------


async def test_more_pages_through_passages_and_forged_data_is_refused(
    start_bot: BotStarter,
) -> None:
    bot = await start_bot(answer_count=1)
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    sent = await bot.say(chat, alice, "What did Navalny's supporters do on Valentine's Day?")
    message = sent.result
    first_quote = entity_texts(message, "blockquote")
    assert len(first_quote) == 1
    more = button(message, "More")
    assert len(more["callback_data"].encode()) <= 64

    mark = tg.mark()
    query = tg.add_callback_query(alice, message, more["callback_data"])
    edit = await tg.wait_for("editMessageText", since=mark)
    assert edit.ok
    assert entity_texts(edit.result, "blockquote") != first_quote
    assert "Passage 2 of" in edit.result["text"]
    await tg.wait_for("answerCallbackQuery", since=mark)
    assert tg.callback_answers[query["id"]].get("text") is None

    back = button(edit.result, "‹")
    mark = tg.mark()
    tg.add_callback_query(alice, tg.message(chat, message["message_id"]), back["callback_data"])
    edit = await tg.wait_for("editMessageText", since=mark)
    assert entity_texts(edit.result, "blockquote") == first_quote

    stored = tg.message(chat, message["message_id"])
    for forged in ("more:AAAAAAAA:1", "more:x", "hello", more["callback_data"][:-1] + "9"):
        mark = tg.mark()
        forged_query = tg.add_callback_query(alice, stored, forged)
        await tg.wait_for("answerCallbackQuery", since=mark)
        assert tg.callback_answers[forged_query["id"]]["text"] == replies.EXPIRED

    # Valid data replayed from another chat finds nothing either.
    bob = tg.user(2, "Bob")
    bob_chat = tg.private_chat(bob)
    bobs = await bot.say(bob_chat, bob, OFF_TOPIC)
    mark = tg.mark()
    replayed = tg.add_callback_query(bob, bobs.result, more["callback_data"])
    await tg.wait_for("answerCallbackQuery", since=mark)
    assert tg.callback_answers[replayed["id"]]["text"] == replies.EXPIRED
    assert tg.calls("editMessageText", since=mark) == []


async def test_more_edits_the_page_even_if_the_button_answer_fails(
    start_bot: BotStarter,
) -> None:
    bot = await start_bot(answer_count=1)
    tg = bot.tg
    alice = tg.user(1, "Alice")
    sent = await bot.say(tg.private_chat(alice), alice, "what did navalny do")
    more = button(sent.result, "More")

    tg.fail_next("answerCallbackQuery", 400, description=f"Bad Request: {QUERY_TOO_OLD}")
    mark = tg.mark()
    tg.add_callback_query(alice, sent.result, more["callback_data"])
    edit = await tg.wait_for("editMessageText", since=mark)
    assert edit.ok and "Passage 2 of" in edit.result["text"]
    assert [r.status for r in tg.calls("answerCallbackQuery", since=mark)] == [400]


async def test_inline_query_offers_quotes(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    mark = tg.mark()
    query = tg.add_inline_query(alice, "how many people were detained")
    answer = await tg.wait_for("answerInlineQuery", since=mark)
    assert answer.ok
    results = answer.params["results"]
    assert 1 <= len(results) <= 3
    first = results[0]
    assert first["type"] == "article"
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert "<blockquote>" in content["message_text"] and "<a href=" in content["message_text"]
    assert "detained over 7,000 people" in content["message_text"]
    assert tg.inline_answers[query["id"]]["results"] == results

    mark = tg.mark()
    tg.add_inline_query(alice, "")
    empty = await tg.wait_for("answerInlineQuery", since=mark)
    assert empty.params["results"] == [] and empty.params["button"]["start_parameter"] == "ask"

    mark = tg.mark()
    tg.add_inline_query(alice, OFF_TOPIC)
    nothing = await tg.wait_for("answerInlineQuery", since=mark)
    assert nothing.params["results"] == [] and "Nothing" in nothing.params["button"]["text"]


async def test_inline_quotes_from_one_split_paragraph_get_distinct_ids(
    start_bot: BotStarter, tmp_path: Path, embedder: Embedder
) -> None:
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "2024-05-06-post-bridge.md").write_text(BRIDGE_ARTICLE, encoding="utf-8")
    _build(corpus, index_dir, embedder)
    bot = await start_bot(index_dir=index_dir)
    hits = bot.services.live.searcher.ask(BRIDGE_QUESTION, 3).passages
    places = {(h.doc_id, h.paragraph, h.highlight_start) for h in hits}
    assert len(hits) == 2 and len(places) == 1, "the corpus no longer splits as intended"

    mark = bot.tg.mark()
    bot.tg.add_inline_query(bot.tg.user(1, "Alice"), BRIDGE_QUESTION)
    answer = await bot.tg.wait_for("answerInlineQuery", since=mark)
    assert answer.ok, answer.description
    ids = [r["id"] for r in answer.params["results"]]
    assert len(ids) == 2 and len(set(ids)) == 2
    assert all(len(i.encode()) <= 64 for i in ids)


# ---- staying up ---------------------------------------------------------------------------


async def test_bot_rides_out_5xx_bursts_and_429(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)

    tg.fail_next("sendMessage", 502, count=3)
    sent = await bot.say(chat, alice, DETAINED, timeout=15)
    assert "detained over 7,000 people" in sent.result["text"]

    tg.flood("sendMessage", retry_after=1)
    sent = await bot.say(chat, alice, DETAINED, timeout=15)
    assert sent.ok
    statuses = [r.status for r in tg.calls("sendMessage")]
    assert statuses.count(502) == 3 and statuses.count(429) == 1

    tg.fail_next("getUpdates", 500, count=1)
    assert (await bot.say(chat, alice, DETAINED, timeout=15)).ok


async def test_an_exception_in_a_handler_gets_an_apology(
    bot: BotUnderTest, bot_logs: object
) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        tg.fail_next("sendMessage", 400, description="Bad Request: PEER_ID_INVALID")
        message = tg.add_message(chat, alice, "a secret question about the candles")
        apology = await bot.reply_to(message)
    finally:
        logging.getLogger().removeHandler(handler)
    assert apology.result["text"] == replies.APOLOGY
    lines = [r.getMessage() for r in records]
    assert any("BadRequest" in line and "failed" in line for line in lines)
    assert not any("secret question" in line for line in lines)
    other = tg.private_chat(tg.user(2, "Bob"))
    assert (await bot.say(other, tg.user(2, "Bob"), DETAINED)).ok


async def test_twenty_chats_at_once_are_all_answered(bot: BotUnderTest) -> None:
    tg = bot.tg
    questions = [DETAINED, "What shape should the candles be arranged in?"]
    messages = []
    mark = tg.mark()
    for n in range(20):
        user = tg.user(100 + n, f"Reader {n}")
        messages.append(tg.add_message(tg.private_chat(user), user, questions[n % 2]))
    await tg.wait_for_all("sendMessage", 20, lambda r: r.ok, timeout=30, since=mark)
    for n, message in enumerate(messages):
        (sent,) = bot.replies_to(message)
        want = "detained over 7,000 people" if n % 2 == 0 else "in the shape of a heart"
        assert want in entity_texts(sent.result, "blockquote")[0]
    assert bot.services.worker.stats.largest_batch > 1  # micro-batching happened


async def test_per_user_rate_limit(start_bot: BotStarter) -> None:
    bot = await start_bot(questions_per_minute=2)
    tg = bot.tg
    alice, bob = tg.user(1, "Alice"), tg.user(2, "Bob")
    group = tg.group_chat(-1003, "Busy")
    for _ in range(2):
        assert entity_texts((await bot.say(group, alice, f"/ask {DETAINED}")).result, "blockquote")
    limited = await bot.say(group, alice, f"/ask {DETAINED}")
    assert "2 questions a minute" in limited.result["text"]
    quiet = tg.add_message(group, alice, f"/ask {DETAINED}")
    answered = await bot.say(group, bob, f"/ask {DETAINED}")  # others are unaffected
    assert entity_texts(answered.result, "blockquote")
    await asyncio.sleep(0.2)
    assert bot.replies_to(quiet) == []  # told once, not on every message


# ---- index reloads ------------------------------------------------------------------------


def _build(corpus: Path, index_dir: Path, embedder: Embedder) -> None:
    build_index(corpus, index_dir, lambda: embedder, embedder.name)


async def _ask_until_answered(bot: BotUnderTest, chat: dict, user: dict, timeout: float) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        sent = await bot.say(chat, user, PENGUIN_QUESTION)
        if entity_texts(sent.result, "blockquote") or loop.time() > deadline:
            return sent.result
        await asyncio.sleep(0.2)


async def test_hot_reload_after_a_rebuild(
    start_bot: BotStarter, corpus_copy: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    _build(corpus_copy, index_dir, embedder)
    bot = await start_bot(index_dir=index_dir, questions_per_minute=100)
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    before = await bot.say(chat, alice, PENGUIN_QUESTION)
    assert before.result["text"].startswith(replies.NOT_FOUND)

    (corpus_copy / "2021-02-15-tomsk-penguin.md").write_text(PENGUIN_ARTICLE)
    await asyncio.to_thread(_build, corpus_copy, index_dir, embedder)
    after = await _ask_until_answered(bot, chat, alice, timeout=5)
    assert "frozen herring" in entity_texts(after, "blockquote")[0]
    sources = await bot.say(chat, alice, "/sources")
    assert "2 articles" in sources.result["text"]

    # A broken build is swapped in: the bot logs it and keeps serving what it has.
    broken = index_dir / "builds" / "broken"
    broken.mkdir()
    os.symlink("builds/broken", index_dir / "current.tmp")
    os.replace(index_dir / "current.tmp", index_dir / "current")
    await asyncio.sleep(0.6)
    still = await bot.say(chat, alice, PENGUIN_QUESTION)
    assert "frozen herring" in entity_texts(still.result, "blockquote")[0]


async def test_sighup_and_admin_reload(
    start_bot: BotStarter, corpus_copy: Path, tmp_path: Path, embedder: Embedder
) -> None:
    index_dir = tmp_path / "index"
    _build(corpus_copy, index_dir, embedder)
    bot = await start_bot(index_dir=index_dir, reload_interval=60.0, questions_per_minute=100)
    tg = bot.tg
    admin, reader = tg.user(ADMIN_ID, "Admin"), tg.user(7, "Reader")
    admin_chat, reader_chat = tg.private_chat(admin), tg.private_chat(reader)

    refused = await bot.say(reader_chat, reader, "/reload")
    assert refused.result["text"] == replies.ADMINS_ONLY
    same = await bot.say(admin_chat, admin, "/reload")
    assert same.result["text"].startswith("Already serving")

    (corpus_copy / "2021-02-15-tomsk-penguin.md").write_text(PENGUIN_ARTICLE)
    await asyncio.to_thread(_build, corpus_copy, index_dir, embedder)
    os.kill(os.getpid(), signal.SIGHUP)
    after = await _ask_until_answered(bot, reader_chat, reader, timeout=5)
    assert "frozen herring" in entity_texts(after, "blockquote")[0]

    (corpus_copy / "2021-02-15-tomsk-penguin.md").unlink()
    await asyncio.to_thread(_build, corpus_copy, index_dir, embedder)
    reloaded = await bot.say(admin_chat, admin, "/reload")
    assert (
        reloaded.result["text"].startswith("Now serving")
        and "1 article," in reloaded.result["text"]
    )


# ---- logs and webhook ---------------------------------------------------------------------


async def test_token_is_redacted_even_from_http_debug_logs(bot: BotUnderTest, bot_logs) -> None:
    tg = bot.tg
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    for name in quiet:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        alice = tg.user(1, "Alice")
        assert (await bot.say(tg.private_chat(alice), alice, DETAINED)).ok
    finally:
        for name, level in quiet.items():
            logging.getLogger(name).setLevel(level)
    text = bot_logs.getvalue()
    assert "/bot[token]/sendMessage" in text  # httpx logged the URL, redacted
    assert tg.token not in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_with_secret_token_refuses_what_is_not_an_update(
    fake_tg: FakeTelegram, seed_index: Path, embedder: Embedder, bot_logs
) -> None:
    settings = bot_settings(
        fake_tg, index_dir=seed_index, webhook_listen="127.0.0.1", webhook_port=_free_port()
    )
    options = webhook_options(settings, "https://bot.example.org/telegram/hook")
    assert options["url_path"] == "telegram/hook" and len(options["secret_token"]) >= 32
    async with running_bot(settings, embedder, webhook=options):
        assert fake_tg.webhook_url == "https://bot.example.org/telegram/hook"
        alice = fake_tg.user(1, "Alice")
        message = fake_tg.add_message(fake_tg.private_chat(alice), alice, DETAINED)
        update = {"update_id": 999, "message": message}
        url = f"http://127.0.0.1:{settings.webhook_port}/telegram/hook"
        async with httpx.AsyncClient() as client:
            forged = await client.post(url, json=update)
            assert forged.status_code == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": options["secret_token"]}
            accepted = await client.post(url, json=update, headers=headers)
            assert accepted.status_code == 200
            # Bodies that are not updates: 400 and one warning line each, no traceback.
            as_json = {**headers, "Content-Type": "application/json"}
            for body in (b"{not json", b"\xff\xfe", b"[1, 2]", b'{"update_id": "x"}'):
                refused = await client.post(url, content=body, headers=as_json)
                assert refused.status_code == 400, body
            not_json = await client.post(url, content=b"{}", headers=headers)
            assert not_json.status_code == 415
        sent = await fake_tg.wait_for(
            "sendMessage", lambda r: replied_to(r) == message["message_id"]
        )
        assert "detained over 7,000 people" in sent.result["text"]
    logs = bot_logs.getvalue()
    assert "Traceback" not in logs
    assert logs.count("webhook: refused a request that is not an update") == 4


async def test_whitespace_only_private_message_is_an_empty_question(bot: BotUnderTest) -> None:
    alice = bot.tg.user(1, "Alice")
    sent = await bot.say(bot.tg.private_chat(alice), alice, "   \n\t ")
    assert sent.result["text"].startswith("Send me a question about the story")
    assert "/ask" not in sent.result["text"]


async def test_each_question_is_logged_once_at_info_without_text_or_ids(
    bot: BotUnderTest, bot_logs
) -> None:
    alice = bot.tg.user(4242, "Alice")
    await bot.say(bot.tg.private_chat(alice), alice, DETAINED)
    await bot.say(bot.tg.private_chat(alice), alice, OFF_TOPIC)
    logged = bot_logs.getvalue().splitlines()
    lines = [line for line in logged if line.startswith("INFO bot.handlers: question")]
    assert len(lines) == 2
    assert "verdict answer" in lines[0] and "verdict none" in lines[1]
    assert all(" ms, private chat" in line for line in lines)
    assert not any("detained" in line or "France" in line or "4242" in line for line in lines)
