"""A small, fixed catalogue and dossiers in the store's wire shape (tests, previews, bench).

Not shown to citizens on a real site: the kiosk's catalogue always comes from the store.
"""

from __future__ import annotations

from typing import Any

from appliance.lookup.catalogue import Catalogue

_KS_DOCS = [
    {"name": "Tờ khai đăng ký khai sinh theo mẫu", "original": 1, "copies": 0},
    {"name": "Giấy chứng sinh hoặc văn bản của người làm chứng", "original": 1, "copies": 0},
    {"name": "Căn cước hoặc giấy tờ tùy thân của người đi đăng ký", "original": 1,
     "copies": 0},
]

PROCEDURES: list[dict[str, Any]] = [
    {"code": "1.001193", "name": "Đăng ký khai sinh", "sector": "Hộ tịch", "level": "Xã",
     "agency": "Ủy ban nhân dân cấp xã (Trung tâm Phục vụ hành chính công)",
     "processing_days": 0, "fee": "Miễn lệ phí",
     "method": "Nộp trực tiếp tại quầy hoặc trực tuyến trên Cổng Dịch vụ công",
     "applicant": "Cha, mẹ hoặc người thân thích của trẻ",
     "result": "Giấy khai sinh (bản chính)",
     "legal_basis": "Luật Hộ tịch 2014; Nghị định 123/2015/NĐ-CP",
     "conditions": "",
     "steps": ["Nộp tờ khai và giấy tờ tại bộ phận một cửa",
               "Công chức tư pháp – hộ tịch kiểm tra hồ sơ",
               "Ghi vào Sổ hộ tịch và cấp Giấy khai sinh ngay trong ngày"],
     "documents": _KS_DOCS},
    {"code": "1.001022", "name": "Đăng ký kết hôn", "sector": "Hộ tịch", "level": "Xã",
     "agency": "Ủy ban nhân dân cấp xã", "processing_days": 0, "fee": "Miễn lệ phí",
     "method": "Hai bên nam, nữ có mặt tại quầy", "applicant": "Hai bên nam, nữ",
     "result": "Giấy chứng nhận kết hôn", "legal_basis": "Luật Hộ tịch 2014",
     "conditions": "Đủ tuổi kết hôn, tự nguyện, không thuộc trường hợp cấm kết hôn",
     "steps": ["Nộp tờ khai", "Kiểm tra điều kiện", "Ký Giấy chứng nhận kết hôn"],
     "documents": [{"name": "Tờ khai đăng ký kết hôn", "original": 1, "copies": 0}]},
    {"code": "1.000656", "name": "Đăng ký khai tử", "sector": "Hộ tịch", "level": "Xã",
     "agency": "Ủy ban nhân dân cấp xã", "processing_days": 0, "fee": "Miễn lệ phí",
     "method": "Nộp trực tiếp", "applicant": "Người thân thích của người chết",
     "result": "Trích lục khai tử", "legal_basis": "Luật Hộ tịch 2014", "conditions": "",
     "steps": ["Nộp tờ khai và giấy báo tử", "Cấp trích lục khai tử"],
     "documents": [{"name": "Giấy báo tử", "original": 1, "copies": 0}]},
    {"code": "2.000815", "name": "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
     "sector": "Chứng thực", "level": "Xã", "agency": "Ủy ban nhân dân cấp xã",
     "processing_days": 0, "fee": "2.000 đồng/trang; từ trang thứ ba 1.000 đồng/trang",
     "method": "Nộp trực tiếp", "applicant": "Cá nhân, tổ chức",
     "result": "Bản sao có chứng thực", "legal_basis": "Nghị định 23/2015/NĐ-CP",
     "conditions": "", "steps": ["Xuất trình bản chính và bản sao", "Đối chiếu và chứng thực"],
     "documents": [{"name": "Bản chính giấy tờ cần chứng thực", "original": 1, "copies": 1}]},
    {"code": "2.000908", "name": "Chứng thực chữ ký trong các giấy tờ, văn bản",
     "sector": "Chứng thực", "level": "Xã", "agency": "Ủy ban nhân dân cấp xã",
     "processing_days": 0, "fee": "10.000 đồng/trường hợp", "method": "Nộp trực tiếp",
     "applicant": "Cá nhân", "result": "Giấy tờ có chứng thực chữ ký",
     "legal_basis": "Nghị định 23/2015/NĐ-CP", "conditions": "",
     "steps": ["Ký trước mặt người thực hiện chứng thực"],
     "documents": [{"name": "Giấy tờ cần chứng thực chữ ký", "original": 1, "copies": 0}]},
    {"code": "1.004227", "name": "Hòa giải tranh chấp đất đai", "sector": "Đất đai",
     "level": "Xã", "agency": "Ủy ban nhân dân cấp xã", "processing_days": 30,
     "fee": "Không mất phí", "method": "Nộp đơn trực tiếp", "applicant": "Các bên tranh chấp",
     "result": "Biên bản hòa giải", "legal_basis": "Luật Đất đai 2024", "conditions": "",
     "steps": ["Nộp đơn", "Thẩm tra, xác minh", "Tổ chức họp hòa giải", "Lập biên bản"],
     "documents": [{"name": "Đơn đề nghị hòa giải tranh chấp đất đai", "original": 1,
                    "copies": 0}]},
    {"code": "1.001776", "name": "Xác nhận hộ gia đình làm nông nghiệp có mức sống trung bình",
     "sector": "Chính sách xã hội", "level": "Xã", "agency": "Ủy ban nhân dân cấp xã",
     "processing_days": 10, "fee": "Không mất phí", "method": "Nộp trực tiếp hoặc qua bưu điện",
     "applicant": "Hộ gia đình", "result": "Giấy xác nhận",
     "legal_basis": "Nghị định 07/2021/NĐ-CP", "conditions": "Hộ làm nông, lâm, ngư nghiệp",
     "steps": ["Nộp giấy đề nghị", "Rà soát, bình xét", "Niêm yết công khai", "Xác nhận"],
     "documents": [{"name": "Giấy đề nghị xác nhận", "original": 1, "copies": 0}]},
    {"code": "1.010801", "name": "Trợ cấp xã hội hằng tháng đối với người cao tuổi",
     "sector": "Chính sách xã hội", "level": "Xã", "agency": "Ủy ban nhân dân cấp xã",
     "processing_days": 22, "fee": "Không mất phí", "method": "Nộp trực tiếp",
     "applicant": "Người cao tuổi hoặc người giám hộ", "result": "Quyết định trợ cấp",
     "legal_basis": "Nghị định 20/2021/NĐ-CP", "conditions": "Đủ 75 tuổi trở lên (hoặc 70)",
     "steps": ["Nộp tờ khai", "Xét duyệt", "Niêm yết 2 ngày", "Quyết định trợ cấp"],
     "documents": [{"name": "Tờ khai đề nghị trợ giúp xã hội", "original": 1, "copies": 0},
                   {"name": "Bản sao Căn cước", "original": 0, "copies": 1}]},
]

DOSSIER: dict[str, Any] = {
    "code": "000.00.06.G04-261127-0012",
    "procedure": {"code": "1.010801",
                  "name": "Trợ cấp xã hội hằng tháng đối với người cao tuổi"},
    "applicant": "Nguyễn V** A**",
    "stage": "ready",
    "stage_label": "Đã có kết quả, chờ trả",
    "received_at": "2026-11-27T08:15:00+07:00",
    "due_at": "2026-12-29",
    "status": "early",
    "timing": "early",
    "missing": [],
    "ready": True,
    "pickup_counter": "2",
    "history": [
        {"at": "2026-11-27T08:15:00+07:00", "stage": "received",
         "stage_label": "Đã tiếp nhận", "note": ""},
        {"at": "2026-11-27T10:00:00+07:00", "stage": "processing",
         "stage_label": "Đang giải quyết", "note": ""},
        {"at": "2026-11-30T09:00:00+07:00", "stage": "ready",
         "stage_label": "Đã có kết quả, chờ trả", "note": ""},
    ],
}
DOSSIER_SECRET = "K7M2QA"

SUPPLEMENT: dict[str, Any] = {
    **DOSSIER,
    "code": "000.00.06.G04-261130-0003",
    "procedure": {"code": "1.001193", "name": "Đăng ký khai sinh"},
    "applicant": "Trần T** B**",
    "stage": "awaiting_supplement",
    "stage_label": "Chờ bổ sung hồ sơ",
    "received_at": "2026-11-30T08:40:00+07:00",
    "due_at": "2026-11-30",
    "status": "on_time",
    "timing": "not_yet_due",
    "missing": ["Giấy chứng sinh (bản chính)"],
    "ready": False,
    "pickup_counter": None,
    "history": [
        {"at": "2026-11-30T08:40:00+07:00", "stage": "received",
         "stage_label": "Đã tiếp nhận", "note": ""},
        {"at": "2026-11-30T09:00:00+07:00", "stage": "processing",
         "stage_label": "Đang giải quyết", "note": ""},
        {"at": "2026-11-30T09:20:00+07:00", "stage": "awaiting_supplement",
         "stage_label": "Chờ bổ sung hồ sơ", "note": "thiếu giấy chứng sinh"},
    ],
}


def catalogue() -> Catalogue:
    return Catalogue.build("sample-1", [dict(p) for p in PROCEDURES],
                           "2026-11-30T07:00:00+07:00")
