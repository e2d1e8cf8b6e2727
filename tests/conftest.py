"""Fixtures every test suite shares: the real data folder, fresh settings, server URLs."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

# Suites make hundreds of requests a second from one test client: limits are tested with their own settings.
for _setting in ("ANONYMOUS", "USER", "PARTNER"):
    os.environ.setdefault(f"KCNGUARD_{_setting}_RATE_PER_MINUTE", "100000")
    os.environ.setdefault(f"KCNGUARD_{_setting}_RATE_BURST", "100000")
# The audit chain's key: fixed for tests, so none of them writes a key file into the working directory.
os.environ.setdefault("KCNGUARD_SECRET_KEY", "test-audit-key-0c6f3a9e2b7d41c8a5f0e9d2b6c1a7f3")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, the real marketplace responses; skip clearly when this checkout has none."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (CI always has it): tests on real responses skipped")
    return SHARED_DATA


@pytest.fixture
def namespace() -> str:
    """A namespace of this test's own, so topics, groups and indices never collide."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings pointing at a fresh data dir, with the cached settings cleared before and after."""
    from kcnguard.settings import get_settings

    monkeypatch.setenv("KCNGUARD_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def kafka_url() -> str | None:
    return os.environ.get("KCNGUARD_TEST_KAFKA") or None


def elasticsearch_url() -> str | None:
    return os.environ.get("KCNGUARD_TEST_ELASTICSEARCH") or None
