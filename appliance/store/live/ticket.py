"""What the citizen's phone shows for a ticket: a pure function of (the ticket's QR key,
the hub's day, the hub's answer), in Vietnamese, with no I/O.

Every answer says plainly where the citizen stands; one the page cannot know (the hub does
not answer, another day's ticket, a number never issued) says that, never a made-up place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

NUMBER = re.compile(r"^[A-Z]{1,2}[0-9]{2,4}$")
SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class TicketKey:
    site: str
    day: date
    number: str


def ticket_key(site: str, day: str, number: str) -> TicketKey | None:
    """The key in a ticket's QR URL, or None if any part is not one a ticket can carry."""
    number = number.strip().upper()
    if not SITE.fullmatch(site) or not NUMBER.fullmatch(number):
        return None
    try:
        return TicketKey(site, date.fromisoformat(day), number)
    except ValueError:
        return None


def _dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def _wait(est_s: int | None, ahead: int) -> str:
    if ahead == 0:
        return "Sắp đến lượt"
    if est_s is None:
        return "Chưa ước tính được (chưa có quầy mở)"
    return f"Khoảng {max(1, math.ceil(est_s / 60))} phút"


def _view(kind: str, number: str, headline: str, detail: str = "", *, final: bool,
          **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "number": number, "headline": headline, "detail": detail,
            "final": final, **extra}


def before_asking(key: TicketKey | None, site: str, today: date | None,
                  number: str) -> dict[str, Any] | None:
    """The answer when the hub need not be asked (a bad, foreign or other day's QR), or
    None when it must be."""
    if key is None or key.site != site:
        return _view("unknown", number, "Mã số không hợp lệ",
                     "Mã QR này không phải vé của nơi này. Xin hỏi cán bộ hướng dẫn.",
                     final=True)
    if today is None:
        return unavailable(key.number)
    if key.day < today:
        return _view("other_day", key.number, f"Vé của ngày {_dmy(key.day)}",
                     f"Số thứ tự chỉ có giá trị trong ngày phát. Hôm nay là {_dmy(today)}; "
                     "xin lấy số mới tại máy phát số.", final=True)
    if key.day > today:
        return _view("other_day", key.number, f"Vé ghi ngày {_dmy(key.day)}",
                     f"Hôm nay là {_dmy(today)}: vé này chưa có trong hàng chờ.", final=True)
    return None


def unavailable(number: str) -> dict[str, Any]:
    return _view("unavailable", number, "Tạm thời chưa lấy được thông tin hàng chờ",
                 "Trang sẽ tự cập nhật khi kết nối lại. Xin theo dõi bảng gọi số.",
                 final=False)


def from_reply(number: str, reply: dict[str, Any], counter_names: dict[str, str]) -> dict[str, Any]:
    """The phone's view of the hub's ``ticket.status`` reply."""
    if not reply.get("ok"):
        code = (reply.get("error") or {}).get("code")
        if code == "not_found":
            return _view("unknown", number, f"Không có số {number} hôm nay",
                         "Xin kiểm tra lại vé hoặc hỏi cán bộ hướng dẫn.", final=True)
        return unavailable(number)
    t: dict[str, Any] = reply["ticket"]
    state = t.get("state")
    counter = t.get("counter_name") or counter_names.get(str(t.get("counter")), "")
    names = [counter_names.get(c, f"Quầy {c}") for c in t.get("counters", [])]
    base = {"service_name": t.get("service_name", ""), "counters": names}
    if state == "waiting":
        ahead = int(t.get("ahead", 0))
        return _view("waiting", number, "Đang chờ đến lượt",
                     "Trang tự cập nhật; xin giữ vé để được gọi.", final=False, ahead=ahead,
                     wait=_wait(t.get("est_wait_s"), ahead), **base)
    if state == "serving":
        return _view("called", number, f"Mời ông/bà đến {counter or 'quầy'}",
                     "Số của ông/bà đang được gọi.", final=False, counter_name=counter, **base)
    if state == "parked":
        return _view("parked", number, f"Tạm dừng tại {counter or 'quầy'}",
                     "Cán bộ đang chờ ông/bà bổ sung giấy tờ; xin quay lại quầy khi xong.",
                     final=False, counter_name=counter, **base)
    if state == "finished":
        return _view("done", number, "Đã phục vụ xong", "Cảm ơn ông/bà.", final=True, **base)
    if state == "no_show":
        return _view("no_show", number, "Đã qua lượt",
                     f"Số đã được gọi{' tại ' + counter if counter else ''} nhưng ông/bà "
                     "không có mặt. Xin hỏi cán bộ hướng dẫn.", final=True, **base)
    if state == "voided":
        return _view("voided", number, "Vé đã bị huỷ", "Xin lấy số mới tại máy phát số.",
                     final=True, **base)
    return _view("expired", number, "Vé đã hết hiệu lực", "Xin lấy số mới tại máy phát số.",
                 final=True, **base)
