"""The one configuration object, read from the environment and an optional ``.env`` file.

Every setting ``name`` is read from ``NEWSBOT_NAME`` (case does not matter), except the two
Telegram names BotFather's guides use: ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_API_BASE_URL``.
``.env.example`` lists them all with their defaults (a test keeps it complete).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.articles import MAX_ARTICLE_BYTES
from index.model_names import DEFAULT_BACKEND, DEFAULT_MODEL, Backend, model_identity
from newsbot.ingest.limits import DEFAULT_TIMEOUT, MAX_FEED_ENTRIES

if TYPE_CHECKING:
    from index.search import SearchOptions

ENV_PREFIX = "NEWSBOT_"
ENV_FILE = ".env"
# Kept here rather than imported from index/search.py so that reading settings (every command,
# even --help) does not load numpy, faiss and the model code; tests check both match the
# engine's. The model and backend defaults come from index/model_names.py, which loads nothing.
DEFAULT_ABSTAIN_THRESHOLD = 0.265
DEFAULT_CROSSLINGUAL_THRESHOLD = 0.15

# Shown by /start only if the index in service answers them (see bot/story.py).
DEFAULT_EXAMPLES = (
    "Where will Russians hold the candlelight gatherings?",
    "How many people have been detained since the protests began?",
    "What did Leonid Volkov write on Twitter?",
)


class Settings(BaseSettings):
    """Every setting of newsbot; see the module docstring for the environment names."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token")
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL", "telegram_api_base_url"),
    )
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("var/index")
    model: str = DEFAULT_MODEL
    backend: Backend = DEFAULT_BACKEND
    threads: int = Field(default=2, ge=1)
    answer_count: int = Field(default=3, ge=1, le=10)
    abstain_threshold: float = DEFAULT_ABSTAIN_THRESHOLD
    crosslingual_threshold: float = DEFAULT_CROSSLINGUAL_THRESHOLD
    # Words naming the story; empty: the earliest-dated coverage defines it (index/story_prior.py).
    story: str = Field(default="", max_length=1000)
    questions_per_minute: int = Field(default=10, ge=1)
    reload_interval: float = Field(default=2.0, gt=0)
    webhook_secret: SecretStr | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # --- the corpus and newsbot add -----------------------------------------------------------
    max_article_bytes: int = Field(default=MAX_ARTICLE_BYTES, ge=1)
    max_feed_entries: int = Field(default=MAX_FEED_ENTRIES, ge=1)
    download_timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0)

    # --- the Telegram bot ---------------------------------------------------------------------
    batch_window_ms: float = Field(default=5.0, ge=0)
    max_batch: int = Field(default=32, ge=1)
    max_pages: int = Field(default=3, ge=1, le=10)
    inline_queries_per_minute: int = Field(default=30, ge=1)
    max_sends_per_second: float = Field(default=30.0, ge=0)
    poll_timeout: int = Field(default=10, ge=0)
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    # --- the record of questions (bot/question_record.py) and the bot's state file ------------
    state_path: Path = Field(
        default=Path("var/state.sqlite3"),
        validation_alias=AliasChoices("NEWSBOT_STATE", "state_path"),
    )
    record_days: float = Field(default=30, ge=0)

    example_questions: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_EXAMPLES)
    )

    # --- the living story: followed feeds, followers, follow-ups (issue 10) -------------------
    state_save_interval: float = Field(default=5.0, gt=0)
    answers_per_chat: int = Field(default=30, ge=1)
    feeds: Annotated[list[str], NoDecode] = Field(default_factory=list)
    feed_match: Annotated[list[str], NoDecode] = Field(default_factory=list)
    feed_interval: float = Field(default=900.0, gt=0)
    followup_seconds: float = Field(default=300.0, gt=0)
    followup_max_words: int = Field(default=8, ge=1)
    latest_count: int = Field(default=5, ge=1, le=20)

    @field_validator("feeds", "feed_match", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("example_questions", mode="before")
    @classmethod
    def _split_questions(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split("|") if part.strip()]
        return value

    def model_identity(self) -> str:
        """The model as an index records it: name and backend."""
        return model_identity(self.model, self.backend)

    def search_options(self) -> SearchOptions:
        """Search options as configured."""
        from index.search import SearchOptions
        from index.story_prior import StoryOptions

        return SearchOptions(
            k=self.answer_count,
            threshold=self.abstain_threshold,
            crosslingual_threshold=self.crosslingual_threshold,
            story=StoryOptions(text=self.story),
        )


def environment_names() -> dict[str, str]:
    """Each setting's environment name (upper case) -> its field name."""
    names = {}
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names[str(alias.choices[0]).upper()] = field_name
        else:
            names[f"{ENV_PREFIX}{field_name}".upper()] = field_name
    return names


def unknown_names(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(ENV_FILE)
) -> list[tuple[str, str]]:
    """``NEWSBOT_*`` names set in the environment or ``env_file`` that are no setting (a typo
    would otherwise be ignored silently), as (name, where) pairs."""
    from dotenv import dotenv_values

    known = environment_names()
    found: list[tuple[str, str]] = []
    sources: list[tuple[str, Mapping[str, str | None]]] = [
        ("the environment", os.environ if environ is None else environ)
    ]
    if env_file is not None and env_file.is_file():
        sources.append((str(env_file), dotenv_values(env_file)))
    for where, values in sources:
        for name in values:
            upper = name.upper()
            if upper.startswith(ENV_PREFIX) and upper not in known:
                found.append((name, where))
    return found
