"""The parser interface: every registered parser offers what the protocol declares, and one that does not is refused."""

from __future__ import annotations

import types

import pytest

from crawler.pages import registry
from crawler.pages.protocol import MarketplaceParser, PageParser, serves
from crawler.spiders import SPIDERS


def test_every_marketplace_parser_satisfies_the_protocol_and_has_a_spider() -> None:
    assert set(registry.SOURCES) == {"tiki", "shopee", "lazada", "sendo", "websosanh"}
    for slug, parser in registry.SOURCES.items():
        assert isinstance(parser, MarketplaceParser) and slug == parser.MARKETPLACE
        assert SPIDERS[slug].source is parser
    webshop = registry.parser_for("webshop")
    assert isinstance(webshop, PageParser) and not isinstance(webshop, MarketplaceParser)


def test_a_module_lacking_a_declared_name_is_refused() -> None:
    half = types.ModuleType("crawler.pages.half")
    half.MARKETPLACE = "half"
    half.parse = lambda body, url, *, captured_at=None: None
    assert registry.as_parser(half, PageParser) is half
    with pytest.raises(TypeError, match=r"crawler\.pages\.half is not a MarketplaceParser"):
        registry.as_parser(half, MarketplaceParser)


@pytest.mark.parametrize(
    ("url", "served"),
    [
        ("https://tiki.vn/api/v2/products?q=x", True),
        ("https://www.TIKI.vn/p/1", True),
        ("https://salty.vn/tiki.vn", False),
        ("https://nottiki.vn/", False),
    ],
)
def test_a_parser_serves_its_domains_and_their_subdomains(url: str, served: bool) -> None:
    assert serves(registry.SOURCES["tiki"], url) is served
    assert registry.host_marketplace(url) == ("tiki" if served else None)
