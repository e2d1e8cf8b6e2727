"""The evidence store keeps raw responses by digest, on a local folder and on an S3-compatible bucket."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kcnguard.errors import NotFound
from kcnguard.evidence import EvidenceError, LocalEvidenceStore, S3EvidenceStore, open_evidence
from kcnguard.settings import Settings


@pytest.fixture
def s3_store() -> Iterator[S3EvidenceStore]:
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="evidence")
        yield S3EvidenceStore("evidence", "/kcnguard/raw/", client)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LocalEvidenceStore | S3EvidenceStore:
    if request.param == "local":
        return LocalEvidenceStore(tmp_path / "evidence")
    return request.getfixturevalue("s3_store")


def test_put_returns_sha256_and_get_gives_the_bytes_back(store: LocalEvidenceStore | S3EvidenceStore) -> None:
    body = "<html><h1>Giày VinaStep rep 1:1</h1> 1.290.000₫</html>".encode()
    digest = store.put(body)
    assert digest == hashlib.sha256(body).hexdigest()
    assert store.exists(digest)
    assert store.get(digest) == body
    assert store.put(body) == digest  # idempotent


def test_unknown_and_malformed_digests_are_not_found(store: LocalEvidenceStore | S3EvidenceStore) -> None:
    assert not store.exists("0" * 64)
    with pytest.raises(NotFound):
        store.get("0" * 64)
    for hostile in ("../../etc/passwd", "A" * 64, "", "ab/" + "c" * 61):
        assert not store.exists(hostile)
        with pytest.raises(NotFound):
            store.get(hostile)


def test_local_copy_is_gzip_and_tampering_is_detected(tmp_path: Path) -> None:
    store = LocalEvidenceStore(tmp_path)
    body = b"x" * 10_000
    digest = store.put(body)
    (path,) = tmp_path.rglob(f"{digest}.gz")
    assert path.stat().st_size < 200  # kept compressed
    path.write_bytes(gzip.compress(b"something else"))
    with pytest.raises(EvidenceError, match="altered"):
        store.get(digest)
    path.write_bytes(b"not gzip")
    with pytest.raises(EvidenceError, match="corrupt"):
        store.get(digest)


def test_s3_objects_are_named_by_digest_under_the_prefix(s3_store: S3EvidenceStore) -> None:
    digest = s3_store.put(b'{"item": {"itemid": 1}}')
    keys = [o["Key"] for o in s3_store.client.list_objects_v2(Bucket="evidence")["Contents"]]
    assert keys == [f"kcnguard/raw/{digest}.gz"]


def test_too_large_a_body_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kcnguard.evidence.MAX_EVIDENCE_BYTES", 100)
    with pytest.raises(EvidenceError, match="limit"):
        LocalEvidenceStore(tmp_path).put(b"y" * 101)


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    default = open_evidence(Settings(data_dir=tmp_path))
    assert isinstance(default, LocalEvidenceStore) and default.root == tmp_path / "evidence"
    chosen = open_evidence(Settings(data_dir=tmp_path, evidence_url=f"file://{tmp_path}/elsewhere"))
    assert isinstance(chosen, LocalEvidenceStore) and chosen.root == tmp_path / "elsewhere"
    with pytest.raises(ValueError, match="bucket"):
        open_evidence(Settings(data_dir=tmp_path, evidence_url="s3://"))
    with pytest.raises(ValueError, match="KCNGUARD_EVIDENCE_URL"):
        open_evidence(Settings(data_dir=tmp_path, evidence_url="ftp://x/y"))
