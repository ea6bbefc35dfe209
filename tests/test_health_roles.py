"""The real roles publish the health block: a dispenser's paper out (its fake printer, as
a real one, answers DLE EOT 4) reaches its status's health facts, and the care model turns
it into the ``paper_out`` alert; the hub's block carries its real disk."""

from __future__ import annotations

from datetime import datetime

from appliance.care.model import Heard, Thresholds, assess_unit
from appliance.clock import VN_TZ
from tests import test_dispenser_flow as flow

make_dispenser = flow.make_dispenser  # fixtures of the dispenser's own tests
watch = flow.watch


def test_dispenser_paper_reaches_the_health_block(hub, make_dispenser, watch) -> None:
    app = make_dispenser()
    flow.ready(app)
    flow.press(app, 17)
    flow.wait_until(lambda: (watch.status.get("health") or {}).get("paper") == "ok",
                    what="paper ok in health")
    assert watch.status["health"]["printer_connected"] is True
    assert watch.status["health"]["disk_free_mb"] > 0
    app.fake_printer.paper = "out"
    flow.press(app, 17)
    flow.wait_until(lambda: watch.status["health"].get("paper") == "out",
                    what="paper out in health")
    now = datetime.now(VN_TZ)
    verdict = assess_unit(Heard(watch.status, now), site_live=True, now=now, th=Thresholds())
    assert verdict.state == "alert" and "paper_out" in verdict.reasons
