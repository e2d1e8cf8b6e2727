"""TLS and credentials of the Kafka and Elasticsearch clients, from the settings.

One place turns KCNGUARD_KAFKA_* and KCNGUARD_ELASTICSEARCH_* into the keyword arguments the
client libraries take, so the producer, the consumers and the admin client cannot disagree, and a
file that is named but missing is a clear start-up error rather than a retry loop on an OSError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kcnguard.settings import Settings


class TransportConfigError(ValueError):
    """Settings naming a certificate or key file that is not there, or TLS files without TLS."""


def _readable(variable: str, path: str) -> str:
    if not Path(path).is_file():
        raise TransportConfigError(f"{variable}: không có tệp {path} / no file at {path}")
    return path


def kafka_options(settings: Settings) -> dict[str, Any]:
    """kafka-python keyword arguments for TLS and SASL; empty for PLAINTEXT."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"security_protocol": protocol}
    uses_tls = protocol in ("SSL", "SASL_SSL")
    named_files = settings.kafka_ssl_cafile or settings.kafka_ssl_certfile or settings.kafka_ssl_keyfile
    if named_files and not uses_tls:
        raise TransportConfigError(
            f"KCNGUARD_KAFKA_SSL_* đặt nhưng giao thức là {protocol} / TLS files are set but "
            f"KCNGUARD_KAFKA_SECURITY_PROTOCOL is {protocol}: use SSL or SASL_SSL"
        )
    if uses_tls:
        options["ssl_check_hostname"] = settings.kafka_ssl_check_hostname
        if settings.kafka_ssl_cafile:
            options["ssl_cafile"] = _readable("KCNGUARD_KAFKA_SSL_CAFILE", settings.kafka_ssl_cafile)
        if settings.kafka_ssl_certfile:
            options["ssl_certfile"] = _readable("KCNGUARD_KAFKA_SSL_CERTFILE", settings.kafka_ssl_certfile)
            options["ssl_keyfile"] = _readable("KCNGUARD_KAFKA_SSL_KEYFILE", settings.kafka_ssl_keyfile)
        if settings.kafka_ssl_key_password:
            options["ssl_password"] = settings.kafka_ssl_key_password
    if protocol.startswith("SASL_"):
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = settings.kafka_sasl_password
    return options


def elasticsearch_options(settings: Settings, url: str) -> dict[str, Any]:
    """elasticsearch-py keyword arguments: the CA for https:// and an API key or basic auth."""
    options: dict[str, Any] = {}
    if settings.elasticsearch_ca_file:
        if not url.startswith("https://"):
            raise TransportConfigError(
                "KCNGUARD_ELASTICSEARCH_CA_FILE cần địa chỉ https:// / a CA file needs an https:// "
                f"KCNGUARD_STORE_URL, not {url}"
            )
        options["ca_certs"] = _readable("KCNGUARD_ELASTICSEARCH_CA_FILE", settings.elasticsearch_ca_file)
    if settings.elasticsearch_api_key:
        options["api_key"] = settings.elasticsearch_api_key
    elif settings.elasticsearch_username:
        options["basic_auth"] = (settings.elasticsearch_username, settings.elasticsearch_password)
    return options
