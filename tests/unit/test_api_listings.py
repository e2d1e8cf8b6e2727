"""Flagged listings by brand, ordered by score, with reasons in either language, and listing history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kcnguard.records import CaseState
from kcnguard.store import Store
from tests.unit.test_api_support import Keys, auth, open_case, scored, seed_brand, seed_scored

# The shared fixtures (store, settings, keys, client) live in the support module.
pytest_plugins = ["tests.unit.test_api_support"]


def _seed(store: Store) -> None:
    seed_brand(store, "sua-acme", "acme", name="Sữa Acme")
    seed_brand(store, "keo-beta", "beta", name="Kẹo Beta")
    seed_scored(
        store,
        [
            scored("sua-acme", "a1", 0.62, title="Sữa Acme xách tay"),
            scored("sua-acme", "a2", 0.97, title="Sữa Acme hàng nhái giá sốc"),
            scored("sua-acme", "a3", 0.81, title="Sữa Acme loại 1"),
            scored("sua-acme", "a4", 0.20, title="Sữa Acme chính hãng"),  # below threshold: not flagged
            scored("keo-beta", "b1", 0.90, title="Kẹo Beta fake"),
        ],
    )


def test_flagged_ordered_by_score_with_vietnamese_reasons(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    response = client.get("/v1/brands/sua-acme/flagged", headers=auth(keys.inspector))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 3 and page["lang"] == "vi"
    assert [i["listing_id"] for i in page["items"]] == ["a2", "a3", "a1"]
    top = page["items"][0]
    assert top["score"] == 0.97
    assert top["price"] == 9000 and top["currency"] == "VND"
    assert top["seller"]["name"] == "Shop a2"
    assert top["url"] == "https://demo.example/item/a2"
    assert len(top["evidence_digest"]) == 64
    assert top["case"] is None
    # Strongest signal first, in Vietnamese.
    assert [r["code"] for r in top["reasons"]] == ["counterfeit_term", "price_far_below"]
    assert top["reasons"][0]["text"] == "Tiêu đề có từ 'hàng nhái'"


def test_flagged_reasons_in_english_and_paging_and_search(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    english = client.get("/v1/brands/sua-acme/flagged?lang=en&limit=2", headers=auth(keys.inspector)).json()
    assert english["lang"] == "en"
    assert english["items"][0]["reasons"][0]["text"] == "Title says 'replica'"
    assert [i["listing_id"] for i in english["items"]] == ["a2", "a3"] and english["total"] == 3
    rest = client.get("/v1/brands/sua-acme/flagged?limit=2&offset=2", headers=auth(keys.inspector)).json()
    assert [i["listing_id"] for i in rest["items"]] == ["a1"]
    # Accept-Language works too when ?lang= is absent.
    by_header = client.get(
        "/v1/brands/sua-acme/flagged", headers={**auth(keys.inspector), "Accept-Language": "en-US"}
    ).json()
    assert by_header["lang"] == "en"

    found = client.get("/v1/brands/sua-acme/flagged?q=nhai", headers=auth(keys.inspector)).json()
    assert [i["listing_id"] for i in found["items"]] == ["a2"]


def test_flagged_limits_are_enforced(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    assert client.get("/v1/brands/sua-acme/flagged?limit=500", headers=auth(keys.inspector)).status_code == 422
    assert client.get("/v1/brands/sua-acme/flagged?offset=-1", headers=auth(keys.inspector)).status_code == 422
    too_many_words = " ".join(f"w{i}" for i in range(40))
    bad = client.get("/v1/brands/sua-acme/flagged", params={"q": too_many_words}, headers=auth(keys.inspector))
    assert bad.status_code == 422
    assert bad.json()["type"] == "urn:kcnguard:problem:bad-search"
    missing = client.get("/v1/brands/khong-co/flagged", headers=auth(keys.inspector))
    assert missing.status_code == 404


def test_flagged_shows_the_case_state(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    case = open_case(store, scored("sua-acme", "a2", 0.97))
    top = client.get("/v1/brands/sua-acme/flagged", headers=auth(keys.inspector)).json()["items"][0]
    assert top["case"] == {"case_id": case.case_id, "state": CaseState.OPEN.value}


def test_enterprise_cannot_read_another_owners_flagged_listings(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    assert client.get("/v1/brands/sua-acme/flagged", headers=auth(keys.acme)).json()["total"] == 3
    theirs = client.get("/v1/brands/keo-beta/flagged", headers=auth(keys.acme))
    assert theirs.status_code == 404
    assert "b1" not in theirs.text
    assert client.get("/v1/brands/keo-beta/flagged", headers=auth(keys.partner)).status_code == 403


def test_listing_detail_has_history_and_scores(client: TestClient, store: Store, keys: Keys) -> None:
    _seed(store)
    response = client.get("/v1/listings/demo:a2?lang=en", headers=auth(keys.inspector))
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["key"] == "demo:a2" and detail["status"] == "active"
    assert len(detail["history"]) == 2
    assert detail["history"][0]["captured_at"] < detail["history"][1]["captured_at"]
    assert detail["listing"]["title"] == "Sữa Acme hàng nhái giá sốc"
    (score,) = detail["scores"]
    assert score["brand_id"] == "sua-acme" and score["flagged"] is True
    assert score["reasons"][0]["text"] == "Title says 'replica'"

    assert client.get("/v1/listings/demo:a2", headers=auth(keys.acme)).status_code == 200
    assert client.get("/v1/listings/demo:b1", headers=auth(keys.acme)).status_code == 404
    assert client.get("/v1/listings/demo:nope", headers=auth(keys.inspector)).status_code == 404


def _same_as_missing(client: TestClient, key: str, asked: str, missing: str, path: str = "/v1/listings/{}") -> None:
    """The answer for `asked` is the answer for a missing key, but for the key itself."""
    got = client.get(path.format(asked), headers=auth(key))
    none = client.get(path.format(missing), headers=auth(key))
    assert got.status_code == none.status_code == 404, (got.text, none.text)
    assert got.text.replace(asked, "KEY") == none.text.replace(missing, "KEY"), (got.text, none.text)


def test_an_unflagged_score_for_an_own_brand_answers_as_a_missing_listing(
    client: TestClient, store: Store, keys: Keys
) -> None:
    """A listing another enterprise's brand flagged, also scored (low) against A's brand, stays B's."""
    _seed(store)
    seed_scored(store, [scored("sua-acme", "b1", 0.1, flagged=False)], with_listings=False)
    assert client.get("/v1/listings/demo:b1", headers=auth(keys.beta)).status_code == 200
    _same_as_missing(client, keys.acme, "demo:b1", "demo:nope")
    # Its own unflagged listing (a4 scored 0.20) is not a suspect either: nothing to see.
    _same_as_missing(client, keys.acme, "demo:a4", "demo:nope")
    assert client.get("/v1/listings/demo:a4", headers=auth(keys.inspector)).status_code == 200
    # Once flagged for one of A's brands, A sees it, with its own brand's scores only.
    seed_scored(store, [scored("sua-acme", "b1", 0.7)], with_listings=False)
    detail = client.get("/v1/listings/demo:b1", headers=auth(keys.acme)).json()
    assert [s["brand_id"] for s in detail["scores"]] == ["sua-acme"]
