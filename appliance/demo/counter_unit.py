"""The demo's counters: the real counter unit on virtual hardware.

Each counter of the example site gets a fake staff keypad and fake rating keys (the
simulator "types" on them; events go through evdev's real reader) and an ASCII LED
board on a pty whose frames are decoded and logged (``<out>/counter-N/board.log`` and
the demo log). ``office.counter_action`` is replaced so every simulated action is a key
press that goes keypad → hub → board.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.counter.twin import CounterTwin
from appliance.i18n import tr

if TYPE_CHECKING:
    from appliance.demo.office import Office

log = logging.getLogger("demo.counter")


class _BoardLog:
    """Writes each change of what a board shows (blink phases folded) to a file."""

    def __init__(self, unit: str, path: Path, clock: Any) -> None:
        self.unit = unit
        self.path = path
        self.clock = clock
        self.shown: str | None = None
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")

    def __call__(self, address: int, text: str) -> None:
        text = text.strip()
        with self._lock:
            if not text or text == self.shown:
                return  # a blink's dark phase or a periodic re-send
            self.shown = text
            with self.path.open("a", encoding="utf-8") as f:
                f.write(f"{self.clock.now().isoformat(timespec='seconds')} "
                        f"board {address:02d} shows {text}\n")
        log.info("%s LED board %02d: %s", self.unit, address, text)


def attach(office: Office) -> Callable[[], None]:
    twins: dict[str, CounterTwin] = {}
    for c in office.site.counters:
        unit = f"counter-{c.id}"
        if not (office.site_dir / f"{unit}.toml").exists():
            continue
        board_log = _BoardLog(unit, office.out_dir / unit / "board.log", office.clock)
        config = office.unit_config(unit)
        twin = CounterTwin(config, clock=office.clock, on_frame=board_log)
        twin.start()
        twins[c.id] = twin
    fallback = office.counter_action

    def counter_action(counter: str, action: str, **extra: Any) -> dict[str, Any] | None:
        twin = twins.get(counter)
        if twin is None:
            return fallback(counter, action, **extra)
        if action == "open" and extra.get("officer"):
            action = "login"  # the officer types a login code: that opens the counter
        wanted = extra.pop("number", None) if action == "rate" else None
        result = twin.do(action, **extra)
        if action == "rate" and wanted and result.number not in (None, wanted):
            log.warning(tr("quầy %s ghi đánh giá cho %s, bản mô phỏng định cho %s",
                           "counter %s rated %s, simulator meant %s"), counter, result.number,
                        wanted)
        if result.reply is not None:
            return result.reply
        ticket = {"number": result.number} if result.number else None
        return {"ok": result.ok, "ticket": ticket, "offline": result.offline}

    office.counter_action = counter_action

    def stop() -> None:
        office.counter_action = fallback
        for twin in twins.values():
            twin.stop()

    return stop
