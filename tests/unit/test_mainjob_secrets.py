"""The main job: secrets only to the services that need them, and no crash when the API refuses its key."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from kcnguard.settings import Settings
from launcher import mainjob
from launcher.mainjob import MainJob


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainJob:
    monkeypatch.setenv("KCNGUARD_ADMIN_KEY", "from-the-parent-environment-0123456789")
    monkeypatch.setattr("launcher.bootstrap.prepare_backends", lambda settings: None)
    settings = Settings(
        data_dir=tmp_path / "data", evidence_s3_access_key="AKIAEXAMPLE", evidence_s3_secret_key="s3-secret-value"
    )
    made = MainJob(settings)
    made._prepare()
    return made


def test_each_service_gets_only_the_secrets_it_needs(job: MainJob) -> None:
    api = job._env("api")
    assert api["KCNGUARD_ADMIN_KEY"] == job.admin_key and len(job.admin_key) >= 24
    assert api["KCNGUARD_SECRET_KEY"] == job.secret_key
    assert api["KCNGUARD_EVIDENCE_S3_SECRET_KEY"] == "s3-secret-value"
    assert job._env("webhooks")["KCNGUARD_SECRET_KEY"] == job.secret_key
    assert job._env("classifier")["KCNGUARD_SECRET_KEY"] == job.secret_key  # it signs its audit entries
    assert job._env("crawler")["KCNGUARD_EVIDENCE_S3_SECRET_KEY"] == "s3-secret-value"
    for name in ("classifier", "scheduler", "demo-marketplace", "crawler", "webhooks"):
        assert "KCNGUARD_ADMIN_KEY" not in job._env(name), name
    for name in ("scheduler", "demo-marketplace", "crawler"):
        assert "KCNGUARD_SECRET_KEY" not in job._env(name), name
    for name in ("classifier", "scheduler", "demo-marketplace", "webhooks"):
        assert "KCNGUARD_EVIDENCE_S3_SECRET_KEY" not in job._env(name), name


def test_the_keys_it_makes_are_kept_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KCNGUARD_ADMIN_KEY", raising=False)
    monkeypatch.setattr("launcher.bootstrap.prepare_backends", lambda settings: None)
    job = MainJob(Settings(data_dir=tmp_path / "data", secret_key=""))
    job._prepare()
    for name in ("admin-key", "secret-key"):
        mode = stat.S_IMODE((job.data_dir / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))


def test_a_revoked_admin_key_is_logged_not_fatal(job: MainJob, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    def refused(url: str, **_: object) -> httpx.Response:
        body = {"type": "https://kcnguard/problems/invalid-key", "status": 401}
        return httpx.Response(401, json=body, request=httpx.Request("GET", url))

    monkeypatch.setattr(mainjob.httpx, "get", refused)
    job.wait_seconds = 0.5
    assert job._wait_for_flagged() is False
    assert job._counts_or_none() is None
    out = capsys.readouterr().out
    assert out.count("refuses the admin key") == 1
