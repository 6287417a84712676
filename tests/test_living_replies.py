"""Richer replies and per-chat settings (issue 10), end to end against the strict fake."""

from __future__ import annotations

import html

import pytest

from bot import living_texts, replies
from bot.deeplinks import payload_question, question_payload
from bot.following import FOLLOW
from bot.translations import translator
from index.search import Hit
from index.store import ArticleInfo
from tests.bot_harness import ADMIN_ID, BotUnderTest, button, buttons, entity_texts
from tests.conftest import BotStarter
from tests.fake_telegram import ApiError, parse_message_text, validate_deep_link_payload

DETAINED = "How many people have been detained since the protests began?"


async def _tap(bot: BotUnderTest, user: dict, message: dict, data: str, method: str):
    mark = bot.tg.mark()
    bot.tg.add_callback_query(user, message, data)
    return await bot.tg.wait_for(method, since=mark)


async def test_start_examples_are_buttons_that_ask(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    start = await bot.say(chat, alice, "/start")
    examples = buttons(start.result)
    assert examples and all(b["callback_data"].startswith("example:") for b in examples)
    answer = await _tap(bot, alice, start.result, examples[0]["callback_data"], "sendMessage")
    assert entity_texts(answer.result, "blockquote")
    assert tg.descriptions[("description", "")] == living_texts.DESCRIPTION
    assert tg.descriptions[("short_description", "")] == living_texts.SHORT_DESCRIPTION


async def test_typing_is_shown_before_an_answer(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice")
    mark = tg.mark()
    await bot.say(tg.private_chat(alice), alice, DETAINED)
    methods = [r.method for r in tg.requests[mark:] if r.method != "getUpdates"]
    assert methods.index("sendChatAction") < methods.index("sendMessage")
    assert tg.calls("sendChatAction", mark)[0].params["action"] == "typing"


@pytest.mark.parametrize(
    "question",
    [DETAINED, "Сколько людей задержали?", "How many people have been detained since the "
     "protests began in late January in cities across Russia, and where?"],
)  # fmt: skip
def test_deep_link_payloads_fit_telegram(question: str) -> None:
    payload = question_payload(question)
    validate_deep_link_payload(payload)
    carried = payload_question(payload)
    assert carried == question or (carried and question.startswith(carried.split()[0]))


def test_the_fake_rejects_bad_payloads() -> None:
    for bad in ("", "a b", "x" * 65, "ask?", "привет"):
        with pytest.raises(ApiError):
            validate_deep_link_payload(bad)


async def test_deep_links_share_and_inline_button(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice, bob = tg.user(1, "Alice"), tg.user(2, "Bob")
    chat = tg.private_chat(alice)
    nothing = await bot.say(chat, alice, "/share")
    assert nothing.result["text"] == living_texts.NOTHING_TO_SHARE
    await bot.say(chat, alice, DETAINED)
    shared = await bot.say(chat, alice, "/share")
    link = next(u for u in entity_texts(shared.result, "text_link"))
    assert link.startswith("https://t.me/NewsTestBot?start=")
    payload = link.split("start=", 1)[1]

    opened = await bot.say(tg.private_chat(bob), bob, f"/start {payload}")
    assert "detained over 7,000 people" in entity_texts(opened.result, "blockquote")[0]
    usage = await bot.say(tg.private_chat(bob), bob, "/start ask")
    assert not entity_texts(usage.result, "blockquote") and "/start" not in usage.result["text"]

    mark = tg.mark()
    tg.add_inline_query(alice, "What is the capital of France?")
    answer = await tg.wait_for("answerInlineQuery", since=mark)
    start_parameter = answer.params["button"]["start_parameter"]
    assert payload_question(start_parameter) == "What is the capital of France?"


async def test_settings_buttons_change_passages_and_following(start_bot: BotStarter) -> None:
    bot = await start_bot(answer_count=3)
    tg = bot.tg
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    shown = await bot.say(chat, alice, "/settings")
    assert "Passages per answer: 3" in shown.result["text"]
    edit = await _tap(bot, alice, shown.result, "set:n:1", "editMessageText")
    assert "Passages per answer: 1" in edit.result["text"]
    edit = await _tap(bot, alice, edit.result, button(edit.result, "Tell me")["callback_data"],
                      "editMessageText")  # fmt: skip
    assert "new coverage: on" in edit.result["text"]
    assert bot.application.chat_data[chat["id"]][FOLLOW] is True
    answer = await bot.say(chat, alice, "What did Navalny's supporters do on Valentine's Day?")
    assert len(entity_texts(answer.result, "blockquote")) == 1
    assert button(answer.result, "More")


async def test_a_chat_can_choose_its_language_in_settings(bot: BotUnderTest) -> None:
    tg = bot.tg
    alice = tg.user(1, "Alice", language_code="en")
    chat = tg.private_chat(alice)
    shown = await bot.say(chat, alice, "/settings")
    assert "Language: Automatic" in shown.result["text"]
    edit = await _tap(bot, alice, shown.result, "set:lang:de", "editMessageText")
    de = translator("de")
    assert de.gettext("Settings for this chat") in edit.result["text"]
    assert button(edit.result, "• Deutsch •")
    answer = await bot.say(chat, alice, "What did Navalny's supporters do on Valentine's Day?")
    assert "14 Feb. 2021" in answer.result["text"]  # German around the English quote
    edit = await _tap(bot, alice, edit.result, "set:lang:auto", "editMessageText")
    assert "Language: Automatic" in edit.result["text"]


async def test_group_settings_are_for_admins(bot: BotUnderTest) -> None:
    tg = bot.tg
    bob, admin = tg.user(2, "Bob"), tg.user(ADMIN_ID, "Admin")
    group = tg.group_chat(-1009, "Readers")
    tg.set_admins(group["id"], [ADMIN_ID])
    refused = await bot.say(group, bob, "/settings")
    assert refused.result["text"] == living_texts.GROUP_ADMINS_ONLY
    shown = await bot.say(group, admin, "/settings")
    mark = tg.mark()
    query = tg.add_callback_query(bob, shown.result, "set:n:2")
    await tg.wait_for("answerCallbackQuery", since=mark)
    assert tg.callback_answers[query["id"]]["text"] == living_texts.GROUP_ADMINS_ONLY
    assert tg.calls("editMessageText", mark) == []
    edit = await _tap(bot, admin, shown.result, "set:n:2", "editMessageText")
    assert "Passages per answer: 2" in edit.result["text"]
    assert replies.EXPIRED != living_texts.SETTINGS_SAVED


def test_a_long_passage_keeps_the_rest_in_an_expandable_quote() -> None:
    sentences = [f"Sentence number {n} says something about the candles." for n in range(12)]
    text = " ".join(sentences)
    start = text.index(sentences[5])
    hit = Hit(text, sentences[5], start, start + len(sentences[5]), 1.0, 1.0, "T", "O",
              "https://example.org/a", "https://example.org/a", "", "d", 0, 0, "")  # fmt: skip
    visible, entities = parse_message_text(replies.answer_page([hit], 0, 1), "HTML", None)
    kinds = [e["type"] for e in entities]
    assert kinds[:3] == ["blockquote", "bold", "expandable_blockquote"]
    quote, _, rest = (visible[e["offset"] : e["offset"] + e["length"]] for e in entities[:3])
    assert quote == f"…{sentences[4]} {sentences[5]}"
    assert rest == " ".join(sentences[6:])
    short = Hit(sentences[0], sentences[0], 0, len(sentences[0]), 1.0, 1.0, "T", "O", "", "",
                "", "d", 0, 0, "")  # fmt: skip
    _, entities = parse_message_text(replies.answer_page([short], 0, 1), "HTML", None)
    assert "expandable_blockquote" not in [e["type"] for e in entities]


@pytest.mark.parametrize(
    "html",
    [
        "<blockquote expandible>a</blockquote>",
        "<blockquote><blockquote expandable>a</blockquote></blockquote>",
        "<b expandable>a</b>",
        "<blockquote expandable>a",
    ],
)
def test_the_fake_rejects_malformed_expandable_quotes(html: str) -> None:
    with pytest.raises(ApiError, match="can't parse entities"):
        parse_message_text(html, "HTML", None)


def test_notifications_and_latest_come_in_the_chats_language() -> None:
    article = ArticleInfo(
        "spb", "Candles in courtyards", "Fontanka", "https://example.org/a", "2021-02-14",
        "en", "0", 3,
    )  # fmt: skip
    ru = translator("ru")
    text = living_texts.new_coverage_text([(article, "Hundreds lit candles.")], ru)
    assert text.startswith(ru.gettext("New coverage of the story:"))
    assert ru.gettext("What's new:") in text and "14 февр. 2021" in text
    assert "Hundreds lit candles." in text  # the quote stays in the article's language
    latest = living_texts.latest_text([article], translator("fr"))
    assert html.unescape(latest).startswith("L'article le plus récent :")
