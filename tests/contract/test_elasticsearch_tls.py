"""Elasticsearch over TLS for real, on loopback: the CA setting is honoured and a wrong CA refused.

noida-db speaks plain HTTP, so a TLS-terminating proxy (tests/tlsproxy.py) sits in front of it with a
certificate from a throwaway CA made here by kcnguard.tlscerts (the compose `certs` service's code).
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from kcnguard.errors import StoreUnavailable
from kcnguard.settings import get_settings
from kcnguard.store import open_document_store
from kcnguard.tlscerts import make_ca, make_server_cert, pem_cert, pem_key
from tests.conftest import elasticsearch_url
from tests.tlsproxy import TlsProxy


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    ca_key, ca_cert = make_ca("test CA")
    key, cert = make_server_cert(ca_key, ca_cert, ["localhost", "127.0.0.1"])
    (folder / "ca.crt").write_bytes(pem_cert(ca_cert))
    (folder / "server.crt").write_bytes(pem_cert(cert))
    (folder / "server.key").write_bytes(pem_key(key))
    _, other_ca = make_ca("some other CA")
    (folder / "other-ca.crt").write_bytes(pem_cert(other_ca))
    return folder


@pytest.fixture
def proxy(pki: Path):
    url = elasticsearch_url()
    if not url:
        pytest.skip("KCNGUARD_TEST_ELASTICSEARCH is not set (.ci/run starts noida-db and sets it)")
    parsed = urlparse(url)
    server = TlsProxy((parsed.hostname or "127.0.0.1", parsed.port or 9200), pki / "server.crt", pki / "server.key")
    yield server
    server.close()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    for name in list(os.environ):
        if name.startswith("KCNGUARD_") and not name.startswith("KCNGUARD_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KCNGUARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_the_right_ca_connects_and_sends_the_basic_auth_from_a_file(
    proxy: TlsProxy, pki: Path, env: pytest.MonkeyPatch, tmp_path: Path, namespace: str
) -> None:
    (tmp_path / "pw").write_text("es-pass\n")
    env.setenv("KCNGUARD_ELASTICSEARCH_CA_FILE", str(pki / "ca.crt"))
    env.setenv("KCNGUARD_ELASTICSEARCH_USERNAME", "kcnguard")
    env.setenv("KCNGUARD_ELASTICSEARCH_PASSWORD_FILE", str(tmp_path / "pw"))
    docs = open_document_store(proxy.url, namespace=namespace)
    try:
        docs.setup()
        docs.put("brands", "b1", {"name": "Vinamilk"})
        assert docs.get("brands", "b1").body["name"] == "Vinamilk"
    finally:
        docs.drop()
        docs.close()
    expected = "Basic " + base64.b64encode(b"kcnguard:es-pass").decode()
    assert proxy.authorizations and set(proxy.authorizations) == {expected}
    assert proxy.handshake_failures == 0


def test_an_api_key_is_sent_as_elasticsearch_expects(proxy: TlsProxy, pki: Path, env: pytest.MonkeyPatch) -> None:
    env.setenv("KCNGUARD_ELASTICSEARCH_CA_FILE", str(pki / "ca.crt"))
    env.setenv("KCNGUARD_ELASTICSEARCH_API_KEY", "a2V5LWlkOmtleS1zZWNyZXQ=")
    docs = open_document_store(proxy.url)
    try:
        docs.client.info()
    finally:
        docs.close()
    assert set(proxy.authorizations) == {"ApiKey a2V5LWlkOmtleS1zZWNyZXQ="}


def test_a_server_signed_by_another_ca_is_refused(
    proxy: TlsProxy, pki: Path, env: pytest.MonkeyPatch, namespace: str
) -> None:
    env.setenv("KCNGUARD_ELASTICSEARCH_CA_FILE", str(pki / "other-ca.crt"))
    docs = open_document_store(proxy.url, namespace=namespace)
    try:
        with pytest.raises(StoreUnavailable, match=r"(?i)certificate"):
            docs.setup()
    finally:
        docs.close()
    assert proxy.handshake_failures >= 1
    assert proxy.authorizations == []  # nothing, credentials least of all, went over the untrusted connection
