"""The one configuration object, read from the environment and an optional ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from index.embed import DEFAULT_MODEL
from index.search import SearchOptions

# Shown by /start only if the index in service answers them (see bot/story.py).
DEFAULT_EXAMPLES = (
    "Where will Russians hold the candlelight gatherings?",
    "How many people have been detained since the protests began?",
    "What did Leonid Volkov write on Twitter?",
)


class Settings(BaseSettings):
    """Every setting of newsbot. Environment names are given in ``validation_alias``."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token")
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot",
        validation_alias=AliasChoices("TELEGRAM_API_BASE_URL", "telegram_api_base_url"),
    )
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("NEWSBOT_ADMIN_IDS", "admin_ids")
    )
    corpus_dir: Path = Field(
        default=Path("corpus"), validation_alias=AliasChoices("NEWSBOT_CORPUS_DIR", "corpus_dir")
    )
    index_dir: Path = Field(
        default=Path("var/index"), validation_alias=AliasChoices("NEWSBOT_INDEX_DIR", "index_dir")
    )
    model: str = Field(
        default=DEFAULT_MODEL, validation_alias=AliasChoices("NEWSBOT_MODEL", "model")
    )
    threads: int = Field(
        default=2, ge=1, validation_alias=AliasChoices("NEWSBOT_THREADS", "threads")
    )
    answer_count: int = Field(
        default=3,
        ge=1,
        le=10,
        validation_alias=AliasChoices("NEWSBOT_ANSWER_COUNT", "answer_count"),
    )
    abstain_threshold: float = Field(
        default=SearchOptions().threshold,
        validation_alias=AliasChoices("NEWSBOT_ABSTAIN_THRESHOLD", "abstain_threshold"),
    )
    questions_per_minute: int = Field(
        default=10,
        ge=1,
        validation_alias=AliasChoices("NEWSBOT_QUESTIONS_PER_MINUTE", "questions_per_minute"),
    )
    reload_interval: float = Field(
        default=2.0,
        gt=0,
        validation_alias=AliasChoices("NEWSBOT_RELOAD_INTERVAL", "reload_interval"),
    )
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEWSBOT_WEBHOOK_SECRET", "webhook_secret")
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", validation_alias=AliasChoices("NEWSBOT_LOG_LEVEL", "log_level")
    )

    # --- the Telegram bot ---------------------------------------------------------------------
    batch_window_ms: float = Field(
        default=5.0,
        ge=0,
        validation_alias=AliasChoices("NEWSBOT_BATCH_WINDOW_MS", "batch_window_ms"),
    )
    max_batch: int = Field(
        default=32, ge=1, validation_alias=AliasChoices("NEWSBOT_MAX_BATCH", "max_batch")
    )
    max_pages: int = Field(
        default=3, ge=1, le=10, validation_alias=AliasChoices("NEWSBOT_MAX_PAGES", "max_pages")
    )
    inline_queries_per_minute: int = Field(
        default=30,
        ge=1,
        validation_alias=AliasChoices(
            "NEWSBOT_INLINE_QUERIES_PER_MINUTE", "inline_queries_per_minute"
        ),
    )
    max_sends_per_second: float = Field(
        default=30.0,
        ge=0,
        validation_alias=AliasChoices("NEWSBOT_MAX_SENDS_PER_SECOND", "max_sends_per_second"),
    )
    poll_timeout: int = Field(
        default=10,
        ge=0,
        validation_alias=AliasChoices("NEWSBOT_POLL_TIMEOUT", "poll_timeout"),
    )
    webhook_listen: str = Field(
        default="0.0.0.0",
        validation_alias=AliasChoices("NEWSBOT_WEBHOOK_LISTEN", "webhook_listen"),
    )
    webhook_port: int = Field(
        default=8443,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("NEWSBOT_WEBHOOK_PORT", "webhook_port"),
    )
    example_questions: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_EXAMPLES),
        validation_alias=AliasChoices("NEWSBOT_EXAMPLE_QUESTIONS", "example_questions"),
    )

    # --- the living story: state file, followed feeds, followers (issue 10) -------------------
    state_file: Path = Field(
        default=Path("var/state.sqlite3"),
        validation_alias=AliasChoices("NEWSBOT_STATE", "state_file"),
    )
    state_save_interval: float = Field(
        default=5.0,
        gt=0,
        validation_alias=AliasChoices("NEWSBOT_STATE_SAVE_INTERVAL", "state_save_interval"),
    )
    answers_per_chat: int = Field(
        default=30,
        ge=1,
        validation_alias=AliasChoices("NEWSBOT_ANSWERS_PER_CHAT", "answers_per_chat"),
    )
    feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("NEWSBOT_FEEDS", "feeds")
    )
    feed_match: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("NEWSBOT_FEED_MATCH", "feed_match")
    )
    feed_interval: float = Field(
        default=900.0,
        gt=0,
        validation_alias=AliasChoices("NEWSBOT_FEED_INTERVAL", "feed_interval"),
    )
    # The ingest branch (on main) has these two with the same names: keep one copy on merging.
    download_timeout: float = Field(
        default=20.0,
        gt=0,
        validation_alias=AliasChoices("NEWSBOT_DOWNLOAD_TIMEOUT", "download_timeout"),
    )
    max_feed_entries: int = Field(
        default=50,
        ge=1,
        validation_alias=AliasChoices("NEWSBOT_MAX_FEED_ENTRIES", "max_feed_entries"),
    )
    followup_seconds: float = Field(
        default=300.0,
        gt=0,
        validation_alias=AliasChoices("NEWSBOT_FOLLOWUP_SECONDS", "followup_seconds"),
    )
    followup_max_words: int = Field(
        default=8,
        ge=1,
        validation_alias=AliasChoices("NEWSBOT_FOLLOWUP_MAX_WORDS", "followup_max_words"),
    )
    latest_count: int = Field(
        default=5,
        ge=1,
        le=20,
        validation_alias=AliasChoices("NEWSBOT_LATEST_COUNT", "latest_count"),
    )

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

    def search_options(self) -> SearchOptions:
        """Search options as configured."""
        return SearchOptions(k=self.answer_count, threshold=self.abstain_threshold)
