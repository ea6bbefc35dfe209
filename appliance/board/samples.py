"""Fixed board views (empty office, busy office, dossiers) for screenshots, tests and bench.

They are what the model builds from the demo site's messages; a fixed ``NOW`` and fixed
fonts make every screenshot of them the same, pixel for pixel.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from appliance.board.view import (
    BoardView,
    Call,
    CounterView,
    DossierBoard,
    Figures,
    ReadyDossier,
    ServiceView,
)
from appliance.clock import VN_TZ

NOW = datetime(2026, 11, 30, 9, 41, 12, tzinfo=VN_TZ)
NOTICE = ("Công dân vui lòng giữ số thứ tự và chờ đến lượt. Tra cứu hồ sơ tại máy tra cứu "
          "cạnh cửa ra vào. Please keep your ticket and wait for your number.")

OFFICE = "Trung tâm Phục vụ hành chính công phường Mẫu"
OFFICE_EN = "Public Administration Service Centre, Demo Ward"
SERVICES = (("A", "Chứng thực", "Certification"), ("B", "Tư pháp – Hộ tịch",
            "Justice – Civil status"), ("C", "Đất đai", "Land"),
            ("D", "Chính sách xã hội", "Social policy"))
COUNTERS = (("1", "Quầy 1"), ("2", "Quầy 2"), ("3", "Quầy 3"))


def empty_office() -> BoardView:
    return BoardView(
        office_name=OFFICE, office_name_en=OFFICE_EN,
        services=tuple(ServiceView(sid, n, en, 0, None) for sid, n, en in SERVICES),
        counters=tuple(CounterView(cid, name, open=False) for cid, name in COUNTERS),
        calls=(), notice=NOTICE, online=True, ever_synced=True,
        last_update=NOW - timedelta(seconds=5),
    )


def busy_office(called_ago_s: float = 600.0) -> BoardView:
    names = {sid: n for sid, n, _ in SERVICES}
    counters = (
        CounterView("1", "Quầy 1", True, "A023", "A", names["A"]),
        CounterView("2", "Quầy 2", True, "B017", "B", names["B"]),
        CounterView("3", "Quầy 3", True, "D004", "D", names["D"]),
    )
    at = NOW - timedelta(seconds=called_ago_s)
    calls = (
        Call("B017", "2", "Quầy 2", names["B"], at, seq=88),
        Call("A023", "1", "Quầy 1", names["A"], at - timedelta(seconds=95), seq=86),
        Call("D004", "3", "Quầy 3", names["D"], at - timedelta(seconds=160), seq=83),
        Call("C011", "2", "Quầy 2", names["C"], at - timedelta(seconds=400), seq=80),
    )
    waiting = {"A": (12, 1260), "B": (5, 840), "C": (7, 2100), "D": (0, None)}
    return BoardView(
        office_name=OFFICE, office_name_en=OFFICE_EN,
        services=tuple(ServiceView(sid, n, en, *waiting[sid]) for sid, n, en in SERVICES),
        counters=counters, calls=calls, notice=NOTICE, online=True, ever_synced=True,
        last_update=NOW - timedelta(seconds=2),
    )


def new_call() -> BoardView:
    """The busy office a moment after B017 was called to counter 2."""
    return busy_office(called_ago_s=2.0)


def offline() -> BoardView:
    view = busy_office()
    return replace(view, online=False, last_update=datetime(2026, 11, 30, 9, 38, 5,
                                                            tzinfo=VN_TZ))


def dossiers() -> BoardView:
    ready = (
        ReadyDossier("000.00.06.H56-261125-0012", "Nguyễn V** A**", "Chứng thực bản sao", "1"),
        ReadyDossier("000.00.06.H56-261124-0031", "Trần T** B**", "Đăng ký khai sinh", "2"),
        ReadyDossier("000.00.06.H56-261120-0007", "Lê Đ** C**", "Cấp giấy chứng nhận "
                     "quyền sử dụng đất lần đầu", "3"),
        ReadyDossier("000.00.06.H56-261126-0044", "Phạm Ư** Ự**", "Đăng ký kết hôn", "2"),
        ReadyDossier("000.00.06.H56-261118-0002", "Hoàng Ồ** Ấ**", "Trợ cấp xã hội hằng tháng",
                     None),
    )
    board = DossierBoard(
        ready=ready,
        today=Figures(received=37, in_progress=112, returned_early=9, returned_on_time=21,
                      returned_late=1, overdue=3),
        month=Figures(received=804, in_progress=112, returned_early=240,
                      returned_on_time=395, returned_late=12, overdue=3),
        at=NOW - timedelta(minutes=1),
    )
    return replace(busy_office(), dossier=board, dossier_online=True)


SCENES = {
    "empty": (empty_office, "queue"),
    "busy": (busy_office, "queue"),
    "new_call": (new_call, "queue"),
    "offline": (offline, "queue"),
    "dossier": (dossiers, "dossier"),
}
