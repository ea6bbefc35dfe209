"""The MQTT wire contract (docs/protocol.md): topic names, payload encoding, error codes."""

from __future__ import annotations

import json
from typing import Any

from appliance.errors import ContractError

VERSION = 1
ROOT = "motcua/v1"
MAX_PAYLOAD = 64 * 1024

# Wire error codes and the sentence a citizen or officer may be shown for each.
ERROR_MESSAGES: dict[str, str] = {
    "malformed": "Yêu cầu không đọc được (không phải JSON hợp lệ).",
    "too_large": "Yêu cầu quá lớn.",
    "unsupported_version": "Phiên bản giao thức không được hỗ trợ.",
    "bad_request": "Yêu cầu thiếu hoặc sai thông tin.",
    "unknown_op": "Thao tác không được hỗ trợ.",
    "unknown_unit": "Thiết bị chưa được khai báo tại điểm này.",
    "forbidden": "Thiết bị không được phép thực hiện thao tác này.",
    "unknown_service": "Không có dịch vụ này.",
    "unknown_counter": "Không có quầy này.",
    "service_full": "Đã hết số thứ tự của dịch vụ trong ngày.",
    "office_closed": "Ngoài giờ làm việc.",
    "nothing_serving": "Quầy chưa gọi số nào.",
    "busy": "Quầy đang phục vụ một số khác.",
    "not_found": "Không tìm thấy số thứ tự này.",
    "wrong_service": "Quầy không phục vụ dịch vụ của số này.",
    "conflict": "Trạng thái đã thay đổi, không thể thực hiện.",
    "already_rated": "Lượt phục vụ này đã được đánh giá.",
    "rate_limited": "Thao tác quá nhanh, vui lòng thử lại sau.",
    "internal": "Lỗi hệ thống, vui lòng thử lại.",
}


class Topics:
    """Every topic of one site, in one place."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.base = f"{ROOT}/{site}"

    def req(self, unit: str, target: str = "hub") -> str:
        return f"{self.base}/unit/{unit}/req/{target}"

    def req_filter(self, target: str = "hub") -> str:
        return f"{self.base}/unit/+/req/{target}"

    def res(self, unit: str) -> str:
        return f"{self.base}/unit/{unit}/res"

    def status(self, unit: str) -> str:
        return f"{self.base}/unit/{unit}/status"

    def status_filter(self) -> str:
        return f"{self.base}/unit/+/status"

    @property
    def queue_state(self) -> str:
        return f"{self.base}/queue/state"

    @property
    def queue_events(self) -> str:
        return f"{self.base}/queue/events"

    def counter_state(self, counter: str) -> str:
        return f"{self.base}/counter/{counter}/state"

    def counter_state_filter(self) -> str:
        return f"{self.base}/counter/+/state"

    @property
    def site_info(self) -> str:
        return f"{self.base}/site/info"

    @property
    def notice(self) -> str:
        return f"{self.base}/board/notice"

    @property
    def site_units(self) -> str:
        """The hub's inventory of the units it expects (retained; for the care server)."""
        return f"{self.base}/site/units"

    def unit_of(self, topic: str) -> tuple[str, str] | None:
        """(unit, target) of a request topic, or None if the topic is not one."""
        parts = topic.split("/")
        prefix = self.base.split("/")
        if len(parts) != len(prefix) + 4 or parts[: len(prefix)] != prefix:
            return None
        if parts[len(prefix)] != "unit" or parts[len(prefix) + 2] != "req":
            return None
        return parts[len(prefix) + 1], parts[len(prefix) + 3]


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(payload: bytes) -> dict[str, Any]:
    """Parse a payload strictly; raise ContractError with the wire code on any fault."""
    if len(payload) > MAX_PAYLOAD:
        raise ContractError("too_large", f"payload of {len(payload)} bytes > {MAX_PAYLOAD}")
    try:
        obj = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ContractError("malformed", f"not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ContractError("malformed", f"not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(obj, dict):
        raise ContractError("malformed", "payload must be a JSON object")
    if obj.get("v") != VERSION:
        raise ContractError("unsupported_version", f"expected \"v\": {VERSION}")
    return obj


def ok_reply(req_id: str, **fields: Any) -> dict[str, Any]:
    return {"v": VERSION, "id": req_id, "ok": True, **fields}


def error_reply(req_id: str | None, code: str, detail: str | None = None) -> dict[str, Any]:
    message = ERROR_MESSAGES.get(code, ERROR_MESSAGES["internal"])
    err: dict[str, Any] = {"code": code, "message": message}
    if detail:
        err["detail"] = detail
    return {"v": VERSION, "id": req_id, "ok": False, "error": err}
