"""What the dashboard shows, as plain data: labels in Vietnamese first, English second,
and the 7-day availability. Kept apart from the web framework so it is testable alone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.care.alerts import STATE_EN, STATE_VI
from appliance.care.fleet import UnitView
from appliance.care.history import History
from appliance.care.model import availability

PAPER_VI = {"ok": "Còn giấy", "low": "Sắp hết", "out": "Hết giấy", "unknown": "Không rõ"}


def yes_no(value: bool | None, good: bool = True) -> tuple[str, str]:
    """(text, css class): ``None`` is shown as unknown, never as fine."""
    if value is None:
        return "—", "unknown"
    ok = value is good
    return ("Có" if value else "Không"), ("ok" if ok else "bad")


def age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "chưa bao giờ / never"
    s = int((now - then).total_seconds())
    if s < 90:
        return f"{s} giây trước"
    if s < 5400:
        return f"{s // 60} phút trước"
    return f"{s // 3600} giờ trước"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    d, h, m = s // 86400, s % 86400 // 3600, s % 3600 // 60
    return f"{d} ngày {h} giờ" if d else f"{h} giờ {m} phút"


@dataclass(frozen=True)
class FactRow:
    label: str
    text: str
    css: str


def fact_rows(u: UnitView) -> list[FactRow]:
    f = u.facts
    rows: list[FactRow] = []
    if f.paper is not None:
        rows.append(FactRow("Giấy in / paper", PAPER_VI[f.paper],
                            {"ok": "ok", "low": "warn", "out": "bad"}.get(f.paper, "unknown")))
    for label, value in (("Máy in / printer", f.printer_connected),
                         ("Bàn phím / keypad", f.keypad_connected),
                         ("Bảng LED / LED board", f.board_connected)):
        if value is not None:
            text, css = yes_no(value)
            rows.append(FactRow(label, "Đã kết nối" if value else "Mất kết nối", css))
    if f.disk_free_mb is not None:
        rows.append(FactRow("Dung lượng trống / disk free",
                            f"{f.disk_free_mb} MB" + (f" / {f.disk_total_mb} MB"
                                                      if f.disk_total_mb else ""),
                            "bad" if "disk_low" in " ".join(u.reasons) else "ok"))
    if f.sd_write_errors is not None:
        rows.append(FactRow("Lỗi ghi thẻ nhớ / SD write errors", str(f.sd_write_errors),
                            "bad" if f.sd_write_errors else "ok"))
    if f.cpu_temp_c is not None:
        rows.append(FactRow("Nhiệt độ CPU / CPU temperature", f"{f.cpu_temp_c:.1f} °C",
                            "bad" if "cpu_hot" in " ".join(u.reasons) else "ok"))
    for label, now_v, seen in (("Thiếu điện áp / under-voltage", f.under_voltage,
                                f.under_voltage_seen),
                               ("Giảm xung / throttled", f.throttled, f.throttled_seen)):
        text, css = yes_no(now_v, good=False)
        if seen:
            text += " (đã từng / seen since boot)"
        rows.append(FactRow(label, text, css))
    if f.clock_offset_s is not None:
        rows.append(FactRow("Lệch giờ với hub / clock offset", f"{f.clock_offset_s:+.1f} s",
                            "bad" if "clock_off" in " ".join(u.reasons) else "ok"))
    rows.append(FactRow("Phiên bản / version", f.version or "—", ""))
    rows.append(FactRow("Thời gian chạy / uptime", duration(f.uptime_s), ""))
    return rows


def week(history: History, site: str, unit: str | None, now: datetime,
         ) -> list[tuple[str, float | None]]:
    """Availability of each of the last 7 days (today last), None where nothing is known."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=6)
    changes = [(at, state) for at, state, _ in history.changes(site, unit, start)]
    days = []
    for i in range(7):
        a = start + timedelta(days=i)
        b = min(a + timedelta(days=1), now)
        days.append((a.strftime("%d/%m"), availability(changes, a, b) if b > a else None))
    return days


def state_label(state: str) -> dict[str, Any]:
    return {"vi": STATE_VI.get(state, state), "en": STATE_EN.get(state, state), "css": state}
