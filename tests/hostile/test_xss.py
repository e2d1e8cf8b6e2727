"""An XSS corpus through every portal page that shows text a user or a marketplace wrote.

The corpus goes in where each kind of text enters (a crawled listing's title and seller, a brand
and its owner, an enterprise, a report's note, a case's note, a partner's action, an announcement,
a legal document and its link) and every page that shows it is read back as HTML. No page may hold
a tag or attribute that runs (script, svg, iframe, object, embed; on* handlers; javascript: links),
no invisible bidi or zero-width character may reach the page unmarked, and each page carries the
strict Content-Security-Policy. Each page must show the corpus's marker, so a page that stopped
showing the text cannot pass by showing nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from kcnguard.store import Store
from tests.hostile.conftest import world_copy
from tests.unit.test_api_matrix import Template, _enterprise_json
from tests.unit.test_api_support import scored, seed_scored

MARK = "XSSMARK"
CORPUS = (
    f'{MARK}<script>alert("s")</script>'
    '<img src=x onerror=alert("i")>'
    '<svg onload=alert("v")>'
    '"><a href="javascript:alert(1)">j</a>'
    "' onmouseover='alert(2)' x='"
    '<iframe src="javascript:alert(3)"></iframe>'
    "&lt;script&gt;alert(4)&lt;/script&gt;"
    " Sữa\u202egnp.exe \u2066x\u2069 A\u200bc\u200fm\ufeffe\u2060"
)
SHORT = f'{MARK}<svg onload=alert(1)>"><script>x</script> Sữa\u202egnp \u200b'
INVISIBLE = re.compile(r"[\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# An <svg> of the portal's own (the price chart) is drawn by the server; one from the corpus shows by its onload.
RUNNING_TAGS = {"script", "iframe", "object", "embed", "frame", "frameset", "applet", "base"}
LINK_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in RUNNING_TAGS:
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            squeezed = re.sub(r"[\s\x00-\x1f]", "", (value or "")).lower()
            if name.startswith("on"):
                self.bad.append(f"<{tag} {name}=…>")
            elif name in LINK_ATTRS and (squeezed.startswith(("javascript:", "vbscript:", "data:text/html"))):
                self.bad.append(f"<{tag} {name}={value!r}>")


def running_parts(html: str) -> list[str]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.bad


def test_the_checker_sees_what_runs() -> None:
    """The checks of this suite must fail on the corpus itself, unescaped."""
    found = running_parts(CORPUS)
    assert {"<script>", "<img onerror=…>", "<svg onload=…>", "<iframe>"} <= set(found), found
    assert any("javascript:" in f for f in found)
    assert INVISIBLE.search(CORPUS)


def _ok(answer: object) -> None:
    status = getattr(answer, "status_code", 0)
    assert status < 300, getattr(answer, "text", "")[:500]


def _seed(client: TestClient, store: Store, keys: dict[str, str | None], ids: dict[str, str]) -> None:
    admin = {"X-API-Key": keys["admin"] or ""}
    # A crawled listing of A's brand: title and seller name are the marketplace's text.
    item = scored("sua-acme", "xss1", 0.95, title=CORPUS[:400])
    item = item.model_copy(
        update={
            "listing": item.listing.model_copy(
                update={"seller": item.listing.seller.model_copy(update={"name": SHORT})}
            )
        }
    )
    seed_scored(store, [item])
    ids["listing_x"] = item.listing.key
    # A brand and its owner's name, an enterprise's name.
    brand = {
        "brand_id": "xss-brand",
        "owner_id": "acme",
        "owner_name": SHORT,
        "name": SHORT,
        "aliases": ["xss alias"],
    }
    _ok(client.post("/v1/brands", json=brand, headers=admin))
    _ok(client.put("/v1/enterprises/acme", json={**_enterprise_json("acme"), "name": SHORT}, headers=admin))
    # A report's note, a case's note, a partner's action on its referral.
    report = {"url": "https://shopee.vn/x-i.1.2", "note": CORPUS, "brand_id": "sua-acme", "reporter_kind": "consumer"}
    _ok(client.post("/v1/reports", json=report))
    case = client.get(f"/v1/cases/{ids['case_a']}", headers=admin)
    moved = client.post(
        f"/v1/cases/{ids['case_a']}/transition",
        json={"to": "confirmed", "note": CORPUS},
        headers={**admin, "If-Match": case.headers["etag"]},
    )
    _ok(moved)
    partner = {"X-API-Key": keys["qltt"] or ""}
    referral = client.get(f"/v1/partner/cases/{ids['case_p']}", headers=partner)
    action = {"kind": "removed", "document_number": SHORT[:100], "note": CORPUS}
    _ok(
        client.post(
            f"/v1/partner/cases/{ids['case_p']}/actions",
            json=action,
            headers={**partner, "If-Match": referral.headers["etag"]},
        )
    )
    # The Board's announcement and a legal document whose link is a javascript: URL.
    announcement = client.post(
        "/v1/board/announcements", json={"title": SHORT, "body": CORPUS, "audience": ["all"]}, headers=admin
    )
    _ok(announcement)
    ids["announcement_x"] = announcement.json()["announcement_id"]
    document = {"number": SHORT[:50], "title": SHORT, "issuer": SHORT, "summary": CORPUS, "body": CORPUS}
    _ok(client.put("/v1/board/documents/xss-doc", json=document, headers=admin))
    linked = {**document, "url": "javascript:alert(document.cookie)"}
    ids["document_link_answer"] = str(
        client.put("/v1/board/documents/xss-link", json=linked, headers=admin).status_code
    )
    store.refresh()


@pytest.fixture(scope="module")
def seeded(
    hostile_template: Template, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with world_copy(hostile_template, tmp_path_factory.mktemp("xss") / "world") as (client, store):
        ids = dict(hostile_template.ids)
        _seed(client, store, hostile_template.keys, ids)
        yield client, ids


# Who reads each page: the pages an inspector, an enterprise and a partner see.
PAGES = {
    "admin": [
        "/portal/queue",
        "/portal/queue?q=XSSMARK",
        "/portal/listings/{listing_x}",
        "/portal/cases/{case_a}",
        "/portal/cases/{case_p}",
        "/portal/brands",
        "/portal/brands/xss-brand",
        "/portal/board/announcements",
        "/portal/board/announcements/{announcement_x}",
        "/portal/board/documents",
    ],
    "acme": [
        "/portal/queue",
        "/portal/listings/{listing_x}",
        "/portal/brands/xss-brand",
        "/portal/board/announcements/{announcement_x}",
        "/portal/board/documents",
    ],
    "qltt": ["/portal/partner/cases/{case_p}"],
}


@pytest.mark.parametrize(("role", "page"), [(r, p) for r, pages in PAGES.items() for p in pages])
def test_no_page_runs_the_corpus(
    seeded: tuple[TestClient, dict[str, str]], hostile_template: Template, role: str, page: str
) -> None:
    from tests.hostile.conftest import signed_browser

    client, ids = seeded
    browser = signed_browser(client, hostile_template.keys[role] or "")
    answer = browser.get(page.format(**ids))
    assert answer.status_code == 200, (page, answer.status_code, answer.text[:300])
    html = answer.text
    assert MARK in html, f"{page} no longer shows the seeded text: the check would pass vacuously"
    assert not running_parts(html), f"{page} for {role}: {running_parts(html)}"
    hidden = sorted({f"U+{ord(c):04X}" for c in INVISIBLE.findall(html)})
    assert not hidden, f"{page} for {role} carries invisible characters unmarked: {hidden}"
    csp = answer.headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "script-src" not in csp and "unsafe-inline" not in csp, csp
    assert answer.headers.get("x-content-type-options") == "nosniff"


def test_a_javascript_link_never_becomes_a_link(seeded: tuple[TestClient, dict[str, str]]) -> None:
    """A document's link is refused as input, or shown without a runnable href."""
    _, ids = seeded
    assert ids["document_link_answer"] in {"200", "422"}
