"""Following the story in Telegram: the feed check on PTB's JobQueue, /follow, /unfollow,
/latest, and one notification per check to every following chat.

A chat follows when its chat data says so (``FOLLOW``); chat data is persisted in the state
file, so follows survive restarts. A check runs the add-feed pipeline and the incremental
build in a thread and serves the new build at once. Whenever a build with new articles comes
into service (from the bot's own check, ``newsbot watch``, ``newsbot add`` or /reload), the
``CoverageNotifier`` tells followers what each new article adds (index/novelty.py). Sends go
through PTB's rate limiter (under 30 messages/s overall, 429s waited out); a chat that blocked
or removed the bot (403) stops following.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot import living_texts as living
from bot.handlers import (
    CHOSEN_LANGUAGE,
    LANGUAGE,
    NO_PREVIEW,
    SERVICES,
    Services,
    reply,
    services,
    texts,
)
from bot.language import ENGLISH
from bot.reloading import reload_index
from bot.retry import with_retries
from bot.story import newest_first
from bot.translations import translator
from bot.watching import FeedCheck, check_feeds
from index.errors import NewsbotError
from index.novelty import whats_new
from index.store import ArticleInfo, IndexData

log = logging.getLogger(__name__)

FOLLOW = "follow"  # chat data key: True while the chat follows the story
FEED_JOB = "newsbot-feeds"
NOTIFIER = "newsbot.notifier"
ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

Context = ContextTypes.DEFAULT_TYPE
News = tuple[ArticleInfo, str]  # a new article and what is new in it


def add_following(application: Application) -> None:
    """Register /follow, /unfollow, /latest and, when feeds are configured, the feed check."""
    new = filters.UpdateType.MESSAGE
    application.add_handlers(
        [
            CommandHandler("follow", follow, filters=new),
            CommandHandler("unfollow", unfollow, filters=new),
            CommandHandler("latest", latest, filters=new),
        ],
        group=-1,  # before the catch-all "unknown command", which ApplicationHandlerStop skips
    )
    s: Services = application.bot_data[SERVICES]
    application.bot_data[NOTIFIER] = CoverageNotifier(application, s.settings.reload_interval)
    if s.settings.feeds and application.job_queue is not None:
        application.job_queue.run_repeating(
            feed_job, s.settings.feed_interval, first=s.settings.feed_interval, name=FEED_JOB
        )


async def follow(update: Update, context: Context) -> None:
    """/follow: this chat gets a message when new coverage arrives (groups: admins only)."""
    await _set_following(update, context, True)
    raise ApplicationHandlerStop


async def unfollow(update: Update, context: Context) -> None:
    """/unfollow: no more messages about new coverage (groups: admins only)."""
    await _set_following(update, context, False)
    raise ApplicationHandlerStop


async def _set_following(update: Update, context: Context, on: bool) -> None:
    s = services(context)
    user = update.effective_user
    verdict = s.limiter.check(user.id if user else 0)
    if not verdict.allowed:
        return  # a flood of /follow: the state is already set, no need to answer each
    t = texts(update, context)
    if not await may_change_chat(update, context):
        await reply(update, t.gettext(living.GROUP_ADMINS_ONLY))
        return
    was = bool(context.chat_data.get(FOLLOW))
    context.chat_data[FOLLOW] = on
    context.chat_data[LANGUAGE] = t.language  # notifications come in this language
    if on:
        await reply(update, t.gettext(living.ALREADY_FOLLOWING if was else living.FOLLOWING))
    else:
        await reply(update, t.gettext(living.UNFOLLOWED if was else living.NOT_FOLLOWING))


async def may_change_chat(update: Update, context: Context) -> bool:
    """Whether the sender may change this chat's settings: anyone in a private chat, the
    admins in a group (an anonymous admin posts as the group itself)."""
    chat = update.effective_chat
    message = update.effective_message
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await with_retries(lambda: context.bot.get_chat_member(chat.id, user.id))
    except TelegramError as exc:
        log.warning("could not check admin rights in chat %s: %s", chat.id, exc)
        return False
    return member.status in ADMIN_STATUSES


async def latest(update: Update, context: Context) -> None:
    """/latest: the newest articles (title, outlet, date, link)."""
    s = services(context)
    articles = newest_first(s.live.searcher.data)[: s.settings.latest_count]
    await reply(update, living.latest_text(articles, texts(update, context)))
    raise ApplicationHandlerStop


async def feed_job(context: Context) -> None:
    """The JobQueue's feed check: add, build, serve, notify. Never raises."""
    try:
        await check_and_notify(context.application)
    except Exception:
        log.exception("feed check failed; retried next time")


async def check_and_notify(application: Application) -> FeedCheck:
    """One feed check from the bot: add and build in a thread, serve the new build, and send
    each following chat one message about the articles added."""
    s: Services = application.bot_data[SERVICES]
    check = await asyncio.to_thread(check_feeds, s.settings, s.live.embedder)
    if not check.added or check.build is None:
        return check
    try:
        await reload_index(s.live)
    except NewsbotError as exc:
        log.warning("new articles added but the new index is not served: %s", exc)
        return check
    await application.bot_data[NOTIFIER].check()
    return check


class CoverageNotifier:
    """Watches which build is in service; when one with new articles arrives, every
    following chat gets one message about them."""

    def __init__(self, application: Application, interval: float) -> None:
        self._application = application
        self._interval = interval
        self._seen: IndexData | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching (in the running event loop) from the build in service now."""
        self._seen = self._services.live.searcher.data
        self._task = asyncio.create_task(self._watch(), name="newsbot-coverage-notifier")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def _services(self) -> Services:
        return self._application.bot_data[SERVICES]

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.check()
            except Exception:
                log.exception("telling followers about new coverage failed")

    async def check(self) -> None:
        """Notify followers once about the articles of a newly served build, if any."""
        async with self._lock:
            current = self._services.live.searcher.data
            previous = self._seen
            if previous is None or current is previous:
                return
            self._seen = current
            added = [a.doc_id for a in newest_first(current) if a.doc_id not in previous.articles]
            if not added:
                return
            items = await asyncio.to_thread(_news, previous, current, self._services, added)
            if items:
                await notify_followers(self._application, items)


def _news(previous: IndexData, current: IndexData, s: Services, added: Sequence[str]) -> list[News]:
    """Each new article with its least-covered passage ("" when none stands out)."""
    news = whats_new(previous, current, added)
    return [
        (current.articles[doc_id], news[doc_id].passage.text if doc_id in news else "")
        for doc_id in added
        if doc_id in current.articles
    ]


def followers(application: Application) -> list[int]:
    """The chats that follow the story."""
    return [chat_id for chat_id, data in application.chat_data.items() if data.get(FOLLOW)]


async def notify_followers(application: Application, items: Sequence[News]) -> int:
    """Tell every following chat about ``items``, in the chat's language; return how many
    chats got it. A chat that answers 403 (blocked, kicked, deleted) stops following; other
    failures are logged."""
    sent = 0
    for chat_id in followers(application):
        data = application.chat_data[chat_id]
        language = data.get(CHOSEN_LANGUAGE) or data.get(LANGUAGE, ENGLISH)
        text = living.new_coverage_text(items, translator(str(language)))
        try:
            await with_retries(
                lambda chat_id=chat_id, text=text: application.bot.send_message(
                    chat_id, text, parse_mode="HTML", link_preview_options=NO_PREVIEW
                )
            )
            sent += 1
        except Forbidden as exc:
            log.info("chat %s stops following: %s", chat_id, exc)
            application.chat_data[chat_id][FOLLOW] = False
            application.mark_data_for_update_persistence(chat_ids=chat_id)
        except TelegramError as exc:
            log.warning("could not tell chat %s about new coverage: %s", chat_id, exc)
    return sent
