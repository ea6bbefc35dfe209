"""A receipt printer as the dispenser sees it: print one image, tell the paper state.

Formatting is python-escpos' (its ``Dummy`` printer turns an image and a cut into bytes for
the chosen profile); the bytes go out through a connector opened for this job only. Paper
state is asked with DLE EOT 4 and is one of ok / low / out, or unknown when the printer
does not answer: python-escpos reads "no answer" as "adequate", which would be a lie.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.errors import ConfigError, DeviceError
from appliance.i18n import tr
from drivers.printer.connectors import Connector, PrinterUnreachable

log = logging.getLogger(__name__)

STATUS_PAPER = b"\x10\x04\x04"  # DLE EOT 4: roll paper sensor
# Answer layout (Epson): bits 1 and 4 always set, bits 0 and 7 clear; 2-3 near end; 5-6 end.
_FIXED_MASK, _FIXED = 0x93, 0x12
_NEAR_END, _END = 0x0C, 0x60


class PaperStatus(enum.StrEnum):
    OK = "ok"
    LOW = "low"
    OUT = "out"
    UNKNOWN = "unknown"


def paper_from_byte(answer: bytes) -> PaperStatus:
    """Decode a DLE EOT 4 answer; anything that is not one reads as unknown."""
    if len(answer) != 1 or answer[0] & _FIXED_MASK != _FIXED:
        return PaperStatus.UNKNOWN
    if answer[0] & _END:
        return PaperStatus.OUT
    if answer[0] & _NEAR_END:
        return PaperStatus.LOW
    return PaperStatus.OK


class PaperOut(DeviceError):
    """The paper sensor says the roll is empty."""


class PrinterNotAnswering(DeviceError):
    """The printer should answer status queries and did not."""


@dataclass(frozen=True)
class PrintReport:
    paper: PaperStatus
    bytes_sent: int
    seconds: float


def check_profile(name: str) -> None:
    """ConfigError naming the key if python-escpos has no such printer profile."""
    from escpos.capabilities import CAPABILITIES

    if name not in CAPABILITIES["profiles"]:
        known = ", ".join(sorted(CAPABILITIES["profiles"]))
        raise ConfigError([tr(
            f"dispenser.printer.profile: không có loại máy in {name!r} (python-escpos biết: "
            f"{known})", f"dispenser.printer.profile: unknown profile {name!r} "
            f"(python-escpos knows: {known})")])


def profile_width(name: str) -> int | None:
    """Printable dots the profile declares, if it declares them."""
    from escpos.capabilities import CAPABILITIES

    pixels = CAPABILITIES["profiles"][name].get("media", {}).get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) else None


def build_job(image: Any, *, profile: str = "default", impl: str = "bitImageRaster",
              cut: str = "partial") -> bytes:
    """The bytes that print ``image`` (PIL) and cut, as python-escpos formats them."""
    from escpos.printer import Dummy

    dummy = Dummy(profile=profile)
    pd = dummy.profile.profile_data
    if not isinstance(pd.get("media", {}).get("width", {}).get("pixels"), int):
        # an instance copy naming the width: python-escpos prints a warning to stdout on
        # every image when the profile does not say it (and then cannot check the width)
        media = {**pd.get("media", {}), "width": {"mm": "Unknown", "pixels": image.width}}
        dummy.profile.profile_data = {**pd, "media": media}
    dummy.hw("INIT")
    dummy.image(image, impl=impl, fragment_height=960)
    if cut != "none":
        dummy.cut(mode="PART" if cut == "partial" else "FULL")
    else:
        dummy.print_and_feed(4)
    data: bytes = dummy.output
    dummy.close()
    return data


class TicketPrinter:
    """One printer, one job at a time; a fresh connection for every job and every query."""

    def __init__(
        self,
        connect: Callable[[], Connector],
        *,
        paper_sensor: bool = True,
        status_timeout_s: float = 0.5,
    ) -> None:
        self._connect = connect
        self.paper_sensor = paper_sensor
        self.status_timeout_s = status_timeout_s
        self._lock = threading.Lock()  # one process owns the device; one job at a time
        self.last_paper = PaperStatus.UNKNOWN

    def paper_status(self) -> PaperStatus:
        """Ask the printer now. Raises PrinterUnreachable if it cannot be opened."""
        with self._lock:
            link = self._connect()
            link.open()
            try:
                return self._query(link)
            finally:
                link.close()

    def print_job(self, job: bytes, *, on_first_byte: Callable[[], None] | None = None
                  ) -> PrintReport:
        """Send a whole job. Raises PaperOut, PrinterNotAnswering, PrinterUnreachable or
        WriteFailed; returns only when every byte was taken and the paper did not run out."""
        started = time.perf_counter()
        with self._lock:
            link = self._connect()
            link.open()
            try:
                before = self._query(link)
                if before is PaperStatus.OUT:
                    raise PaperOut(tr("máy in hết giấy", "the printer is out of paper"))
                if before is PaperStatus.UNKNOWN and self.paper_sensor:
                    raise PrinterNotAnswering(tr(
                        f"{link.name} không trả lời khi hỏi tình trạng giấy",
                        f"{link.name} did not answer the paper query"))
                if on_first_byte is not None:
                    on_first_byte()
                link.write(job)
                after = self._query(link)
                if after is PaperStatus.OUT:
                    # the roll ended during this ticket: the citizen holds half a ticket
                    raise PaperOut(tr("hết giấy khi đang in", "the paper ran out while printing"))
                if after is PaperStatus.UNKNOWN and self.paper_sensor:
                    raise PrinterNotAnswering(tr(
                        f"{link.name} không trả lời nữa khi đang in",
                        f"{link.name} stopped answering while printing"))
            finally:
                link.close()
        return PrintReport(after, len(job), time.perf_counter() - started)

    def _query(self, link: Connector) -> PaperStatus:
        if not link.can_read:
            self.last_paper = PaperStatus.UNKNOWN
            return self.last_paper
        link.discard_input()
        link.write(STATUS_PAPER)
        self.last_paper = paper_from_byte(link.read(1, self.status_timeout_s))
        return self.last_paper


__all__ = [
    "PaperOut",
    "PaperStatus",
    "PrintReport",
    "PrinterNotAnswering",
    "PrinterUnreachable",
    "TicketPrinter",
    "build_job",
    "check_profile",
    "paper_from_byte",
    "profile_width",
]
