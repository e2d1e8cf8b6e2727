"""Every string the portal shows, Vietnamese first, English alongside."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "app": "KCN Guard",
        "tagline": "Giám sát hàng giả trên sàn thương mại điện tử",
        "login_title": "Đăng nhập",
        "login_help": "Dán khóa API do Ban Quản lý các KCN cấp cho bạn.",
        "key_label": "Khóa API",
        "login_button": "Đăng nhập",
        "logout": "Đăng xuất",
        "bad_key": "Khóa API không hợp lệ hoặc đã bị thu hồi.",
        "no_key": "Hãy dán khóa API.",
        "flagged_title": "Tin đăng nghi vấn",
        "signed_in_as": "Đăng nhập với",
        "brand": "Nhãn hiệu",
        "all_brands": "Tất cả nhãn hiệu",
        "title": "Tiêu đề",
        "price": "Giá",
        "seller": "Người bán",
        "score": "Điểm",
        "reasons": "Lý do",
        "case": "Hồ sơ",
        "search": "Tìm trong tiêu đề",
        "filter": "Lọc",
        "none": "Không có tin đăng nghi vấn nào.",
        "total": "Tổng số",
        "prev": "« Trang trước",
        "next": "Trang sau »",
        "page": "Trang",
        "official": "chính hãng",
        "unknown": "không rõ",
        "forbidden": "Khóa API này không được xem tin đăng nghi vấn.",
        "unavailable": "Kho dữ liệu tạm thời không truy cập được; hãy thử lại sau ít phút.",
        "not_found": "Không tìm thấy nhãn hiệu này.",
        "error_title": "Lỗi",
        "back": "Quay lại",
        "other_lang": "English",
    },
    "en": {
        "app": "KCN Guard",
        "tagline": "Counterfeit monitoring on e-commerce marketplaces",
        "login_title": "Sign in",
        "login_help": "Paste the API key the Industrial Zones Management Board gave you.",
        "key_label": "API key",
        "login_button": "Sign in",
        "logout": "Sign out",
        "bad_key": "The API key is not valid or has been revoked.",
        "no_key": "Please paste an API key.",
        "flagged_title": "Flagged listings",
        "signed_in_as": "Signed in as",
        "brand": "Brand",
        "all_brands": "All brands",
        "title": "Title",
        "price": "Price",
        "seller": "Seller",
        "score": "Score",
        "reasons": "Reasons",
        "case": "Case",
        "search": "Search titles",
        "filter": "Filter",
        "none": "No flagged listings.",
        "total": "Total",
        "prev": "« Previous",
        "next": "Next »",
        "page": "Page",
        "official": "official",
        "unknown": "unknown",
        "forbidden": "This API key may not see flagged listings.",
        "unavailable": "The data store is unreachable for now; try again in a few minutes.",
        "not_found": "No such brand.",
        "error_title": "Error",
        "back": "Back",
        "other_lang": "Tiếng Việt",
    },
}


def format_price(value: float | None, currency: str, lang: str, unknown: str) -> str:
    if value is None:
        return unknown
    grouped = f"{round(value):,}"
    if lang == "vi":
        grouped = grouped.replace(",", ".")
        return f"{grouped} ₫" if currency == "VND" else f"{grouped} {currency}"
    return f"{grouped} {currency}"
