"""The [counter] section of a counter unit's config file.

    [counter]
    counter = "1"                      # the one counter this unit drives
    [counter.keypad]                   # the staff keypad (USB, evdev)
    by_id = "/dev/input/by-id/usb-0c45_USB_Keypad-event-kbd"   # or vendor/product
    [counter.keypad.keys]              # optional: overrides of the default key map
    KEY_KPPLUS = "next"
    [counter.rating]                   # the citizen's three keys
    source = "keypad"                  # or "gpio" or "none"
    vendor = 0x1209
    product = 0x0002
    [counter.board]                    # the counter's LED number board
    protocol = "modbus"                # or "ascii" or "none"
    port = "/dev/ttyUSB0"
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from appliance.config.base import Ident, StrictModel
from appliance.i18n import tr

KEY_NAME = re.compile(r"^(KEY|BTN)_[A-Z0-9_]+$")
KEY_ACTIONS = (
    "next", "recall", "no_show", "finish", "transfer", "park", "resume", "open", "close",
    "enter", "cancel", "login",
)
RATINGS = ("very_satisfied", "satisfied", "unsatisfied")


def check_key_action(action: str) -> str:
    """A key's action: a KEY_ACTIONS name, ``digit:0``..``digit:9``, ``service:<letter>``
    or ``rate:<rating>``."""
    kind, _, arg = action.partition(":")
    if not arg and kind in KEY_ACTIONS:
        return action
    if kind == "digit" and len(arg) == 1 and arg.isdigit():
        return action
    if kind == "service" and re.fullmatch(r"[A-Z]{1,2}", arg):
        return action
    if kind == "rate" and arg in RATINGS:
        return action
    choices = (f"{', '.join(KEY_ACTIONS)}, digit:0..digit:9, service:<letter>, "
               "rate:<very_satisfied|satisfied|unsatisfied>")
    raise ValueError(tr(f"không có thao tác phím {action!r}: dùng một trong {choices}",
                        f"unknown key action {action!r}: use one of {choices}"))


class _KeyMapped(StrictModel):
    keys: dict[str, str] = Field(default_factory=dict)

    @field_validator("keys")
    @classmethod
    def _check_keys(cls, value: dict[str, str]) -> dict[str, str]:
        problems = []
        for name, action in value.items():
            if not KEY_NAME.match(name):
                problems.append(tr(f"{name!r} không phải tên phím evdev (ví dụ KEY_KPPLUS)",
                                   f"{name!r} is not an evdev key name such as KEY_KPPLUS"))
                continue
            try:
                check_key_action(action)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return value


class KeypadConfig(_KeyMapped):
    """A USB keypad found by its by-id path or by USB vendor/product id."""

    by_id: str | None = None
    vendor: int | None = Field(default=None, ge=0, le=0xFFFF)
    product: int | None = Field(default=None, ge=0, le=0xFFFF)
    grab: bool = True
    poll_interval_s: float = Field(default=1.0, gt=0, le=60)
    entry_timeout_s: float = Field(default=20.0, gt=0, le=600)

    @model_validator(mode="after")
    def _findable(self) -> KeypadConfig:
        if self.by_id is None and self.vendor is None:
            raise ValueError(tr("cần by_id (đường dẫn /dev/input/by-id/...) hoặc vendor và product",
                             "give by_id (a /dev/input/by-id/... path) or vendor and product"))
        return self


class RatingConfig(_KeyMapped):
    """The citizen's satisfaction keys: a second USB keypad, three GPIO buttons, or none."""

    source: Literal["keypad", "gpio", "none"] = "none"
    by_id: str | None = None
    vendor: int | None = Field(default=None, ge=0, le=0xFFFF)
    product: int | None = Field(default=None, ge=0, le=0xFFFF)
    pins: dict[str, int] = Field(default_factory=dict)
    window_s: float = Field(default=120.0, gt=0, le=3600)

    @field_validator("pins")
    @classmethod
    def _check_pins(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [k for k in value if k not in RATINGS]
        if bad:
            raise ValueError(tr(f"không có mức đánh giá {bad[0]!r}: dùng {', '.join(RATINGS)}",
                             f"unknown rating {bad[0]!r}: use {', '.join(RATINGS)}"))
        if len(set(value.values())) != len(value):
            raise ValueError(tr("hai mức đánh giá dùng chung một chân GPIO",
                             "two ratings share one GPIO pin"))
        return value

    @model_validator(mode="after")
    def _complete(self) -> RatingConfig:
        if self.source == "keypad" and self.by_id is None and self.vendor is None:
            raise ValueError(tr("source = 'keypad' cần by_id hoặc vendor và product",
                             "source = 'keypad' needs by_id or vendor and product"))
        if self.source == "gpio" and set(self.pins) != set(RATINGS):
            raise ValueError(tr(f"source = 'gpio' cần pins cho {', '.join(RATINGS)}",
                             f"source = 'gpio' needs pins for {', '.join(RATINGS)}"))
        return self


class BoardConfig(StrictModel):
    """The counter's LED number board on a serial line (RS-485 adapter), or its number on
    a small HDMI screen (``protocol = "screen"``)."""

    protocol: Literal["modbus", "ascii", "screen", "none"] = "none"
    port: str = "/dev/ttyUSB0"
    baud: int = Field(default=9600, ge=1200, le=921600)
    address: int = Field(default=1, ge=0, le=247)
    digits: int = Field(default=4, ge=1, le=12)
    number_register: int = Field(default=0, ge=0, le=0xFFFF)
    letter_register: int | None = Field(default=None, ge=0, le=0xFFFF)
    timeout_s: float = Field(default=0.5, gt=0, le=10)
    resend_s: float = Field(default=10.0, gt=0, le=3600)
    blink_s: float = Field(default=3.0, ge=0, le=30)
    notice_s: float = Field(default=2.0, ge=0, le=30)
    screen_size: tuple[int, int] = (800, 480)
    fullscreen: bool = True

    @model_validator(mode="after")
    def _address_fits(self) -> BoardConfig:
        if self.protocol == "ascii" and self.address > 99:
            raise ValueError(tr("địa chỉ bảng LED ASCII có hai chữ số (0-99)",
                             "an ASCII board address has two digits (0-99)"))
        if self.protocol == "modbus" and self.address == 0:
            raise ValueError(tr(
                "Modbus unit id 0 là địa chỉ phát chung: bảng LED không bao giờ trả lời",
                "Modbus unit id 0 is broadcast: boards never answer it"))
        return self


class BuzzerConfig(StrictModel):
    pin: int | None = Field(default=None, ge=0, le=40)


class CounterSection(StrictModel):
    """Settings of the counter role; its hardware and behaviour keys live here."""

    counter: Ident
    keypad: KeypadConfig | None = None
    rating: RatingConfig = RatingConfig()
    board: BoardConfig = BoardConfig()
    buzzer: BuzzerConfig = BuzzerConfig()
    hub_unit: Ident = "hub"  # the hub's unit id: its retained status tells if it is up
    request_timeout_s: float = Field(default=3.0, gt=0, le=60)
    sync_interval_s: float = Field(default=5.0, gt=0, le=600)
