"""Writes data/seed_listings.jsonl: the synthetic, labelled listings the built-in model learns from.

Run `python -m classifier.offline.seedgen` after changing the templates; the output is committed so
the model's version (a hash of the data) only moves when the data does. The listings mimic
the vocabulary and price patterns of Vietnamese marketplaces against the fictional brands of
data/seed_brands.json; nothing here comes from real marketplace data.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

from kcnguard.records import Brand, Listing

DATA = Path(__file__).parents[1] / "data"
SEED = 20240601
MARKETPLACES = ["shopee", "lazada", "tiki", "sendo"]

PRODUCTS = {
    "footwear": ["Giày", "Giày thể thao nam", "Giày sneaker nữ", "Giày chạy bộ", "Dép quai ngang"],
    "audio": ["Tai nghe bluetooth", "Loa bluetooth mini", "Tai nghe không dây", "Tai nghe chụp tai"],
    "smartphone": ["Điện thoại", "Điện thoại", "Điện thoại thông minh", "Smartphone"],
    "watches": ["Đồng hồ nam", "Đồng hồ nữ", "Đồng hồ cơ", "Đồng hồ dây da"],
    "cosmetics": ["Kem dưỡng da", "Son môi lì", "Sữa rửa mặt", "Serum dưỡng trắng"],
    "bags": ["Balo laptop", "Túi xách da nữ", "Túi đeo chéo", "Ví da nam"],
    "electronics_accessories": ["Cáp sạc nhanh", "Củ sạc 20W", "Sạc dự phòng 10000mAh", "Cáp type-c"],
    "dairy": ["Sữa bột", "Sữa bột trẻ em", "Sữa công thức", "Sữa bột người lớn"],
}
MODELS = {
    "lotus-step": ["Runner", "Court", "Runner 2", "Court Low"],
    "hanami-audio": ["Buds", "Buds Pro", "Box Speaker", "H2"],
    "kira-phone": ["X2", "Pro", "X2 Lite", "Pro Max"],
    "mekong-watch": ["Classic", "Diver", "Classic 40mm", "Automatic"],
    "sen-vang": ["Gold", "Hồng Sâm", "Ngọc Trai", "Trà Xanh"],
    "truong-son-bags": ["Classic", "Explorer", "Mini", "Office"],
    "nova-charge": ["1m", "2m", "PD 20W", "GaN 65W"],
    "bamboo-milk": ["Gold 800g", "Kid 400g", "Grow 900g", "Gold"],
}
COUNTERFEIT_TERMS = [
    "Rep 1:1",
    "rep 1:1",
    "siêu cấp",
    "sieu cap",
    "Siêu Cấp VIP",
    "like auth",
    "Like Auth 99%",
    "super fake",
    "SF",
    "F1",
    "hàng loại 1",
    "hang loai 1",
    "nhái",
    "hàng nhái",
    "AAA",
    "hàng AAA+",
    "mirror quality",
    "hàng copy",
    "replica",
    "REP",
    "hàng fake",
    "fake 1:1",
    "bản copy",
    "hàng clone",
    "1:1",
    "giống auth 99%",
    "hàng f1",
    "Best Version",
    "bản trung",
    "bản chuẩn 11",
    "bản một một",
    "like au",
    "hàng tuồn",
    "siu cấp",
    "r3p 1:1",
    "hàng fake loại 1",
    "xuất dư xịn",
]
# Registered short codes sellers write instead of the name ("CV", "MC", "JD" on real marketplaces).
SHORT_CODES = {
    "lotus-step": "LS",
    "hanami-audio": "HN",
    "kira-phone": "KP",
    "mekong-watch": "MK",
    "sen-vang": "SV",
    "truong-son-bags": "TS",
    "nova-charge": "NC",
    "bamboo-milk": "BM",
}
REPLICA_SHOPS = [
    "Shop Giày Replica",
    "Rep 1:1 Store",
    "Siêu Cấp House",
    "Hàng Like Auth 247",
    "SF Sneaker VN",
    "giayrepvn.com",
    "SieuCapStore",
    "hangfake.shop",
]
# How sneaker and gadget shops dress a listing, genuine and fake alike: no cue on its own.
MARKET_HOOKS = [
    "full box",
    "fullbox bill",
    "bill + box",
    "ảnh thật",
    "video thật",
    "tặng tất",
    "full phụ kiện",
    "hàng sẵn",
    "ib trước khi đặt",
    "có video",
    "freeship",
    "bản mới nhất",
]
USED = ["cũ", "đã qua sử dụng", "2hand", "like new 95%", "secondhand", "cũ còn đẹp", "thanh lý đồ cũ"]
AUTH_RESELLERS = ["Sneaker Auth VN", "Authentic Store HN", "Hàng Hiệu Xách Tay", "Kho Chính Hãng 24h", "Săn Sale Auth"]
# Goods that have a second-hand market (nobody resells used face cream or milk powder).
DURABLE = {"footwear", "audio", "smartphone", "watches", "bags"}
# Device lists an accessory names to say what it fits, by the category of the brand named in them.
DEVICE_LISTS = {
    "smartphone": [
        "Tai nghe gaming có dây chống ồn PC, {brand}, {other}",
        "Sạc nhanh 20W Android, iOS, {brand}",
        "Giá đỡ điện thoại để bàn cho laptop, máy tính bảng, {brand} X2",
        "Tai nghe nhét tai chơi game điện thoại, {brand}, {other}",
        "Cáp OTG type-c laptop / {brand} / {other}",
    ],
    "audio": [
        "Dây chuyển đổi âm thanh 3.5mm PC, laptop, {brand}",
        "Giá treo tai nghe để bàn máy tính, {brand}, {other}",
    ],
    "watches": ["Dây đeo silicon 20mm điện thoại, {brand}, {other} đủ màu"],
}
# Other brands' names a counterfeit listing puts beside the brand (fictional, not registered).
OWN_LIST_BRANDS = ["Bolt Run", "Mira", "Sao Bắc", "Tân Tiến", "Nami"]
RESELLER_HOOKS = ["fullbox", "full box bill", "ảnh thật", "sẵn hàng", "freeship", "giao nhanh", ""]
EXTRAS = [
    "full box",
    "freeship",
    "giá rẻ",
    "bảo hành 1 đổi 1",
    "hàng đẹp",
    "cao cấp",
    "size 36-43",
    "hot trend 2024",
    "giá xưởng",
    "có sẵn",
    "ảnh thật",
    "đủ màu",
    "hàng mới về",
    "sale sốc",
    "",
    "",
    "",
]
HONEST_EXTRAS = [
    "chính hãng",
    "hàng chính hãng",
    "bảo hành 12 tháng",
    "mới 100%",
    "nguyên seal",
    "có hóa đơn VAT",
    "",
    "",
    "freeship",
    "giao nhanh 2h",
    "new 2024",
    "fullbox",
]
SHOPS = [
    "Shop Giày Đẹp 247",
    "Tổng Kho Sỉ Lẻ",
    "Minh Anh Store",
    "Hàng Hiệu Giá Rẻ",
    "Thời Trang Hà Nội",
    "Tiệm Nhà Bông",
    "Phụ Kiện Số 1",
    "Kho Hàng Quảng Châu",
    "Bảo Ngọc Shop",
    "TechZone VN",
    "Mỹ Phẩm Xinh",
    "Mẹ và Bé Online",
    "Đồng Hồ Sài Gòn",
    "Gia Dụng Tiện Ích",
    "Lucky Shop 88",
    "Hoàng Long Mobile",
    "Shop Nhập Khẩu",
    "Tuấn Phát Store",
]
ACCESSORIES = {
    "kira-phone": [
        "Ốp lưng {brand} {model} silicon trong suốt",
        "Ốp lưng cho {brand} {model} chống sốc",
        "Kính cường lực {brand} {model} full màn",
        "Cáp sạc cho {brand} {model} type-c 1m",
        "Bao da dùng cho {brand} {model}",
        "Miếng dán màn hình {brand} {model}",
        "Giá đỡ điện thoại tương thích {brand}",
    ],
    "hanami-audio": [
        "Hộp đựng tai nghe cho {brand} {model}",
        "Nút tai silicon thay thế cho {brand} {model}",
        "Ốp case tai nghe {brand} {model} hình gấu",
        "Đệm tai thay thế dùng cho {brand} {model}",
        "Túi đựng loa {brand} {model} chống sốc",
    ],
    "mekong-watch": [
        "Dây đeo {brand} {model} da bò 20mm",
        "Dây đeo thay thế cho {brand} {model}",
        "Kính cường lực mặt đồng hồ {brand} {model}",
        "Hộp đựng đồng hồ dùng cho {brand}",
    ],
    "lotus-step": [
        "Lót giày dành cho {brand} {model}",
        "Dây giày thay thế cho giày {brand}",
        "Túi chống bụi cho giày {brand} {model}",
        "Xịt vệ sinh giày dùng cho {brand}",
    ],
    "truong-son-bags": ["Túi chống bụi dành cho balo {brand}", "Dây đeo thay thế cho túi {brand} {model}"],
}
GENERIC = [
    ("Giày sneaker nam loại 1 giá rẻ", 120000),
    ("Tai nghe bluetooth hàng loại 1", 90000),
    ("Áo thun nam cotton loại 1", 65000),
    ("Hoa giả trang trí phòng khách", 45000),
    ("Camera giả chống trộm có đèn nháy", 75000),
    ("Máy soi tiền giả UV mini", 95000),
    ("Tóc giả nữ ngắn tự nhiên", 150000),
    ("Lông mi giả 3D hộp 10 cặp", 35000),
    ("Cây giả để bàn văn phòng", 85000),
    ("Bút thử tiền giả", 15000),
    ("Dummy camera CCTV fake camera chống trộm", 70000),
    ("Pin AAA Panasonic vỉ 4 viên", 30000),
    ("Hạt giống dưa hấu F1 năng suất cao", 20000),
    ("Tem chống hàng giả in theo yêu cầu", 200000),
    ("Ví da nam giả da cao cấp", 99000),
    ("Đồng hồ treo tường giả gỗ", 180000),
    ("Giày sneaker rep 1:1 không logo", 250000),
    ("Túi xách nữ sieu cap dep", 160000),
    ("Điện thoại cũ giá rẻ loại 1", 900000),
    ("Sữa bột nguyên kem loại 1 túi 1kg", 120000),
    ("Kem dưỡng da handmade loại 1", 60000),
    ("Cáp sạc nhanh 3A type-c loại 1", 25000),
    ("Balo laptop chống nước loại 1", 190000),
    ("Móng giả đính đá", 40000),
]
NEGATIVE_KEYWORD_TITLES = {
    "lotus-step": ["Bánh Lotus Biscoff hộp 250g", "Bánh lotus nhân kem"],
    "hanami-audio": ["Set ăn Hanami Sushi 2 người", "Vé lễ hội Hanami Đà Nẵng"],
    "mekong-watch": ["Tour du lịch Mekong 2 ngày", "Sách ảnh Mekong Delta"],
    "sen-vang": ["Hạt giống hoa sen vàng", "Chè sen nhãn nhục"],
    "truong-son-bags": ["Bản đồ đường Trường Sơn", "Sách Dãy Trường Sơn hùng vĩ"],
    "nova-charge": ["Đĩa than Bossa Nova", "Căn hộ Novaland"],
    "bamboo-milk": ["Đũa tre tre trúc 10 đôi", "Ống hút tre trúc"],
    "kira-phone": [],
}


def _obfuscate(name: str, rng: random.Random) -> str:
    letters = [c for c in name if not c.isspace()]
    style = rng.randrange(5)
    rest = " " + " ".join(name.split()[1:]) if " " in name else ""
    if style == 0:
        return ".".join(c.upper() for c in name.split()[0]) + rest
    if style == 1:
        leet = {"o": "0", "i": "1", "e": "3", "a": "@", "s": "$"}
        out, swapped = [], False
        for c in name:
            if not swapped and c.lower() in leet and out and out[-1].isalpha():
                out.append(leet[c.lower()])
                swapped = True
            else:
                out.append(c)
        return "".join(out)
    if style == 2:
        return "-".join(c.upper() for c in name.split()[0]) + rest
    if style == 3:
        return " ".join(letters).upper()
    return "*".join(name.split()[0][i : i + 2] for i in range(0, len(name.split()[0]), 2)) + rest


class _Gen:
    def __init__(self, brands: list[Brand]) -> None:
        self.brands = brands
        self.rng = random.Random(SEED)
        self.rows: list[dict[str, Any]] = []

    def add(self, brand: Brand, title: str, price: float | None, label: int, kind: str, **extra: Any) -> None:
        rng = self.rng
        n = len(self.rows)
        history = extra.pop("history", None)
        marketplace = extra.pop("marketplace", rng.choice(MARKETPLACES))
        seller = extra.pop("seller", {"id": f"shop{rng.randrange(10_000, 99_999)}", "name": rng.choice(SHOPS)})
        listing = Listing(
            marketplace=marketplace,
            listing_id=f"seed{n:05d}",
            url=f"https://{marketplace}.example/seed{n:05d}",
            title=" ".join(title.split()),
            description=extra.pop("description", None),
            price=None if price is None else float(round(price, -3) or 1000),
            original_price=extra.pop("original_price", None),
            seller=seller,
            sold_count=rng.choice([None, rng.randrange(0, 5000)]),
            evidence_digest=hashlib.sha256(f"seed{n}{title}".encode()).hexdigest(),
            captured_at="2024-06-01T00:00:00Z",
            query_brand_id=brand.brand_id,
        )
        row: dict[str, Any] = {"label": label, "kind": kind, "listing": listing.to_doc()}
        # The store's record of the seller, for a share of rows: bad records with fakes, clean with genuine.
        if history is None and rng.random() < 0.3:
            share = rng.uniform(0.4, 1.0) if label else rng.uniform(0.0, 0.15)
            history = {"share": round(share, 2), "count": rng.randrange(3, 60)}
        if history:
            row["seller_history"] = history
        self.rows.append(row)

    def product(self, brand: Brand) -> tuple[str, str]:
        return self.rng.choice(PRODUCTS[brand.category or "footwear"]), self.rng.choice(MODELS[brand.brand_id])

    def official_seller(self, brand: Brand) -> tuple[str, dict[str, Any]]:
        seller = self.rng.choice(brand.official_sellers)
        return seller.marketplace, {
            "id": seller.seller_id,
            "name": seller.seller_name,
            "official": self.rng.random() < 0.5,
        }

    def run(self) -> list[dict[str, Any]]:
        rng = self.rng
        for brand in self.brands:
            low = brand.min_reference_price_vnd or 500_000
            name = brand.name
            for _ in range(14):
                product, model = self.product(brand)
                term = rng.choice(COUNTERFEIT_TERMS)
                title = rng.choice(
                    [
                        f"{product} {name} {model} {term} {rng.choice(EXTRAS)}",
                        f"{term} {product} {name} {model} {rng.choice(EXTRAS)}",
                        f"{product} {name.lower()} {model} {term}",
                        f"[{term}] {name} {model} {rng.choice(EXTRAS)}",
                    ]
                )
                ratio = rng.choice([rng.uniform(0.06, 0.3), rng.uniform(0.3, 0.6), rng.uniform(0.6, 1.0)])
                self.add(brand, title, low * ratio, 1, "counterfeit_term")
            for _ in range(6):
                product, model = self.product(brand)
                title = f"{product} {_obfuscate(name, rng)} {model} {rng.choice(EXTRAS)}"
                self.add(brand, title, low * rng.uniform(0.1, 0.7), 1, "obfuscated_brand")
            for _ in range(6):
                product, model = self.product(brand)
                hook = rng.choice(["giá sốc", "xả kho", "thanh lý", ""])
                title = f"{product} {name} {model} {rng.choice(HONEST_EXTRAS)} {hook}"
                self.add(brand, title, low * rng.uniform(0.04, 0.27), 1, "implausible_price")
            for i in range(9):
                product, model = self.product(brand)
                marketplace, seller = self.official_seller(brand)
                title = rng.choice(
                    [
                        f"[Chính hãng] {product} {name} {model}",
                        f"{name} {model} - {product} chính hãng {rng.choice(HONEST_EXTRAS)}",
                        f"{product} {name} {model} Official {rng.choice(HONEST_EXTRAS)}",
                        f"{name} {model} {rng.choice(HONEST_EXTRAS)}",
                    ]
                )
                ratio = rng.uniform(0.45, 0.7) if i == 0 else rng.uniform(0.8, 1.6)
                self.add(
                    brand,
                    title,
                    low * ratio,
                    0,
                    "official_store",
                    marketplace=marketplace,
                    seller=seller,
                    original_price=float(round(low * 1.3, -3)),
                    description="Tem chống hàng giả, bảo hành chính hãng.",
                )
            for _ in range(8):
                product, model = self.product(brand)
                title = rng.choice(
                    [
                        f"{product} {name} {model} {rng.choice(HONEST_EXTRAS)}",
                        f"{name} {model} {product} {rng.choice(HONEST_EXTRAS)}",
                        f"{product} {name} {model} size {rng.randrange(36, 44)}",
                        f"{name} {model} cũ 95% còn bảo hành",
                    ]
                )
                self.add(brand, title, low * rng.uniform(0.7, 2.0), 0, "reseller")
            for template in ACCESSORIES.get(brand.brand_id, []):
                model = rng.choice(MODELS[brand.brand_id])
                brand_name = rng.choice([name, name.lower(), name.upper()])
                title = template.format(brand=brand_name, model=model) + " " + rng.choice(EXTRAS)
                self.add(brand, title, rng.uniform(15_000, 180_000), 0, "descriptive_accessory")
            code = SHORT_CODES.get(brand.brand_id)
            for _ in range(6 if code else 0):
                product, model = self.product(brand)
                title = rng.choice(
                    [
                        f"{product} {code} {model} {rng.choice(EXTRAS)}",
                        f"[{rng.choice(RESELLER_HOOKS)}] {product} {code} {rng.choice(EXTRAS)}",
                        f"{product} {code.lower()} {rng.choice(RESELLER_HOOKS)} {rng.choice(EXTRAS)}",
                    ]
                )
                self.add(brand, title, low * rng.uniform(0.03, 0.45), 1, "abbreviated_brand")
            for _ in range(3 if code else 0):
                # A short code at a genuine price (a used phone "ss j330", a reseller's shorthand) is
                # shorthand, not a fake: the code counts only with another cue.
                product, model = self.product(brand)
                title = rng.choice(
                    [
                        f"{product} cũ {code} {model} {rng.choice(HONEST_EXTRAS)}",
                        f"{product} {code} {model} like new 99%",
                    ]
                )
                self.add(brand, title, low * rng.uniform(0.6, 1.6), 0, "abbreviated_genuine_price")
            for _ in range(3):
                product, model = self.product(brand)
                title = f"{product} {name} {model} {rng.choice(RESELLER_HOOKS)}"
                seller = {"id": f"rep{rng.randrange(1000, 9999)}", "name": rng.choice(REPLICA_SHOPS)}
                self.add(brand, title, low * rng.uniform(0.3, 1.1), 1, "replica_shop", seller=seller)
            for _ in range(2):
                product, model = self.product(brand)
                disguised = _obfuscate(name, rng)
                seller = {"id": f"fake{rng.randrange(1000, 9999)}", "name": f"{disguised} Official Mall"}
                title = f"{product} {name} {model} {rng.choice(HONEST_EXTRAS)}"
                self.add(brand, title, low * rng.uniform(0.3, 0.9), 1, "impersonating_seller", seller=seller)
            for _ in range(4):
                product, model = self.product(brand)
                title = f"{product} {name} {model} {rng.choice(RESELLER_HOOKS)} {rng.choice(HONEST_EXTRAS)}"
                self.add(brand, title, low * rng.uniform(0.6, 1.5), 0, "reseller")
            for _ in range(5):
                # Genuine goods do sell well under the cheapest reference (sales, small sizes, spare
                # parts): a middling discount alone must not look like a fake.
                product, model = self.product(brand)
                hook = rng.choice(["sale", "giảm giá", "flash sale", "thanh lý", "mini", "size nhỏ", ""])
                title = f"{product} {name} {model} {rng.choice(HONEST_EXTRAS)} {hook}"
                self.add(brand, title, low * rng.uniform(0.5, 0.75), 0, "genuine_discount")
            for template in ACCESSORIES.get(brand.brand_id, [])[:3]:
                model = rng.choice(MODELS[brand.brand_id])
                grade = rng.choice(["hàng loại 1", "loại 1 cao cấp", "giá rẻ", "AAA", "chính hãng"])
                title = template.format(brand=name, model=model) + f" {grade}"
                self.add(brand, title, rng.uniform(10_000, 120_000), 0, "descriptive_accessory")
            for title, price in rng.sample(GENERIC, 6):
                self.add(brand, title, price * rng.uniform(0.8, 1.2), 0, "generic_or_legit_gia")
            for title in NEGATIVE_KEYWORD_TITLES.get(brand.brand_id, []):
                self.add(brand, title, rng.uniform(30_000, 300_000), 0, "negative_keyword")
        # Drawn after the rows above, so adding these left every earlier row as it was.
        for brand in self.brands:
            self.market_rows(brand)
        return self.rows

    def market_rows(self, brand: Brand) -> None:
        """Harder rows, as an analyst sees the market: no counterfeit word at all, so price, seller and
        wording must carry the decision; and compatibility lists that name several devices."""
        rng = self.rng
        low = brand.min_reference_price_vnd or 500_000
        name = brand.name
        for _ in range(5):
            # Under ~45% of the cheapest genuine product, from an ordinary shop dressed like a reseller
            # ("full box", "ảnh thật", "tặng tất"): the price is the tell, as on sneaker marketplaces.
            product, model = self.product(brand)
            hook = rng.choice(MARKET_HOOKS)
            title = rng.choice(
                [
                    f"{product} {name} {model} {hook} {rng.choice(EXTRAS)}",
                    f"[{hook}] {product} {name} {model} {rng.choice(EXTRAS)}",
                    f"{product} {name.lower()} {model} {rng.choice(HONEST_EXTRAS)} {hook}",
                ]
            )
            self.add(brand, title, low * rng.uniform(0.28, 0.45), 1, "suspicious_price")
        for _ in range(4):
            # Genuine discounts as resellers write them: the same hooks, 50-80% of the cheapest product.
            product, model = self.product(brand)
            hook = rng.choice(MARKET_HOOKS)
            title = f"{product} {name} {model} {hook} {rng.choice(['sale', 'giảm giá', 'thanh lý', 'xả kho', ''])}"
            self.add(brand, title, low * rng.uniform(0.5, 0.8), 0, "genuine_discount")
        for _ in range(4 if brand.category in DURABLE else 0):
            # Second-hand goods of the brand sell well under new prices and are still genuine.
            product, model = self.product(brand)
            used = rng.choice(USED)
            title = rng.choice([f"{product} {name} {model} {used}", f"[{used}] {name} {model} {product}"])
            self.add(brand, title, low * rng.uniform(0.3, 0.7), 0, "second_hand")
        for _ in range(3):
            # Established resellers, "auth" in the shop's name, at genuine prices: no cue.
            product, model = self.product(brand)
            seller = {"id": f"auth{rng.randrange(1000, 9999)}", "name": rng.choice(AUTH_RESELLERS)}
            claim = rng.choice(["auth", "chính hãng", "authentic", ""])
            title = f"{product} {name} {model} {claim} {rng.choice(MARKET_HOOKS)}"
            self.add(brand, title, low * rng.uniform(0.6, 1.3), 0, "reseller_shop", seller=seller)
        # Outlet and ex-display stock goes a little lower and is genuine: one a brand, too few to learn
        # "outlet" from, so out-of-fold figures show the price signal's cost. (A fake with no cue at a
        # middling price is not written: what the listing does not show is labelled 0, as on the benchmark.)
        product, model = self.product(brand)
        title = f"{product} {name} {model} {rng.choice(['outlet', 'hàng trưng bày', 'xả kho chính hãng'])}"
        self.add(brand, title, low * rng.uniform(0.4, 0.5), 0, "outlet_genuine")
        for template in DEVICE_LISTS.get(brand.category or "", []):
            other = rng.choice([b.name for b in self.brands if b.brand_id != brand.brand_id])
            title = template.format(brand=rng.choice([name, name.lower()]), other=other)
            grade = rng.choice(["", "", "giá rẻ", "hàng loại 1", "chính hãng", "freeship"])
            self.add(brand, f"{title} {grade}", rng.uniform(15_000, 180_000), 0, "device_list_accessory")
        for _ in range(2):
            # A list of brand names is the product's own brands, not what it fits: still a replica.
            product, model = self.product(brand)
            other = rng.choice(OWN_LIST_BRANDS)
            term = rng.choice(COUNTERFEIT_TERMS)
            title = rng.choice([f"{product} {name}, {other} {term}", f"{product} {other}, {name} {model} {term}"])
            self.add(brand, title, low * rng.uniform(0.1, 0.6), 1, "brand_list_counterfeit")


def main() -> None:
    brands = [Brand.model_validate(b) for b in json.loads((DATA / "seed_brands.json").read_text())]
    rows = _Gen(brands).run()
    with (DATA / "seed_listings.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {len(rows)} seed listings ({sum(r['label'] for r in rows)} labelled 1)")


if __name__ == "__main__":
    main()
