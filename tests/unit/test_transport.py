"""The TLS and credential settings reach the constructors of every Kafka and Elasticsearch client."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import kcnguard.bus.kafka as kafka_module
import kcnguard.store.elastic as elastic_module
from kcnguard.bus import open_bus
from kcnguard.settings import get_settings
from kcnguard.store import open_document_store
from kcnguard.transport import TransportConfigError


class Captured:
    """Stands in for a client class: records its keyword arguments and fails like an absent server."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return _Client()


class _Client:
    def list_topics(self) -> list[str]:
        return []

    def create_topics(self, *_a: Any, **_k: Any) -> None:
        return None

    def close(self, *_a: Any, **_k: Any) -> None:
        return None

    def send(self, *_a: Any, **_k: Any) -> Any:
        raise AssertionError("not sent in these tests")

    def assignment(self) -> set[Any]:
        return set()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name in list(os.environ):
        if name.startswith("KCNGUARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KCNGUARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.fixture
def kafka_clients(monkeypatch: pytest.MonkeyPatch) -> dict[str, Captured]:
    clients = {"KafkaProducer": Captured(), "KafkaConsumer": Captured(), "KafkaAdminClient": Captured()}
    for name, fake in clients.items():
        monkeypatch.setattr(kafka_module, name, fake)
    monkeypatch.setattr(kafka_module.KafkaBus, "_check_reachable", lambda self: None)
    return clients


def _files(tmp_path: Path, *names: str) -> list[str]:
    paths = []
    for name in names:
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n")
        paths.append(str(tmp_path / name))
    return paths


def test_sasl_ssl_settings_reach_the_producer_the_consumer_and_the_admin_client(
    env: pytest.MonkeyPatch, kafka_clients: dict[str, Captured], tmp_path: Path
) -> None:
    ca, cert, key = _files(tmp_path, "ca.pem", "client.pem", "client.key")
    (tmp_path / "pw").write_text("sasl-secret\n")
    env.setenv("KCNGUARD_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    env.setenv("KCNGUARD_KAFKA_SSL_CAFILE", ca)
    env.setenv("KCNGUARD_KAFKA_SSL_CERTFILE", cert)
    env.setenv("KCNGUARD_KAFKA_SSL_KEYFILE", key)
    env.setenv("KCNGUARD_KAFKA_SSL_CHECK_HOSTNAME", "false")
    env.setenv("KCNGUARD_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    env.setenv("KCNGUARD_KAFKA_SASL_USERNAME", "kcnguard")
    env.setenv("KCNGUARD_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "pw"))
    expected = {
        "security_protocol": "SASL_SSL",
        "ssl_cafile": ca,
        "ssl_certfile": cert,
        "ssl_keyfile": key,
        "ssl_check_hostname": False,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "kcnguard",
        "sasl_plain_password": "sasl-secret",
    }
    bus = open_bus("kafka://broker:9093")
    bus.ensure_topics()
    bus._producer_or_new()
    kafka_module.KafkaBusConsumer(bus, "g", ["listings.raw"], None)
    for name, fake in kafka_clients.items():
        assert len(fake.calls) == 1, name
        assert expected.items() <= fake.calls[0].items(), name
        assert fake.calls[0]["bootstrap_servers"] == ["broker:9093"]


def test_plaintext_kafka_gets_no_tls_or_sasl_arguments(
    env: pytest.MonkeyPatch, kafka_clients: dict[str, Captured]
) -> None:
    open_bus("kafka://broker:9092")._producer_or_new()
    kwargs = kafka_clients["KafkaProducer"].calls[0]
    assert kwargs["security_protocol"] == "PLAINTEXT"
    assert not [k for k in kwargs if k.startswith(("ssl_", "sasl_"))]


def test_tls_files_without_tls_and_missing_files_are_refused(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (ca,) = _files(tmp_path, "ca.pem")
    env.setenv("KCNGUARD_KAFKA_SSL_CAFILE", ca)
    with pytest.raises(TransportConfigError, match="use SSL or SASL_SSL"):
        open_bus("kafka://broker:9092")
    env.setenv("KCNGUARD_KAFKA_SECURITY_PROTOCOL", "SSL")
    env.setenv("KCNGUARD_KAFKA_SSL_CAFILE", str(tmp_path / "absent.pem"))
    get_settings.cache_clear()
    with pytest.raises(TransportConfigError, match=r"absent\.pem"):
        open_bus("kafka://broker:9092")


@pytest.fixture
def es_client(monkeypatch: pytest.MonkeyPatch) -> Captured:
    fake = Captured()
    monkeypatch.setattr(elastic_module, "Elasticsearch", fake)
    return fake


def test_elasticsearch_ca_and_basic_auth_reach_the_client(
    env: pytest.MonkeyPatch, es_client: Captured, tmp_path: Path
) -> None:
    (ca,) = _files(tmp_path, "ca.pem")
    (tmp_path / "pw").write_text("es-secret\n")
    env.setenv("KCNGUARD_ELASTICSEARCH_CA_FILE", ca)
    env.setenv("KCNGUARD_ELASTICSEARCH_USERNAME", "elastic")
    env.setenv("KCNGUARD_ELASTICSEARCH_PASSWORD_FILE", str(tmp_path / "pw"))
    open_document_store("https://es.example:9200")
    kwargs = es_client.calls[0]
    assert kwargs["ca_certs"] == ca
    assert kwargs["basic_auth"] == ("elastic", "es-secret")
    assert "api_key" not in kwargs


def test_elasticsearch_api_key_reaches_the_client(env: pytest.MonkeyPatch, es_client: Captured) -> None:
    env.setenv("KCNGUARD_ELASTICSEARCH_API_KEY", "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==")
    open_document_store("elasticsearch://es:9200")
    kwargs = es_client.calls[0]
    assert kwargs["api_key"].startswith("VnVh") and "basic_auth" not in kwargs and "ca_certs" not in kwargs


def test_a_ca_file_with_a_plain_http_url_is_refused(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (ca,) = _files(tmp_path, "ca.pem")
    env.setenv("KCNGUARD_ELASTICSEARCH_CA_FILE", ca)
    with pytest.raises(TransportConfigError, match="https://"):
        open_document_store("elasticsearch://es:9200")
