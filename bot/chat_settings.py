"""/settings: a chat's own choices with inline buttons — passages per answer (1-5), the
language of the bot's texts (automatic: the question's or the reader's Telegram language) and
following new coverage. In groups only admins may change them. Kept in chat data, so they
survive restarts (bot/persistence.py)."""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot import living_texts as living
from bot.following import FOLLOW, may_change_chat
from bot.handlers import (
    CHOSEN_LANGUAGE,
    LANGUAGE,
    PER_PAGE,
    _answer_button,
    edit_in_place,
    reply,
    services,
    texts,
)
from bot.language import LANGUAGES
from bot.translations import Translator

PER_PAGE_CHOICES = range(1, 6)
_DATA = re.compile(r"set:(n:[1-5]|follow:[01]|lang:(?:auto|[a-z]{2}))")

Context = ContextTypes.DEFAULT_TYPE


def add_chat_settings(application: Application) -> None:
    """Register /settings and its buttons (ahead of the catch-all handlers)."""
    application.add_handlers(
        [
            CommandHandler("settings", settings_command, filters=filters.UpdateType.MESSAGE),
            CallbackQueryHandler(settings_button, pattern=_DATA),
        ],
        group=-1,
    )


def chosen(context: Context) -> tuple[int, bool]:
    """This chat's passages per answer and whether it follows the story."""
    per_page = int(context.chat_data.get(PER_PAGE, services(context).settings.answer_count))
    return per_page, bool(context.chat_data.get(FOLLOW))


def settings_keyboard(
    per_page: int, following: bool, t: Translator, language: str | None
) -> InlineKeyboardMarkup:
    """The passages-per-answer row, the language rows and the follow button."""
    counts = [
        InlineKeyboardButton(living.per_page_button(n, n == per_page), callback_data=f"set:n:{n}")
        for n in PER_PAGE_CHOICES
    ]
    languages = [
        InlineKeyboardButton(
            living.language_button(code, code == (language or "auto"), t),
            callback_data=f"set:lang:{code}",
        )
        for code in ("auto", *LANGUAGES)
    ]
    toggle = InlineKeyboardButton(
        living.follow_button(following, t), callback_data=f"set:follow:{int(not following)}"
    )
    return InlineKeyboardMarkup([counts, languages[:3], languages[3:], [toggle]])


async def settings_command(update: Update, context: Context) -> None:
    """/settings: the chat's choices with buttons to change them (groups: admins only)."""
    t = texts(update, context)
    if not await may_change_chat(update, context):
        await reply(update, t.gettext(living.GROUP_ADMINS_ONLY))
        raise ApplicationHandlerStop
    await reply(update, *_settings_message(context, t))
    raise ApplicationHandlerStop


async def settings_button(update: Update, context: Context) -> None:
    """A /settings button: change the choice and show the settings again."""
    query = update.callback_query
    t = texts(update, context)
    if not isinstance(query.message, Message) or not await may_change_chat(update, context):
        await _answer_button(query, t.gettext(living.GROUP_ADMINS_ONLY))
        raise ApplicationHandlerStop
    key, value = _DATA.fullmatch(query.data).group(1).split(":")
    if key == "n":
        context.chat_data[PER_PAGE] = int(value)
    elif key == "lang":
        if value in LANGUAGES:
            context.chat_data[CHOSEN_LANGUAGE] = value
        else:
            context.chat_data.pop(CHOSEN_LANGUAGE, None)
        t = texts(update, context)  # the answer below is in the language just chosen
    else:
        context.chat_data[FOLLOW] = value == "1"
        context.chat_data[LANGUAGE] = t.language  # notifications come in this language
    await _answer_button(query, t.gettext(living.SETTINGS_SAVED))
    await edit_in_place(query, *_settings_message(context, t))
    raise ApplicationHandlerStop


def _settings_message(context: Context, t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    """The settings text and its buttons, in ``t``'s language."""
    per_page, following = chosen(context)
    language = context.chat_data.get(CHOSEN_LANGUAGE)
    return (
        living.settings_text(per_page, following, t, language),
        settings_keyboard(per_page, following, t, language),
    )
