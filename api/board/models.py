"""Request and response shapes of the Board's routes."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from kcnguard.records.base import CleanText, Slug

MAX_BOARD_LIMIT = 100


class DocumentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "number": "12/KH-BQL",
                    "title": "Kế hoạch triển khai Quyết định 319/QĐ-TTg",
                    "title_en": "Plan implementing Decision 319/QĐ-TTg",
                    "issuer": "Ban Quản lý các KCN tỉnh",
                    "issued_on": "2024-02-01",
                    "order": 3,
                    "summary": "Các bước doanh nghiệp cần làm",
                    "body": "1. Đăng ký nhãn hiệu\n2. Phản ánh tin đăng nghi vấn",
                    "url": "https://bqlkcn.example.gov.vn/ke-hoach-12",
                }
            ]
        },
    )

    number: CleanText = Field(min_length=1, max_length=100)
    title: CleanText = Field(min_length=1, max_length=500)
    title_en: CleanText | None = Field(default=None, max_length=500)
    issuer: CleanText = Field(min_length=1, max_length=300)
    issued_on: date | None = None
    order: int = Field(default=100, ge=0, le=10_000, description="Position on the page, smallest first")
    summary: str = Field(default="", max_length=5000)
    body: str = Field(default="", max_length=100_000, description="Plain text; shown escaped, line breaks kept")
    url: HttpUrl | None = None


class Document(DocumentIn):
    doc_id: Slug
    seed: bool = Field(default=False, description="Written by set-up from the shipped seed; still editable")
    updated_at: datetime | None = None
    updated_by: str | None = None


class DocumentPage(BaseModel):
    items: list[Document]
    total: int


class AnnouncementIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Tập huấn nhận diện hàng giả trên sàn TMĐT",
                    "body": "Ban Quản lý tổ chức tập huấn ngày 15/4 tại Nhà điều hành KCN.",
                    "audience": ["all"],
                }
            ]
        },
    )

    title: CleanText = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)
    audience: list[Slug] = Field(
        default_factory=lambda: ["all"], min_length=1, max_length=500, description="Enterprise ids, or ['all']"
    )


class Announcement(AnnouncementIn):
    announcement_id: str
    published_at: datetime
    published_by: str
    read_at: datetime | None = Field(default=None, description="For an enterprise: when it first opened this")


class AnnouncementPage(BaseModel):
    items: list[Announcement]
    total: int
    limit: int
    offset: int


class ReadReceipt(BaseModel):
    enterprise_id: str
    name: str | None
    read_at: datetime | None
    read_by: str | None


class ReadReceipts(BaseModel):
    announcement_id: str
    read: list[ReadReceipt]
    unread: list[ReadReceipt]


class Count(BaseModel):
    key: str
    flagged: int
    confirmed: int


class SeriesPoint(BaseModel):
    period: str = Field(description="YYYY-MM-DD (day) or YYYY-Www (ISO week)")
    flagged: int
    confirmed: int


class Durations(BaseModel):
    count: int = Field(description="Cases with an action reported")
    median_hours: float | None
    p90_hours: float | None


class Dashboard(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since": "2026-01-01",
                    "until": "2026-03-31",
                    "granularity": "week",
                    "totals": {"flagged": 120, "confirmed": 40, "referred": 25, "actioned": 10, "dismissed": 30},
                    "series": [{"period": "2026-W10", "flagged": 12, "confirmed": 4}],
                    "by_marketplace": [{"key": "shopee", "flagged": 80, "confirmed": 30}],
                    "by_brand": [{"key": "vinamilk-sua-tuoi", "flagged": 50, "confirmed": 20}],
                    "by_zone": [{"key": "KCN Quang Minh", "flagged": 70, "confirmed": 25}],
                    "flag_to_action": {"count": 10, "median_hours": 52.5, "p90_hours": 160.0},
                    "truncated": False,
                }
            ]
        }
    )

    since: date
    until: date
    granularity: str
    totals: dict[str, int]
    series: list[SeriesPoint]
    by_marketplace: list[Count]
    by_brand: list[Count]
    by_zone: list[Count]
    flag_to_action: Durations
    truncated: bool = Field(description="True when more cases matched than one dashboard reads")


class MonthlyReport(BaseModel):
    month: str
    dashboard: Dashboard
    reports_received: int
    announcements_published: int
    top_sellers: list[dict[str, str | int]]
    generated_at: datetime
