"""The demo's ticket dispenser: the real dispenser on virtual hardware.

Its buttons are gpiozero mock pins that the simulator presses (priority button, then the
service button, as a citizen would), its printer is the fake ESC/POS printer of the
``dummy`` connector, and every ticket that comes out is also written as a PNG into
``<out>/dispenser-1/`` so a person can look at it. ``office.press_ticket`` is replaced so
each simulated citizen goes button → hub → picture → printer.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from gpiozero.pins.mock import MockFactory

from appliance.dispenser.bootstrap import build_dispenser
from appliance.i18n import tr

if TYPE_CHECKING:
    from appliance.demo.office import Office
    from appliance.dispenser.service import Outcome

log = logging.getLogger("demo.dispenser")
UNIT = "dispenser-1"


def attach(office: Office) -> Callable[[], None]:
    if not (office.site_dir / f"{UNIT}.toml").exists():
        return lambda: None
    config = office.unit_config(UNIT)
    factory = MockFactory()
    app = build_dispenser(config, clock=office.clock, pin_factory=factory)
    out = office.out_dir / UNIT
    out.mkdir(parents=True, exist_ok=True)
    results: queue.Queue[Outcome] = queue.Queue()

    def on_outcome(outcome: Outcome) -> None:
        if outcome.ok and outcome.image is not None and outcome.number:
            suffix = "-in-lai" if outcome.reprint else ("-offline" if outcome.offline else "")
            outcome.image.save(out / f"{outcome.number}{suffix}.png")
            log.info("%s printed %s%s", UNIT, outcome.number,
                     " (offline)" if outcome.offline else "")
        elif not outcome.ok:
            log.warning("%s: no ticket (%s)", UNIT, outcome.error)
        results.put(outcome)

    app.dispenser.add_listener(on_outcome)
    app.start()
    if not app.bus.wait_connected(10):
        log.warning(tr("%s: chưa nối được broker; sẽ tiếp tục thử",
                       "%s: broker not reachable yet; it will keep trying"), UNIT)
    deadline = time.monotonic() + 5
    while app.dispenser.site is None and time.monotonic() < deadline:
        time.sleep(0.02)

    section = app.dispenser.conf
    pins = {(b.service, b.priority): b.pin for b in section.buttons}
    last_edge: dict[int, float] = {}
    lock = threading.Lock()
    hold = section.debounce_s + 0.01

    def tap(pin: int) -> None:
        # a finger: down longer than the debounce, and never again within it
        wait = last_edge.get(pin, 0.0) + hold - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        p = factory.pin(pin)
        p.drive_low()
        time.sleep(hold)
        p.drive_high()
        last_edge[pin] = time.monotonic()

    def press_ticket(service: str, priority: bool) -> str | None:
        with lock:
            while not results.empty():
                results.get_nowait()
            if priority and (service, True) in pins:
                tap(pins[(service, True)])
            elif (service, False) in pins:
                if priority and section.priority_pin is not None:
                    tap(section.priority_pin)
                tap(pins[(service, False)])
            else:  # no button for it on this unit: the dispenser's logic without a finger
                return _number(app.dispenser.press(service, priority))
            try:
                return _number(results.get(timeout=15))
            except queue.Empty:
                log.warning(tr("%s: bấm nút 15 s mà chưa có phiếu",
                               "%s: no ticket within 15 s of the press"), UNIT)
                return None

    office.press_ticket = press_ticket
    return app.stop


def _number(outcome: Outcome) -> str | None:
    return outcome.number if outcome.ok else None
