"""The compose file's one-shot `certs` service: a private CA and the servers' certificates.

`python -m kcnguard.tlscerts /certs --kafka-password-file F --owner 1000:0` writes, once:
ca.crt (what every client trusts), elasticsearch.crt/.key (PEM, for xpack.security.http.ssl),
kafka.p12 with its password in kafka_keystore_password (what the apache/kafka image reads from
/etc/kafka/secrets), and on every run kafka_server_jaas.conf (the SASL/PLAIN user, from the
password secret, so rotating the secret needs only a restart). The CA's key is not kept: new
certificates mean a new CA, made by deleting ca.crt. Keys are readable by the servers' user only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# Certificates outlive a demo by far but are renewed by re-running the service, never by hand.
VALID_DAYS = 825

Key = ec.EllipticCurvePrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "KCN Guard"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _builder(subject: x509.Name, issuer: x509.Name, key: Key) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
    )


def make_ca(common_name: str = "KCN Guard private CA") -> tuple[Key, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(_name(common_name), _name(common_name), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(ca_key: Key, ca_cert: x509.Certificate, names: Sequence[str]) -> tuple[Key, x509.Certificate]:
    """A server certificate for `names` (DNS names or IP addresses); the first is its common name."""
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    cert = (
        _builder(_name(names[0]), ca_cert.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def pem_key(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def jaas_config(user: str, password: str) -> str:
    """The broker's SASL/PLAIN user list; quotes or backslashes would end the JAAS string early."""
    for label, value in (("user", user), ("password", password)):
        if not value or any(c in value for c in '"\\\n\r;'):
            raise ValueError(f"Kafka SASL {label} must be non-empty, without quotes, backslashes or line breaks")
    return (
        "KafkaServer {\n"
        "  org.apache.kafka.common.security.plain.PlainLoginModule required\n"
        f'  user_{user}="{password}";\n'
        "};\n"
    )


def _write(path: Path, data: bytes, mode: int, owner: tuple[int, int] | None) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, mode)
    if owner is not None:
        os.chown(tmp, *owner)
    os.replace(tmp, path)


def write_deployment_certs(
    out: Path,
    *,
    kafka_names: Sequence[str] = ("kafka", "localhost", "127.0.0.1"),
    elasticsearch_names: Sequence[str] = ("elasticsearch", "localhost", "127.0.0.1"),
    kafka_user: str = "kcnguard",
    kafka_password: str | None = None,
    owner: tuple[int, int] | None = None,
) -> list[str]:
    """Write what is missing into `out`; return the names written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    if not (out / "ca.crt").exists():
        ca_key, ca_cert = make_ca()
        es_key, es_cert = make_server_cert(ca_key, ca_cert, elasticsearch_names)
        _write(out / "elasticsearch.key", pem_key(es_key), 0o600, owner)
        _write(out / "elasticsearch.crt", pem_cert(es_cert) + pem_cert(ca_cert), 0o644, owner)
        kafka_key, kafka_cert = make_server_cert(ca_key, ca_cert, kafka_names)
        store_password = secrets.token_urlsafe(24)
        keystore = pkcs12.serialize_key_and_certificates(
            b"kafka", kafka_key, kafka_cert, [ca_cert], serialization.BestAvailableEncryption(store_password.encode())
        )
        _write(out / "kafka.p12", keystore, 0o600, owner)
        _write(out / "kafka_keystore_password", store_password.encode(), 0o600, owner)
        # Last: its presence means the set is complete (a run killed half-way starts over).
        _write(out / "ca.crt", pem_cert(ca_cert), 0o644, owner)
        written += ["ca.crt", "elasticsearch.crt", "elasticsearch.key", "kafka.p12", "kafka_keystore_password"]
    if kafka_password is not None:
        _write(out / "kafka_server_jaas.conf", jaas_config(kafka_user, kafka_password).encode(), 0o600, owner)
        written.append("kafka_server_jaas.conf")
    return written


def _owner(text: str) -> tuple[int, int]:
    user, _, group = text.partition(":")
    return int(user), int(group or user)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kcnguard.tlscerts", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write into (a volume the servers mount)")
    parser.add_argument("--kafka-password-file", type=Path, help="the SASL/PLAIN password of the kafka user")
    parser.add_argument("--kafka-user", default="kcnguard")
    parser.add_argument("--owner", type=_owner, help="uid[:gid] owning the files (the servers' user)")
    args = parser.parse_args(argv)
    try:
        password = None
        if args.kafka_password_file is not None:
            from kcnguard.secretfiles import read_secret_file

            password = read_secret_file("--kafka-password-file", str(args.kafka_password_file))
        written = write_deployment_certs(
            args.out, kafka_user=args.kafka_user, kafka_password=password, owner=args.owner
        )
    except (OSError, ValueError) as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: {', '.join(written) or 'đã có / already there'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
