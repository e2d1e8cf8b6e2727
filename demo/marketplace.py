"""The demo marketplace: a small Vietnamese shop front served from the project's own sample data.

Pages carry what a real marketplace's pages carry, so the crawler is exercised the same way:
JSON-LD Product/Offer data for machines and the same fields in the visible HTML. Nothing is
fetched from outside (no CDN, no fonts): images are placeholders drawn here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from demo.catalogue import DemoListing, load_catalogue, query_words

PAGE_SIZE = 12
MAX_QUERY_CHARS = 200
MAX_PAGE = 1000
_IMAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_PALETTE = ("#f05d23", "#2a9d8f", "#e9c46a", "#264653", "#8338ec", "#ef476f", "#118ab2")

_STATUS_TEXT = {404: "Không tìm thấy trang.", 405: "Phương thức không được hỗ trợ."}

ROBOTS_TXT = """# Demo marketplace: crawlers are welcome on listings and search, not on carts.
User-agent: *
Allow: /
Disallow: /cart
"""


def _vnd(value: float) -> str:
    return f"{round(value):,}".replace(",", ".") + "₫"


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _sold_text(sold: int | None) -> str:
    if sold is None:
        return ""
    if sold >= 1000:
        return f"Đã bán {sold / 1000:.1f}k".replace(".", ",")
    return f"Đã bán {sold}"


def _json_ld(data: dict[str, Any]) -> Markup:
    # Inside <script> HTML escaping does not apply, so the characters that could close the
    # element or open a comment are written as JSON escapes instead.
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


class Marketplace:
    def __init__(self, listings: Sequence[DemoListing]) -> None:
        self.listings = list(listings)
        self.by_id = {listing.id: listing for listing in self.listings}
        self.templates = Environment(
            loader=FileSystemLoader(Path(__file__).parent / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.templates.filters["vnd"] = _vnd

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.templates.get_template(name).render(**context), status_code=status)

    async def home(self, request: Request) -> Response:
        featured = [listing for listing in self.listings if listing.seller.official][:PAGE_SIZE]
        return self.render("home.html", featured=featured, query="")

    async def search(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if len(query) > MAX_QUERY_CHARS:
            raise HTTPException(400, f"Từ khóa quá dài (tối đa {MAX_QUERY_CHARS} ký tự).")
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            raise HTTPException(400, "Số trang không hợp lệ.") from None
        if not 1 <= page <= MAX_PAGE:
            raise HTTPException(400, "Số trang không hợp lệ.")
        words = query_words(query)
        found = [listing for listing in self.listings if words and listing.matches(words)]
        start = (page - 1) * PAGE_SIZE
        results = found[start : start + PAGE_SIZE]
        next_url = None
        if start + PAGE_SIZE < len(found):
            next_url = "/search?" + urlencode({"q": query, "page": page + 1})
        return self.render(
            "search.html",
            query=query,
            results=[(listing, _number(listing.price)) for listing in results],
            total=len(found),
            page=page,
            pages=max(1, -(-len(found) // PAGE_SIZE)),
            next_url=next_url,
        )

    async def product(self, request: Request) -> Response:
        listing = self.by_id.get(request.path_params["listing_id"])
        if listing is None:
            raise HTTPException(404, "Sản phẩm không tồn tại hoặc đã bị gỡ.")
        base = str(request.base_url).rstrip("/")
        price = _number(listing.price)
        original = _number(listing.original_price)
        offer: dict[str, Any] = {
            "@type": "Offer",
            "url": f"{base}/product/{listing.id}",
            "priceCurrency": "VND",
            "availability": "https://schema.org/InStock",
            "seller": {"@type": "Organization", "name": listing.seller.name, "identifier": listing.seller.id},
        }
        if listing.price is not None:
            offer["price"] = listing.price  # as the seller typed it, garbage included
        data: dict[str, Any] = {
            "@context": "https://schema.org",
            "@type": "Product",
            "sku": listing.id,
            "productID": listing.id,
            "name": listing.title,
            "description": listing.description,
            "image": [urljoin(base + "/", path) for path in listing.images],
            "category": listing.category,
            "offers": offer,
        }
        if listing.rating is not None:
            data["aggregateRating"] = {
                "@type": "AggregateRating",
                "ratingValue": listing.rating,
                "reviewCount": max(1, (listing.sold or 0) // 10),
            }
        return self.render(
            "product.html",
            listing=listing,
            price=price,
            price_text=_vnd(price) if price is not None else (str(listing.price) if listing.price else "Liên hệ"),
            original=original,
            sold_text=_sold_text(listing.sold),
            json_ld=_json_ld(data),
            query="",
        )

    async def image(self, request: Request) -> Response:
        name = request.path_params["name"]
        if not _IMAGE_NAME.match(name):
            raise HTTPException(404, "Không có ảnh này.")
        colour = _PALETTE[int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(_PALETTE)]
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="320" viewBox="0 0 320 320">'
            f'<rect width="320" height="320" fill="{colour}"/>'
            f'<text x="160" y="170" font-size="22" text-anchor="middle" fill="#fff">{name}</text></svg>'
        )
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    async def robots(self, request: Request) -> Response:
        return PlainTextResponse(ROBOTS_TXT)

    async def error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        # Starlette's own detail is the English status phrase; the shop speaks Vietnamese.
        own = exc.detail and exc.detail != HTTPStatus(exc.status_code).phrase
        message = exc.detail if own else _STATUS_TEXT.get(exc.status_code, "Đã có lỗi xảy ra.")
        return self.render("error.html", status=exc.status_code, status_code=exc.status_code, message=message, query="")


def create_app(listings: Sequence[DemoListing] | None = None) -> Starlette:
    """The demo marketplace as an ASGI app; `listings` replaces the shipped catalogue (for tests)."""
    shop = Marketplace(load_catalogue() if listings is None else listings)
    return Starlette(
        routes=[
            Route("/", shop.home),
            Route("/search", shop.search),
            Route("/product/{listing_id}", shop.product),
            Route("/images/{name}.svg", shop.image),
            Route("/robots.txt", shop.robots),
        ],
        exception_handlers={HTTPException: shop.error},
    )
