"""All configuration, read from the environment (prefix ``BULLETIN_``) and ``.env`` in one place."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.tuning import MODEL_PATH, READER_PROBE_PATH
from index.formats.limits import PARSE_MEMORY_BYTES, PARSE_SECONDS


def available_cores() -> int:
    """CPU cores this process may run on (respects affinity masks and containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Every setting of the bot and the staff commands."""

    model_config = SettingsConfigDict(
        env_prefix="BULLETIN_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(Path("data"), description="index versions, question log")
    embedding_model: str = Field(
        "use-m3", min_length=1, description="'use-m3' or any sentence-transformers id or folder"
    )
    embedding_threads: int = Field(default_factory=available_cores, ge=1, le=256)
    embedding_batch_size: int = Field(32, ge=1, le=4096)
    keep_versions: int = Field(5, ge=1, le=1000, description="index versions kept for rollback")
    max_file_bytes: int = Field(5_000_000, ge=1_000)
    parse_seconds: float = Field(PARSE_SECONDS, gt=0, le=3600, description="wall time one file may take to read")
    parse_memory_bytes: int = Field(
        PARSE_MEMORY_BYTES, ge=1 << 28, description="address space the reader of one file may use (≥ 256 MiB)"
    )

    templates_path: Path | None = Field(None, description="the answer templates; unset: the built-in ones")
    stale_after_days: int = Field(90, ge=1)
    answer_model_path: Path = Field(MODEL_PATH, description="the fitted answerability model (bulletin-bot fit)")
    answer_threshold: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="the probability an answer needs, in place of the model's fitted one (README: choosing "
        "the answer threshold); the related threshold is kept, or lowered to it",
    )
    answer_max_chars: int = Field(360, ge=50, le=3000)

    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    web_listen: str = Field("127.0.0.1", description="address of the web console (bulletin-bot web)")
    web_port: int = Field(8080, ge=1, le=65535)
    web_trusted_proxies: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(), description="addresses of reverse proxies whose X-Forwarded-Proto the console believes"
    )
    reload_interval: float = Field(10.0, gt=0, description="seconds between index checks")
    # one budget for questions, commands and button presses: reading the longest article (30,000 characters,
    # 20 pages of 1,500) through is a question, 原文 and 19 page turns; a flood's 30 replies then take about
    # 1 s of Telegram's 30 messages a second from the other users (300 answered /latest took 9.2 s)
    flood_limit: int = Field(30, ge=1, description="questions, commands and button presses per user per minute")
    log_retention_days: int = Field(180, ge=1)
    log_key: SecretStr | None = Field(None, description="master key of the question log's user pseudonyms")
    log_key_period: Literal["day", "week", "month"] = "month"
    timezone: str = Field("Asia/Shanghai", description="IANA zone of the times in /status and the report")

    # the optional judge (README "An optional judge"): both off unless set
    llm_url: str | None = Field(None, description="OpenAI-compatible base URL; POST {url}/v1/chat/completions")
    llm_model: str | None = Field(None, min_length=1)
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(8.0, gt=0, le=120, description="seconds the resident may wait for the LLM")
    llm_prompt_path: Path | None = Field(None, description="the selector prompt; unset: the built-in one")
    reranker_model: Path | None = Field(None, description="a local folder loadable by CrossEncoder")
    # the local reader (README "The local reader"): on once `bulletin-bot reader install` has put the model
    # in DATA_DIR, unless BULLETIN_READER=off
    reader: Literal["auto", "on", "off"] = Field("auto", description="auto: on when the model file is there")
    reader_model: Path | None = Field(None, description="a GGUF file; unset: DATA_DIR/reader/<the bundled model>")
    reader_probe_path: Path = Field(READER_PROBE_PATH, description="the fitted probe (bulletin-bot fit --reader)")
    # a prompt takes 1.3 s median, 2.8 s p95 on 2 cores (benchmarks/RESULTS.md); the rest get the offline decision
    reader_timeout: float = Field(
        4.0, gt=0, le=60, description="seconds a question may wait for the reader before the offline decision"
    )
    reader_threads: int = Field(default_factory=available_cores, ge=1, le=64)
    reader_threshold: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="the stacked probability an answer needs with the reader, in place of the fitted one",
    )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("web_trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("reader", mode="before")
    @classmethod
    def _reader_switch(cls, value: object) -> object:
        if isinstance(value, str):
            word = value.strip().lower()
            return {"1": "on", "true": "on", "yes": "on", "0": "off", "false": "off", "no": "off"}.get(word, word)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("telegram_base_url", "telegram_base_file_url", "llm_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("reranker_model")
    @classmethod
    def _model_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder (a local CrossEncoder model such as bge-reranker-base)")
        return value

    @model_validator(mode="after")
    def _llm_complete(self) -> Settings:
        if self.llm_url and not self.llm_model:
            raise ValueError("BULLETIN_LLM_URL is set but BULLETIN_LLM_MODEL is not: name the model to ask")
        return self


class SettingsError(Exception):
    """Settings could not be built; the message names each bad setting."""


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            if not err["loc"]:  # a rule across settings: its message names them
                lines.append(err["msg"].removeprefix("Value error, "))
                continue
            name = "BULLETIN_" + "_".join(str(p) for p in err["loc"]).upper()
            lines.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None


def local_time(moment: str | float | None, zone: ZoneInfo) -> str:
    """A timestamp (ISO text or epoch seconds) as the wall-clock time in BULLETIN_TIMEZONE."""
    try:
        if isinstance(moment, float):
            when = datetime.fromtimestamp(moment, UTC)
        elif isinstance(moment, str):
            when = datetime.fromisoformat(moment)
        else:
            return "?"
    except (TypeError, ValueError):
        return "?"
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
