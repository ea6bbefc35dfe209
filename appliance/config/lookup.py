"""The [lookup] section of a lookup unit's config file (the touch kiosk)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from appliance.config.base import Ident, StrictModel
from appliance.config.dispenser import PrinterConfig, TicketLayout
from appliance.i18n import tr


class Calibration(StrictModel):
    """Raw panel coordinates that map to the screen's edges (from `evtest` at the corners)."""

    min_x: int
    max_x: int
    min_y: int
    max_y: int

    @model_validator(mode="after")
    def _span(self) -> Calibration:
        if self.max_x == self.min_x or self.max_y == self.min_y:
            raise ValueError(tr("min và max phải khác nhau trên cả hai trục",
                             "min and max must differ on both axes"))
        return self


class TouchConfig(StrictModel):
    """Where touches come from: SDL's own events, or an evdev multi-touch device."""

    source: Literal["sdl", "evdev"] = "sdl"
    # evdev: a path (/dev/input/by-id/...) or a device name to search for
    device: str | None = None
    rotation: Literal[0, 90, 180, 270] = 0
    swap_xy: bool = False
    invert_x: bool = False
    invert_y: bool = False
    # None: take the ranges the device reports (ABS_MT_POSITION_X/Y min and max)
    calibration: Calibration | None = None

    @model_validator(mode="after")
    def _device(self) -> TouchConfig:
        if self.source == "evdev" and not self.device:
            raise ValueError(tr('touch.source = "evdev" cần touch.device (đường dẫn hoặc tên)',
                             'touch.source = "evdev" needs touch.device (path or name)'))
        return self


class ScannerConfig(StrictModel):
    """A receipt scanner: a USB HID keyboard-like device, or a serial one."""

    kind: Literal["none", "hid", "serial"] = "none"
    # hid: a path (/dev/input/by-id/...-event-kbd) or a device name; serial: a port
    device: str | None = None
    layout: Literal["us"] = "us"
    baudrate: int = Field(default=9600, ge=1200, le=921600)
    # a scan whose characters stop coming for this long is partial: dropped
    stale_after_s: float = Field(default=2.0, gt=0.05, le=30.0)

    @model_validator(mode="after")
    def _device(self) -> ScannerConfig:
        if self.kind != "none" and not self.device:
            raise ValueError(tr(f'scanner.kind = "{self.kind}" cần scanner.device',
                             f'scanner.kind = "{self.kind}" needs scanner.device'))
        return self


class LookupSection(StrictModel):
    """Settings of the lookup role."""

    width: int = Field(default=1280, ge=640, le=7680)
    height: int = Field(default=800, ge=480, le=4320)
    # the panel's visible width: touch targets are sized to at least 15 mm on it
    screen_width_mm: float = Field(default=217.0, gt=50.0, le=2000.0)
    fullscreen: bool = True
    # None: SDL picks (KMSDRM on a Pi without X, a window on a desktop)
    video_driver: Literal["kmsdrm", "x11", "wayland", "dummy"] | None = None
    title: str = "Trung tâm Phục vụ hành chính công"
    idle_timeout_s: float = Field(default=60.0, ge=5.0, le=3600.0)
    # a dossier is private: it leaves the screen sooner than a procedure page
    dossier_timeout_s: float = Field(default=45.0, ge=5.0, le=3600.0)
    lookup_timeout_s: float = Field(default=3.0, gt=0.1, le=30.0)
    telex: bool = True
    catalogue_file: str = "catalogue.json"
    page_size: int = Field(default=50, ge=5, le=200)
    touch: TouchConfig = TouchConfig()
    scanner: ScannerConfig = ScannerConfig()
    # a ticket printer (the dispenser's driver and settings): the "Lấy số thứ tự" screens
    # appear, and the hub's site file must allow this unit ticket.issue and ticket.void
    printer: PrinterConfig | None = None
    ticket: TicketLayout = TicketLayout()
    hub_timeout_s: float = Field(default=1.5, gt=0, le=30)
    hub_unit: Ident = "hub"  # whose retained status tells whether the hub is up
    sync_interval_s: float = Field(default=5.0, ge=0.2, le=600)

    @property
    def min_target_px(self) -> int:
        """15 mm on this panel, in pixels."""
        return int(-(-15.0 * self.width // self.screen_width_mm))
