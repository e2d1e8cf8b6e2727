"""Every setting in one place, read from environment variables prefixed KCNGUARD_.

The README lists them all; `kcnguard settings` prints the ones in force.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Added to a worker's worst batch time: the flush, the commit and a slow store write or two.
POLL_MARGIN_SECONDS = 10.0


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
    crawl_robots_overrides: str = Field(
        default="", description="Per-marketplace robots.txt choice over crawl_obey_robots, e.g. shopee=false,tiki=true"
    )
    crawl_base_urls: str = Field(
        default="", description="Per-marketplace base URL over the real site, e.g. tiki=http://127.0.0.1:8900 (replay)"
    )
    crawl_proxy: str = Field(default="", description="HTTP(S) proxy every crawl request goes through; empty: none")
    crawl_concurrent_jobs: int = Field(default=2, ge=1, le=32, description="Crawl jobs one crawler runs at once")
    crawl_job_timeout_seconds: float = Field(
        default=240.0, gt=0, le=3600, description="A crawl job stops (keeping what it read) after this long"
    )
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

    flag_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Score at or above which a listing is flagged and a case opened; unset: the model's own threshold",
    )
    model_path: str = Field(
        default="",
        description="A model artifact directory (digest-checked); empty: the current model of data_dir/models",
    )

    worker_batch_size: int = Field(default=200, ge=1, le=10_000)
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    worker_record_max_seconds: float = Field(
        default=0.1,
        gt=0,
        le=60,
        description="Worst-case seconds to handle one record; times worker_batch_size, how long a worker may go"
        " between polls before its group takes its partitions",
    )
    kafka_session_timeout_seconds: float = Field(
        default=10.0, ge=1, le=300, description="A Kafka group member silent this long (killed) loses its partitions"
    )
    kafka_instance_id: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]{0,100}$",
        description="A Kafka static group member id, stable across restarts of one worker replica; empty: dynamic",
    )
    kafka_heartbeat_seconds: float = Field(
        default=3.0, gt=0, le=100, description="How often a Kafka consumer heartbeats; under a third of the session"
    )
    retry_max_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="Longest wait between retries when the bus or store is down"
    )
    heartbeat_file: str = Field(
        default="",
        description="A file each worker touches on every poll, busy or idle, for liveness probes; empty: none",
    )
    bus_retention_hours: int = Field(
        default=168, ge=1, description="The embedded bus deletes messages older than this (Kafka keeps its own)"
    )

    partner_rate_per_minute: int = Field(
        default=120, ge=1, le=100_000, description="Requests per minute each partner API key may make (token bucket)"
    )
    partner_rate_burst: int = Field(
        default=30, ge=1, le=100_000, description="Requests a partner key may send at once before the rate applies"
    )
    webhook_allowed_hosts: str = Field(
        default="",
        description="Comma-separated hosts (or *.domain) partner webhooks may point to; empty: only per-agency hosts",
    )
    webhook_allow_private: bool = Field(
        default=False, description="Allow webhooks to private or loopback addresses (tests, closed networks)"
    )
    webhook_max_attempts: int = Field(default=8, ge=1, le=50, description="Delivery attempts before dead-lettering")
    webhook_backoff_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="First retry delay for webhooks; doubles per attempt"
    )
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @property
    def resolved_api_url(self) -> str:
        host = "127.0.0.1" if self.api_host in ("0.0.0.0", "::") else self.api_host
        return (self.api_url or f"http://{host}:{self.api_port}").rstrip("/")

    @property
    def resolved_demo_url(self) -> str:
        host = "127.0.0.1" if self.demo_host in ("0.0.0.0", "::") else self.demo_host
        return (self.demo_url or f"http://{host}:{self.demo_port}").rstrip("/")

    @property
    def worker_max_poll_seconds(self) -> float:
        """The longest a worker may go between polls: its worst batch, plus a margin for the commit and publishes."""
        return self.worker_batch_size * self.worker_record_max_seconds + POLL_MARGIN_SECONDS

    @property
    def marketplaces(self) -> list[str]:
        return [m.strip() for m in self.crawl_marketplaces.split(",") if m.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
