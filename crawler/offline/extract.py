"""`kcnguard extract`: read one saved response, print its listings as JSON lines.

Used by tests and by anyone debugging a page: the same parsers as the crawler, no network, no bus.
Exit codes: 0 read (even with zero listings), 1 the parser could not read it (the message names
the field), 2 the file or the marketplace cannot be used at all.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from crawler.pages.base import ExtractionError, Parsed
from crawler.pages.registry import UnknownMarketplace, detect, parser_for
from kcnguard.records import Listing

GZIP_MAGIC = b"\x1f\x8b"
# A saved page is a few MB at most; beyond this a gzip file is more likely a bomb than a page.
MAX_BODY = 64 * 1024 * 1024


def read_body(path: Path) -> bytes:
    """The file's bytes, gunzipped when they start with the gzip magic (whatever the file's name)."""
    with path.open("rb") as handle:
        raw = handle.read(MAX_BODY + 1)
    if raw[:2] != GZIP_MAGIC:
        if len(raw) > MAX_BODY:
            raise ValueError(f"{path} is larger than {MAX_BODY // 2**20} MB")
        return raw
    try:
        with gzip.open(path, "rb") as handle:
            body = handle.read(MAX_BODY + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ExtractionError("gzip", f"{path} starts like gzip but does not decompress: {exc}") from None
    if len(body) > MAX_BODY:
        raise ValueError(f"{path} decompresses to more than {MAX_BODY // 2**20} MB")
    return body


def row(listing: Listing) -> dict[str, Any]:
    """The flat JSON row of one listing: the keys the command promises, null when absent, then extras."""
    return {
        "marketplace": listing.marketplace,
        "listing_id": listing.listing_id,
        "url": listing.url,
        "title": listing.title,
        "price": listing.price,
        "currency": listing.currency,
        "original_price": listing.original_price,
        "sku": listing.sku,
        "gtin": listing.gtin,
        "brand": listing.brand,
        "availability": listing.availability,
        "seller_id": listing.seller.id,
        "seller_name": listing.seller.name,
        "seller_official": listing.seller.official,
        "sold": listing.sold_count,
        "rating": listing.rating,
        "images": listing.images,
        "mpn": listing.mpn,
        "category": listing.category,
        "location": listing.location,
        "captured_at": listing.captured_at.isoformat(),
        "evidence_digest": listing.evidence_digest,
    }


def summary(marketplace: str, result: Parsed) -> str:
    parts = [f"# {len(result.listings)} tin đăng / listings ({marketplace})"]
    if result.next_url:
        parts.append(f"trang sau / next page: {result.next_url}")
    if result.product_urls:
        parts.append(f"{len(result.product_urls)} liên kết sản phẩm / product links")
    if result.missing:
        parts.append(f"trang không có / not on the page: {', '.join(result.missing)}")
    return "; ".join(parts)


def run(
    file: str,
    url: str,
    marketplace: str | None = None,
    *,
    captured_at: datetime | None = None,
    out: TextIO,
    err: TextIO,
) -> int:
    path = Path(file)
    try:
        body = read_body(path)
    except (OSError, ValueError) as exc:
        if isinstance(exc, ExtractionError):
            print(f"lỗi trích xuất / extraction error: {exc}", file=err)
            return 1
        print(f"lỗi / error: không đọc được tệp / cannot read {file}: {exc}", file=err)
        return 2
    slug = marketplace or detect(url, body)
    try:
        parser = parser_for(slug)
    except UnknownMarketplace as exc:
        print(f"lỗi / error: {exc}", file=err)
        return 2
    try:
        result = parser.parse(body, url, captured_at=captured_at)
    except ExtractionError as exc:
        print(f"lỗi trích xuất / extraction error ({slug}): trường / field '{exc.field}': {exc}", file=err)
        return 1
    try:
        for listing in result.listings:
            out.write(json.dumps(row(listing), ensure_ascii=False) + "\n")
        out.flush()
    except BrokenPipeError:
        # The reader (`| head`) has had enough: stop quietly, as Unix tools do, and keep the
        # interpreter from complaining when it flushes stdout at exit.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    print(summary(slug, result), file=err)
    return 0
