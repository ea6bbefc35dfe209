"""The print-confirmed step every ticket-printing unit shares: picture -> ESC/POS job ->
paper, and what the printer's answer means for the unit's health.

A ticket counts only once printed: ``print_ticket`` says whether the paper came out, and the
caller voids (hub number) or drops (offline number) a ticket that did not.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any, Protocol

from appliance.clock import parse_rfc3339
from appliance.errors import ContractError, DeviceError
from appliance.ticketing.ticket import TicketView, qr_text, render_ticket

if TYPE_CHECKING:
    from pathlib import Path

    from PIL import Image

    from appliance.config.dispenser import PrinterConfig, TicketLayout
    from appliance.ticketing.siteinfo import SiteInfo
    from drivers.printer import PaperStatus, TicketPrinter


class PrinterWatch(Protocol):
    """What a unit's health must hear from the print step."""

    def printer_failed(self, exc: DeviceError) -> str: ...

    def printed(self, paper: PaperStatus, seconds: float, number: str) -> None: ...

    def set_printing(self, printing: bool) -> None: ...


@dataclass
class Printed:
    """One print attempt: ``error`` is None once the paper came out."""

    error: str | None = None
    image: Image.Image | None = field(default=None, repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def print_ticket(view: TicketView, *, layout: TicketLayout, width: int,
                 build_job: Callable[[Image.Image], bytes], printer: TicketPrinter,
                 health: PrinterWatch) -> Printed:
    """Render, print and report; a DeviceError becomes ``Printed(error=reason)``."""
    t0 = time.perf_counter()
    image = render_ticket(view, layout, width)
    job = build_job(image)
    out = Printed(timings={"render_ms": (time.perf_counter() - t0) * 1000})
    health.set_printing(True)
    try:
        report = printer.print_job(job)
    except DeviceError as exc:
        out.error = health.printer_failed(exc)
        return out
    finally:
        health.set_printing(False)
    out.timings["print_ms"] = report.seconds * 1000
    health.printed(report.paper, report.seconds, view.number)
    out.image = image
    return out


def printer_fault(exc: DeviceError) -> tuple[str, dict[str, str]]:
    """(reason code sent with ticket.void, health fields) for a failed job or query."""
    from drivers.printer import PaperOut, PrinterNotAnswering, PrinterUnreachable

    if isinstance(exc, PaperOut):
        return "paper_out", {"paper": "out", "printer": "ok"}
    if isinstance(exc, PrinterNotAnswering):
        return "printer_not_answering", {"paper": "unknown", "printer": "not_answering"}
    if isinstance(exc, PrinterUnreachable):
        return "printer_unreachable", {"paper": "unknown", "printer": "unreachable"}
    return "print_failed", {"printer": "write_failed"}


def printer_reasons(fields: dict[str, Any]) -> list[str]:
    """The alert reasons the printer's health fields give (paper first, then the printer)."""
    out: list[str] = []
    if fields.get("paper") == "out":
        out.append("paper_out")
    elif fields.get("paper") == "low":
        out.append("paper_low")
    if fields.get("printer") in ("unreachable", "not_answering", "write_failed"):
        out.append(f"printer_{fields['printer']}")
    return out


def paper_fields(paper: PaperStatus, paper_sensor: bool) -> dict[str, str]:
    """Health fields for a status query's answer: silence from a sensor that should answer
    is a fault, not "unknown, probably fine"."""
    silent = str(paper) == "unknown" and paper_sensor
    return {"paper": str(paper), "printer": "not_answering" if silent else "ok"}


def view_from_hub(ticket: Any, *, site: SiteInfo | None, site_id: str, tz: tzinfo | None,
                  public_url: str | None) -> TicketView:
    """The ticket the hub's ``ticket.issue`` reply describes; ContractError if unreadable."""
    try:
        number = str(ticket["number"])
        issued = parse_rfc3339(str(ticket["issued_at"]))
        counters = [str(c) for c in ticket.get("counters") or []]
        ahead = ticket.get("ahead")
        wait = ticket.get("est_wait_s")
        return TicketView(
            number=number,
            service_name=str(ticket.get("service_name") or ticket["service"]),
            issued_at=issued.astimezone(tz),
            office=site.office_name if site else "",
            ahead=int(ahead) if ahead is not None else None,
            est_wait_s=int(wait) if wait is not None else None,
            counters=site.counter_names(counters) if site
            else tuple(f"Quầy {c}" for c in counters),
            qr=qr_text(site=site_id, day=issued.date().isoformat(), number=number,
                       lookup_url=site.lookup_url if site else None, public_url=public_url),
            priority=bool(ticket.get("priority", False)),
            priority_label=site.priority_label if site else "Ưu tiên",
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ContractError("bad_request", f"ticket in reply: {exc!r}") from None


def printable_width(printer: PrinterConfig) -> int:
    """Dots across the paper: the config's, or the profile's if it is narrower."""
    from drivers.printer.printer import check_profile, profile_width

    check_profile(printer.profile)
    width = printer.width_dots
    declared = profile_width(printer.profile)
    if printer.dots is None and declared is not None:
        width = min(width, declared)
    return width


def escpos_cache(data_path: Path) -> None:
    """python-escpos makes a new temp folder per start unless told where its cache lives."""
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
        cache = data_path / "escpos-cache"
        cache.mkdir(parents=True, exist_ok=True)
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(cache)


def job_builder(printer: PrinterConfig) -> Callable[[Image.Image], bytes]:
    """The ESC/POS bytes of a ticket picture for this printer (python-escpos)."""
    from drivers.printer import build_job

    def job(image: Image.Image) -> bytes:
        return build_job(image, profile=printer.profile, impl=printer.image_impl,
                         cut=printer.cut)

    return job


def warm_up(build_job: Callable[[Image.Image], bytes], layout: TicketLayout,
            width: int) -> None:
    """Load fonts and python-escpos now, so the first citizen does not wait for imports."""
    from datetime import datetime

    view = TicketView(number="A000", service_name="Khởi động", issued_at=datetime.now(),
                      office="Khởi động", qr="MOTCUA:warmup")
    build_job(render_ticket(view, layout, width))
