"""Every setting in one place, read from environment variables prefixed KCNGUARD_.

The README lists them all; `kcnguard settings` prints the ones in force. Any setting may instead
be read from a file named by `KCNGUARD_<NAME>_FILE` (compose and Kubernetes secrets, see
kcnguard.secretfiles); the ones marked secret are never printed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from kcnguard.secretfiles import SecretFilesSource, is_secret

SECRET = {"secret": True}

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
        default="",
        description="An admin API key to create at start-up (at least 24 characters, not repetitive); empty: none",
        json_schema_extra=SECRET,
    )
    secret_key: str = Field(
        default="",
        description="Keys the audit chain, seals webhook secrets at rest, signs partner cursors (24+ characters); "
        "every process shares it. Empty with the embedded store: a random key kept in DATA_DIR/secret-key",
        json_schema_extra=SECRET,
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of TLS-terminating proxies whose X-Forwarded-* is believed",
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
    evidence_s3_secret_key: str = Field(default="", json_schema_extra=SECRET)

    kafka_security_protocol: str = Field(
        default="PLAINTEXT",
        pattern="^(PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL)$",
        description="How clients talk to the Kafka brokers: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
    )
    kafka_ssl_cafile: str = Field(
        default="", description="PEM CA the brokers' certificates must chain to; empty: system CAs"
    )
    kafka_ssl_certfile: str = Field(default="", description="PEM client certificate (mutual TLS); empty: none")
    kafka_ssl_keyfile: str = Field(default="", description="PEM private key of the client certificate")
    kafka_ssl_key_password: str = Field(
        default="", description="Password of an encrypted key file", json_schema_extra=SECRET
    )
    kafka_ssl_check_hostname: bool = Field(default=True, description="Check the broker's name against its certificate")
    kafka_sasl_mechanism: str = Field(
        default="PLAIN", pattern="^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$", description="SASL mechanism for SASL_*"
    )
    kafka_sasl_username: str = Field(default="")
    kafka_sasl_password: str = Field(default="", json_schema_extra=SECRET)

    elasticsearch_ca_file: str = Field(
        default="", description="PEM CA the https:// server's certificate must chain to; empty: system CAs"
    )
    elasticsearch_api_key: str = Field(
        default="", description="API key (the encoded form Elasticsearch returns)", json_schema_extra=SECRET
    )
    elasticsearch_username: str = Field(default="", description="Basic-auth user; with elasticsearch_password")
    elasticsearch_password: str = Field(default="", json_schema_extra=SECRET)

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
    anonymous_rate_per_minute: int = Field(
        default=60, ge=1, le=100_000, description="Requests per minute per client address without a key or session"
    )
    anonymous_rate_burst: int = Field(default=20, ge=1, le=100_000, description="Burst per anonymous client address")
    user_rate_per_minute: int = Field(
        default=600, ge=1, le=100_000, description="Requests per minute per signed-in person or non-partner key owner"
    )
    user_rate_burst: int = Field(default=100, ge=1, le=100_000, description="Burst per person or key owner")
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

    @model_validator(mode="after")
    def _credentials_complete(self) -> Settings:
        # Half a credential is a deployment mistake that would otherwise show as a vague 401 much later.
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                f"KCNGUARD_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} cần KCNGUARD_KAFKA_SASL_USERNAME và "
                "KCNGUARD_KAFKA_SASL_PASSWORD / needs a SASL username and password"
            )
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError(
                "KCNGUARD_KAFKA_SSL_CERTFILE và KCNGUARD_KAFKA_SSL_KEYFILE đi cùng nhau / a client certificate "
                "needs its key file and the other way round"
            )
        if bool(self.elasticsearch_username) != bool(self.elasticsearch_password):
            raise ValueError(
                "KCNGUARD_ELASTICSEARCH_USERNAME và KCNGUARD_ELASTICSEARCH_PASSWORD đi cùng nhau / basic auth "
                "needs both a user and a password"
            )
        if self.elasticsearch_api_key and self.elasticsearch_username:
            raise ValueError(
                "chỉ dùng một cách xác thực Elasticsearch / use either KCNGUARD_ELASTICSEARCH_API_KEY or "
                "a username and password, not both"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, SecretFilesSource(settings_cls), dotenv_settings, file_secret_settings

    @classmethod
    def secret_names(cls) -> frozenset[str]:
        """Settings never printed or logged; give them as KCNGUARD_<NAME>_FILE."""
        return frozenset(name for name, field in cls.model_fields.items() if is_secret(field))

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
