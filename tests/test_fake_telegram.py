"""Tests of the fake Bot API server, driven through python-telegram-bot and raw HTTP."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import telegram
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter

from tests.fake_telegram import (
    ApiError,
    FakeTelegram,
    auto_entities,
    parse_html,
    utf16_len,
    validate_html,
)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(tg.token, base_url=tg.base_url) as client:
        yield client


def api_url(tg: FakeTelegram, method: str) -> str:
    return f"{tg.base_url}{tg.token}/{method}"


def raises_bad_request(text: str) -> pytest.RaisesExc:
    """PTB strips "Bad Request: " and applies str.capitalize(), so match case-insensitively."""
    return pytest.raises(BadRequest, match="(?i)" + re.escape(text))


# ---- validate_html table -------------------------------------------------------------------

VALID_HTML = [
    ("plain text", "plain text"),
    ("<b>bold</b> and <strong>strong</strong>", "bold and strong"),
    ("<i>i</i><em>em</em><u>u</u><ins>ins</ins><s>s</s><strike>x</strike><del>d</del>", None),
    ('<span class="tg-spoiler">hidden</span> <tg-spoiler>too</tg-spoiler>', "hidden too"),
    ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link"),
    ("<code>x &lt; y</code>", "x < y"),
    ('<pre><code class="language-python">print(1)</code></pre>', "print(1)"),
    ("<blockquote>quote</blockquote>", "quote"),
    ("<blockquote expandable>long quote</blockquote>", "long quote"),
    ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ("&lt;&gt;&amp;&quot;&#65;&#x42;", '<>&"AB'),
    ("<B>upper</B>", "upper"),
    ("<b><i>nested</i></b>", "nested"),
    ("a > b", "a > b"),
]

INVALID_HTML = [
    ("<p>para</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("Tom & Jerry", 'Character "&" must be escaped as "&amp;" at byte offset 4'),
    ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
    ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
    ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<blockquote>a<blockquote>b</blockquote></blockquote>", "Blockquote entities can't be"),
    ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ("<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have attribute "emoji-id"'),
    ("<a href=https://x.org>l</a>", "Unexpected end of name token at byte offset 8"),
    ("é<p>", 'Unsupported start tag "p" at byte offset 2'),  # byte, not character, offset
    ("<b", "Unclosed start tag at byte offset 0"),
    ('<a href="x>', 'Unclosed start tag "a" at byte offset 0'),
]


@pytest.mark.parametrize(("html", "visible"), VALID_HTML)
def test_validate_html_accepts(html: str, visible: str | None) -> None:
    result = validate_html(html)
    if visible is not None:
        assert result == visible


@pytest.mark.parametrize(("html", "message"), INVALID_HTML)
def test_validate_html_rejects(html: str, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        validate_html(html)
    assert caught.value.error_code == 400
    assert caught.value.description.startswith("Bad Request: can't parse entities: ")
    assert message in caught.value.description


def test_parse_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_html('😀 <b>bold</b> <a href="https://e.org">l</a>')
    assert text == "😀 bold l"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 1, "url": "https://e.org"},
    ]
    assert utf16_len("😀") == 2


def test_parse_html_pre_language_and_expandable() -> None:
    _, entities = parse_html(
        '<pre><code class="language-py">x</code></pre><blockquote expandable>q</blockquote>'
    )
    assert entities == [
        {"type": "pre", "offset": 0, "length": 1, "language": "py"},
        {"type": "expandable_blockquote", "offset": 1, "length": 1},
    ]


def test_auto_entities_commands_and_mentions() -> None:
    assert auto_entities("😀 /help@NewsTestBot hi @someone, /x") == [
        {"type": "bot_command", "offset": 3, "length": 17},
        {"type": "mention", "offset": 24, "length": 8},
        {"type": "bot_command", "offset": 34, "length": 2},
    ]
    assert auto_entities("a/b email@example.com @abc") == []


# ---- PTB over real HTTP --------------------------------------------------------------------


async def test_get_me_with_ptb(tg: FakeTelegram, bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "NewsTestBot" and me.id == tg.bot_id
    assert me.supports_inline_queries and not me.can_read_all_group_messages
    assert tg.calls("getMe") and tg.rejected == []


async def test_long_polling_returns_early_and_honours_offset(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    alice = tg.user(1, "Alice", "alice")
    chat = tg.private_chat(alice)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    first = tg.add_message(chat, alice, "/ask@NewsTestBot what happened?")
    updates = await poll
    assert time.monotonic() - started < 2
    assert len(updates) == 1
    message = updates[0].message
    assert message.text == first["text"] and message.chat.id == 1
    assert message.entities[0].type == "bot_command"
    assert message.entities[0].offset == 0 and message.entities[0].length == 16
    assert message.parse_entities()[message.entities[0]] == "/ask@NewsTestBot"

    # Not yet confirmed: delivered again.  Confirming with offset removes it.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]
    second = tg.add_message(chat, alice, "more", reply_to_message_id=first["message_id"])
    later = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert [u.message.text for u in later] == ["more"]
    assert later[0].message.reply_to_message.message_id == first["message_id"]
    assert second["reply_to_message"]["text"] == first["text"]

    started = time.monotonic()
    assert await bot.get_updates(offset=later[0].update_id + 1, timeout=1) == ()
    assert 0.9 < time.monotonic() - started < 3


async def test_send_valid_html_and_reply(tg: FakeTelegram, bot: telegram.Bot) -> None:
    alice = tg.user(1, "Alice")
    chat = tg.private_chat(alice)
    asked = tg.add_message(chat, alice, "hi")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
    sent = await bot.send_message(
        1,
        "<b>Answer</b> &amp; <i>source</i>",
        parse_mode="HTML",
        reply_parameters=ReplyParameters(asked["message_id"]),
        reply_markup=keyboard,
    )
    assert sent.text == "Answer & source"
    assert sent.from_user.id == tg.bot_id and sent.reply_to_message.message_id == 1
    assert sent.text_html == "<b>Answer</b> &amp; <i>source</i>"
    assert sent.reply_markup == keyboard
    record = await tg.wait_for("sendMessage")
    assert record.ok and record.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "More"
    assert record.params["reply_parameters"] == {"message_id": 1}
    assert [m["text"] for m in tg.sent_messages(chat)] == ["Answer & source"]

    edited = await bot.edit_message_text("New", chat_id=1, message_id=sent.message_id)
    assert edited.text == "New" and edited.reply_markup is None
    assert tg.sent_messages(1)[0]["text"] == "New"
    with raises_bad_request("message is not modified"):
        await bot.edit_message_text("New", chat_id=1, message_id=sent.message_id)
    assert await bot.delete_message(1, sent.message_id)
    assert tg.sent_messages(1) == [] and tg.deleted_messages[0]["text"] == "New"


@pytest.mark.parametrize(
    ("kwargs", "description"),
    [
        ({"text": "<p>x</p>", "parse_mode": "HTML"}, 'Unsupported start tag "p" at byte offset 0'),
        ({"text": "Q&A", "parse_mode": "HTML"}, 'Character "&" must be escaped'),
        ({"text": "<b>open", "parse_mode": "HTML"}, "Can't find end tag"),
        (
            {"text": "<blockquote><blockquote>x</blockquote></blockquote>", "parse_mode": "HTML"},
            "Blockquote entities can't be nested",
        ),
        ({"text": "x" * 4097}, "Bad Request: message is too long"),
        ({"text": "😀" * 2049}, "Bad Request: message is too long"),  # 4098 UTF-16 units
        ({"text": "<b></b>  ", "parse_mode": "HTML"}, "Bad Request: message text is empty"),
        ({"text": ""}, "Bad Request: message text is empty"),
        (
            {
                "text": "x",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("b", callback_data="d" * 65)]]
                ),
            },
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {
                "text": "x",
                "reply_markup": InlineKeyboardMarkup(
                    [[InlineKeyboardButton("b", url="ftp://example.com")]]
                ),
            },
            "Unsupported URL protocol",
        ),
        (
            {"text": "x", "reply_parameters": ReplyParameters(999)},
            "Bad Request: message to be replied not found",
        ),
    ],
)
async def test_send_message_rejections(
    tg: FakeTelegram, bot: telegram.Bot, kwargs: dict, description: str
) -> None:
    tg.private_chat(tg.user(1, "Alice"))
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(1, **kwargs)
    # PTB drops "Bad Request: " and capitalises the first letter
    assert description.removeprefix("Bad Request: ").lower() in str(caught.value).lower()
    assert len(tg.rejected) == 1
    assert tg.rejected[0].status == 400 and description in tg.rejected[0].description
    assert tg.sent_messages(1) == []


async def test_limits_at_the_edge_pass(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.private_chat(tg.user(1, "Alice"))
    await bot.send_message(1, "x" * 4096)
    await bot.send_message(1, "&lt;" * 4096, parse_mode="HTML")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d" * 64)]])
    await bot.send_message(1, "x", reply_markup=keyboard)
    await bot.send_message(
        1, "x", reply_parameters=ReplyParameters(99, allow_sending_without_reply=True)
    )
    assert tg.rejected == []


async def test_unknown_chat_and_unknown_method(tg: FakeTelegram, bot: telegram.Bot) -> None:
    with raises_bad_request("chat not found"):
        await bot.send_message(42, "hello")
    async with httpx.AsyncClient() as client:
        response = await client.post(api_url(tg, "sendCarrierPigeon"), data={"x": "1"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_set_my_commands_validation(tg: FakeTelegram, bot: telegram.Bot) -> None:
    assert await bot.set_my_commands([("ask", "Ask about the story"), ("help", "Help")])
    assert [c.command for c in await bot.get_my_commands()] == ["ask", "help"]
    for bad, description in [
        ([("/ask", "slash")], "BOT_COMMAND_INVALID"),
        ([("Ask", "upper")], "BOT_COMMAND_INVALID"),
        ([("a" * 33, "long")], "BOT_COMMAND_INVALID"),
        ([(f"c{i}", "d") for i in range(101)], "BOT_COMMAND_INVALID"),
        ([("ask", "")], "BOT_COMMAND_DESCRIPTION_INVALID"),
        ([("ask", "d" * 257)], "BOT_COMMAND_DESCRIPTION_INVALID"),
    ]:
        with raises_bad_request(description):
            await bot.set_my_commands(bad)
    assert len(tg.rejected) == 6
    scope = telegram.BotCommandScopeAllGroupChats()
    assert await bot.set_my_commands([("ask", "Ask")], scope=scope)
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["ask"]
    assert len(await bot.get_my_commands()) == 2


async def test_commands_and_descriptions_per_language(tg: FakeTelegram, bot: telegram.Bot) -> None:
    assert await bot.set_my_commands([("help", "How to ask me")])
    assert await bot.set_my_commands([("help", "Как задавать вопросы")], language_code="ru")
    assert tg.commands[(json.dumps({"type": "default"}), "ru")] == [
        {"command": "help", "description": "Как задавать вопросы"}
    ]
    ru = await bot.get_my_commands(language_code="ru")
    assert [c.description for c in ru] == ["Как задавать вопросы"]
    assert [c.description for c in await bot.get_my_commands()] == ["How to ask me"]
    assert await bot.get_my_commands(language_code="de") == ()
    assert await bot.set_my_description("Ich zitiere die Berichterstattung.", language_code="de")
    assert tg.descriptions[("description", "de")] == "Ich zitiere die Berichterstattung."
    for bad in ("en-US", "RU", "rus", "1a"):
        with raises_bad_request("invalid language_code"):
            await bot.set_my_commands([("help", "Help")], language_code=bad)
        with raises_bad_request("invalid language_code"):
            await bot.set_my_short_description("Short", language_code=bad)
    assert len(tg.rejected) == 8


async def test_answer_inline_query_limits(tg: FakeTelegram, bot: telegram.Bot) -> None:
    alice = tg.user(1, "Alice")

    def article(result_id: str, text: str = "answer") -> telegram.InlineQueryResultArticle:
        content = telegram.InputTextMessageContent(text, parse_mode="HTML")
        return telegram.InlineQueryResultArticle(result_id, "Title", content)

    too_many = tg.add_inline_query(alice, "election")
    with raises_bad_request("RESULTS_TOO_MUCH"):
        await bot.answer_inline_query(too_many["id"], [article(str(i)) for i in range(51)])
    for results, description in [
        ([article("x" * 65)], "RESULT_ID_INVALID"),
        ([article("1"), article("1")], "RESULT_ID_DUPLICATE"),
        ([article("1", "<p>no</p>")], 'Unsupported start tag "p"'),
        ([article("1", "y" * 4097)], "message is too long"),
    ]:
        with raises_bad_request(description):
            await bot.answer_inline_query(too_many["id"], results)
    assert await bot.answer_inline_query(too_many["id"], [article(str(i)) for i in range(50)])
    assert len(tg.inline_answers[too_many["id"]]["results"]) == 50
    with raises_bad_request("query is too old"):
        await bot.answer_inline_query(too_many["id"], [])


async def test_callback_query_answer(tg: FakeTelegram, bot: telegram.Bot) -> None:
    alice = tg.user(1, "Alice")
    tg.private_chat(alice)
    sent = await bot.send_message(1, "pick")
    query = tg.add_callback_query(alice, tg.sent_messages(1)[0], "more:1")
    (update,) = await bot.get_updates(timeout=0)
    assert update.callback_query.data == "more:1"
    assert update.callback_query.message.message_id == sent.message_id
    with raises_bad_request("MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query["id"], text="t" * 201)
    assert await bot.answer_callback_query(query["id"], text="ok")
    assert tg.callback_answers[query["id"]]["text"] == "ok"


async def test_other_updates_parse_in_ptb(tg: FakeTelegram, bot: telegram.Bot) -> None:
    alice = tg.user(1, "Alice")
    group = tg.group_chat(-1001, "News fans")
    tg.add_sticker(group, alice)
    tg.add_photo(group, alice, caption="look @NewsTestBot")
    original = tg.add_message(group, alice, "hello")
    tg.add_edited_message(original, "hello again")
    updates = await bot.get_updates(timeout=0)
    assert updates[0].message.sticker.emoji == "👍"
    assert updates[1].message.photo[-1].width == 800
    assert updates[1].message.caption_entities[0].type == "mention"
    assert updates[3].edited_message.text == "hello again"
    assert [u.update_id for u in updates] == sorted(u.update_id for u in updates)


async def test_fail_next_then_success(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.private_chat(tg.user(1, "Alice"))
    tg.fail_next("sendMessage", status=502, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(1, "hi")
    assert (await bot.send_message(1, "hi")).text == "hi"
    assert [r.status for r in tg.calls("sendMessage")] == [502, 502, 200]
    assert tg.rejected == []  # injected faults are not validation rejections
    tg.fail_next(None, status=500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.get_me()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_gives_retry_after(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.private_chat(tg.user(1, "Alice"))
    tg.flood("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "hi")
    assert caught.value.message == "Flood control exceeded. Retry in 3 seconds"
    record = tg.calls("sendMessage")[0]
    assert record.status == 429 and record.injected
    assert record.response["parameters"] == {"retry_after": 3}
    assert record.description == "Too Many Requests: retry after 3"
    assert (await bot.send_message(1, "hi")).text == "hi"


async def test_invalid_token(tg: FakeTelegram) -> None:
    tg.set_token_valid(False)
    with pytest.raises(InvalidToken):
        await telegram.Bot(tg.token, base_url=tg.base_url).initialize()
    assert tg.requests[-1].status == 401 and tg.requests[-1].description == "Unauthorized"
    with pytest.raises(InvalidToken):
        await telegram.Bot("999:other-token", base_url=tg.base_url).initialize()


async def test_raw_http_json_get_and_form(tg: FakeTelegram) -> None:
    tg.private_chat(tg.user(1, "Alice"))
    async with httpx.AsyncClient() as client:
        me = await client.get(api_url(tg, "getMe"))
        assert me.json()["result"]["is_bot"] is True
        by_json = await client.post(api_url(tg, "sendMessage"), json={"chat_id": 1, "text": "j"})
        assert by_json.json()["result"]["text"] == "j"
        by_query = await client.get(api_url(tg, "sendMessage"), params={"chat_id": 1, "text": "q"})
        assert by_query.json()["result"]["message_id"] == 2
        markup = json.dumps({"inline_keyboard": [[{"text": "only text"}]]})
        form = await client.post(
            api_url(tg, "sendMessage"), data={"chat_id": "1", "text": "f", "reply_markup": markup}
        )
        assert form.status_code == 400
        assert "Text buttons are unallowed" in form.json()["description"]
    assert tg.rejected[0].params["reply_markup"] == {"inline_keyboard": [[{"text": "only text"}]]}
    assert tg.rejected[0].params["chat_id"] == 1


async def test_wait_for_since_and_timeout_report(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.private_chat(tg.user(1, "Alice"))
    await bot.send_message(1, "first")
    mark = tg.mark()
    later = asyncio.create_task(tg.wait_for("sendMessage", since=mark, timeout=2))
    await asyncio.sleep(0.05)
    await bot.send_message(1, "second")
    assert (await later).result["text"] == "second"
    both = await tg.wait_for_all("sendMessage", 2, lambda r: r.ok)
    assert [r.params["text"] for r in both] == ["first", "second"]
    with pytest.raises(AssertionError, match=r"sendMessage\(200\)"):
        await tg.wait_for("sendMessage", lambda r: r.params["text"] == "never", timeout=0.2)


async def test_second_poller_conflicts_and_webhook_blocks_polling(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    # A second bot instance (PTB allows one getUpdates at a time per Bot object).
    async with httpx.AsyncClient() as client:
        second = await client.post(api_url(tg, "getUpdates"), data={"timeout": "0"})
    assert second.json() == {"ok": True, "result": []}
    with pytest.raises(telegram.error.Conflict, match="terminated by other getUpdates"):
        await first
    await bot.set_webhook("https://example.com/hook")
    with pytest.raises(telegram.error.Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_ptb_application_end_to_end(tg: FakeTelegram) -> None:
    """A PTB Application polling the fake answers a command; shutdown stays fast."""
    from telegram.ext import ApplicationBuilder, CommandHandler

    async def ask(update: telegram.Update, context: object) -> None:
        text = f"<b>You asked:</b> {update.message.text[5:]}"
        await update.message.reply_html(text, do_quote=True)

    app = ApplicationBuilder().token(tg.token).base_url(tg.base_url).build()
    app.add_handler(CommandHandler("ask", ask))
    alice = tg.user(7, "Alice")
    chat = tg.private_chat(alice)
    started = time.monotonic()
    async with app:
        await app.start()
        await app.updater.start_polling(timeout=5)
        question = tg.add_message(chat, alice, "/ask who won")
        reply = await tg.wait_for("sendMessage", timeout=5)
        await app.updater.stop()
        await app.stop()
    assert reply.ok, reply.response
    assert reply.result["text"] == "You asked: who won"
    assert reply.result["reply_to_message"]["message_id"] == question["message_id"]
    assert time.monotonic() - started < 4
    assert tg.rejected == [] and tg.internal_errors == []
