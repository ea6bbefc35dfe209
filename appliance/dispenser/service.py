"""What happens when a citizen presses a button: number -> picture -> paper -> counted.

A ticket counts only once printed. The number comes from the hub (``ticket.issue``); if the
hub does not answer in ``hub_timeout_s`` the number comes from this unit's offline band and
is kept in the outbox until the hub takes it (``ticket.import``). If the paper does not come
out, a hub number is voided (``ticket.void``) and an offline number is never sent.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from appliance.clock import Clock, parse_rfc3339, rfc3339
from appliance.contract import UnitStatus, parse
from appliance.dispenser.health import Health
from appliance.errors import ContractError, DeviceError, NotConnected, RequestTimeout
from appliance.i18n import tr
from appliance.ticketing.outbox import BandExhausted, Outbox
from appliance.ticketing.printing import print_ticket, view_from_hub
from appliance.ticketing.siteinfo import SiteInfo, cached_site_info, received_site_info
from appliance.ticketing.ticket import TicketView, qr_text

if TYPE_CHECKING:
    from PIL import Image

    from appliance.bus import Bus, Message
    from appliance.config.dispenser import DispenserSection
    from drivers.printer import TicketPrinter

log = logging.getLogger(__name__)

HUB_RETRY_S = 10.0  # after a timeout, presses go straight to the offline band for this long
MIN_YEAR = 2025  # an earlier clock on an offline unit means it was never set since boot


@dataclass
class Outcome:
    """What one press (or reprint) came to."""

    kind: str  # printed | refused | failed
    number: str | None = None
    service: str | None = None
    offline: bool = False
    reprint: bool = False
    error: str | None = None  # wire error code or fault reason
    timings: dict[str, float] = field(default_factory=dict)
    image: Image.Image | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.kind == "printed"


Listener = Callable[[Outcome], None]


class Dispenser:
    def __init__(
        self,
        *,
        unit: str,
        section: DispenserSection,
        bus: Bus,
        printer: TicketPrinter,
        build_job: Callable[[Image.Image], bytes],
        outbox: Outbox,
        clock: Clock,
        health: Health,
        public_url: str | None = None,
    ) -> None:
        self.unit = unit
        self.public_url = public_url  # [ticket] public_url: the QR opens the phone page
        self.conf = section
        self.bus = bus
        self.printer = printer
        self.build_job = build_job
        self.outbox = outbox
        self.clock = clock
        self.health = health
        self.site: SiteInfo | None = None
        self._listeners: list[Listener] = []
        self._hub_state: tuple[str, Any, Any] | None = None  # (state, boot, session)
        self._hub_down_until = 0.0
        self._hub_down_state: tuple[str, Any, Any] | None = None
        self._press_lock = threading.Lock()  # one ticket at a time, end to end
        self.wake_sync = threading.Event()
        self.site = cached_site_info(outbox.get("site_info"), unit)
        self.health.set(site_info=self.site is not None)

    # ---- wiring ------------------------------------------------------------------------
    def attach(self) -> None:
        self.bus.subscribe(self.bus.topics.site_info, self._on_site_info)
        self.bus.subscribe(self.bus.topics.status(self.conf.hub_unit), self._on_hub_status)
        self.bus.on_connection(self._on_connection)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _on_site_info(self, msg: Message) -> None:
        site = received_site_info(msg.payload, self.unit, self.outbox)
        if site is None:
            return
        self.site = site
        self.health.set(site_info=True)

    def _on_hub_status(self, msg: Message) -> None:
        try:
            status = parse(UnitStatus, msg.payload)
        except ContractError:
            return
        state = (status.state, status.boot, status.session)
        self._hub_state = state
        if status.down:
            self.health.set(hub="offline")
        elif status.serving and state != self._hub_down_state:
            self._hub_down_until = 0.0  # a hub that (re)started deserves a fresh try
            self.wake_sync.set()

    def _on_connection(self, up: bool) -> None:
        if up:
            self.wake_sync.set()
        else:
            self.health.set(hub="offline")

    @property
    def hub_timeout_s(self) -> float:
        return self.conf.hub_timeout_s

    @property
    def hub_state(self) -> tuple[str, Any, Any] | None:
        return self._hub_state

    def hub_usable(self) -> bool:
        if not self.bus.connected:
            return False
        if self._hub_state is not None and self._hub_state[0] in ("lost", "stopped"):
            return False
        return time.monotonic() >= self._hub_down_until

    def hub_answered(self) -> None:
        self._hub_down_until = 0.0
        self.health.set(hub="online")

    def hub_failed(self) -> None:
        self._hub_down_until = time.monotonic() + HUB_RETRY_S
        self._hub_down_state = self._hub_state
        self.health.set(hub="offline")

    # ---- the press ---------------------------------------------------------------------
    def press(self, service: str, priority: bool = False) -> Outcome:
        with self._press_lock:
            outcome = self._press(service, priority)
        for listener in self._listeners:
            listener(outcome)
        return outcome

    def _press(self, service: str, priority: bool) -> Outcome:
        t0 = time.perf_counter()
        if self.hub_usable():
            req_id = uuid.uuid4().hex
            try:
                reply = self.bus.request(
                    "hub", {"op": "ticket.issue", "service": service, "priority": priority},
                    timeout=self.conf.hub_timeout_s, req_id=req_id,
                )
            except RequestTimeout:
                # the hub may have acted without our hearing: settle it when it is back
                self.outbox.add_orphan(req_id=req_id, service=service, priority=priority,
                                       created_at=rfc3339(self.clock.now()))
                self.hub_failed()
            except NotConnected:
                self.hub_failed()
            else:
                self.hub_answered()
                if not reply.get("ok"):
                    error = reply.get("error")
                    code = str(error.get("code", "internal")) if isinstance(error, dict) \
                        else "internal"
                    log.info(tr("hub từ chối cấp số dịch vụ %s: %s",
                                "hub refused a %s ticket: %s"), service, code)
                    return Outcome("refused", service=service, error=code)
                # the hub gave a number: never fall back to the band for this press
                return self._print_hub_ticket(reply.get("ticket"), service, t0,
                                              time.perf_counter())
        else:
            self.health.set(hub="offline")
        return self._print_offline(service, priority, t0, time.perf_counter())

    def _print_hub_ticket(self, ticket: Any, service: str, t0: float, t_hub: float
                          ) -> Outcome:
        try:
            view = self._view_from_hub(ticket)
        except ContractError as exc:
            number = ticket.get("number") if isinstance(ticket, dict) else None
            log.error(tr("phiếu từ hub không đọc được: %s",
                         "unreadable ticket from the hub: %s"), exc)
            if isinstance(number, str):
                self._void(number, "bad_reply")
            return Outcome("failed", number=number, service=service, error="bad_reply")
        outcome = self._render_and_print(view, service)
        if not outcome.ok and outcome.number:
            self._void(outcome.number, outcome.error or "print_failed")
        outcome.timings["hub_ms"] = (t_hub - t0) * 1000
        return outcome

    def _print_offline(self, service: str, priority: bool, t0: float, t_hub: float
                       ) -> Outcome:
        site = self.site
        band = site.bands.get(service) if site else None
        if site is None or band is None or service not in site.services:
            reason = "no_site_info" if site is None else "no_offline_band"
            self.health.fault(reason)
            return Outcome("failed", service=service, offline=True, error=reason)
        now = self.clock.now()
        if now.year < MIN_YEAR:
            # a Pi has no battery clock: a ticket stamped 1970 would be refused by the hub
            # as from a day long over, after the citizen has waited for it
            log.error(tr("đồng hồ chưa đúng (%s): không cấp số khi mất kết nối",
                         "clock not set (%s): no offline ticket"), now.isoformat())
            self.health.fault("clock_not_set")
            return Outcome("failed", service=service, offline=True, error="clock_not_set")
        try:
            t = self.outbox.allocate_offline(
                day=now.date().isoformat(), service=service, letter=site.services[service].letter,
                digits=site.digits_for(service), first=band[0], last=band[1],
                # milliseconds: the hub orders its queue by issue time, and a whole-second
                # stamp could put this ticket ahead of one issued earlier in that second
                priority=priority, issued_at=now.isoformat(timespec="milliseconds"),
            )
        except BandExhausted as exc:
            log.error("%s", exc)
            self.health.fault("band_exhausted")
            return Outcome("failed", service=service, offline=True, error="band_exhausted")
        view = TicketView(
            number=t.number, service_name=site.services[service].name, issued_at=now,
            office=site.office_name, counters=site.counter_names(site.counters_for(service)),
            qr=qr_text(site=self.bus.site, day=t.day, number=t.number,
                       lookup_url=site.lookup_url, public_url=self.public_url),
            priority=priority, priority_label=site.priority_label, offline=True,
        )
        outcome = self._render_and_print(view, service)
        outcome.offline = True
        if outcome.ok:
            self.outbox.set_offline_state(t.seq, "printed")
            self.wake_sync.set()
        else:
            self.outbox.set_offline_state(t.seq, "failed", outcome.error)
        self.health.set(backlog=self.outbox.backlog())
        outcome.timings["hub_ms"] = (t_hub - t0) * 1000
        return outcome

    def _view_from_hub(self, ticket: Any) -> TicketView:
        return view_from_hub(ticket, site=self.site, site_id=self.bus.site,
                             tz=self.clock.now().tzinfo, public_url=self.public_url)

    def _render_and_print(self, view: TicketView, service: str, *, reprint: bool = False
                          ) -> Outcome:
        printed = print_ticket(view, layout=self.conf.ticket, width=self.health.width,
                               build_job=self.build_job, printer=self.printer,
                               health=self.health)
        outcome = Outcome("printed", number=view.number, service=service, reprint=reprint,
                          timings=printed.timings)
        if not printed.ok:
            log.error(tr("phiếu %s không in được: %s",
                         "ticket %s not printed: %s"), view.number, printed.error)
            outcome.kind, outcome.error = "failed", printed.error
            return outcome
        outcome.image = printed.image
        if not reprint:
            self.outbox.put("last_ticket", _view_to_json(view, service))
        return outcome

    def reprint(self) -> Outcome:
        """Print the last ticket again, marked as a reprint; the hub is not involved."""
        with self._press_lock:
            last = self.outbox.get("last_ticket")
            if last is None:
                outcome = Outcome("refused", error="nothing_to_reprint")
            else:
                view = _view_from_json(last)
                if view.issued_at.date() != self.clock.now().date():
                    outcome = Outcome("refused", number=view.number, error="nothing_to_reprint")
                else:
                    outcome = self._render_and_print(
                        TicketView(**{**view.__dict__, "reprint": True}),
                        str(last.get("service", "")), reprint=True)
        for listener in self._listeners:
            listener(outcome)
        return outcome

    # ---- telling the hub ---------------------------------------------------------------
    def _void(self, number: str, reason: str) -> None:
        """Durably note the void first, then try at once; the sync loop retries."""
        req_id = f"{self.unit}-void-{number}-{uuid.uuid4().hex[:8]}"
        self.outbox.add_void(number=number, reason=reason, req_id=req_id,
                             created_at=rfc3339(self.clock.now()))
        self.wake_sync.set()

    def check_printer(self) -> None:
        try:
            paper = self.printer.paper_status()
        except DeviceError as exc:
            self.health.printer_failed(exc)
            return
        self.health.paper_seen(paper)


def _view_to_json(view: TicketView, service: str) -> dict[str, Any]:
    data: dict[str, Any] = {**view.__dict__, "issued_at": rfc3339(view.issued_at),
                            "counters": list(view.counters), "service": service}
    return data


def _view_from_json(data: dict[str, Any]) -> TicketView:
    fields = {k: v for k, v in data.items() if k in TicketView.__dataclass_fields__}
    fields["issued_at"] = parse_rfc3339(str(fields["issued_at"]))
    fields["counters"] = tuple(fields.get("counters") or ())
    return TicketView(**fields)
