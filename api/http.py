"""HTTP details the API's routers share: a record's version as an ETag and back from If-Match,
and the response that hands out a raw captured page.

The same rules on every route, so a client that learned them on /v1/cases can rely on them on
/v1/partner too.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def etag(version: str) -> str:
    return f'"{version}"'


def version_from(if_match: str | None, body_version: str | None) -> str | None:
    """The version a change names: If-Match (strong or weak ETag) wins over the body's `version`."""
    if if_match:
        return if_match.strip().removeprefix("W/").strip('"')
    return body_version


def serialized(model: BaseModel) -> Response:
    """A model built from validated records, serialised once: returned as is, FastAPI would validate a
    page of fifty rows again against the route's response_model (which still documents it)."""
    return Response(model.model_dump_json(), media_type="application/json")


def evidence_download(body: bytes, digest: str) -> Response:
    # An attachment of opaque bytes, never rendered: the page is a marketplace's HTML.
    return Response(
        body,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{digest[:16]}.bin"',
            "X-Content-Type-Options": "nosniff",
            "Digest": f"sha-256={digest}",
        },
    )
