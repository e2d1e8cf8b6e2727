"""docker-compose.yml beyond `config`: its services' exact commands, environments and healthchecks, run.

Outside Docker, as subprocesses: the `certs` one-shot, then every KCN Guard service with the
command and environment `docker-compose config` gives, host names rewritten to the test servers
(Kafka and Elasticsearch from noida-db as .ci/run starts them, S3 from moto on loopback), then
each service's own compose healthcheck, rewritten likewise, until it passes; and the pipeline
must move: the demo marketplace is crawled, the classifier flags listings, and a flagged listing
and its evidence (written by the crawler to S3, read back by the API) come through the API.

What is not the compose file's, and why:
- Elasticsearch is reached over TLS with the `certs` service's certificate and the password
  secret, through a TLS proxy (tests/tlsproxy.py), because noida-db speaks only plain HTTP.
- Kafka is plaintext: noida-db has no TLS or SASL, and a proxy cannot rewrite the broker
  addresses Kafka's metadata hands out. The SASL_SSL settings are checked in tests/unit.
- Ports, data directories, heartbeat files and the namespace are this test's own, and the
  services bind 127.0.0.1 instead of 0.0.0.0 (others share this machine).
- The bucket is made with boto3, as the `evidence-bucket` job (MinIO's `mc`) would.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import ROOT, elasticsearch_url, kafka_url
from tests.tlsproxy import TlsProxy

pytestmark = pytest.mark.skipif(
    not (kafka_url() and elasticsearch_url()),
    reason="KCNGUARD_TEST_KAFKA and KCNGUARD_TEST_ELASTICSEARCH not set (.ci/run starts noida-db): "
    "the compose services have no servers to run against",
)

ONE_SHOT = ("certs", "seed-demo")
LONG_RUNNING = ("demo-marketplace", "api", "classifier", "crawler", "scheduler", "webhooks")
# Kafka is plaintext here (see the module's docstring); these settings would ask for SASL_SSL.
KAFKA_TLS = (
    "KCNGUARD_KAFKA_SSL_CAFILE",
    "KCNGUARD_KAFKA_SASL_MECHANISM",
    "KCNGUARD_KAFKA_SASL_USERNAME",
    "KCNGUARD_KAFKA_SASL_PASSWORD_FILE",
)
DEADLINE_SECONDS = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed: `apt-get install docker-compose` (.ci/run does it)")
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


class Rig:
    """The rewritten world: where each compose name points on this machine."""

    def __init__(self, tmp: Path, namespace: str) -> None:
        self.tmp = tmp
        self.namespace = namespace
        self.secrets = tmp / "secrets"
        self.certs = tmp / "certs"
        self.api_port, self.demo_port = free_port(), free_port()
        self.replace: list[tuple[str, str]] = []
        self.logs: dict[str, Path] = {}

    def text(self, value: str, service: str) -> str:
        # One pass, longest name first: a rewritten path is never rewritten again.
        table = dict(self.replace) | {"/tmp/kcnguard-heartbeat": str(self.tmp / f"{service}-heartbeat")}
        pattern = "|".join(re.escape(old) for old in sorted(table, key=len, reverse=True))
        return re.sub(pattern, lambda m: table[m.group(0)], value)

    def argv(self, words: list[str], service: str) -> list[str]:
        programs = {"python": sys.executable, "kcnguard": str(Path(sys.executable).with_name("kcnguard"))}
        # A word that is exactly the certs volume's mount point (the certs service's output folder).
        mounts = {"/certs": str(self.certs)}
        return [programs.get(words[0], words[0]), *(mounts.get(w) or self.text(w, service) for w in words[1:])]

    def env(self, svc: dict[str, Any], service: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KCNGUARD_")}
        env["PYTHONPATH"] = str(ROOT)
        for name, value in (svc.get("environment") or {}).items():
            if name not in KAFKA_TLS:
                env[name] = self.text(str(value or ""), service)
        env |= {
            "KCNGUARD_DATA_DIR": str(self.tmp / f"{service}-data"),  # the image's /var/lib/kcnguard
            "KCNGUARD_NAMESPACE": self.namespace,
            "KCNGUARD_API_PORT": str(self.api_port),
            "KCNGUARD_DEMO_PORT": str(self.demo_port),
        }
        for name in ("KCNGUARD_API_HOST", "KCNGUARD_DEMO_HOST"):
            if name in env:
                env[name] = "127.0.0.1"
        if "KCNGUARD_KAFKA_SECURITY_PROTOCOL" in env:
            env["KCNGUARD_KAFKA_SECURITY_PROTOCOL"] = "PLAINTEXT"
        return env

    def healthcheck(self, svc: dict[str, Any], service: str) -> list[str] | None:
        check = svc.get("healthcheck") or {}
        if check.get("disable") or not check.get("test"):
            return None
        kind, *rest = check["test"]
        rest = [
            w.replace("127.0.0.1:8000", f"127.0.0.1:{self.api_port}").replace(
                "127.0.0.1:8800", f"127.0.0.1:{self.demo_port}"
            )
            for w in rest
        ]
        if kind == "CMD-SHELL":
            return ["sh", "-c", self.text(rest[0].replace("$$", "$"), service)]
        assert kind == "CMD", f"{service}: healthcheck kind {kind}"
        return self.argv(rest, service)


def _run_one_shot(rig: Rig, compose: dict[str, Any], name: str) -> None:
    svc = compose["services"][name]
    argv = rig.argv(svc["command"], name)
    if "--owner" in argv and os.geteuid() != 0:
        # Handing the keys to uid 1000 needs root, as the compose service runs; not root here.
        at = argv.index("--owner")
        del argv[at : at + 2]
    done = subprocess.run(argv, env=rig.env(svc, name), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"{name}: {argv}\n{done.stdout}\n{done.stderr}"


def _passes(argv: list[str], env: dict[str, str]) -> bool:
    try:
        return subprocess.run(argv, env=env, capture_output=True, timeout=15).returncode == 0
    except subprocess.TimeoutExpired:
        return False


@pytest.fixture
def s3_server():
    pytest.importorskip("moto.server", reason="moto[s3] (dev extras) runs the S3 stand-in")
    from moto.server import ThreadedMotoServer

    # One log line per S3 request would bury a failure's own report.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_every_compose_service_starts_passes_its_healthcheck_and_the_pipeline_moves(
    compose: dict[str, Any], tmp_path: Path, namespace: str, s3_server: str
) -> None:
    import boto3

    started = time.monotonic()
    rig = Rig(tmp_path, namespace)
    rig.secrets.mkdir()
    for secret in compose["secrets"]:
        (rig.secrets / secret).write_text(f"{secret}-{os.urandom(12).hex()}\n")
    kafka = kafka_url() or ""
    es_host, _, es_port = (elasticsearch_url() or "").split("://", 1)[1].rstrip("/").partition(":")
    rig.replace = [
        ("/run/secrets/", f"{rig.secrets}/"),
        ("/usr/share/elasticsearch/config/certs/", f"{rig.certs}/"),
        ("/certs/", f"{rig.certs}/"),
        ("kafka://kafka:9092", kafka),
        ("http://minio:9000", s3_server),
        ("http://api:8000", f"http://127.0.0.1:{rig.api_port}"),
        ("http://demo-marketplace:8800", f"http://127.0.0.1:{rig.demo_port}"),
    ]

    _run_one_shot(rig, compose, "certs")
    assert {"ca.crt", "elasticsearch.crt", "elasticsearch.key", "kafka.p12", "kafka_server_jaas.conf"} <= {
        p.name for p in rig.certs.iterdir()
    }
    proxy = TlsProxy((es_host, int(es_port or 9200)), rig.certs / "elasticsearch.crt", rig.certs / "elasticsearch.key")
    # The certificate names `localhost`, as the services' `elasticsearch` would be named in compose.
    rig.replace += [
        ("https://elasticsearch:9200", f"https://localhost:{proxy.port}"),
        ("https://localhost:9200", f"https://localhost:{proxy.port}"),
    ]
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        es_check = rig.healthcheck(compose["services"]["elasticsearch"], "elasticsearch") or []
        if shutil.which("curl"):  # in the elasticsearch image; CI machines have it too
            assert es_check and _passes(es_check, dict(os.environ)), f"elasticsearch healthcheck fails: {es_check}"

        api_env = rig.env(compose["services"]["api"], "api")
        bucket = api_env["KCNGUARD_EVIDENCE_URL"].split("//")[1].split("/")[0]
        boto3.client(
            "s3",
            endpoint_url=s3_server,
            region_name=api_env["KCNGUARD_EVIDENCE_S3_REGION"],
            aws_access_key_id=api_env["KCNGUARD_EVIDENCE_S3_ACCESS_KEY"],
            aws_secret_access_key=(rig.secrets / "s3_secret_key").read_text().strip(),
        ).create_bucket(Bucket=bucket)

        _run_one_shot(rig, compose, "seed-demo")
        for name in LONG_RUNNING:
            svc = compose["services"][name]
            rig.logs[name] = tmp_path / f"{name}.log"
            with rig.logs[name].open("wb") as log:
                processes[name] = subprocess.Popen(
                    rig.argv(svc["command"], name),
                    env=rig.env(svc, name),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

        def fail(what: str) -> None:
            tails = "\n".join(
                f"--- {n} (exit {processes[n].poll()}):\n" + rig.logs[n].read_text(errors="replace")[-1500:]
                for n in processes
            )
            pytest.fail(f"{what} after {time.monotonic() - started:.0f}s\n{tails}")

        deadline = started + DEADLINE_SECONDS
        pending = {name: rig.healthcheck(compose["services"][name], name) for name in LONG_RUNNING}
        assert all(pending.values()), f"services without a healthcheck: {[n for n, c in pending.items() if not c]}"
        while pending and time.monotonic() < deadline:
            for name, check in list(pending.items()):
                if processes[name].poll() is not None:
                    fail(f"{name} exited")
                if check and _passes(check, dict(os.environ)):
                    del pending[name]
            time.sleep(1)
        if pending:
            fail(f"healthchecks still failing: {sorted(pending)}")

        admin = {"X-API-Key": (rig.secrets / "admin_key").read_text().strip()}
        api = f"http://127.0.0.1:{rig.api_port}"
        flagged: dict[str, Any] | None = None
        while flagged is None and time.monotonic() < deadline:
            brands = httpx.get(f"{api}/v1/brands", headers=admin, timeout=10).json()
            for brand in brands.get("items", brands) if isinstance(brands, dict) else brands:
                page = httpx.get(f"{api}/v1/brands/{brand['brand_id']}/flagged?limit=1", headers=admin, timeout=10)
                if page.status_code == 200 and page.json().get("items"):
                    flagged = page.json()["items"][0]
                    break
            else:
                time.sleep(2)
        if flagged is None:
            fail("no flagged listing through the API")
        assert flagged is not None
        evidence = httpx.get(
            f"{api}/v1/evidence/{flagged['evidence_digest']}",
            params={"listing": flagged["listing_key"]},
            headers=admin,
            timeout=10,
        )
        assert evidence.status_code == 200, evidence.text
        assert evidence.content, "the crawler's evidence, read back from S3 by the API, is empty"
        assert proxy.authorizations and all(a and a.startswith("Basic ") for a in proxy.authorizations)
        assert proxy.handshake_failures == 0
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited while the pipeline ran"
        assert time.monotonic() - started < 120

        # The checks can fail: a stopped API, an unreachable Elasticsearch, a stale heartbeat.
        checks = {name: rig.healthcheck(compose["services"][name], name) for name in LONG_RUNNING}
        for process in processes.values():
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        assert not _passes(checks["api"] or [], dict(os.environ)), "the API healthcheck passes with the API stopped"
        for name in ("crawler", "classifier", "scheduler", "webhooks"):
            beat = tmp_path / f"{name}-heartbeat"
            os.utime(beat, (time.time() - 600, time.time() - 600))
            assert not _passes(checks[name] or [], dict(os.environ)), f"{name}'s check passes on a stale heartbeat"
        if shutil.which("curl"):
            proxy.close()
            assert not _passes(es_check, dict(os.environ)), "the Elasticsearch check passes with no server"
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        proxy.close()
        _drop_indices(elasticsearch_url() or "", namespace)


def _drop_indices(url: str, namespace: str) -> None:
    base = "http://" + url.split("://", 1)[1].rstrip("/")
    try:
        names = httpx.get(f"{base}/_cat/indices/{namespace}-*?format=json", timeout=10).json()
        for index in names if isinstance(names, list) else []:
            if re.fullmatch(rf"{re.escape(namespace)}-[a-z0-9_.-]+", index.get("index", "")):
                httpx.delete(f"{base}/{index['index']}", timeout=10)
    except (httpx.HTTPError, ValueError):
        pass  # an index left on a throwaway test server harms nothing
