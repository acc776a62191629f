"""Deployment settings: one typed object, read once at start-up (prefix ORDERSYNC_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ORDERSYNC_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./ordersync.db"
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 1_048_576
    max_bundle_bytes: int = 67_108_864
    log_json: bool = False
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    return Settings()
