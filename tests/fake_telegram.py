"""A strict fake Telegram Bot API server for end-to-end tests.

The server speaks real HTTP (aiohttp) on 127.0.0.1 and runs inside the test's event loop, so a
bot built with python-telegram-bot can be pointed at it with
``ApplicationBuilder().base_url(tg.base_url)``.  It answers like Telegram
(``{"ok": true, "result": ...}`` / ``{"ok": false, "error_code": N, "description": ...}`` with the
same HTTP status) and is deliberately *stricter* than Telegram where that catches bot bugs:

* HTML parse mode: only Telegram's tags, properly nested and closed; only ``&lt; &gt; &amp;
  &quot;`` and numeric entities.  A bare ``&`` (or an unknown named entity such as ``&nbsp;``) is
  rejected here although real Telegram keeps it literally: escape all text with ``html.escape``.
* Text length is counted in UTF-16 code units (what Telegram uses for entity offsets), after
  entity parsing and after trimming leading/trailing whitespace, like Telegram does.  An emoji
  outside the BMP counts 2, so a text accepted here is never too long for Telegram.
* ``chat_id`` must name a chat the test created (``private_chat``/``group_chat``), otherwise
  ``Bad Request: chat not found``.

Typical use::

    async with FakeTelegram() as tg:
        alice = tg.user(1, "Alice")
        chat = tg.private_chat(alice)
        ...  # start the bot with base_url=tg.base_url, token=tg.token
        mark = tg.mark()
        tg.add_message(chat, alice, "/start")
        sent = await tg.wait_for("sendMessage", since=mark)
        assert sent.ok, sent.response

PTB turns an error description into its exception message by dropping ``Bad Request: `` and
applying ``str.capitalize()`` (``BUTTON_DATA_INVALID`` becomes ``Button_data_invalid``): compare
exact descriptions on ``tg.rejected[i].description``, or match PTB messages case-insensitively.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

JSONDict = dict[str, Any]

__all__ = [
    "ApiError",
    "FakeTelegram",
    "Recorded",
    "parse_html",
    "parse_message_text",
    "utf16_len",
    "validate_commands",
    "validate_html",
    "validate_inline_results",
    "validate_language_code",
    "validate_reply_markup",
]

MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_INLINE_RESULTS = 50
MAX_INLINE_RESULT_ID_BYTES = 64
MAX_INLINE_QUERY_LENGTH = 256
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
MAX_BUTTONS = 100
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
HTTP_PHRASES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
CLIENT_CLOSED = 499  # status recorded for a request whose client went away (e.g. a cancelled poll)


# --------------------------------------------------------------------------------------------
# Errors and small helpers
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API: ``description`` is the full Telegram description."""

    def __init__(
        self, description: str, error_code: int = 400, parameters: JSONDict | None = None
    ) -> None:
        super().__init__(description)
        self.description = description
        self.error_code = error_code
        self.parameters = parameters

    def to_response(self) -> JSONDict:
        """The JSON body Telegram would send for this error."""
        body: JSONDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 error with Telegram's ``Bad Request: `` prefix."""
    return ApiError(f"Bad Request: {detail}", 400)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for text and offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------

ALLOWED_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del",
        "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_TAG_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]{0,31}));")
_SPACES = " \t\r\n\v\f"


def _entity_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_start: int
    byte_offset: int


class _HtmlParser:
    """A small strict tokenizer for Telegram's HTML subset (modelled on tdlib's parse_html)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.units = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    def parse(self) -> tuple[str, list[JSONDict]]:
        text, i = self.text, 0
        while i < len(text):
            char = text[i]
            if char == "&":
                decoded, i = self._entity(i)
                self._emit(decoded)
            elif char != "<":
                self._emit(char)
                i += 1
            elif text.startswith("</", i):
                i = self._end_tag(i)
            else:
                i = self._start_tag(i)
        if self.stack:
            name = self.stack[-1].name
            raise _entity_error(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def _emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.units += utf16_len(chunk)

    def _offset(self, index: int) -> int:
        return _byte_offset(self.text, index)

    def _entity(self, i: int) -> tuple[str, int]:
        """Decode the character reference at ``i``; anything but the allowed ones is an error."""
        match = _ENTITY_RE.match(self.text, i)
        if match:
            decimal, hexadecimal, name = match.groups()
            if name is None:
                code = int(decimal) if decimal is not None else int(hexadecimal, 16)
                if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                    return chr(code), match.end()
            elif name in NAMED_ENTITIES:
                return NAMED_ENTITIES[name], match.end()
            raise _entity_error(
                f'Unsupported HTML entity "{match.group(0)}" at byte offset {self._offset(i)}; '
                "only &lt; &gt; &amp; &quot; and numeric entities are allowed"
            )
        raise _entity_error(
            f'Character "&" must be escaped as "&amp;" at byte offset {self._offset(i)}'
        )

    def _skip_spaces(self, j: int) -> int:
        while j < len(self.text) and self.text[j] in _SPACES:
            j += 1
        return j

    def _start_tag(self, begin: int) -> int:
        text, offset = self.text, self._offset(begin)
        j = begin + 1
        while j < len(text) and text[j] not in _SPACES and text[j] != ">":
            j += 1
        if j >= len(text):
            raise _entity_error(f"Unclosed start tag at byte offset {offset}")
        name = text[begin + 1 : j].lower()
        if name not in ALLOWED_TAGS:
            raise _entity_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        attributes, j = self._attributes(j, name, offset)
        argument = self._tag_argument(name, attributes, offset)
        if name == "blockquote" and any(tag.name == "blockquote" for tag in self.stack):
            raise _entity_error(f"Blockquote entities can't be nested at byte offset {offset}")
        self.stack.append(_OpenTag(name, argument, self.units, offset))
        return j

    def _attributes(self, j: int, tag: str, offset: int) -> tuple[dict[str, str], int]:
        """Parse attributes up to and including ``>``; return them and the next index."""
        text, attributes = self.text, {}
        while True:
            j = self._skip_spaces(j)
            if j >= len(text):
                raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {offset}')
            if text[j] == ">":
                return attributes, j + 1
            name_begin = j
            while j < len(text) and text[j] not in _SPACES and text[j] not in "=>":
                j += 1
            name = text[name_begin:j].lower()
            if not name:
                raise _entity_error(
                    f'Empty attribute name in the tag "{tag}" at byte offset {offset}'
                )
            j = self._skip_spaces(j)
            if j >= len(text) or text[j] != "=":
                if tag == "blockquote" and name == "expandable":
                    attributes[name] = ""
                    continue
                raise _entity_error(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {offset}'
                )
            value, j = self._attribute_value(self._skip_spaces(j + 1), tag, offset)
            attributes[name] = value

    def _attribute_value(self, j: int, tag: str, offset: int) -> tuple[str, int]:
        text = self.text
        if j >= len(text):
            raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {offset}')
        if text[j] not in "\"'":
            token_begin = j
            while j < len(text) and ((text[j].isascii() and text[j].isalnum()) or text[j] in ".-"):
                j += 1
            if j < len(text) and text[j] not in _SPACES and text[j] != ">":
                raise _entity_error(
                    f"Unexpected end of name token at byte offset {self._offset(token_begin)}"
                )
            return text[token_begin:j].lower(), j
        quote, j, value = text[j], j + 1, []
        while j < len(text) and text[j] != quote:
            if text[j] == "&":
                decoded, j = self._entity(j)
                value.append(decoded)
                continue
            if text[j] == "<":
                raise _entity_error(
                    f'Character "<" must be escaped as "&lt;" at byte offset {self._offset(j)}'
                )
            value.append(text[j])
            j += 1
        if j >= len(text):
            raise _entity_error(f'Unclosed start tag "{tag}" at byte offset {offset}')
        return "".join(value), j + 1

    @staticmethod
    def _tag_argument(name: str, attributes: dict[str, str], offset: int) -> str:
        if name == "a":
            return attributes.get("href", "")
        if name == "code":
            css = attributes.get("class", "")
            return css.removeprefix("language-") if css.startswith("language-") else ""
        if name == "span":
            if attributes.get("class") != "tg-spoiler":
                raise _entity_error(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
                )
            return ""
        if name == "tg-emoji":
            if not attributes.get("emoji-id"):
                raise _entity_error(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}'
                )
            return attributes["emoji-id"]
        if name == "blockquote":
            return "expandable" if "expandable" in attributes else ""
        return ""

    def _end_tag(self, begin: int) -> int:
        text, offset = self.text, self._offset(begin)
        if not self.stack:
            raise _entity_error(f"Unexpected end tag at byte offset {offset}")
        j = begin + 2
        while j < len(text) and text[j] not in _SPACES and text[j] != ">":
            j += 1
        end_name = text[begin + 2 : j].lower()
        j = self._skip_spaces(j)
        if j >= len(text) or text[j] != ">":
            raise _entity_error(f"Unclosed end tag at byte offset {offset}")
        tag = self.stack.pop()
        if end_name and end_name != tag.name:
            raise _entity_error(
                f'Unmatched end tag at byte offset {offset}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        self._close_entity(tag)
        return j + 1

    def _close_entity(self, tag: _OpenTag) -> None:
        length = self.units - tag.utf16_start
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            self.stack[-1].argument = tag.argument  # <pre><code class="language-x">
            return
        if length <= 0 or (tag.name == "a" and not tag.argument):
            return
        entity: JSONDict = {
            "type": _TAG_ENTITY_TYPES[tag.name],
            "offset": tag.utf16_start,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.argument
        elif tag.name == "pre" and tag.argument:
            entity["language"] = tag.argument
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.argument
        elif tag.name == "blockquote" and tag.argument:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML strictly; return the visible text and its MessageEntity dicts.

    Raises :class:`ApiError` with a Telegram-like ``Bad Request: can't parse entities: ...``.
    """
    return _HtmlParser(text).parse()


def validate_html(text: str) -> str:
    """Validate Telegram HTML strictly and return the visible (entity-decoded) text."""
    return parse_html(text)[0]


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Strip surrounding whitespace as Telegram does, shifting/clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    trimmed = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    return stripped, trimmed


def parse_message_text(
    text: Any, parse_mode: Any = None, entities: Any = None
) -> tuple[str, list[JSONDict]]:
    """Validate a message text as sendMessage would; return (visible text, entities).

    HTML is parsed strictly; Markdown/MarkdownV2 are accepted but not validated (their raw
    length is checked).  Length is 1..4096 UTF-16 code units after parsing and trimming.
    """
    if text is None or text == "":
        raise bad_request("message text is empty")
    if not isinstance(text, str):
        raise bad_request("message text must be a string")
    mode = (parse_mode or "").lower() if isinstance(parse_mode, str) else parse_mode
    if mode == "html":
        visible, found = parse_html(text)
    elif mode in ("", None, "markdown", "markdownv2"):
        visible, found = text, list(entities) if isinstance(entities, list) else []
    else:
        raise bad_request("unsupported parse_mode")
    visible, found = _trim(visible, found)
    if not visible:
        raise bad_request("message text is empty")
    if utf16_len(visible) > MAX_MESSAGE_LENGTH:
        raise bad_request("message is too long")
    return visible, found


# --------------------------------------------------------------------------------------------
# Other validation
# --------------------------------------------------------------------------------------------

BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,100}")
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
COMMAND_SCOPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
        "chat", "chat_administrators", "chat_member",
    }
)  # fmt: skip
INLINE_RESULT_TYPES = frozenset(
    {
        "article", "photo", "gif", "mpeg4_gif", "video", "audio", "voice", "document",
        "location", "venue", "contact", "game", "sticker",
    }
)  # fmt: skip


def validate_button_url(url: Any) -> None:
    """Button URLs must be http(s) with a host, or tg://."""
    if not isinstance(url, str) or not url:
        raise bad_request("inline keyboard button URL is empty")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() == "tg":
        return
    if parts.scheme.lower() not in ("http", "https"):
        raise bad_request(
            f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol"
        )
    if not parts.hostname or ("." not in parts.hostname and parts.hostname != "localhost"):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def validate_inline_button(button: Any) -> None:
    """One InlineKeyboardButton: text plus exactly one action field."""
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(prefix + f"exactly one optional field must be used, got {actions}")
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        validate_button_url(button["url"])


def _validate_rows(rows: Any, field: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'can\'t parse reply keyboard markup JSON object: "{field}" must be an '
                          "Array of Arrays")  # fmt: skip
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("BUTTONS_TOO_MUCH")
    return rows


def validate_reply_markup(markup: Any, *, inline_only: bool = False) -> None:
    """Validate reply_markup (inline keyboard strictly; reply keyboards lightly)."""
    if markup is None:
        return
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _validate_rows(markup["inline_keyboard"], "inline_keyboard"):
            for button in row:
                validate_inline_button(button)
        return
    if inline_only:
        raise bad_request("only inline keyboards are allowed here")
    if "keyboard" in markup:
        for row in _validate_rows(markup["keyboard"], "keyboard"):
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text.strip():
                    raise bad_request("can't parse keyboard button: text is empty")
        return
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return
    raise bad_request("can't parse reply keyboard markup JSON object")


def validate_language_code(params: JSONDict) -> str:
    """The request's ``language_code``: empty (everyone) or a two-letter ISO 639-1 code in
    lower case, as setMyCommands/setMyDescription take it (``en-US``, ``RU``, ``rus`` are not)."""
    language = params.get("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", str(language)):
        raise bad_request("invalid language_code")
    return str(language)


def validate_commands(commands: Any) -> list[JSONDict]:
    """Validate setMyCommands' list; return it normalised to {command, description} dicts."""
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise bad_request("BOT_COMMAND_INVALID")
    result = []
    for item in commands:
        if not isinstance(item, dict):
            raise bad_request("BOT_COMMAND_INVALID")
        name, description = item.get("command"), item.get("description")
        if not isinstance(name, str) or not _COMMAND_NAME_RE.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not (
            len(description.strip()) >= 1 and len(description) <= MAX_COMMAND_DESCRIPTION
        ):
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        result.append({"command": name, "description": description})
    return result


def validate_command_scope(scope: Any) -> JSONDict:
    """Validate a BotCommandScope; return it (default scope when absent)."""
    if scope is None:
        return {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope["type"].startswith("chat") and "chat_id" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object: chat_id is empty")
    return scope


def validate_inline_result(result: Any) -> None:
    """One InlineQueryResult: type, id (1..64 bytes), content, keyboard."""
    if not isinstance(result, dict) or result.get("type") not in INLINE_RESULT_TYPES:
        raise bad_request("can't parse inline query result: unknown or missing type")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not (
        1 <= len(result_id.encode()) <= MAX_INLINE_RESULT_ID_BYTES
    ):
        raise bad_request("RESULT_ID_INVALID")
    content = result.get("input_message_content")
    if result["type"] == "article":
        if not isinstance(result.get("title"), str) or not result["title"].strip():
            raise bad_request("can't parse InlineQueryResultArticle: title is empty")
        if not isinstance(content, dict):
            raise bad_request(
                "can't parse InlineQueryResultArticle: input_message_content is empty"
            )
    if isinstance(content, dict) and "message_text" in content:
        parse_message_text(
            content["message_text"], content.get("parse_mode"), content.get("entities")
        )
    validate_reply_markup(result.get("reply_markup"), inline_only=True)


ADMIN_RIGHTS = (
    "can_be_edited", "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
    "can_restrict_members", "can_promote_members", "can_change_info", "can_invite_users",
    "can_post_stories", "can_edit_stories", "can_delete_stories",
)  # fmt: skip
DEEP_LINK_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")


def validate_deep_link_payload(payload: Any) -> None:
    """A ``/start`` payload (deep link or inline button): 1-64 characters of A-Za-z0-9_-."""
    if not isinstance(payload, str) or not DEEP_LINK_PAYLOAD.fullmatch(payload):
        raise bad_request("START_PARAM_INVALID")


def validate_results_button(button: Any) -> None:
    """answerInlineQuery's ``button``: text and either a start parameter or a web app."""
    if button is None:
        return
    if not isinstance(button, dict) or not str(button.get("text") or "").strip():
        raise bad_request("can't parse inline query results button JSON object")
    if "web_app" not in button:
        validate_deep_link_payload(button.get("start_parameter"))


def validate_inline_results(results: Any) -> list[JSONDict]:
    """answerInlineQuery's results: at most 50, unique valid ids, valid contents."""
    if not isinstance(results, list):
        raise bad_request("can't parse inline query results JSON object")
    if len(results) > MAX_INLINE_RESULTS:
        raise bad_request("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        validate_inline_result(result)
        if result["id"] in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(result["id"])
    return results


# --------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------

JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "commands", "results",
        "link_preview_options", "reply_parameters", "scope", "allowed_updates", "button",
        "media", "options", "explanation_entities", "reaction", "menu_button", "rights",
        "prices", "input_message_content", "message_ids",
    }
)  # fmt: skip
INT_FIELDS = frozenset(
    {
        "chat_id", "message_id", "reply_to_message_id", "message_thread_id", "offset", "limit",
        "timeout", "cache_time", "user_id", "from_chat_id", "max_connections",
    }
)  # fmt: skip
BOOL_FIELDS = frozenset(
    {
        "disable_notification", "protect_content", "allow_sending_without_reply",
        "disable_web_page_preview", "show_alert", "is_personal", "drop_pending_updates",
        "for_channels", "allow_paid_broadcast", "has_spoiler", "is_big",
    }
)  # fmt: skip
_INT_RE = re.compile(r"-?[0-9]+")


def decode_param(name: str, value: Any) -> Any:
    """Decode one form/query field: JSON for nested objects, int/bool for known scalars."""
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name in INT_FIELDS and _INT_RE.fullmatch(value):
        return int(value)
    if name in BOOL_FIELDS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


async def read_params(request: web.Request) -> JSONDict:
    """Merge query string and body (form, multipart or JSON) into raw parameters."""
    raw: JSONDict = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise bad_request("JSON request body must be an object")
            raw.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                raw[key] = value if isinstance(value, str) else f"<file {value.filename}>"
    return raw


def decode_params(raw: JSONDict) -> JSONDict:
    """Decode every raw parameter with :func:`decode_param`."""
    return {name: decode_param(name, value) for name, value in raw.items()}


# --------------------------------------------------------------------------------------------
# Records and faults
# --------------------------------------------------------------------------------------------


@dataclass
class Recorded:
    """One request the bot made: method name, decoded params, HTTP status, JSON response.

    ``injected`` is True when the answer came from ``fail_next``/``flood``; ``at`` is when the
    request was answered (``time.perf_counter()``), for latency measurements.
    """

    method: str
    params: JSONDict
    status: int
    response: JSONDict
    injected: bool = False
    at: float = field(default_factory=time.perf_counter)

    @property
    def ok(self) -> bool:
        """True when Telegram would have answered ``ok: true``."""
        return self.response.get("ok") is True

    @property
    def result(self) -> Any:
        """The ``result`` of a successful answer (None otherwise)."""
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        """The error description of a failed answer (None otherwise)."""
        return self.response.get("description")


@dataclass
class _Fault:
    method: str | None
    error: ApiError
    count: int

    def matches(self, method: str) -> bool:
        return self.count > 0 and (self.method is None or self.method.lower() == method.lower())


def _strip_reply(message: JSONDict) -> JSONDict:
    """A message as it appears in ``reply_to_message`` (no nested reply)."""
    inner = copy.deepcopy(message)
    inner.pop("reply_to_message", None)
    return inner


_COMMAND_TOKEN_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?(?![\w@/])")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])")


def auto_entities(text: str) -> list[JSONDict]:
    """The bot_command and mention entities Telegram's clients would attach to ``text``."""
    entities = []
    for pattern, kind in ((_COMMAND_TOKEN_RE, "bot_command"), (_MENTION_RE, "mention")):
        for match in pattern.finditer(text):
            entities.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group(0)),
                }
            )
    return sorted(entities, key=lambda e: e["offset"])


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

Handler = Callable[[JSONDict], Any]


class FakeTelegram:
    """A strict fake Bot API server; see the module docstring.

    Attributes of interest to tests: ``requests`` (every :class:`Recorded`), ``rejected``,
    ``callback_answers`` / ``inline_answers`` (query id -> params), ``commands`` ((scope JSON,
    language_code) -> list), ``descriptions``, ``deleted_messages``, ``created_updates``,
    ``internal_errors`` (exceptions raised inside the fake itself; should stay empty).
    """

    def __init__(
        self,
        token: str = "123456:TEST-token-abcdef",
        *,
        bot_username: str = "NewsTestBot",
        bot_first_name: str = "News Test Bot",
        valid_token: bool = True,
    ) -> None:
        if not _TOKEN_RE.fullmatch(token):
            raise ValueError(f"not a Telegram-looking token: {token!r}")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.token_valid = valid_token
        self.requests: list[Recorded] = []
        self.internal_errors: list[BaseException] = []
        self.created_updates: list[JSONDict] = []
        self.callback_answers: dict[str, JSONDict] = {}
        self.inline_answers: dict[str, JSONDict] = {}
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.deleted_messages: list[JSONDict] = []
        self.webhook_url = ""
        self._pending: list[JSONDict] = []
        self._allowed_updates: list[str] | None = None
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_382_000_000_000_001)
        self._chats: dict[int, JSONDict] = {}
        self._messages: dict[int, dict[int, JSONDict]] = {}
        self._next_message_id: dict[int, int] = {}
        self._bot_message_ids: dict[int, list[int]] = {}
        self._callback_queries: dict[str, JSONDict] = {}
        self._inline_queries: dict[str, JSONDict] = {}
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._admins: dict[int, set[int]] = {}
        self._poll_generation = 0
        self._stopping = False
        self._update_signal = asyncio.Event()
        self._request_signal = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._method_table().items()
        }

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Bind 127.0.0.1 on an ephemeral port and serve."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._stopping = False

    async def stop(self) -> None:
        """Release pending long polls and shut the server down."""
        self._stopping = True
        self._signal_updates()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (after ``start``)."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:{port}/bot`` — PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def bot_user(self) -> JSONDict:
        """The bot as a User dict (the ``from`` of its messages)."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def set_token_valid(self, valid: bool) -> None:
        """Make the configured token accepted (True) or answered 401 Unauthorized (False)."""
        self.token_valid = valid

    # ---- HTTP dispatch -------------------------------------------------------------------

    async def _not_found(self, request: web.Request) -> web.Response:
        body = ApiError("Not Found", 404).to_response()
        return web.json_response(body, status=404)

    async def _handle(self, request: web.Request) -> web.Response:
        token, given_method = request.match_info["token"], request.match_info["method"]
        canonical, handler = self._handlers.get(given_method.lower(), (given_method, None))
        params: JSONDict = {}
        injected = False
        try:
            raw = await read_params(request)
            params = raw
            params = decode_params(raw)
            if not _TOKEN_RE.fullmatch(token):
                raise ApiError("Not Found", 404)
            if token != self.token or not self.token_valid:
                raise ApiError("Unauthorized", 401)
            if handler is None:
                raise ApiError("Not Found", 404)
            fault = self._take_fault(canonical) or self._blocked_error(canonical, params)
            if fault is not None:
                injected = True
                raise fault
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            status, body = error.error_code, error.to_response()
        except asyncio.CancelledError:
            closed = {"ok": False, "error_code": CLIENT_CLOSED, "description": "client closed"}
            self._record(Recorded(canonical, params, CLIENT_CLOSED, closed))
            raise
        except Exception as error:  # a bug in the fake itself: report loudly
            self.internal_errors.append(error)
            status = 500
            body = {
                "ok": False,
                "error_code": 500,
                "description": f"Internal Server Error: fake_telegram bug: {error!r}",
            }
        self._record(Recorded(canonical, params, status, body, injected))
        return web.json_response(body, status=status)

    def _record(self, record: Recorded) -> None:
        self.requests.append(record)
        self._request_signal.set()
        self._request_signal = asyncio.Event()

    def _take_fault(self, method: str) -> ApiError | None:
        for fault in self._faults:
            if fault.matches(method):
                fault.count -= 1
                return fault.error
        return None

    def _method_table(self) -> dict[str, Handler]:
        return {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._description_setter("description", 512),
            "setMyShortDescription": self._description_setter("short_description", 120),
            "getMyDescription": self._description_getter("description"),
            "getMyShortDescription": self._description_getter("short_description"),
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action,
            "getChatMember": self._get_chat_member,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "close": lambda params: True,
            "logOut": lambda params: True,
        }

    # ---- fault injection -----------------------------------------------------------------

    def fail_next(
        self, method: str | None = None, status: int = 500, count: int = 1, description: str = ""
    ) -> None:
        """Answer the next ``count`` requests (of ``method``, or any method) with a 5xx error."""
        text = description or HTTP_PHRASES.get(status, "Internal Server Error")
        self._faults.append(_Fault(method, ApiError(text, status), count))

    def flood(self, method: str | None, retry_after: int = 1, count: int = 1) -> None:
        """Answer the next ``count`` requests of ``method`` with 429 and ``retry_after``."""
        error = ApiError(
            f"Too Many Requests: retry after {retry_after}",
            429,
            {"retry_after": retry_after},
        )
        self._faults.append(_Fault(method, error, count))

    def block_bot(self, chat_id: int) -> None:
        """The user (or group) of ``chat_id`` blocked or removed the bot: sends answer 403."""
        self._blocked.add(chat_id)

    def _blocked_error(self, method: str, params: JSONDict) -> ApiError | None:
        if method.startswith("send") and params.get("chat_id") in self._blocked:
            return ApiError("Forbidden: bot was blocked by the user", 403)
        return None

    def set_admins(self, chat_id: int, user_ids: list[int]) -> None:
        """The admins of group ``chat_id`` (getChatMember answers "administrator" for them)."""
        self._admins[chat_id] = set(user_ids)

    # ---- request log ---------------------------------------------------------------------

    @property
    def rejected(self) -> list[Recorded]:
        """Requests the fake itself answered with ok=false (validation, bad token, unknown
        method, conflicts) — not injected faults and not polls whose client went away."""
        return [
            r for r in self.requests if not r.ok and not r.injected and r.status != CLIENT_CLOSED
        ]

    def mark(self) -> int:
        """The current request count, to pass as ``since=`` to :meth:`wait_for`."""
        return len(self.requests)

    def calls(self, method: str, since: int = 0) -> list[Recorded]:
        """Recorded requests of ``method`` (case-insensitive) from index ``since``."""
        return [r for r in self.requests[since:] if r.method.lower() == method.lower()]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Recorded], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> Recorded:
        """Wait for the first request of ``method`` (matching ``predicate``) at index >= since.

        Failed requests count too: check ``.ok``.  Raises AssertionError on timeout.
        """
        (found,) = await self.wait_for_all(method, 1, predicate, timeout, since)
        return found

    async def wait_for_all(
        self,
        method: str,
        count: int,
        predicate: Callable[[Recorded], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> list[Recorded]:
        """Wait until ``count`` matching requests exist; return the first ``count``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            matches = [r for r in self.calls(method, since) if predicate is None or predicate(r)]
            if len(matches) >= count:
                return matches[:count]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._timeout_report(method, count, len(matches), since))
            signal = self._request_signal
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)

    def _timeout_report(self, method: str, wanted: int, got: int, since: int) -> str:
        seen = []
        for record in self.requests[since:]:
            note = str(record.status)
            if not record.ok:
                note += f": {record.description}"
            seen.append(f"{record.method}({note})")
        return (
            f"timed out waiting for {wanted} {method} request(s) matching the predicate "
            f"(got {got}); requests since #{since}: {', '.join(seen) or 'none'}"
        )

    # ---- test-side objects ---------------------------------------------------------------

    def user(
        self,
        id: int,
        first_name: str = "Test",
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> JSONDict:
        """A (human) User dict."""
        user: JSONDict = {"id": id, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        return user

    def private_chat(self, user: JSONDict) -> JSONDict:
        """Create (register) the private chat with ``user``; its id is the user's id."""
        chat: JSONDict = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return self._register_chat(chat)

    def group_chat(
        self, id: int, title: str = "Test group", type: str = "supergroup", username: str = ""
    ) -> JSONDict:
        """Create (register) a group or supergroup chat (use a negative id)."""
        if type not in ("group", "supergroup"):
            raise ValueError("type must be 'group' or 'supergroup'")
        chat: JSONDict = {"id": id, "type": type, "title": title}
        if username:
            chat["username"] = username
        return self._register_chat(chat)

    def _register_chat(self, chat: JSONDict) -> JSONDict:
        self._chats[chat["id"]] = chat
        self._messages.setdefault(chat["id"], {})
        return copy.deepcopy(chat)

    def message(self, chat_id: int | JSONDict, message_id: int) -> JSONDict | None:
        """The current stored state of a message (None if absent or deleted)."""
        found = self._messages.get(self._chat_key(chat_id), {}).get(message_id)
        return copy.deepcopy(found) if found is not None else None

    def chat_history(self, chat_id: int | JSONDict) -> list[JSONDict]:
        """All stored (not deleted) messages of a chat, users' and bot's, by message_id."""
        stored = self._messages.get(self._chat_key(chat_id), {})
        return [copy.deepcopy(stored[mid]) for mid in sorted(stored)]

    def sent_messages(self, chat_id: int | JSONDict) -> list[JSONDict]:
        """The bot's messages in a chat in send order, in their latest (edited) state; deleted
        messages are left out (see ``deleted_messages``)."""
        key = self._chat_key(chat_id)
        stored = self._messages.get(key, {})
        ids = self._bot_message_ids.get(key, [])
        return [copy.deepcopy(stored[mid]) for mid in ids if mid in stored]

    @staticmethod
    def _chat_key(chat_id: int | JSONDict) -> int:
        return chat_id["id"] if isinstance(chat_id, dict) else chat_id

    def _new_message(self, chat: JSONDict, from_user: JSONDict) -> JSONDict:
        chat_id = chat["id"]
        if chat_id not in self._chats:
            self._register_chat(chat)
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return {
            "message_id": message_id,
            "from": copy.deepcopy(from_user),
            "chat": copy.deepcopy(self._chats[chat_id]),
            "date": int(time.time()),
        }

    def _store(self, message: JSONDict) -> JSONDict:
        self._messages[message["chat"]["id"]][message["message_id"]] = message
        return copy.deepcopy(message)

    def _push_update(self, kind: str, payload: JSONDict) -> JSONDict:
        update = {"update_id": next(self._update_ids), kind: copy.deepcopy(payload)}
        self._enqueue(update)
        return update

    def _enqueue(self, update: JSONDict) -> None:
        self.created_updates.append(update)
        self._pending.append(update)
        self._signal_updates()

    def _signal_updates(self) -> None:
        self._update_signal.set()
        self._update_signal = asyncio.Event()

    def add_message(
        self,
        chat: JSONDict,
        from_user: JSONDict,
        text: str,
        reply_to_message_id: int | None = None,
        entities: list[JSONDict] | None = None,
    ) -> JSONDict:
        """Queue a ``message`` update; return the message dict.

        Without ``entities``, bot_command entities (``/cmd`` or ``/cmd@name`` at the start of a
        word) and mention entities (``@username``, 5..32 chars) are added, offsets in UTF-16.
        """
        message = self._new_message(chat, from_user)
        message["text"] = text
        found = auto_entities(text) if entities is None else entities
        if found:
            message["entities"] = found
        if reply_to_message_id is not None:
            replied = self._messages[chat["id"]].get(reply_to_message_id)
            if replied is None:
                raise ValueError(f"no message {reply_to_message_id} in chat {chat['id']}")
            message["reply_to_message"] = _strip_reply(replied)
        self._push_update("message", message)
        return self._store(message)

    def add_edited_message(
        self, message: JSONDict, text: str, entities: list[JSONDict] | None = None
    ) -> JSONDict:
        """Edit a user's stored message and queue an ``edited_message`` update; return it."""
        stored = self._messages.get(message["chat"]["id"], {}).get(message["message_id"])
        if stored is None or "text" not in stored:
            raise ValueError("can only edit a stored (not deleted) text message")
        stored["text"] = text
        stored["edit_date"] = int(time.time())
        found = auto_entities(text) if entities is None else entities
        stored.pop("entities", None)
        if found:
            stored["entities"] = found
        self._push_update("edited_message", stored)
        return copy.deepcopy(stored)

    def add_sticker(self, chat: JSONDict, from_user: JSONDict, emoji: str = "👍") -> JSONDict:
        """Queue a sticker message; return it."""
        message = self._new_message(chat, from_user)
        message["sticker"] = {
            "file_id": f"sticker-{message['message_id']}",
            "file_unique_id": f"usticker-{message['message_id']}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        self._push_update("message", message)
        return self._store(message)

    def add_photo(
        self, chat: JSONDict, from_user: JSONDict, caption: str | None = None
    ) -> JSONDict:
        """Queue a photo message (optional caption, with auto entities); return it."""
        message = self._new_message(chat, from_user)
        message["photo"] = [
            {
                "file_id": f"photo-{message['message_id']}-{size}",
                "file_unique_id": f"uphoto-{message['message_id']}-{size}",
                "width": size,
                "height": size,
                "file_size": size * 100,
            }
            for size in (90, 320, 800)
        ]
        if caption is not None:
            message["caption"] = caption
            if found := auto_entities(caption):
                message["caption_entities"] = found
        self._push_update("message", message)
        return self._store(message)

    def add_callback_query(self, from_user: JSONDict, message: JSONDict, data: str) -> JSONDict:
        """Queue a ``callback_query`` on a stored (bot) message; return the query dict."""
        stored = self._messages.get(message["chat"]["id"], {}).get(message["message_id"])
        if stored is None:
            raise ValueError("callback query on a message that does not exist (deleted?)")
        query = {
            "id": str(next(self._query_ids)),
            "from": copy.deepcopy(from_user),
            "message": copy.deepcopy(stored),
            "chat_instance": str(abs(hash(("chat", stored["chat"]["id"])))),
            "data": data,
        }
        self._callback_queries[query["id"]] = query
        self._push_update("callback_query", query)
        return copy.deepcopy(query)

    def add_inline_query(self, from_user: JSONDict, query: str, offset: str = "") -> JSONDict:
        """Queue an ``inline_query`` (query at most 256 chars); return the query dict."""
        if len(query) > MAX_INLINE_QUERY_LENGTH:
            raise ValueError("Telegram never sends inline queries longer than 256 characters")
        inline = {
            "id": str(next(self._query_ids)),
            "from": copy.deepcopy(from_user),
            "query": query,
            "offset": offset,
        }
        self._inline_queries[inline["id"]] = inline
        self._push_update("inline_query", inline)
        return copy.deepcopy(inline)

    def add_raw_update(self, update: JSONDict) -> JSONDict:
        """Queue an arbitrary update dict; an ``update_id`` is assigned if missing."""
        update = copy.deepcopy(update)
        update.setdefault("update_id", next(self._update_ids))
        self._enqueue(update)
        return update

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._pending)

    # ---- lookups used by handlers --------------------------------------------------------

    def _chat(self, chat_id: Any) -> JSONDict:
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == chat_id[1:].lower():
                    return chat
            raise bad_request("chat not found")
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise bad_request("chat not found")
        return self._chats[chat_id]

    def _find_message(self, params: JSONDict, missing: str) -> JSONDict:
        chat = self._chat(params.get("chat_id"))
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise bad_request("message_id is empty" if message_id is None else missing)
        message = self._messages[chat["id"]].get(message_id)
        if message is None:
            raise bad_request(missing)
        return message

    def _reply_target(self, chat: JSONDict, params: JSONDict) -> JSONDict | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if reply is None:
            return None
        if not isinstance(reply, dict) or not isinstance(reply.get("message_id"), int):
            raise bad_request("can't parse reply parameters JSON object")
        target_chat = chat if reply.get("chat_id") is None else self._chat(reply["chat_id"])
        target = self._messages[target_chat["id"]].get(reply["message_id"])
        if target is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        quote = reply.get("quote")
        if quote is not None and quote not in (target.get("text") or target.get("caption") or ""):
            raise bad_request("QUOTE_TEXT_INVALID")
        return target

    # ---- method handlers -----------------------------------------------------------------

    def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                409,
            )
        offset, limit, timeout = (params.get(k, 0) for k in ("offset", "limit", "timeout"))
        if not all(isinstance(v, int) for v in (offset, limit, timeout)):
            raise bad_request("offset, limit and timeout must be integers")
        limit = min(max(limit, 1), 100) if limit else 100
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = list(allowed) if allowed else None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal_updates()  # terminates an older long poll still waiting
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout, 0)
        while True:
            if self._poll_generation != generation:
                raise ApiError(
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                    409,
                )
            deliverable = self._deliverable()
            remaining = deadline - loop.time()
            if deliverable or remaining <= 0 or self._stopping:
                return copy.deepcopy(deliverable[:limit])
            signal = self._update_signal
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), remaining)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def _deliverable(self) -> list[JSONDict]:
        """Pending updates of allowed types; others are dropped as Telegram does."""
        excluded = {"chat_member", "message_reaction", "message_reaction_count"}
        kept = []
        for update in self._pending:
            kind = next((k for k in update if k != "update_id"), "")
            allowed = (
                kind in self._allowed_updates if self._allowed_updates else kind not in excluded
            )
            if allowed:
                kept.append(update)
        self._pending = kept
        return kept

    def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url", "")
        if url and not str(url).startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._pending = []
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }

    @staticmethod
    def _command_key(params: JSONDict) -> tuple[str, str]:
        scope = validate_command_scope(params.get("scope"))
        return json.dumps(scope, sort_keys=True), validate_language_code(params)

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = validate_commands(params.get("commands"))
        self.commands[self._command_key(params)] = commands
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._command_key(params), [])

    def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._command_key(params), None)
        return True

    def _description_setter(self, field: str, limit: int) -> Handler:
        def handler(params: JSONDict) -> bool:
            text = params.get(field, "") or ""
            if len(text) > limit:
                raise bad_request(f"{field.upper()}_INVALID")
            self.descriptions[(field, validate_language_code(params))] = text
            return True

        return handler

    def _description_getter(self, field: str) -> Handler:
        def handler(params: JSONDict) -> JSONDict:
            key = (field, validate_language_code(params))
            return {field: self.descriptions.get(key, "")}

        return handler

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params.get("chat_id"))
        text, entities = parse_message_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        markup = params.get("reply_markup")
        validate_reply_markup(markup)
        replied = self._reply_target(chat, params)
        message = self._new_message(chat, self.bot_user)
        message["text"] = text
        if entities:
            message["entities"] = entities
        if replied is not None:
            message["reply_to_message"] = _strip_reply(replied)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._bot_message_ids.setdefault(chat["id"], []).append(message["message_id"])
        return self._store(message)

    def _editable(self, params: JSONDict) -> JSONDict:
        message = self._find_message(params, "message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        text, entities = parse_message_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        markup = params.get("reply_markup")
        validate_reply_markup(markup, inline_only=True)
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        if (
            message["text"] == text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise bad_request(NOT_MODIFIED)
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        self._set_markup(message, markup)
        return copy.deepcopy(message)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        markup = params.get("reply_markup")
        validate_reply_markup(markup, inline_only=True)
        if params.get("inline_message_id"):
            return True
        message = self._editable(params)
        if message.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        self._set_markup(message, markup)
        return copy.deepcopy(message)

    @staticmethod
    def _set_markup(message: JSONDict, markup: JSONDict | None) -> None:
        message["edit_date"] = int(time.time())
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup

    def _delete_message(self, params: JSONDict) -> bool:
        message = self._find_message(params, "message to delete not found")
        del self._messages[message["chat"]["id"]][message["message_id"]]
        self.deleted_messages.append(message)
        return True

    def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat(params.get("chat_id"))
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _get_chat_member(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params.get("chat_id"))
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request(
                "user_id is empty" if user_id is None else "invalid user_id specified"
            )
        user = {"id": user_id, "is_bot": False, "first_name": "Member"}
        if chat["type"] == "private":
            status = "member" if user_id == chat["id"] else None
        else:
            status = "administrator" if user_id in self._admins.get(chat["id"], ()) else "member"
        if status is None:
            raise bad_request("PARTICIPANT_ID_INVALID")
        if status == "member":
            return {"status": status, "user": user}
        rights = dict.fromkeys(ADMIN_RIGHTS, False) | {"can_manage_chat": True}
        return {"status": status, "user": user, "is_anonymous": False, **rights}

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._callback_queries or query_id in self.callback_answers:
            raise bad_request(QUERY_TOO_OLD)
        text = params.get("text") or ""
        if len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    def _answer_inline_query(self, params: JSONDict) -> bool:
        query_id = params.get("inline_query_id")
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise bad_request(QUERY_TOO_OLD)
        validate_inline_results(params.get("results"))
        validate_results_button(params.get("button"))
        if len(str(params.get("next_offset") or "").encode()) > 64:
            raise bad_request("NEXT_OFFSET_INVALID")
        self.inline_answers[query_id] = params
        return True
