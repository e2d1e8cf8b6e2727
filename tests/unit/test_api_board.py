"""The Board: legal documents, announcements with read receipts, dashboard, exports, monthly report, pages, docs."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.board.exports import safe_cell
from api.board.stats import percentile
from api.portal.session import COOKIE
from kcnguard.records import CaseState, PartnerAction
from kcnguard.store import Store
from tests.unit.test_api_partners import _agencies, refer
from tests.unit.test_api_support import Keys, auth, open_case, scored, seed_brand, seed_scored

pytest_plugins = ["tests.unit.test_api_support"]

TODAY = date.today().isoformat()


def test_decision_319_is_seeded_and_admin_can_edit(client: TestClient, keys: Keys) -> None:
    docs = client.get("/v1/board/documents", headers=auth(keys.acme)).json()["items"]
    decision = next(d for d in docs if d["number"] == "319/QĐ-TTg")
    assert decision["seed"] and decision["issued_on"] == "2023-03-29"
    edit = {k: decision[k] for k in ("number", "title", "issuer", "issued_on", "order", "summary")}
    edit["body"] = "<script>alert(1)</script>\nDòng hai"
    assert client.put("/v1/board/documents/qd-319-2023-ttg", json=edit, headers=auth(keys.acme)).status_code == 403
    r = client.put("/v1/board/documents/qd-319-2023-ttg", json=edit, headers=auth(keys.admin))
    assert r.status_code == 200 and r.json()["seed"] and r.json()["updated_by"].startswith("admin:")
    bad = client.put("/v1/board/documents/x", json={**edit, "issued_on": "29/03/2023"}, headers=auth(keys.admin))
    assert bad.status_code == 422 and "issued_on" in bad.json()["detail"]
    # The portal shows the body escaped.
    client.cookies.set(COOKIE, keys.acme)
    page = client.get("/portal/board/documents")
    assert page.status_code == 200, page.text[:300]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text


def test_announcements_reach_their_audience_and_record_who_read(client: TestClient, keys: Keys) -> None:
    to_acme = {"title": "Chỉ cho Acme", "body": "Nội dung", "audience": ["acme"]}
    assert client.post("/v1/board/announcements", json=to_acme, headers=auth(keys.acme)).status_code == 403
    bad = client.post("/v1/board/announcements", json={**to_acme, "audience": ["nobody"]}, headers=auth(keys.admin))
    assert bad.status_code == 422
    made = client.post("/v1/board/announcements", json=to_acme, headers=auth(keys.inspector))
    assert made.status_code == 201, made.text
    ann_id = made.json()["announcement_id"]
    everyone = client.post("/v1/board/announcements", json={"title": "Tất cả", "body": "x"}, headers=auth(keys.admin))
    assert everyone.status_code == 201
    # Beta sees only the one for all; acme's is a 404 for beta, in lists and by id.
    beta_list = client.get("/v1/board/announcements", headers=auth(keys.beta)).json()
    assert [a["title"] for a in beta_list["items"]] == ["Tất cả"] and beta_list["total"] == 1
    assert client.get(f"/v1/board/announcements/{ann_id}", headers=auth(keys.beta)).status_code == 404
    assert client.get("/v1/board/announcements", headers=auth(keys.partner)).status_code == 403
    # Acme opens it: a receipt, kept at the first reading.
    assert client.get("/v1/board/announcements", headers=auth(keys.acme)).json()["items"][1]["read_at"] is None
    first = client.get(f"/v1/board/announcements/{ann_id}", headers=auth(keys.acme)).json()["read_at"]
    again = client.get(f"/v1/board/announcements/{ann_id}", headers=auth(keys.acme)).json()["read_at"]
    assert first and first == again
    reads = client.get(f"/v1/board/announcements/{ann_id}/reads", headers=auth(keys.inspector)).json()
    assert [r["enterprise_id"] for r in reads["read"]] == ["acme"] and reads["unread"] == []
    all_reads = client.get(
        f"/v1/board/announcements/{everyone.json()['announcement_id']}/reads", headers=auth(keys.admin)
    )
    assert {r["enterprise_id"] for r in all_reads.json()["unread"]} == {"acme", "beta"}
    assert client.get(f"/v1/board/announcements/{ann_id}/reads", headers=auth(keys.acme)).status_code == 403


@pytest.fixture
def history(store: Store, keys: Keys) -> dict[str, str]:
    """acme: 3 cases (one confirmed, referred and actioned; one dismissed); beta: 1 open case."""
    _agencies(store)
    seed_brand(store, "sua-acme", "acme")
    seed_brand(store, "keo-beta", "beta")
    items = [
        scored("sua-acme", "d1", 0.9, title='=HYPERLINK("http://evil","x")'),
        scored("sua-acme", "d2", 0.8),
        scored("sua-acme", "d3", 0.7),
        scored("keo-beta", "d4", 0.6),
    ]
    seed_scored(store, items)
    cases = [open_case(store, i) for i in items]
    refer(store, cases[0], ["qltt"])
    current = store.get_case(cases[0].case_id)
    assert current is not None
    acted = current.record.report_action("qltt", PartnerAction(kind="removed", actor="partner:qltt"))
    store.save_case(acted, current.version)
    second = store.get_case(cases[1].case_id)
    assert second is not None
    store.save_case(second.record.transition(CaseState.DISMISSED, "inspector:t"), second.version)
    store.refresh()
    return {"acted": cases[0].case_id}


def test_dashboard_counts_by_marketplace_brand_and_zone(client: TestClient, keys: Keys, history: dict) -> None:
    r = client.get("/v1/board/dashboard", params={"since": TODAY, "until": TODAY}, headers=auth(keys.inspector))
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["totals"]["flagged"] == 4 and d["totals"]["confirmed"] == 1 and d["totals"]["referred"] == 1
    assert d["totals"]["actioned"] == 1 and d["totals"]["dismissed"] == 1
    assert d["series"] == [{"period": TODAY, "flagged": 4, "confirmed": 1}]
    assert {c["key"]: c["flagged"] for c in d["by_brand"]} == {"sua-acme": 3, "keo-beta": 1}
    assert d["by_marketplace"] == [{"key": "demo", "flagged": 4, "confirmed": 1}]
    assert d["by_zone"] == [{"key": "KCN Quang Minh", "flagged": 4, "confirmed": 1}]
    assert d["flag_to_action"]["count"] == 1 and d["flag_to_action"]["median_hours"] is not None
    assert client.get("/v1/board/dashboard", headers=auth(keys.acme)).status_code == 403
    bad = client.get("/v1/board/dashboard", params={"since": TODAY, "until": "2000-01-01"}, headers=auth(keys.admin))
    assert bad.status_code == 422


def test_percentile_interpolates() -> None:
    assert percentile([], 0.9) is None
    assert percentile([10.0], 0.9) == 10.0
    assert percentile([0.0, 10.0], 0.9) == pytest.approx(9.0)


def test_csv_and_xlsx_exports_neutralise_formulas(client: TestClient, keys: Keys, history: dict) -> None:
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("@x") == "'@x" and safe_cell("a=b") == "a=b"
    assert safe_cell(-5) == -5  # numbers are numbers, not text
    r = client.get("/v1/cases/export.csv", headers=auth(keys.inspector))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 5 and rows[0][0].startswith("Mã hồ sơ")
    titles = [row[6] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil","x")' in titles
    dismissed = client.get("/v1/cases/export.csv", params={"state": "dismissed"}, headers=auth(keys.admin))
    assert len(list(csv.reader(io.StringIO(dismissed.content.decode("utf-8-sig"))))) == 2
    x = client.get("/v1/cases/export.xlsx", headers=auth(keys.inspector))
    assert x.status_code == 200
    sheet = load_workbook(io.BytesIO(x.content)).active
    values = [c.value for c in sheet["G"]]
    assert '\'=HYPERLINK("http://evil","x")' in values and sheet.max_row == 5
    assert client.get("/v1/cases/export.csv", headers=auth(keys.acme)).status_code == 403
    assert client.get("/v1/cases/export.xlsx", headers=auth(keys.partner)).status_code == 403


def test_monthly_report_json_xlsx_and_page(client: TestClient, keys: Keys, history: dict) -> None:
    month = TODAY[:7]
    r = client.get("/v1/board/reports/monthly", params={"month": month}, headers=auth(keys.admin))
    assert r.status_code == 200 and r.json()["dashboard"]["totals"]["flagged"] == 4
    assert r.json()["top_sellers"][0]["cases"] == 1
    assert (
        client.get("/v1/board/reports/monthly", params={"month": "2026-13"}, headers=auth(keys.admin)).status_code
        == 422
    )
    x = client.get("/v1/board/reports/monthly.xlsx", params={"month": month}, headers=auth(keys.admin))
    book = load_workbook(io.BytesIO(x.content))
    summary = book["Tổng hợp - Summary"]
    assert summary["A4"].value.startswith("Tin bị gắn cờ") and summary["B4"].value == 4
    client.cookies.set(COOKIE, keys.inspector)
    page = client.get("/portal/board/monthly", params={"month": month})
    assert page.status_code == 200 and "<svg" in page.text and "<script" not in page.text
    assert client.get("/portal/board/monthly.xlsx", params={"month": month}).content[:2] == b"PK"


def test_dashboard_page_draws_svg_and_is_for_staff(client: TestClient, keys: Keys, history: dict) -> None:
    client.cookies.set(COOKIE, keys.admin)
    page = client.get("/portal/board/dashboard", params={"since": TODAY, "until": TODAY})
    assert page.status_code == 200 and page.text.count("<svg") >= 4 and "<script" not in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    client.cookies.set(COOKIE, keys.acme)
    assert client.get("/portal/board/dashboard").status_code == 403


def test_interactive_docs_are_served_from_here(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "<script>" not in page.text
    sources = [s.split('"')[1] for s in page.text.split("src=")[1:]]
    assert sources and all(s.startswith("/") for s in sources)
    for src in sources:
        assert client.get(src).status_code == 200
    assert client.get("/redoc").status_code == 200


def test_every_v1_route_has_a_summary_and_my_models_have_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    unsummarised = [
        (m, p)
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if p.startswith("/v1") and not op.get("summary")
    ]
    assert unsummarised == []
    for name in ("ActionIn", "WebhookIn", "AnnouncementIn", "DocumentIn", "PartnerCasePage", "Dashboard"):
        assert spec["components"]["schemas"][name].get("examples"), name


def test_case_times_read_from_documents_agree_with_the_records() -> None:
    """The dashboard and exports read stored documents, not records: the same times, however far a case went."""
    from api.board.stats import CaseTimes
    from kcnguard.records import Case

    def first_into(case: Case, state: CaseState) -> datetime | None:
        return next((t.at for t in case.history if t.to_state is state and t.from_state is not state), None)

    opened = Case.open_for("shopee:9", "sua-acme", 0.9, actor="classifier")
    waiting = opened.request_info("inspector:lan", "ảnh rõ hơn")
    dismissed = opened.transition(CaseState.DISMISSED, "inspector:lan")
    referred = opened.transition(CaseState.CONFIRMED, "inspector:lan").refer(["qltt", "police"], "inspector:lan")
    acted = referred.report_action("police", PartnerAction(kind="removed", actor="partner:police"))
    closed = acted.transition(CaseState.CLOSED, "admin:ops")
    for case in (opened, waiting, dismissed, referred, acted, closed):
        times = CaseTimes.of(case.to_doc())
        assert (times.brand_id, times.marketplace, times.flagged_at) == (case.brand_id, "shopee", case.created_at)
        for state in CaseState:
            assert times.first.get(state.value) == first_into(case, state), (case.state, state)
        reported = [a.reported_at for r in case.referrals for a in r.actions]
        assert times.acted_at == (min(reported) if reported else first_into(case, CaseState.ACTIONED))
