"""Realistic-looking values: provinces and their tax-code prefixes, Vietnamese names, streets,
certificate authorities, user agents, refusal reasons, and the skewed choice of who files."""

from __future__ import annotations

import bisect
import itertools
import random

from stdnum.vn import mst

# (tax-code prefix, province): the first two digits of an MST are the province that issued it.
PROVINCES = (
    ("01", "Hà Nội"),
    ("03", "TP. Hồ Chí Minh"),
    ("02", "Hải Phòng"),
    ("04", "Đà Nẵng"),
    ("23", "Bắc Ninh"),
    ("36", "Đồng Nai"),
    ("37", "Bình Dương"),
    ("57", "Quảng Ninh"),
    ("35", "Bà Rịa - Vũng Tàu"),
    ("08", "Hải Dương"),
    ("09", "Hưng Yên"),
    ("11", "Long An"),
    ("42", "Khánh Hòa"),
    ("46", "Thái Nguyên"),
    ("26", "Vĩnh Phúc"),
    ("28", "Thanh Hóa"),
    ("29", "Nghệ An"),
    ("18", "Lào Cai"),
    ("49", "Lạng Sơn"),
    ("18", "Cần Thơ"),
)
# Most enterprises are in the two big cities and the industrial provinces around them.
PROVINCE_WEIGHTS = (22, 26, 6, 4, 5, 6, 7, 3, 3, 3, 2, 3, 2, 1, 2, 1, 1, 1, 1, 2)
STREETS = (
    "Trần Hưng Đạo",
    "Lê Lợi",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Lý Thường Kiệt",
    "Điện Biên Phủ",
    "Nguyễn Trãi",
    "Quang Trung",
    "Hùng Vương",
    "Phan Chu Trinh",
    "Lê Duẩn",
    "Võ Văn Kiệt",
)
FORMS = ("Công ty TNHH", "Công ty Cổ phần", "Công ty TNHH MTV", "Doanh nghiệp tư nhân")
TRADES = (
    "Thương mại",
    "Xuất nhập khẩu",
    "Sản xuất",
    "Dệt may",
    "Điện tử",
    "Thủy sản",
    "Gỗ",
    "Logistics",
    "Cơ khí",
    "Nông sản",
    "Hóa chất",
    "Thực phẩm",
    "Giày da",
    "Nhựa",
    "Thép",
)
WORDS = (
    "Hòa Bình",
    "Thành Công",
    "Phú Thịnh",
    "Hưng Thịnh",
    "Minh Long",
    "An Phát",
    "Việt Tiến",
    "Sao Mai",
    "Đại Dương",
    "Hồng Hà",
    "Trường Sơn",
    "Phương Nam",
    "Bình Minh",
    "Kim Ngân",
    "Tân Cảng",
    "Hải Âu",
    "Thiên Long",
    "Đông Á",
    "Rạng Đông",
    "Hoàng Gia",
)
FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
)
FAMILY_WEIGHTS = (38, 11, 9, 7, 5, 4, 4, 4, 3, 2, 2, 2, 2, 1, 1, 1)
MIDDLE = ("Văn", "Thị", "Minh", "Quốc", "Thanh", "Đức", "Ngọc", "Hữu", "Thu", "Hoàng")
GIVEN = (
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Minh",
    "Nam",
    "Ngọc",
    "Phong",
    "Phương",
    "Quân",
    "Quang",
    "Sơn",
    "Tâm",
    "Thảo",
    "Thắng",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Đạt",
)
TITLES = {
    "owner": "Giám đốc",
    "administrator": "Phó Giám đốc",
    "declarant": "Nhân viên xuất nhập khẩu",
    "signer": "Kế toán trưởng",
    "viewer": "Nhân viên",
}
ISSUERS = ("VNPT-CA", "Viettel-CA", "BkavCA", "FPT-CA", "CA2", "SmartSign", "SAFE-CA")
ISSUER_WEIGHTS = (35, 25, 12, 10, 8, 6, 4)
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Edg/131.0",
    "ecus-client/6.1 (Windows NT 10.0)",
    "vnaccs-vcis/5.2 (Windows NT 6.1)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; SM-A556E) AppleWebKit/537.36 Chrome/131.0 Mobile",
)
REFUSALS = (
    "signature_invalid",
    "certificate_revoked",
    "certificate_expired",
    "certificate_not_bound",
    "signer_not_custodian",
    "no_active_authorization",
    "authorization_scope",
    "broker_licence_inactive",
)
FILLER_ACTIONS = (
    ("signin.signed_out", 60),
    ("session.ended", 8),
    ("officer.viewed", 10),
    ("user.contact_changed", 4),
    ("password.changed", 6),
    ("certificate.custodians_changed", 3),
    ("report.submitted", 3),
    ("flag.raised", 3),
    ("flag.answered", 2),
    ("authorization.changed", 1),
)


def tax_code_for(prefix: str, sequence: int) -> str:
    """A valid MST with the given province prefix: the first sequence number from ``sequence`` on
    whose check digit is a digit (one base in eleven has none)."""
    while True:
        base = f"{prefix}{sequence % 10_000_000:07d}"
        check = mst.calc_check_digit(base)
        if len(check) == 1:
            return base + check
        sequence += 1


def zipf_cumulative(count: int, exponent: float) -> list[float]:
    """Cumulative weights of rank ``r`` ∝ 1 / (r + 1) ** exponent: a few enterprises file a large
    share of all declarations, as real importers do."""
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(count)))


def pick(cumulative: list[float], rng: random.Random) -> int:
    return bisect.bisect_left(cumulative, rng.random() * cumulative[-1])


def person(rng: random.Random) -> tuple[str, str]:
    """A (family and middle name, given name) pair, the family names as common as they are."""
    family = rng.choices(FAMILY, FAMILY_WEIGHTS)[0]
    return f"{family} {rng.choice(MIDDLE)}", rng.choice(GIVEN)
