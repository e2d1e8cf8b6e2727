"""Every setting, secrets first, can come from a file named by KCNGUARD_<NAME>_FILE (compose secrets)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kcnguard.secretfiles import SecretFileError
from kcnguard.settings import Settings
from tests.conftest import ROOT

SECRETS = (
    "admin_key",
    "evidence_s3_secret_key",
    "kafka_sasl_password",
    "kafka_ssl_key_password",
    "elasticsearch_password",
    "elasticsearch_api_key",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KCNGUARD_"):
            monkeypatch.delenv(name)


def test_the_secret_settings_are_marked_secret() -> None:
    assert set(SECRETS) <= Settings.secret_names()
    assert "kafka_sasl_username" not in Settings.secret_names()


@pytest.mark.parametrize("name", SECRETS)
def test_each_secret_is_read_from_its_file_without_the_trailing_newline(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / name
    secret.write_text("s3cr3t value with spaces\n")
    monkeypatch.setenv(f"KCNGUARD_{name.upper()}_FILE", str(secret))
    if name == "elasticsearch_password":
        monkeypatch.setenv("KCNGUARD_ELASTICSEARCH_USERNAME", "kcnguard")
    assert getattr(Settings(), name) == "s3cr3t value with spaces"


def test_a_crlf_file_loses_only_its_line_ending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "k").write_bytes(b"  key  \r\n")
    monkeypatch.setenv("KCNGUARD_ADMIN_KEY_FILE", str(tmp_path / "k"))
    assert Settings().admin_key == "  key  "


def test_any_setting_not_only_secrets_may_come_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "url").write_text("kafka://broker:9093\n")
    monkeypatch.setenv("KCNGUARD_BUS_URL_FILE", str(tmp_path / "url"))
    assert Settings().bus_url == "kafka://broker:9093"


def test_setting_both_the_value_and_the_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "k").write_text("from-file")
    monkeypatch.setenv("KCNGUARD_ADMIN_KEY_FILE", str(tmp_path / "k"))
    monkeypatch.setenv("KCNGUARD_ADMIN_KEY", "from-env")
    with pytest.raises(SecretFileError, match="KCNGUARD_ADMIN_KEY_FILE are set"):
        Settings()


def test_an_empty_variable_still_counts_as_set_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # compose's `KEY: ${KEY:-}` yields an empty variable: silently preferring one side would hide a mistake.
    (tmp_path / "k").write_text("from-file")
    monkeypatch.setenv("KCNGUARD_ADMIN_KEY_FILE", str(tmp_path / "k"))
    monkeypatch.setenv("KCNGUARD_ADMIN_KEY", "")
    with pytest.raises(SecretFileError):
        Settings()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), (b"\n", "is empty"), (b"\xff\xfe", "cannot read"), (b"x" * 70_000, "bytes")],
)
def test_an_unusable_file_is_a_clear_error(
    content: bytes | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret"
    if content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("KCNGUARD_KAFKA_SASL_PASSWORD_FILE", str(path))
    with pytest.raises(SecretFileError, match=message) as caught:
        Settings()
    assert "KCNGUARD_KAFKA_SASL_PASSWORD_FILE" in str(caught.value)


def test_the_command_prints_no_secret_and_reports_a_bad_file_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("hunter2-very-secret\n")
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "KCNGUARD_DATA_DIR": str(tmp_path),
        "KCNGUARD_ELASTICSEARCH_USERNAME": "kcnguard",
        "KCNGUARD_ELASTICSEARCH_PASSWORD_FILE": str(tmp_path / "pw"),
    }
    run = [sys.executable, "-m", "launcher.cli", "settings"]
    shown = subprocess.run(run, env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert "KCNGUARD_ELASTICSEARCH_PASSWORD=***" in shown.stdout
    assert "hunter2" not in shown.stdout + shown.stderr

    broken = subprocess.run(
        run,
        env={**env, "KCNGUARD_ELASTICSEARCH_PASSWORD_FILE": str(tmp_path / "absent")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert broken.returncode == 2
    assert "KCNGUARD_ELASTICSEARCH_PASSWORD_FILE" in broken.stderr and "Traceback" not in broken.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KCNGUARD_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "SASL username and password"),
        ({"KCNGUARD_KAFKA_SECURITY_PROTOCOL": "TLS"}, "kafka_security_protocol"),
        ({"KCNGUARD_KAFKA_SASL_MECHANISM": "GSSAPI"}, "kafka_sasl_mechanism"),
        ({"KCNGUARD_KAFKA_SSL_CERTFILE": "/c.pem"}, "needs its key file"),
        ({"KCNGUARD_ELASTICSEARCH_USERNAME": "elastic"}, "needs both a user and a password"),
        (
            {
                "KCNGUARD_ELASTICSEARCH_API_KEY": "k",
                "KCNGUARD_ELASTICSEARCH_USERNAME": "u",
                "KCNGUARD_ELASTICSEARCH_PASSWORD": "p",
            },
            "not both",
        ),
    ],
)
def test_half_a_credential_is_refused(env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        Settings()
