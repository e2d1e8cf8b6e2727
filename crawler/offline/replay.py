"""The replay server: saved marketplace responses served at the marketplaces' own paths.

With KCNGUARD_CRAWL_BASE_URLS pointing a marketplace here, the real spiders run end to end
offline against real payloads (tests, benchmarks, demos). What to serve is a manifest, a JSON
file beside the saved responses:

    {"robots": "User-agent: *\\nAllow: /",
     "routes": [{"path": "/api/v2/products/114432824", "file": "114432824.json"},
                {"path": "/api/v2/products", "query": {"q": "zinus"}, "file": "search.json.gz"},
                {"path": "/api/v4/item/get", "query": {"itemid": "1"}, "status": 404, "body": "{}"}]}

A route matches a request with its method (default GET) and exact path when every one of its
`query` parameters is in the request's query (a subset: the spider's other parameters do not
matter); the route naming more parameters wins. `file` is relative to the manifest (or
absolute) and may be gzip (`.gz`, served decompressed); `body` is inline text instead. Also:
`status` (200), `content_type` (from the file name), `headers`. Unknown paths get 404, and
/robots.txt is the manifest's `robots` text (404 without one, which Scrapy reads as "all allowed").
Bodies are read once at load, so serving costs no disk I/O.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

_TYPES = {".json": "application/json; charset=utf-8", ".html": "text/html; charset=utf-8", ".txt": "text/plain"}


class ManifestError(ValueError):
    """A manifest entry that cannot be served; the message names the entry and what is wrong."""


@dataclass(frozen=True)
class Route:
    path: str
    body: bytes
    method: str = "GET"
    query: dict[str, str] = field(default_factory=dict)
    status: int = 200
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    def matches(self, method: str, path: str, query: dict[str, str]) -> bool:
        return method == self.method and path == self.path and all(query.get(k) == v for k, v in self.query.items())


@dataclass
class Manifest:
    routes: list[Route]
    robots: str | None = None


def _content_type(name: str) -> str:
    stem = name[:-3] if name.endswith(".gz") else name
    return _TYPES.get(Path(stem).suffix.lower(), "application/octet-stream")


def _route(entry: Any, position: int, base_dir: Path) -> Route:
    where = f"manifest route {position}"
    if not isinstance(entry, dict):
        raise ManifestError(f"{where} is a {type(entry).__name__}, not an object")
    path = entry.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ManifestError(f"{where}: path must be a string starting with '/', got {path!r}")
    if ("file" in entry) == ("body" in entry):
        raise ManifestError(f"{where} ({path}): give exactly one of file and body")
    content_type = entry.get("content_type")
    if "file" in entry:
        file = Path(entry["file"])
        file = file if file.is_absolute() else base_dir / file
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise ManifestError(f"{where} ({path}): cannot read {file}: {exc.strerror}") from None
        body = gzip.decompress(raw) if file.name.endswith(".gz") else raw
        content_type = content_type or _content_type(file.name)
    else:
        text = entry["body"]
        body = text.encode() if isinstance(text, str) else json.dumps(text, ensure_ascii=False).encode()
        content_type = content_type or "application/json; charset=utf-8"
    query = entry.get("query") or {}
    headers = entry.get("headers") or {}
    if not isinstance(query, dict) or not isinstance(headers, dict):
        raise ManifestError(f"{where} ({path}): query and headers must be objects")
    status = entry.get("status", 200)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise ManifestError(f"{where} ({path}): status {status!r} is not an HTTP status")
    return Route(
        path=path,
        body=body,
        method=str(entry.get("method", "GET")).upper(),
        query={str(k): str(v) for k, v in query.items()},
        status=status,
        content_type=content_type,
        headers={str(k): str(v) for k, v in headers.items()},
    )


def load_manifest(data: Any, base_dir: Path) -> Manifest:
    """A manifest from its decoded JSON: an object with routes (and robots), or a bare list of routes."""
    if isinstance(data, list):
        data = {"routes": data}
    if not isinstance(data, dict) or not isinstance(data.get("routes"), list):
        raise ManifestError("a manifest is a list of routes or an object with a 'routes' list")
    robots = data.get("robots")
    if robots is not None and not isinstance(robots, str):
        raise ManifestError("manifest 'robots' must be the text of a robots.txt")
    return Manifest([_route(entry, i, base_dir) for i, entry in enumerate(data["routes"])], robots)


def read_manifest(path: Path) -> Manifest:
    """A manifest file (a folder means its manifest.json); file paths are relative to it."""
    path = path / "manifest.json" if path.is_dir() else path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(f"manifest {path} is not JSON: {exc}") from None
    return load_manifest(data, path.parent)


class ReplayApp:
    """An ASGI app serving a manifest; `load` swaps the manifest while serving (a re-crawl's "next day")."""

    def __init__(self, manifest: Manifest) -> None:
        self.load(manifest)
        self.hits: list[str] = []  # paths and queries asked for, in order: tests check what was requested

    def load(self, manifest: Manifest) -> None:
        by_path: dict[tuple[str, str], list[Route]] = {}
        for route in manifest.routes:
            by_path.setdefault((route.method, route.path), []).append(route)
        for routes in by_path.values():
            routes.sort(key=lambda r: -len(r.query))  # the most specific match first
        self._routes = by_path
        self._robots = manifest.robots

    def find(self, method: str, path: str, query: dict[str, str]) -> Route | None:
        for route in self._routes.get((method, path), []):
            if route.matches(method, path, query):
                return route
        return None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return  # lifespan and websockets: nothing to set up, nothing to serve
        method, path = scope["method"], scope["path"]
        raw_query = scope.get("query_string", b"").decode("latin-1")
        self.hits.append(f"{path}?{raw_query}" if raw_query else path)
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        if (
            path == "/robots.txt"
            and method == "GET"
            and self._robots is not None
            and not self.find(method, path, query)
        ):
            await _respond(send, 200, self._robots.encode(), "text/plain; charset=utf-8", {})
            return
        route = self.find("GET" if method == "HEAD" else method, path, query)
        if route is None:
            body = json.dumps({"error": {"code": 404, "message": f"no saved response for {method} {path}"}}).encode()
            await _respond(send, 404, body, "application/json", {})
            return
        await _respond(send, route.status, b"" if method == "HEAD" else route.body, route.content_type, route.headers)


async def _respond(send: Any, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
    out = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    out += [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})


def _listening_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without it, Nagle's algorithm holds the body behind the
    # headers until the client's delayed ACK (40 ms), so every keep-alive request took ~46 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock


@contextmanager
def running(app: ReplayApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` from a thread for the block's duration; yields its base URL (a free port when 0)."""
    import uvicorn

    sock = _listening_socket(host, port)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="replay-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the replay server did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


def serve(directory: Path, host: str, port: int) -> None:
    """`kcnguard replay`: serve DIR/manifest.json until interrupted."""
    import uvicorn

    manifest = read_manifest(directory)
    sock = _listening_socket(host, port)
    print(f"replay: {len(manifest.routes)} saved responses from {directory} at http://{host}:{port}", flush=True)
    server = uvicorn.Server(uvicorn.Config(ReplayApp(manifest), log_level="warning", lifespan="off", access_log=False))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
