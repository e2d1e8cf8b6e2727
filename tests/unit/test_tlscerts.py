"""The compose `certs` service: a CA that verifies both servers' certificates, keys kept private, idempotent."""

from __future__ import annotations

import ssl
import stat
import threading
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from crawler.scheduler import _wait_beating
from kcnguard.heartbeat import Heartbeat
from kcnguard.tlscerts import jaas_config, main


def test_the_certificates_verify_against_the_ca_for_their_compose_names(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("kafka-pass\n")
    assert main([str(tmp_path / "certs"), "--kafka-password-file", str(tmp_path / "pw")]) == 0
    certs = tmp_path / "certs"
    ca = x509.load_pem_x509_certificate((certs / "ca.crt").read_bytes())
    es = x509.load_pem_x509_certificates((certs / "elasticsearch.crt").read_bytes())[0]
    es.verify_directly_issued_by(ca)
    names = es.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert {"elasticsearch", "localhost"} <= set(names)
    # Python's TLS stack accepts the pair as a server's chain and key.
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
        certs / "elasticsearch.crt", certs / "elasticsearch.key"
    )
    password = (certs / "kafka_keystore_password").read_bytes()
    key, cert, chain = pkcs12.load_key_and_certificates((certs / "kafka.p12").read_bytes(), password)
    assert key is not None and cert is not None
    assert chain == [ca]  # Kafka hands clients the whole chain
    cert.verify_directly_issued_by(ca)
    assert "kafka" in cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName
    )
    assert 'user_kcnguard="kafka-pass"' in (certs / "kafka_server_jaas.conf").read_text()
    for private in ("elasticsearch.key", "kafka.p12", "kafka_keystore_password", "kafka_server_jaas.conf"):
        assert stat.S_IMODE((certs / private).stat().st_mode) == 0o600, private
    assert stat.S_IMODE((certs / "ca.crt").stat().st_mode) == 0o644


def test_a_second_run_keeps_the_ca_and_rewrites_only_the_sasl_users(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("first\n")
    main([str(tmp_path / "c"), "--kafka-password-file", str(tmp_path / "pw")])
    ca = (tmp_path / "c" / "ca.crt").read_bytes()
    (tmp_path / "pw").write_text("rotated\n")
    main([str(tmp_path / "c"), "--kafka-password-file", str(tmp_path / "pw")])
    assert (tmp_path / "c" / "ca.crt").read_bytes() == ca
    assert '"rotated"' in (tmp_path / "c" / "kafka_server_jaas.conf").read_text()


@pytest.mark.parametrize("password", ['a"b', "a\\b", "a;b", ""])
def test_a_password_that_would_break_the_jaas_file_is_refused(password: str) -> None:
    with pytest.raises(ValueError, match="without quotes"):
        jaas_config("kcnguard", password)


def test_a_missing_password_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "c"), "--kafka-password-file", str(tmp_path / "absent")]) == 1
    assert "absent" in capsys.readouterr().err


def test_the_scheduler_keeps_its_heartbeat_fresh_while_it_waits(tmp_path: Path) -> None:
    beat = tmp_path / "beat"
    stop = threading.Event()
    heartbeat = Heartbeat(beat, every_seconds=0.05)
    waiter = threading.Thread(target=_wait_beating, args=(stop, 0.6, heartbeat))
    waiter.start()
    time.sleep(0.1)
    assert beat.exists()
    waiter.join(timeout=5)
    assert not waiter.is_alive()
