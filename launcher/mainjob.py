"""`kcnguard run`: the whole system on one machine, each service in its own process.

It starts the demo marketplace, the API, the classifier and the crawler, registers the
demo brands through the API, starts the scheduler (which sends the first crawl cycle at
once), and reports in the terminal where the flagged listings can be seen. Ctrl-C stops
every process cleanly. Service logs go to files under the data directory.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from kcnguard.secret_keys import SECRET_KEY_FILE, keep_in_file
from kcnguard.settings import Settings

log = logging.getLogger("kcnguard.run")

# How often the terminal is told of newly flagged listings while the job runs.
PROGRESS_SECONDS = 10
# Seconds a service gets to finish its current batch after SIGTERM before it is killed.
GRACE_SECONDS = 15
MAX_RESTARTS = 3

# Secrets each service is handed; every other service starts without them (a crawler that parses hostile
# pages has no use for the admin key). The store's and bus's own credentials go to every service.
SECRET_SETTINGS = (
    "KCNGUARD_ADMIN_KEY",
    "KCNGUARD_SECRET_KEY",
    "KCNGUARD_EVIDENCE_S3_ACCESS_KEY",
    "KCNGUARD_EVIDENCE_S3_SECRET_KEY",
)
SECRETS_FOR = {
    "api": {
        "KCNGUARD_ADMIN_KEY",
        "KCNGUARD_SECRET_KEY",
        "KCNGUARD_EVIDENCE_S3_ACCESS_KEY",
        "KCNGUARD_EVIDENCE_S3_SECRET_KEY",
    },
    "crawler": {"KCNGUARD_EVIDENCE_S3_ACCESS_KEY", "KCNGUARD_EVIDENCE_S3_SECRET_KEY"},
    # The classifier appends to the audit chain when it opens or re-scores a case: it signs with the key.
    "classifier": {"KCNGUARD_SECRET_KEY"},
    "webhooks": {"KCNGUARD_SECRET_KEY"},
}


class ApiRefused(Exception):
    """The API answered a status call with 401/403: the admin key was revoked or narrowed."""


@dataclass
class Child:
    name: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    log_file: IO[bytes] | None = field(default=None, repr=False)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class MainJob:
    def __init__(self, settings: Settings, wait_seconds: float = 60.0, exit_after_flagged: bool = False) -> None:
        self.settings = settings
        self.wait_seconds = wait_seconds
        self.exit_after_flagged = exit_after_flagged
        self.data_dir = settings.data_dir.resolve()
        self.logs_dir = self.data_dir / "logs"
        self.stop = threading.Event()
        self.children: list[Child] = []
        self.admin_key = settings.admin_key or ""
        self.secret_key = settings.secret_key or ""
        self._refused_logged = False
        self._reported: dict[str, int] = {}

    # -- lifecycle ----------------------------------------------------------------------------

    def run(self) -> int:
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        try:
            problem = self._preflight()
            if problem:
                say(problem)
                return 2
            self._prepare()
            for name in ("demo-marketplace", "api", "classifier", "crawler", "webhooks"):
                self._start(name)
            if not self._wait_ready():
                return 1
            try:
                self._register_demo_brands()
            except (RuntimeError, httpx.HTTPError) as failed:
                say(f"Không đăng ký được nhãn mẫu / demo brands not registered: {failed}")
            self._start("scheduler")
            self._banner()
            found = self._wait_for_flagged()
            if self.exit_after_flagged:
                return 0 if found else 1
            self._supervise()
            return 0
        finally:
            self._shutdown()

    def _preflight(self) -> str | None:
        s = self.settings
        for what, host, port, var in (
            ("API", s.api_host, s.api_port, "KCNGUARD_API_PORT"),
            ("demo marketplace", s.demo_host, s.demo_port, "KCNGUARD_DEMO_PORT"),
        ):
            if not port_is_free(host, port):
                return (
                    f"Cổng {port} ({what}) đang bận — hãy đặt {var} sang cổng khác.\n"
                    f"Port {port} for the {what} is in use: set {var} to a free port."
                )
        return None

    def _prepare(self) -> None:
        from launcher.bootstrap import prepare_backends

        self.logs_dir.mkdir(parents=True, exist_ok=True)
        prepare_backends(self.settings)
        if not self.admin_key:
            self.admin_key = keep_in_file(self.data_dir / "admin-key", lambda: "kcn_" + secrets.token_urlsafe(32))
        if not self.secret_key:
            self.secret_key = keep_in_file(self.data_dir / SECRET_KEY_FILE)

    def _env(self, name: str) -> dict[str, str]:
        """The environment of service `name`: this one's, less the secrets that service does not need."""
        env = {k: v for k, v in os.environ.items() if k not in SECRET_SETTINGS}
        mine = {
            "KCNGUARD_ADMIN_KEY": self.admin_key,
            "KCNGUARD_SECRET_KEY": self.secret_key,
            "KCNGUARD_EVIDENCE_S3_ACCESS_KEY": self.settings.evidence_s3_access_key,
            "KCNGUARD_EVIDENCE_S3_SECRET_KEY": self.settings.evidence_s3_secret_key,
        }
        env.update({k: v for k, v in mine.items() if v and k in SECRETS_FOR.get(name, set())})
        env.update({"KCNGUARD_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"})
        return env

    def _start(self, name: str) -> None:
        child = next((c for c in self.children if c.name == name), None)
        if child is None:
            child = Child(name, self.logs_dir / f"{name}.log")
            self.children.append(child)
        child.log_file = open(child.log_path, "ab")  # noqa: SIM115 - kept open for the child's life
        # A session of its own: Ctrl-C reaches only this process, which then stops the
        # services in order instead of each one tearing down mid-batch.
        child.process = subprocess.Popen(
            [sys.executable, "-m", "launcher.cli", name],
            env=self._env(name),
            stdout=child.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.debug("started %s (pid %s)", name, child.process.pid)

    def _wait_ready(self) -> bool:
        checks = {
            "demo-marketplace": f"{self.settings.resolved_demo_url}/robots.txt",
            "api": f"{self.settings.resolved_api_url}/healthz",
        }
        deadline = time.monotonic() + 60
        pending = dict(checks)
        while pending and time.monotonic() < deadline and not self.stop.is_set():
            for name, url in list(pending.items()):
                child = next(c for c in self.children if c.name == name)
                if child.process and child.process.poll() is not None:
                    say(f"Dịch vụ {name} dừng khi khởi động / {name} exited at start-up: see {child.log_path}")
                    return False
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        if pending:
            say(f"Không khởi động được / not ready in time: {', '.join(pending)} — logs in {self.logs_dir}")
            return False
        return True

    def _register_demo_brands(self) -> None:
        from demo.catalogue import load_brands, load_enterprises

        headers = {"X-API-Key": self.admin_key}
        # Brands may only name registered enterprises: the demo's owners first.
        for enterprise in load_enterprises():
            response = httpx.post(
                f"{self.settings.resolved_api_url}/v1/enterprises", json=enterprise, headers=headers, timeout=10
            )
            if response.status_code not in (200, 201, 409):
                who = enterprise["enterprise_id"]
                raise RuntimeError(f"registering enterprise {who} failed: {response.status_code} {response.text}")
        for brand in load_brands():
            response = httpx.post(
                f"{self.settings.resolved_api_url}/v1/brands",
                # The server keeps these; rights_status too (a brand the Board registers is verified).
                json=brand.model_dump(
                    mode="json", exclude={"schema_version", "created_at", "updated_at", "rights_status"}
                ),
                headers=headers,
                timeout=10,
            )
            if response.status_code not in (200, 201, 409):
                raise RuntimeError(f"registering brand {brand.brand_id} failed: {response.status_code} {response.text}")

    def _banner(self) -> None:
        api = self.settings.resolved_api_url
        say(
            "\nKCN Guard đang chạy / is running\n"
            f"  Cổng thông tin / portal:   {api}/portal  (khoá quản trị / admin key: {self.admin_key})\n"
            f"  API:                       {api}/v1  (OpenAPI: {api}/openapi.json, header X-API-Key)\n"
            f"  Chợ mẫu / demo marketplace: {self.settings.resolved_demo_url}\n"
            f"  Nhật ký / logs:            {self.logs_dir}\n"
            "  Ctrl-C để dừng / to stop\n"
        )

    def _status_call(self, path: str) -> dict[str, Any]:
        response = httpx.get(
            f"{self.settings.resolved_api_url}{path}", headers={"X-API-Key": self.admin_key}, timeout=5
        )
        if response.status_code in (401, 403):
            raise ApiRefused(f"{response.status_code} on {path}")
        response.raise_for_status()
        return response.json()

    def _flagged_counts(self) -> dict[str, int]:
        brands = self._status_call("/v1/brands")
        counts: dict[str, int] = {}
        for brand in brands["items"]:
            body = self._status_call(f"/v1/brands/{brand['brand_id']}/flagged?limit=1")
            counts[brand["brand_id"]] = int(body["total"])
        return counts

    def _counts_or_none(self) -> dict[str, int] | None:
        """The flagged counts, or None (said once, not raised) while the API refuses or fails: the services
        it watches keep running whatever the main job can see."""
        try:
            return self._flagged_counts()
        except ApiRefused as refused:
            if not self._refused_logged:
                say(
                    f"API từ chối khoá quản trị ({refused}); các dịch vụ vẫn chạy, chỉ ngừng báo số liệu.\n"
                    f"The API refuses the admin key ({refused}); services keep running, progress reports stop."
                )
                self._refused_logged = True
            return None
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None

    def _wait_for_flagged(self) -> bool:
        started = time.monotonic()
        deadline = started + self.wait_seconds
        while not self.stop.is_set() and time.monotonic() < deadline:
            counts = self._counts_or_none() or {}
            total = sum(counts.values())
            if total:
                # One more beat lets the rest of the first cycle land before the summary.
                self.stop.wait(3)
                counts = self._counts_or_none() or counts
                self._reported = counts
                elapsed = time.monotonic() - started
                say(f"Sau {elapsed:.0f} giây có {sum(counts.values())} tin đăng bị gắn cờ / flagged listings:")
                for brand_id, n in sorted(counts.items()):
                    say(f"  {brand_id:<24} {n:>4}   {self.settings.resolved_api_url}/v1/brands/{brand_id}/flagged")
                say(f"  Xem / see: {self.settings.resolved_api_url}/portal")
                return True
            self._restart_dead()
            self.stop.wait(1)
        if not self.stop.is_set():
            say(f"Chưa có tin đăng bị gắn cờ sau {self.wait_seconds:.0f} giây / none flagged yet: see {self.logs_dir}")
        return False

    def _supervise(self) -> None:
        last = self._reported
        next_report = time.monotonic() + PROGRESS_SECONDS
        while not self.stop.wait(1):
            self._restart_dead()
            if time.monotonic() < next_report:
                continue
            next_report = time.monotonic() + PROGRESS_SECONDS
            counts = self._counts_or_none()
            if counts is None:
                continue
            if counts != last:
                detail = ", ".join(f"{b} {n}" for b, n in sorted(counts.items()) if n)
                say(f"Cập nhật / update: {sum(counts.values())} tin đăng bị gắn cờ / flagged ({detail})")
            last = counts

    def _restart_dead(self) -> None:
        for child in self.children:
            if child.process is None or child.process.poll() is None:
                continue
            if child.restarts >= MAX_RESTARTS:
                say(f"{child.name} keeps stopping (exit {child.process.returncode}); see {child.log_path}")
                self.stop.set()
                return
            child.restarts += 1
            say(f"{child.name} stopped (exit {child.process.returncode}); restarting ({child.restarts}/{MAX_RESTARTS})")
            self._start(child.name)

    def _shutdown(self) -> None:
        running = [c for c in self.children if c.process and c.process.poll() is None]
        if running:
            say("Đang dừng / stopping: " + ", ".join(c.name for c in running))
        # Producers first, so nothing new arrives while consumers finish their batch.
        order = ["scheduler", "crawler", "classifier", "webhooks", "api", "demo-marketplace"]
        for child in sorted(running, key=lambda c: order.index(c.name) if c.name in order else 99):
            assert child.process is not None
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop in {GRACE_SECONDS}s; killing it")
                child.process.kill()
                child.process.wait()
        for child in self.children:
            if child.log_file:
                child.log_file.close()
        if running:
            say("Đã dừng / stopped.")


def say(text: str) -> None:
    print(text, flush=True)
