"""Interactive API docs that work with no internet: Swagger UI at /docs and ReDoc at /redoc.

The scripts come from the `fastapi-offline` package's vendored copies (installed from PyPI with
the project, nothing fetched at run time); the page's own start-up lives in a file, not an inline
script, so the strict Content-Security-Policy holds here too.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDORED = Path(fastapi_offline.__file__).parent / "static"
OWN = Path(__file__).parent / "static"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
)


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{head}</head>{body}</html>"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})


def install(app: FastAPI) -> None:
    app.mount("/docs-static/vendor", StaticFiles(directory=VENDORED), name="docs-vendor")
    app.mount("/docs-static/own", StaticFiles(directory=OWN), name="docs-own")
    title = f"{app.title} — tài liệu / docs"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return _page(
            title,
            '<link rel="stylesheet" href="/docs-static/vendor/swagger-ui.css">'
            '<link rel="icon" href="/docs-static/vendor/favicon.png">',
            f'<body data-openapi="{escape(app.openapi_url or "/openapi.json")}"><div id="swagger-ui"></div>'
            '<script src="/docs-static/vendor/swagger-ui-bundle.js"></script>'
            '<script src="/docs-static/own/swagger-init.js"></script></body>',
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _page(
            title,
            '<link rel="icon" href="/docs-static/vendor/favicon.png">',
            f'<body><redoc spec-url="{escape(app.openapi_url or "/openapi.json")}"></redoc>'
            '<script src="/docs-static/vendor/redoc.standalone.js"></script></body>',
        )
