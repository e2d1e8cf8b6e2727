"""The replay server: manifests, matching by path and query subset, gzip files, 404s, robots.txt."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from crawler.offline.replay import ManifestError, ReplayApp, load_manifest, read_manifest, running


def _manifest(tmp_path: Path, shared_data: Path) -> dict:
    product = shared_data / "tiki/api-v2-products/114432824.json"
    (tmp_path / "search.json.gz").write_bytes(gzip.compress(b'{"data": [], "paging": {}}'))
    return {
        "robots": "User-agent: *\nDisallow: /private/\n",
        "routes": [
            {"path": "/api/v2/products/114432824", "file": str(product)},
            {"path": "/api/v2/products", "query": {"q": "zinus"}, "file": "search.json.gz"},
            {"path": "/api/v2/products", "query": {"q": "zinus", "page": "2"}, "body": {"data": ["second"]}},
            {"path": "/limited", "status": 429, "body": "slow down", "headers": {"Retry-After": "7"}},
        ],
    }


def test_saved_responses_are_served_at_their_paths(tmp_path: Path, shared_data: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps(_manifest(tmp_path, shared_data)))
    app = ReplayApp(read_manifest(tmp_path))
    client = TestClient(app)
    got = client.get("/api/v2/products/114432824")
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/json")
    assert got.content == (shared_data / "tiki/api-v2-products/114432824.json").read_bytes()
    # The query is a subset match; the route naming more parameters wins; .gz is served decompressed.
    assert client.get("/api/v2/products?limit=40&q=zinus&page=1").json() == {"data": [], "paging": {}}
    assert client.get("/api/v2/products?q=zinus&page=2").json() == {"data": ["second"]}
    assert client.get("/api/v2/products?q=other").status_code == 404
    limited = client.get("/limited")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "7" and limited.text == "slow down"
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == 404
    assert client.get("/robots.txt").text.startswith("User-agent: *")
    assert app.hits[:2] == ["/api/v2/products/114432824", "/api/v2/products?limit=40&q=zinus&page=1"]


def test_manifest_can_be_swapped_while_serving(tmp_path: Path) -> None:
    app = ReplayApp(load_manifest([{"path": "/a", "body": "day 1"}], tmp_path))
    with running(app) as url:
        assert httpx.get(f"{url}/a").text == "day 1"
        app.load(load_manifest([{"path": "/a", "body": "day 2"}], tmp_path))
        assert httpx.get(f"{url}/a").text == "day 2"
        assert httpx.get(f"{url}/robots.txt").status_code == 404  # no robots: Scrapy reads it as all allowed


@pytest.mark.parametrize(
    ("manifest", "complaint"),
    [
        ({"nothing": 1}, "'routes' list"),
        ([{"path": "no-slash", "body": ""}], "starting with '/'"),
        ([{"path": "/a"}], "exactly one of file and body"),
        ([{"path": "/a", "file": "absent.json"}], "cannot read"),
        ([{"path": "/a", "body": "", "status": 999}], "not an HTTP status"),
        ({"routes": [], "robots": ["x"]}, "robots"),
    ],
)
def test_bad_manifests_say_what_is_wrong(tmp_path: Path, manifest: object, complaint: str) -> None:
    with pytest.raises(ManifestError, match=complaint):
        load_manifest(manifest, tmp_path)


def test_a_missing_or_broken_manifest_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read manifest"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{oops")
    with pytest.raises(ManifestError, match="is not JSON"):
        read_manifest(tmp_path)
