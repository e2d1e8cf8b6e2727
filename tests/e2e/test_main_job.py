"""The main job, on embedded defaults and on Kafka + Elasticsearch: everything starts, flagged
listings show up at the API and on the portal within a minute, and Ctrl-C stops every process cleanly."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, elasticsearch_url, kafka_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def processes_using(marker: str) -> list[int]:
    """Processes whose environment names our data directory: the job's own children."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


BACKENDS = [
    pytest.param({}, id="embedded"),
    pytest.param(
        {"KCNGUARD_BUS_URL": kafka_url(), "KCNGUARD_STORE_URL": elasticsearch_url()},
        id="kafka+elasticsearch",
        marks=pytest.mark.skipif(
            not (kafka_url() and elasticsearch_url()),
            reason="KCNGUARD_TEST_KAFKA and KCNGUARD_TEST_ELASTICSEARCH not set: no servers to run on",
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def main_job(tmp_path: Path, request: pytest.FixtureRequest, namespace: str):
    data_dir = tmp_path / "kcnguard-main-job"
    api_port, demo_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KCNGUARD_") or k.startswith("KCNGUARD_TEST_")} | {
        "KCNGUARD_DATA_DIR": str(data_dir),
        "KCNGUARD_API_PORT": str(api_port),
        "KCNGUARD_DEMO_PORT": str(demo_port),
        "KCNGUARD_WORKER_POLL_SECONDS": "0.3",
        "KCNGUARD_NAMESPACE": namespace,
        **request.param,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "launcher.cli", "run", "--wait", "60"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process, f"http://127.0.0.1:{api_port}", data_dir
    if process.poll() is None:
        process.kill()
        process.wait()
    for pid in processes_using(str(data_dir)):
        os.kill(pid, signal.SIGKILL)


def test_main_job_flags_demo_counterfeits_within_a_minute_and_stops_cleanly(main_job) -> None:
    process, api, data_dir = main_job
    started = time.monotonic()
    key_file = data_dir / "admin-key"
    flagged: list[dict] = []
    # Several, not just the first to land: the crawl of the brand's query has gone through.
    while time.monotonic() - started < 60 and len(flagged) < 3:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        time.sleep(1)
        if not key_file.exists():
            continue
        headers = {"X-API-Key": key_file.read_text().strip()}
        try:
            response = httpx.get(f"{api}/v1/brands/vinastep/flagged?limit=50", headers=headers, timeout=5)
        except httpx.HTTPError:
            continue
        if response.status_code == 200:
            flagged = response.json()["items"]
    assert flagged, "no flagged listing at the API within a minute"
    elapsed = time.monotonic() - started

    # The demo's counterfeits are flagged with reasons; its official store is not.
    labels = {item["id"]: item["label"] for item in json.loads((ROOT / "demo" / "catalogue.json").read_text())}
    assert {labels[item["listing_id"]] for item in flagged} == {"counterfeit"}, flagged
    assert all(item["seller"]["official"] is False for item in flagged)
    assert all(item["reasons"] for item in flagged)
    # Each flagged listing has its case opened by the classifier.
    assert all(item["case"] and item["case"]["state"] == "open" for item in flagged)

    # The same listings on the HTML page, after signing in with the key the job printed.
    with httpx.Client(base_url=api, timeout=5) as browser:
        form = browser.get("/portal/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # the login form's CSRF value
        login = browser.post(
            "/portal/login", data={"key": key_file.read_text().strip(), "csrf": csrf}, follow_redirects=True
        )
        assert login.status_code == 200
        assert "vinastep" in login.text.lower()
        assert flagged[0]["listing_id"] in login.text or flagged[0]["url"] in login.text

    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=40)
    assert process.returncode == 0, out
    assert "admin key" in out and "/portal" in out, out
    assert "Đã dừng / stopped." in out, out
    assert processes_using(str(data_dir)) == [], "a service outlived the main job"
    print(f"first flagged listing visible after {elapsed:.1f}s")
