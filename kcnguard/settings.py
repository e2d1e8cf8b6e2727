"""Every setting in one place, read from environment variables prefixed KCNGUARD_.

The README lists them all; `kcnguard settings` prints the ones in force.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KCNGUARD_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".kcnguard"), description="Where the embedded bus, store, models and evidence live"
    )
    bus_url: str = Field(
        default="embedded://",
        description="embedded:// (in data_dir), embedded:///path/bus.db, or kafka://host:9092[,host:9092]",
    )
    store_url: str = Field(
        default="sqlite://",
        description="sqlite:// (in data_dir), sqlite:///path/store.db, elasticsearch://host:9200 or http(s)://host:9200",
    )
    namespace: str = Field(
        default="kcnguard",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$",
        description="Prefix of topic, consumer-group and index names",
    )
    log_level: str = Field(default="INFO")
    log_format: str = Field(default="text", pattern="^(text|json)$")

    api_host: str = Field(default="127.0.0.1")
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_url: str = Field(default="", description="How other processes reach the API; default http://api_host:api_port")
    admin_key: str = Field(
        default="", description="An admin API key to create at start-up (for deployments); empty: none"
    )

    demo_host: str = Field(default="127.0.0.1")
    demo_port: int = Field(default=8800, ge=1, le=65535)
    demo_url: str = Field(
        default="", description="Base URL of the demo marketplace; default http://demo_host:demo_port"
    )

    crawl_marketplaces: str = Field(
        default="demo", description="Comma-separated marketplaces the scheduler sends jobs to"
    )
    scheduler_check_seconds: int = Field(
        default=60,
        ge=1,
        description="How often the scheduler looks for brands due a crawl (each brand has its own interval)",
    )
    crawl_max_pages: int = Field(default=3, ge=1, le=100)
    crawl_queries_per_brand: int = Field(
        default=12,
        ge=1,
        le=100,
        description="Most queries per brand and marketplace: names first, then unaccented forms and disguises",
    )
    crawl_concurrency_per_domain: int = Field(default=4, ge=1, le=64)
    crawl_obey_robots: bool = Field(default=True)
    user_agent: str = Field(
        default="KCNGuardBot/0.1 (KCN Guard: counterfeit monitoring for industrial-zone management boards)"
    )

    evidence_url: str = Field(
        default="",
        description="Where raw responses are kept: empty (data_dir/evidence), file:///path or s3://bucket/prefix",
    )
    evidence_s3_endpoint: str = Field(default="", description="S3-compatible endpoint URL (MinIO, Ceph); empty: AWS")
    evidence_s3_region: str = Field(default="")
    evidence_s3_access_key: str = Field(default="", description="Empty: boto3's usual credential chain")
    evidence_s3_secret_key: str = Field(default="")

    flag_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Score at or above which a listing is flagged and a case opened"
    )
    model_path: str = Field(
        default="", description="A trained model file; empty: train the built-in model from the seed data on first use"
    )

    worker_batch_size: int = Field(default=200, ge=1, le=10_000)
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    retry_max_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="Longest wait between retries when the bus or store is down"
    )
    bus_retention_hours: int = Field(
        default=168, ge=1, description="The embedded bus deletes messages older than this (Kafka keeps its own)"
    )

    @property
    def resolved_api_url(self) -> str:
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::") else self.api_host
        return (self.api_url or f"http://{host}:{self.api_port}").rstrip("/")

    @property
    def resolved_demo_url(self) -> str:
        host = "127.0.0.1" if self.demo_host in ("0.0.0.0", "::") else self.demo_host
        return (self.demo_url or f"http://{host}:{self.demo_port}").rstrip("/")

    @property
    def marketplaces(self) -> list[str]:
        return [m.strip() for m in self.crawl_marketplaces.split(",") if m.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
