"""The terminal's side of issuing a ticket: the hub numbers it, the printer prints it, and it
counts only once both are done (the dispenser's rule, with the same shared parts).

The terminal has no offline band (docs/lookup.md): with the hub unreachable it refuses
with a clear message; a request the hub may have acted on without our hearing is kept in
the outbox and settled (voided) when the hub is back, as the dispenser does. A number the
printer did not print is voided, durably first. Health: ``alert`` with ``paper_out``,
``printer_*`` or ``hub_offline`` on the unit's retained status.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from appliance.clock import Clock, rfc3339
from appliance.contract import QueueState, UnitStatus, parse
from appliance.errors import ContractError, DeviceError, NotConnected, RequestTimeout
from appliance.i18n import tr
from appliance.lookup.state import DeskInfo, DeskService, TicketResult
from appliance.ticketing.health import PrinterHealth
from appliance.ticketing.printing import print_ticket, view_from_hub
from appliance.ticketing.siteinfo import SiteInfo, cached_site_info, received_site_info
from appliance.ticketing.sync import reply_code

if TYPE_CHECKING:
    from PIL import Image

    from appliance.bus import Bus, Message
    from appliance.config.dispenser import TicketLayout
    from appliance.lookup.service import UnitStatus as Status
    from appliance.ticketing.outbox import Outbox
    from drivers.printer import TicketPrinter

log = logging.getLogger(__name__)

# every reason this part of the terminal may put on the unit's status
OWN_REASONS = frozenset({"paper_out", "paper_low", "printer_unreachable",
                         "printer_not_answering", "printer_write_failed", "hub_offline",
                         "no_site_info", "bad_reply"})


class TicketHealth(PrinterHealth):
    """The printer's and the hub's part of the terminal's retained status."""

    IGNORED = frozenset({"backlog"})  # no offline band: nothing waits to be imported

    def __init__(self, status: Status, *, paper_sensor: bool) -> None:
        super().__init__(paper_sensor=paper_sensor)
        self._status = status

    def set_printing(self, printing: bool) -> None:
        """The terminal has no status lights; its screen says "Đang in phiếu"."""

    def publish(self) -> None:
        reasons, fields = self.snapshot()
        self._status.set_group(OWN_REASONS, reasons, tickets=fields)


class TicketDesk:
    """Issues and prints tickets for the touch screen (one at a time, end to end)."""

    def __init__(self, *, unit: str, bus: Bus, printer: TicketPrinter,
                 build_job: Callable[[Image.Image], bytes], layout: TicketLayout, width: int,
                 outbox: Outbox, clock: Clock, health: TicketHealth, hub_timeout_s: float,
                 hub_unit: str = "hub", public_url: str | None = None) -> None:
        self.unit = unit
        self.bus = bus
        self.printer = printer
        self.build_job = build_job
        self.layout = layout
        self.width = width
        self.outbox = outbox
        self.clock = clock
        self._health = health
        self._hub_timeout_s = hub_timeout_s
        self.hub_unit = hub_unit
        self.public_url = public_url
        self.wake_sync = threading.Event()
        self.site: SiteInfo | None = None
        self._queue: dict[str, Any] = {}
        self._hub_state: tuple[str, Any, Any] | None = None
        self._lock = threading.Lock()
        self.on_desk: Callable[[DeskInfo], None] = lambda desk: None
        self.site = cached_site_info(outbox.get("site_info"), unit)
        health.set(site_info=self.site is not None)

    # ---- what the sync loop (appliance/ticketing/sync.py) needs -------------------------
    @property
    def health(self) -> TicketHealth:
        return self._health

    @property
    def hub_timeout_s(self) -> float:
        return self._hub_timeout_s

    @property
    def hub_state(self) -> tuple[str, Any, Any] | None:
        return self._hub_state

    def hub_failed(self) -> None:
        self._health.set(hub="offline")

    def hub_answered(self) -> None:
        self._health.set(hub="online")

    def check_printer(self) -> None:
        try:
            paper = self.printer.paper_status()
        except DeviceError as exc:
            self._health.printer_failed(exc)
            return
        self._health.paper_seen(paper)

    # ---- wiring ------------------------------------------------------------------------
    def attach(self) -> None:
        self.bus.subscribe(self.bus.topics.site_info, self._on_site_info)
        self.bus.subscribe(self.bus.topics.queue_state, self._on_queue)
        self.bus.subscribe(self.bus.topics.status(self.hub_unit), self._on_hub_status)
        self.bus.on_connection(self._on_connection)

    def _on_site_info(self, msg: Message) -> None:
        site = received_site_info(msg.payload, self.unit, self.outbox)
        if site is None:
            return
        self.site = site
        self._health.set(site_info=True)
        self.on_desk(self.desk())

    def _on_queue(self, msg: Message) -> None:
        try:
            state = parse(QueueState, msg.payload)
        except ContractError as exc:
            log.warning(tr("bỏ qua hàng chờ không đọc được: %s", "ignoring queue state: %s"), exc)
            return
        self._queue = {sid: q.model_dump() for sid, q in state.services.items()}
        self.on_desk(self.desk())

    def _on_hub_status(self, msg: Message) -> None:
        try:
            status = parse(UnitStatus, msg.payload)
        except ContractError:
            return
        self._hub_state = (status.state, status.boot, status.session)
        if status.down:
            self.hub_failed()
        elif status.serving:
            self.wake_sync.set()  # the sync loop asks it, and "hub_offline" clears on answer

    def _on_connection(self, up: bool) -> None:
        if up:
            self.wake_sync.set()
        else:
            self.hub_failed()

    def desk(self) -> DeskInfo:
        """The services to offer, with the wait the hub last published for each."""
        site = self.site
        if site is None:
            return DeskInfo()
        services = []
        for sid, svc in site.services.items():
            q = self._queue.get(sid) or {}
            count = q.get("waiting_count")
            if count is None and "waiting" in q:
                count = len(q["waiting"])
            wait = q.get("est_wait_s")
            services.append(DeskService(sid, svc.name, int(count) if count is not None else None,
                                        int(wait) if wait is not None else None))
        return DeskInfo(tuple(services), site.priority_categories, site.priority_label)

    # ---- issuing -----------------------------------------------------------------------
    def issue(self, service: str, priority: bool, category: str | None) -> TicketResult:
        with self._lock:
            return self._issue(service, priority, category)

    def _issue(self, service: str, priority: bool, category: str | None) -> TicketResult:
        down = self._hub_state is not None and self._hub_state[0] in ("lost", "stopped")
        if not self.bus.connected or down:
            self.hub_failed()
            return TicketResult(False, error="hub_unreachable")
        body: dict[str, Any] = {"op": "ticket.issue", "service": service, "priority": priority}
        if category:
            body["category"] = category
        req_id = uuid.uuid4().hex
        try:
            reply = self.bus.request("hub", body, timeout=self._hub_timeout_s, req_id=req_id)
        except RequestTimeout:
            # the hub may have issued a number nobody holds: settled when it answers again
            self.outbox.add_orphan(req_id=req_id, service=service, priority=priority,
                                   created_at=rfc3339(self.clock.now()))
            self.hub_failed()
            self.wake_sync.set()
            return TicketResult(False, error="hub_no_answer")
        except NotConnected:
            self.hub_failed()
            return TicketResult(False, error="hub_unreachable")
        self.hub_answered()
        code = reply_code(reply)
        if code is not None:
            log.info(tr("hub từ chối cấp số dịch vụ %s: %s",
                        "hub refused a %s ticket: %s"), service, code)
            return TicketResult(False, error=code)
        ticket = reply.get("ticket")
        try:
            view = view_from_hub(ticket, site=self.site, site_id=self.bus.site,
                                 tz=self.clock.now().tzinfo, public_url=self.public_url)
        except ContractError as exc:
            log.error(tr("phiếu từ hub không đọc được: %s",
                         "unreadable ticket from the hub: %s"), exc)
            number = ticket.get("number") if isinstance(ticket, dict) else None
            if isinstance(number, str):
                self._void(number, "bad_reply")
            self._health.fault("bad_reply")
            return TicketResult(False, error="bad_reply")
        done = print_ticket(view, layout=self.layout, width=self.width,
                            build_job=self.build_job, printer=self.printer, health=self._health)
        if not done.ok:
            log.error(tr("phiếu %s không in được: %s",
                         "ticket %s not printed: %s"), view.number, done.error)
            self._void(view.number, done.error or "print_failed")
            return TicketResult(False, error=done.error)
        return TicketResult(True, number=view.number, service_name=view.service_name)

    def _void(self, number: str, reason: str) -> None:
        """Durably note the void first, then let the sync loop send it at once."""
        self.outbox.add_void(number=number, reason=reason,
                             req_id=f"{self.unit}-void-{number}-{uuid.uuid4().hex[:8]}",
                             created_at=rfc3339(self.clock.now()))
        self._health.set(pending_voids=len(self.outbox.pending_voids()))
        self.wake_sync.set()
