"""Which language to answer in: Vietnamese unless the caller asks for English."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
DEFAULT_LANG: Lang = "vi"


def parse_accept_language(header: str) -> Lang | None:
    """The first of our languages the header prefers, honouring q-values; None if it names neither."""
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        # Higher q wins; on a tie the earlier entry wins.
        candidate = (-q, position, primary)
        if best is None or candidate < best:
            best = candidate  # type: ignore[assignment]
    return best[2] if best else None


def pick_lang(request: Request) -> Lang:
    """`?lang=` first, then Accept-Language, then Vietnamese."""
    asked = request.query_params.get("lang", "").strip().lower()
    if asked in LANGS:
        return asked  # type: ignore[return-value]
    return parse_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANG


async def lang_param(
    request: Request,
    lang: Annotated[
        str | None, Query(max_length=10, description="vi (default) or en; else Accept-Language decides")
    ] = None,
) -> Lang:
    """pick_lang as a dependency, so `?lang=` shows in the OpenAPI document."""
    return pick_lang(request)
