"""Settings: the one place that reads the environment (prefix NEWSBOT_) and an optional .env file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.errors import ConfigError
from index.limits import DEFAULT_LIMITS, LoadLimits


class Settings(BaseSettings):
    """Everything newsbot can be configured with. Field names map to NEWSBOT_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".newsbot"), description="Where the embedded index and logs live.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server.")
    chroma_token: SecretStr | None = Field(None, description="Token for a Chroma server with "
                                           "token authentication (sent as a bearer token).")
    chroma_ca: Path | None = Field(None, description="CA bundle that signs an https Chroma "
                                   "server's certificate.")
    collection: str = Field("newsbot", description="Chroma collection name.")
    llm: str = Field("extractive", description="extractive | smollm2 | PROVIDER:MODEL")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for a remote model.")
    top_k: int = Field(5, ge=1, le=50, description="Chunks given to the answer step.")
    malloc_arenas: int = Field(2, ge=0, le=64, description=(
        "glibc malloc arenas per process (0: glibc's default of 8 per core); fewer arenas keep "
        "memory freed by Chroma's threads from piling up (see index/heap.py)."))
    entities: bool = Field(True, description=(
        "Tag named entities at ingest for short answers (index/entities.py); off: ingest is "
        "faster and short answers use patterns."))
    fake_embedder: bool = Field(False, description=(
        "Benchmarks and tests only: deterministic random vectors instead of MiniLM, so a child "
        "process indexes thousands of articles in seconds. Answers from such an index are "
        "meaningless."))
    watch_interval: float = Field(10.0, gt=0, description="Minutes between polls of a source.")
    fetch_delay: float = Field(1.0, ge=0, description="Seconds between requests to one host.")
    fetch_timeout: float = Field(10.0, gt=0, description="Seconds to wait for a web server.")
    fetch_max_mb: float = Field(5.0, gt=0, description="Largest page or feed fetched, in MB.")
    # Per-file bounds for `index` (index/limits.py says what each one guards against).
    max_file_bytes: int = Field(DEFAULT_LIMITS.max_file_bytes, ge=1, le=2**31)
    max_records_per_file: int = Field(DEFAULT_LIMITS.max_records_per_file, ge=1, le=10**7)
    max_title_chars: int = Field(DEFAULT_LIMITS.max_title_chars, ge=10, le=10**5)
    max_text_chars: int = Field(DEFAULT_LIMITS.max_text_chars, ge=100, le=10**8)
    max_sentences_per_file: int = Field(DEFAULT_LIMITS.max_sentences_per_file, ge=1, le=10**8)
    max_front_matter_bytes: int = Field(DEFAULT_LIMITS.max_front_matter_bytes, ge=0, le=10**7)
    max_html_depth: int = Field(DEFAULT_LIMITS.max_html_depth, ge=1, le=10**4)
    max_html_elements: int = Field(DEFAULT_LIMITS.max_html_elements, ge=1, le=10**7)

    @field_validator("llm")
    @classmethod
    def _strip_llm(cls, value: str) -> str:
        return value.strip() or "extractive"

    def load_limits(self) -> LoadLimits:
        """The loaders' per-file bounds, from the NEWSBOT_MAX_* settings."""
        return LoadLimits(**{name: getattr(self, name) for name in LoadLimits.__dataclass_fields__})


class SlackSettings(BaseSettings):
    """What `newsbot slack` needs; read only by that command, so a bad value breaks nothing else.

    Slack's own variable names (SLACK_BOT_TOKEN ...) are used as they are, so the app's usual
    setup instructions work unchanged.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN",
                                        description="xapp-...: Socket Mode instead of HTTP.")
    api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL",
                         description="Web API base URL (Enterprise proxies, tests).")
    channels: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="NEWSBOT_SLACK_CHANNELS",
        description="Comma-separated channel ids the bot answers in; empty: everywhere.")
    rate_limit: int = Field(10, ge=0, validation_alias="NEWSBOT_SLACK_RATE_LIMIT",
                            description="Questions per user per minute; 0: unlimited.")
    workers: int = Field(8, ge=1, le=64, validation_alias="NEWSBOT_SLACK_WORKERS",
                         description="Questions answered at the same time.")
    state_file: Path | None = Field(None, validation_alias="NEWSBOT_SLACK_STATE", description=(
        "SQLite file of seen deliveries and answers; default $NEWSBOT_HOME/slack-state.sqlite."))
    idle_timeout: int = Field(75, ge=1, le=3600, validation_alias="NEWSBOT_SLACK_IDLE_TIMEOUT",
                              description="HTTP: seconds before an idle connection is closed.")
    backlog: int = Field(2048, ge=16, le=65535, validation_alias="NEWSBOT_SLACK_BACKLOG",
                         description="HTTP: connections the kernel queues before accepting.")

    @field_validator("api_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{value!r} is not an http(s) URL like https://slack.com/api/")
        return value.strip().rstrip("/") + "/"  # slack_sdk joins method names onto it

    @field_validator("channels", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("bot_token", "signing_secret", "app_token", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def socket_mode(self) -> bool:
        """Socket Mode when an app-level token is set, else HTTP."""
        return self.app_token is not None


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation problems into a one-line ConfigError."""
    try:
        settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise _config_error(exc, prefix="NEWSBOT_") from exc
    home = settings.home
    if home.is_symlink() and not home.exists():
        raise ConfigError(f"NEWSBOT_HOME {home} is a link to {os.readlink(home)}, "
                          "which does not exist")
    if home.exists() and not home.is_dir():
        raise ConfigError(f"NEWSBOT_HOME {home} is a file, not a folder: point it at a folder "
                          "(it is made if missing)")
    return settings


def load_slack_settings(**overrides: object) -> SlackSettings:
    """Read and check the Slack settings: a one-line ConfigError names what is missing or wrong."""
    try:
        slack = SlackSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise _config_error(exc) from exc
    if slack.bot_token is None:
        raise ConfigError("SLACK_BOT_TOKEN is not set: "
                          "use the app's Bot User OAuth Token (xoxb-...).")
    if slack.app_token is not None and not slack.app_token.get_secret_value().startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token (xapp-...) for Socket Mode.")
    if not slack.socket_mode and slack.signing_secret is None:
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests "
                          "(or set SLACK_APP_TOKEN for Socket Mode).")
    return slack


def _config_error(exc: ValidationError, prefix: str = "") -> ConfigError:
    err = exc.errors()[0]
    name = (prefix + str(err["loc"][0])).upper() if err["loc"] else "settings"
    return ConfigError(f"{name}: {err['msg'].removeprefix('Value error, ')}")
