"""The bot's update handlers: commands, questions in private chats and groups, "More", inline.

Each handler is a small async function in the manner of PTB's examples; what they share (the
live index, the question worker, limits, recent answers) is one ``Services`` object kept in
``application.bot_data``. Edited messages are ignored on purpose: answering every edit again
would repeat answers in groups; a reader who edits a question can simply send it again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import living_texts, replies
from bot.answering import QuestionWorker
from bot.deeplinks import ASK, payload_question, question_link, question_payload
from bot.followup import (
    LAST,
    Earlier,
    combined_question,
    prefer_article,
    reads_as_follow_up,
    recent_question,
    remember_last,
)
from bot.language import LANGUAGES, choose_language
from bot.paging import AnswerCache, CachedAnswer, answer_keyboard, article_keyboard
from bot.question_record import AskedQuestion, QuestionRecord
from bot.ratelimit import RateLimiter
from bot.reloading import reload_index
from bot.retry import with_retries
from bot.settings import Settings
from bot.stats import stats_text
from bot.story import Story, StoryCache, newest_first
from bot.translations import Translator, translator
from bot.verdict import verdict_of
from index.errors import NewsbotError, QuestionError
from index.live import LiveSearcher
from index.search import Answer, Hit

log = logging.getLogger(__name__)

SERVICES = "newsbot"
ANSWERS = "answers"  # chat data key of the chat's recent answers (bot/paging.py)
PER_PAGE = "per_page"  # chat data key: passages per answer chosen in /settings
LANGUAGE = "language"  # chat data key: the chat's language last seen (for notifications)
CHOSEN_LANGUAGE = "chosen_language"  # chat data key: the language chosen in /settings
EXAMPLE_DATA = re.compile(r"example:([0-9])")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
INLINE_CACHE_SECONDS = 60

Context = ContextTypes.DEFAULT_TYPE


@dataclass
class Services:
    """What the handlers share: settings, the live index, the worker, limits, recent answers."""

    settings: Settings
    live: LiveSearcher
    worker: QuestionWorker
    limiter: RateLimiter
    inline_limiter: RateLimiter
    record: QuestionRecord
    stories: StoryCache = field(default_factory=StoryCache)


def services(context: Context) -> Services:
    """The ``Services`` of the application handling this update."""
    return context.bot_data[SERVICES]


def texts(update: Update, context: Context, question: str | None = None) -> Translator:
    """The reader's language: the one the chat chose in /settings, else the question's, else
    their Telegram language, else English."""
    chosen = context.chat_data.get(CHOSEN_LANGUAGE) if context.chat_data is not None else None
    if chosen in LANGUAGES:
        return translator(chosen)
    user = update.effective_user
    return translator(choose_language(question, user.language_code if user else None))


def chat_answers(context: Context) -> AnswerCache:
    """The answers this chat can page through, kept in its (persisted) chat data."""
    store = context.chat_data.setdefault(ANSWERS, {})
    return AnswerCache(store, services(context).settings.answers_per_chat)


def add_handlers(application: Application) -> None:
    """Register every handler and the error handler. New messages only: edits are ignored."""
    new = filters.UpdateType.MESSAGE
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    application.add_handlers(
        [
            CommandHandler("start", start, filters=new),
            CommandHandler("help", help_command, filters=new),
            CommandHandler("sources", sources, filters=new),
            CommandHandler("ask", ask_command, filters=new),
            CommandHandler("reload", reload_command, filters=new),
            CommandHandler("stats", stats_command, filters=new),
            CommandHandler("new", new_command, filters=new),
            CommandHandler("share", share_command, filters=new),
            MessageHandler(new & private & filters.COMMAND, unknown_command),
            MessageHandler(new & private & filters.TEXT, private_text),
            MessageHandler(new & groups & filters.TEXT & ~filters.COMMAND, group_text),
            MessageHandler(new & private & ~filters.TEXT & ~filters.StatusUpdate.ALL, non_text),
            CallbackQueryHandler(example_button, pattern=EXAMPLE_DATA),
            CallbackQueryHandler(more),
            InlineQueryHandler(inline_query),
        ]
    )
    application.add_error_handler(on_error)


# ---- commands ---------------------------------------------------------------------------------


async def start(update: Update, context: Context) -> None:
    """/start: what the bot knows and how to ask, with example questions as buttons; from a
    deep link (``/start <payload>``), the question it carries, or the usage hint."""
    payload = context.args[0] if context.args else ""
    question = payload_question(payload) if payload else None
    if question:
        await answer_question(update, context, question)
        return
    if payload == ASK:
        await send_usage(update, context, texts(update, context))
        return
    story = await current_story(services(context))
    t = texts(update, context)
    text = replies.start_text(story.articles, story.examples, context.bot.username, t)
    await reply(update, text, example_keyboard(story.examples))


def example_keyboard(examples: Sequence[str]) -> InlineKeyboardMarkup | None:
    """One button per example question; tapping it asks the question."""
    rows = [
        [InlineKeyboardButton(replies.clip(q, 60), callback_data=f"example:{n}")]
        for n, q in enumerate(examples[:10])
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def example_button(update: Update, context: Context) -> None:
    """An example button under /start: answer that example in the chat."""
    query = update.callback_query
    story = await current_story(services(context))
    match = EXAMPLE_DATA.fullmatch(query.data or "")
    n = int(match.group(1)) if match else len(story.examples)
    if n >= len(story.examples) or not isinstance(query.message, Message):
        await _answer_button(query, texts(update, context).gettext(replies.EXPIRED))
        return
    await _answer_button(query)
    await answer_question(update, context, story.examples[n])


async def share_command(update: Update, context: Context) -> None:
    """/share: a deep link that asks the chat's last question."""
    t = texts(update, context)
    last = context.chat_data.get(LAST) or {}
    question = last.get("question") if isinstance(last, dict) else None
    if not question:
        await reply(update, t.gettext(living_texts.NOTHING_TO_SHARE))
        return
    link = question_link(context.bot.username, question)
    await reply(update, living_texts.share_text(question, link, t))


async def help_command(update: Update, context: Context) -> None:
    """/help: how to ask in private chats, groups and inline."""
    settings = services(context).settings
    text = replies.help_text(
        context.bot.username,
        settings.questions_per_minute,
        settings.answer_count,
        texts(update, context),
    )
    await reply(update, text)


async def sources(update: Update, context: Context) -> None:
    """/sources: the indexed articles with links and dates."""
    data = services(context).live.searcher.data
    await reply(update, replies.sources_text(newest_first(data), texts(update, context)))


async def ask_command(update: Update, context: Context) -> None:
    """/ask <question>, or /ask as a reply to someone's message to look that message up."""
    message = update.effective_message
    question = _command_argument(message)
    target = message.reply_to_message
    if not question and target is not None and not _is_from(target, context.bot.id):
        question = target.text or target.caption or ""
    if not question.strip():
        await send_usage(update, context, texts(update, context))
        return
    await answer_question(update, context, question)


async def reload_command(update: Update, context: Context) -> None:
    """/reload (admins only): serve the newest index build now."""
    s = services(context)
    t = texts(update, context)
    if await _refused_unless_admin(update, s, t):
        return
    try:
        changed = await reload_index(s.live)
    except NewsbotError as exc:
        await reply(update, replies.reload_failed(str(exc), t))
        return
    data = s.live.searcher.data
    text = replies.reloaded(changed, len(data.articles), len(data.passages), data.build_id, t)
    await reply(update, text)


async def stats_command(update: Update, context: Context) -> None:
    """/stats (admins only): questions today, the share answered, the top unanswered."""
    s = services(context)
    t = texts(update, context)
    if await _refused_unless_admin(update, s, t):
        return
    stats = await s.record.stats()
    await reply(update, stats_text(stats, t))


async def _refused_unless_admin(update: Update, s: Services, t: Translator) -> bool:
    """Tell a non-admin politely that the command is for admins; True if they were told."""
    user = update.effective_user
    if user is not None and user.id in s.settings.admin_ids:
        return False
    await reply(update, t.gettext(replies.ADMINS_ONLY))
    return True


async def new_command(update: Update, context: Context) -> None:
    """/new: forget the previous question; the next message is a question of its own."""
    context.chat_data.pop(LAST, None)
    await reply(update, texts(update, context).gettext(living_texts.NEW_CONTEXT))


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have, in a private chat."""
    command = (update.effective_message.text or "").split()[0]
    await reply(update, replies.unknown_command(command, texts(update, context)))


# ---- questions --------------------------------------------------------------------------------


async def private_text(update: Update, context: Context) -> None:
    """In a private chat every text message is a question."""
    message = update.effective_message
    if _is_via(message, context.bot.id):
        return  # one of our own inline quotes, sent into the chat
    question = _strip_mention(message.text, context.bot.username)
    settings = services(context).settings
    earlier = replied_answer(message, context)
    if earlier is None and reads_as_follow_up(question, settings.followup_max_words):
        earlier = recent_question(context.chat_data, settings.followup_seconds)
    await answer_question(update, context, question, earlier)


async def group_text(update: Update, context: Context) -> None:
    """In a group: a message mentioning the bot, or a reply to one of its messages."""
    message = update.effective_message
    username = context.bot.username
    if _mentions(message, username):
        question = _strip_mention(message.text, username)
        if not question.strip():
            await send_usage(update, context, texts(update, context))
            return
    elif message.reply_to_message is not None and _is_from(
        message.reply_to_message, context.bot.id
    ):
        question = message.text
    else:
        return  # ordinary chatter
    await answer_question(update, context, question, replied_answer(message, context))


def replied_answer(message: Message, context: Context) -> Earlier | None:
    """The question of the bot's answer that ``message`` replies to, if it is still kept."""
    target = message.reply_to_message
    if target is None or not _is_from(target, context.bot.id):
        return None
    cached = chat_answers(context).by_message(target.message_id)
    if cached is None or not cached.hits:
        return None
    return Earlier(cached.question, cached.hits[0].doc_id)


async def non_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice and the like in a private chat get a one-line hint."""
    await reply(update, texts(update, context).gettext(replies.NON_TEXT))


async def answer_question(
    update: Update, context: Context, question: str, earlier: Earlier | None = None
) -> None:
    """Answer ``question`` as a reply to the message that asked it, within the user's limit;
    a follow-up of ``earlier`` is searched together with it, preferring its article."""
    started = time.monotonic()
    s = services(context)
    user = update.effective_user
    t = texts(update, context, question)
    verdict = s.limiter.check(user.id if user else 0)
    if not verdict.allowed:
        if verdict.notify:
            text = replies.rate_limited(s.limiter.per_window, verdict.retry_after, t)
            await reply(update, text)
        return
    if not question.strip():
        await send_usage(update, context, t)
        return
    await _typing(update, context)
    per_page = int(context.chat_data.get(PER_PAGE, s.settings.answer_count))
    try:
        answer, earlier = await _search(s, question, earlier, per_page * s.settings.max_pages)
    except QuestionError:
        await send_usage(update, context, t)
        return
    log_answer(answer, started, update.effective_chat.type)
    if not answer.answered:
        await reply(update, replies.not_found(answer.question, t))
    else:
        if earlier is not None:
            answer = prefer_article(answer, earlier.doc_id)
        related = verdict_of(answer) == "related"
        cached = CachedAnswer(
            update.effective_chat.id,
            answer.passages,
            per_page,
            t.language,
            related,
            answer.question,
            earlier.question if earlier else "",
        )
        remember_last(context.chat_data, answer)
        context.chat_data[LANGUAGE] = t.language
        answers = chat_answers(context)
        answer_id = answers.remember(cached)
        text = replies.answer_page(cached.hits, 0, per_page, t, related, _continuing(cached))
        sent = await reply(update, text, answer_keyboard(answer_id, cached, 0))
        answers.sent_as(answer_id, sent.message_id)
    chat = update.effective_chat
    s.record.add(
        AskedQuestion.of(
            answer,
            chat_type="private" if chat.type == chat.PRIVATE else "group",
            chat_id=chat.id,
            language=t.language,
            latency_ms=(time.monotonic() - started) * 1000,
        )
    )


async def _typing(update: Update, context: Context) -> None:
    # "typing…" while the answer is searched; only a courtesy, so a failure is just logged.
    try:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
    except TelegramError as exc:
        log.info("could not show typing: %s", exc)


async def _search(
    s: Services, question: str, earlier: Earlier | None, k: int
) -> tuple[Answer, Earlier | None]:
    """The answer with up to ``k`` passages, and the earlier question it continues if it does.
    A reply that reads as a question of its own is answered on its own when it can be."""
    if earlier is not None and not reads_as_follow_up(question, s.settings.followup_max_words):
        alone = await s.worker.ask(question, k)
        if alone.answered:
            return alone, None
    if earlier is None:
        return await s.worker.ask(question, k), None
    return await s.worker.ask(combined_question(earlier, question), k), earlier


def _continuing(cached: CachedAnswer) -> str:
    if not cached.continues:
        return ""
    return living_texts.continuing(cached.continues, cached.texts)


def log_answer(answer: Answer, started: float, chat_type: str) -> None:
    """One INFO line per question: the verdict, confidence, latency and chat type; never the
    question's text or who asked."""
    log.info(
        "question: verdict %s (confidence %.3f) in %.0f ms, %s chat",
        verdict_of(answer),
        answer.confidence,
        (time.monotonic() - started) * 1000,
        chat_type,
    )


async def send_usage(update: Update, context: Context, t: Translator) -> None:
    """How to ask, with an example the bot answers: the /ask usage line, except for an empty
    message in a private chat, where any message is a question."""
    story = await current_story(services(context))
    example = story.examples[0] if story.examples else None
    message, chat = update.effective_message, update.effective_chat
    command = message is not None and (message.text or "").lstrip().startswith("/")
    if chat is not None and chat.type == ChatType.PRIVATE and not command:
        await reply(update, replies.empty_question(example, t))
    else:
        await reply(update, replies.usage_text(example, t))


async def current_story(s: Services) -> Story:
    """The story of the build in service (example questions are checked once per build)."""
    data = s.live.searcher.data
    story = s.stories.cached(data)
    if story is None:
        examples = s.settings.example_questions
        answers = await s.worker.ask_many(examples, 1) if examples else []
        story = s.stories.remember(data, answers)
    return story


# ---- buttons and inline mode ------------------------------------------------------------------


async def more(update: Update, context: Context) -> None:
    """The "More"/"Back" buttons: show another page of the answer by editing the message."""
    query = update.callback_query
    message = query.message
    found = None
    if isinstance(message, Message):
        found = chat_answers(context).find(query.data, message.chat.id)
    if found is None:
        await _answer_button(query, texts(update, context).gettext(replies.EXPIRED))
        return
    answer_id, cached, page = found
    await _answer_button(query)
    text = replies.answer_page(
        cached.hits, page, cached.per_page, cached.texts, cached.related, _continuing(cached)
    )
    await edit_in_place(query, text, answer_keyboard(answer_id, cached, page))


async def edit_in_place(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """Replace the button's message with ``text`` and ``markup`` (HTML, no preview)."""
    try:
        await with_retries(
            lambda: query.edit_message_text(
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=markup,
            ),
            idempotent=True,
        )
    except BadRequest as exc:
        # A double tap, or a retry after a timeout whose edit had landed, shows the same text.
        if "not modified" not in str(exc).lower():
            raise


async def _answer_button(query: CallbackQuery, text: str | None = None) -> None:
    # Only stops the button's spinner (or shows ``text``): a failure, e.g. "query is too old"
    # after a slow answer, must not cost the reader the page edit.
    try:
        await with_retries(lambda: query.answer(text))
    except TelegramError as exc:
        log.warning("could not answer a button tap: %s", exc)


async def inline_query(update: Update, context: Context) -> None:
    """``@BotName question`` in any chat: the best passages, each inserting a quote."""
    started = time.monotonic()
    query = update.inline_query
    s = services(context)
    t = texts(update, context, query.query)
    if not query.query.strip():
        button = InlineQueryResultsButton(
            t.gettext("Type a question about the story"), start_parameter="ask"
        )
        await with_retries(
            lambda: query.answer(
                [], cache_time=INLINE_CACHE_SECONDS, is_personal=True, button=button
            )
        )
        return
    if not s.inline_limiter.check(query.from_user.id).allowed:
        button = InlineQueryResultsButton(
            t.gettext("Too many questions: wait a minute"), start_parameter="ask"
        )
        await with_retries(lambda: query.answer([], cache_time=0, is_personal=True, button=button))
        return
    try:
        answer = await s.worker.ask(query.query, s.settings.answer_count)
    except QuestionError:
        answer = None
    else:
        log_answer(answer, started, "inline")
    results = inline_results(answer.passages, t) if answer else []
    button = None
    if not results:
        button = InlineQueryResultsButton(
            t.gettext("Nothing in the coverage: try other words"),
            start_parameter=question_payload(query.query),
        )
    # Telegram caches answers per query text for everyone unless personal; the texts around
    # the quotes are in this reader's language.
    await with_retries(
        lambda: query.answer(
            results, cache_time=INLINE_CACHE_SECONDS, is_personal=True, button=button
        )
    )
    if answer is not None:
        # Inline queries arrive as the reader types: only the one they settle on is recorded.
        asked = AskedQuestion.of(
            answer,
            chat_type="inline",
            chat_id=query.from_user.id,
            language=t.language,
            latency_ms=(time.monotonic() - started) * 1000,
        )
        s.record.add_typing(query.from_user.id, asked)


def inline_results(hits: Sequence[Hit], t: Translator) -> list[InlineQueryResultArticle]:
    """One inline result per passage, ids unique within the answer (Telegram rejects the whole
    answer over one repeated id)."""
    results: dict[str, InlineQueryResultArticle] = {}
    for hit in hits:
        result = _inline_result(hit, t)
        results.setdefault(result.id, result)
    return list(results.values())


def _inline_result(hit: Hit, t: Translator) -> InlineQueryResultArticle:
    # The passage's place: a long paragraph is split into parts, so the paragraph alone is
    # not enough. Hashed to stay within Telegram's 64-byte id limit whatever the doc_id.
    key = f"{hit.doc_id}\n{hit.paragraph}\n{hit.part}"
    details = ", ".join(p for p in (hit.outlet, replies.nice_date(hit.published, t)) if p)
    return InlineQueryResultArticle(
        id=hashlib.sha256(key.encode()).hexdigest()[:32],
        title=replies.clip(hit.highlight or hit.text, 100) or t.gettext("Quote"),
        description=replies.clip(f"{details}: {hit.title}" if details else hit.title, 200),
        input_message_content=InputTextMessageContent(
            replies.quote_message(hit, t),
            parse_mode=ParseMode.HTML,
            link_preview_options=NO_PREVIEW,
        ),
        reply_markup=article_keyboard(hit, t),
    )


# ---- replies and errors -----------------------------------------------------------------------


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send ``text`` (HTML) as a reply to the update's message, without link previews,
    retrying through network errors and 5xx answers."""
    message = update.effective_message
    parameters = ReplyParameters(message.message_id, allow_sending_without_reply=True)
    return await with_retries(
        lambda: message.reply_html(
            text,
            reply_parameters=parameters,
            link_preview_options=NO_PREVIEW,
            reply_markup=markup,
        )
    )


async def on_error(update: object, context: Context) -> None:
    """Log which update failed and how (no message text, no traceback above DEBUG), and
    apologise in one line to whoever sent it."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("handling update %s failed: %s", update_id, type(error).__name__)
    log.debug("update %s failed", update_id, exc_info=error)
    if not isinstance(update, Update):
        return
    apology = texts(update, context).gettext(replies.APOLOGY)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(apology)
        elif update.effective_message is not None and update.effective_chat is not None:
            await reply(update, apology)
    except TelegramError as exc:
        log.warning("could not apologise for update %s: %s", update_id, type(exc).__name__)


# ---- message details --------------------------------------------------------------------------


def _command_argument(message: Message) -> str:
    """The text after the command (``/ask@Bot what?`` -> ``what?``)."""
    text = message.text or ""
    entity = message.entities[0] if message.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return text
    return text[entity.length :].strip()  # a command is ASCII: UTF-16 units are characters


def _mentions(message: Message, username: str) -> bool:
    mentions = message.parse_entities([MessageEntity.MENTION]).values()
    return any(m.lower() == f"@{username.lower()}" for m in mentions)


def _strip_mention(text: str | None, username: str) -> str:
    pattern = rf"(?<![\w@/])@{re.escape(username)}(?!\w)"
    return " ".join(re.sub(pattern, " ", text or "", flags=re.IGNORECASE).split())


def _is_from(message: Message, user_id: int) -> bool:
    return message.from_user is not None and message.from_user.id == user_id


def _is_via(message: Message, user_id: int) -> bool:
    return message.via_bot is not None and message.via_bot.id == user_id
