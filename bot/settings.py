"""Settings: the one place that reads the environment (prefix NEWSBOT_) and an optional .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError


class Settings(BaseSettings):
    """Everything newsbot can be configured with. Field names map to NEWSBOT_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", extra="ignore")

    home: Path = Field(Path(".newsbot"), description="Where the embedded index and logs live.")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server.")
    collection: str = Field("newsbot", description="Chroma collection name.")
    llm: str = Field("extractive", description="extractive | smollm2 | PROVIDER:MODEL")
    llm_timeout: float = Field(60.0, gt=0, description="Seconds to wait for a remote model.")
    top_k: int = Field(5, ge=1, le=50, description="Chunks given to the answer step.")

    @field_validator("llm")
    @classmethod
    def _strip_llm(cls, value: str) -> str:
        return value.strip() or "extractive"


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning validation problems into a one-line ConfigError."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "NEWSBOT_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        raise ConfigError(f"{name}: {err['msg']}") from exc
