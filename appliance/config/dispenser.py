"""The [dispenser] section of a dispenser unit's config file.

Example (firmware_config/examples/demo-site/dispenser-1.toml)::

    [dispenser]
    hub_timeout_s = 1.5
    pin_factory = "auto"
    buttons = [ { pin = 17, service = "A" }, { pin = 27, service = "B" } ]
    priority_pin = 22

    [dispenser.leds]
    ready = 5
    fault = 6

    [dispenser.printer]
    paper_mm = 80
    connector = { type = "serial", device = "/dev/ttyUSB0", baudrate = 115200 }

    [dispenser.ticket]
    footer = "Xin cảm ơn!"
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from appliance.config.base import Ident, StrictModel
from appliance.i18n import tr

# gpiozero pin factories we allow by name; "auto" lets gpiozero (or GPIOZERO_PIN_FACTORY) choose,
# except on a Pi 5 where lgpio is chosen explicitly (some gpiozero releases pick RPi.GPIO there).
PinFactoryName = Literal["auto", "lgpio", "rpigpio", "pigpio", "native", "mock"]
Pin = Annotated[int, Field(ge=0, le=53)]

TicketLine = Literal[
    "header", "label", "number", "service", "marks", "time", "ahead", "wait", "counters",
    "qr", "footer",
]
DEFAULT_LINES: tuple[TicketLine, ...] = (
    "header", "label", "number", "service", "marks", "time", "ahead", "wait", "counters",
    "qr", "footer",
)


class ButtonConfig(StrictModel):
    """One physical button: the service it issues for (or a priority ticket of it)."""

    pin: Pin
    service: Ident
    priority: bool = False  # a dedicated "priority ticket for this service" button


class LedConfig(StrictModel):
    """Status lights; each one is optional. A light's pin may not be shared."""

    ready: Pin | None = None
    printing: Pin | None = None
    paper_low: Pin | None = None
    fault: Pin | None = None
    offline: Pin | None = None
    active_high: bool = True

    def pins(self) -> dict[str, int]:
        names = ("ready", "printing", "paper_low", "fault", "offline")
        return {n: p for n in names if (p := getattr(self, n)) is not None}


class SerialConnector(StrictModel):
    type: Literal["serial"]
    device: str = Field(min_length=1)  # /dev/ttyUSB0, or a pyserial URL such as loop://
    baudrate: int = Field(default=115200, ge=1200, le=921600)
    rtscts: bool = False
    dsrdtr: bool = False
    xonxoff: bool = False


class UsbConnector(StrictModel):
    type: Literal["usb"]
    vendor_id: int = Field(ge=0, le=0xFFFF)
    product_id: int = Field(ge=0, le=0xFFFF)
    interface: int = Field(default=0, ge=0)
    in_ep: int = Field(default=0x82, ge=0, le=0xFF)
    out_ep: int = Field(default=0x01, ge=0, le=0xFF)


class NetworkConnector(StrictModel):
    type: Literal["network"]
    host: str = Field(min_length=1)
    port: int = Field(default=9100, ge=1, le=65535)


class FileConnector(StrictModel):
    """A device file such as /dev/usb/lp0 (kernel usblp), or a plain file to collect jobs."""

    type: Literal["file"]
    path: str = Field(min_length=1)
    readable: bool = False  # /dev/usb/lp0 of a bidirectional printer answers status queries


class DummyConnector(StrictModel):
    """No printer: jobs are kept in memory (demo, trying a config on a laptop)."""

    type: Literal["dummy"]
    paper: Literal["ok", "low", "out"] = "ok"


Connector = Annotated[
    SerialConnector | UsbConnector | NetworkConnector | FileConnector | DummyConnector,
    Field(discriminator="type"),
]


class PrinterConfig(StrictModel):
    connector: Connector = DummyConnector(type="dummy")
    profile: str = "default"  # a python-escpos profile name (escpos.capabilities)
    paper_mm: Literal[58, 80] = 80
    dots: int | None = Field(default=None, ge=128, le=1024)  # printable width; default by paper
    image_impl: Literal["bitImageRaster", "graphics", "bitImageColumn"] = "bitImageRaster"
    cut: Literal["full", "partial", "none"] = "partial"
    # Does the printer answer DLE EOT 4 (paper sensor)? If so, no answer is a fault.
    paper_sensor: bool = True
    open_timeout_s: float = Field(default=2.0, gt=0, le=30)
    status_timeout_s: float = Field(default=0.5, gt=0, le=10)
    write_timeout_s: float = Field(default=10.0, gt=0, le=120)
    poll_interval_s: float = Field(default=15.0, ge=1, le=3600)

    @property
    def width_dots(self) -> int:
        if self.dots is not None:
            return self.dots
        return 384 if self.paper_mm == 58 else 576

    @model_validator(mode="after")
    def _sensor_needs_reading(self) -> PrinterConfig:
        c = self.connector
        if self.paper_sensor and isinstance(c, FileConnector) and not c.readable:
            raise ValueError(tr(
                "paper_sensor = true cần kết nối đọc được trả lời của máy in (tệp chỉ ghi "
                "thì không): đặt paper_sensor = false hoặc readable = true",
                "paper_sensor = true needs a connector that can read answers "
                "(a write-only file cannot): set paper_sensor = false or readable = true"))
        return self


class TicketLayout(StrictModel):
    """What the ticket shows, in which order, and how big (pixels at the printer's dots)."""

    lines: list[TicketLine] = Field(default_factory=lambda: list(DEFAULT_LINES), min_length=1)
    header: str | None = None  # default: the office name from the hub's site info
    label: str = "SỐ THỨ TỰ"
    footer: str = "Vui lòng chờ đến lượt được mời. Xin cảm ơn!"
    header_px: int = Field(default=0, ge=0, le=80)  # 0: chosen by paper width
    number_px: int = Field(default=0, ge=0, le=300)
    service_px: int = Field(default=0, ge=0, le=100)
    text_px: int = Field(default=0, ge=0, le=60)
    qr_box: int = Field(default=0, ge=0, le=10)  # printer dots per QR module; 0: by paper
    margin: int = Field(default=8, ge=0, le=64)


class DispenserSection(StrictModel):
    """Settings of the dispenser role: buttons, lights, printer, ticket and timing."""

    hub_timeout_s: float = Field(default=1.5, gt=0, le=30)
    hub_unit: Ident = "hub"  # whose retained status tells whether the hub is up
    pin_factory: PinFactoryName = "auto"
    buttons: list[ButtonConfig] = Field(default_factory=list)
    priority_pin: Pin | None = None  # press it, then a service button: a priority ticket
    priority_window_s: float = Field(default=8.0, gt=0, le=60)
    reprint_pin: Pin | None = None  # default: a long press of the priority button reprints
    long_press_s: float = Field(default=2.0, ge=0.5, le=10)
    debounce_s: float = Field(default=0.05, ge=0.0, le=1.0)
    pull_up: bool = True
    busy_policy: Literal["queue", "ignore"] = "ignore"
    queue_max: int = Field(default=3, ge=1, le=20)
    leds: LedConfig = LedConfig()
    printer: PrinterConfig = PrinterConfig()
    ticket: TicketLayout = TicketLayout()
    sync_interval_s: float = Field(default=5.0, ge=0.2, le=600)

    @model_validator(mode="after")
    def _pins_unique(self) -> DispenserSection:
        used: dict[int, str] = {}
        problems: list[str] = []

        def take(pin: int | None, what: str) -> None:
            if pin is None:
                return
            if pin in used:
                problems.append(tr(f"chân {pin} bị dùng cho cả {used[pin]} và {what}",
                                   f"pin {pin} is used by both {used[pin]} and {what}"))
            used[pin] = what

        for i, b in enumerate(self.buttons):
            take(b.pin, f"buttons[{i}] ({b.service})")
        take(self.priority_pin, "priority_pin")
        take(self.reprint_pin, "reprint_pin")
        for name, pin in self.leds.pins().items():
            take(pin, f"leds.{name}")
        keys = [(b.service, b.priority) for b in self.buttons]
        if len(set(keys)) != len(keys):
            problems.append(tr("buttons: hai nút cấp cùng một loại phiếu",
                               "buttons: two buttons issue the same kind of ticket"))
        if problems:
            raise ValueError("; ".join(problems))
        return self
