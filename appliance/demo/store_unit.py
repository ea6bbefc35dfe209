"""The demo's dossier store: the sample catalogue and a few thousand generated dossiers.

Prints a couple of real code/secret pairs (and writes their receipts) so a person can try
them on the lookup terminal; serves the HTTP API on a free loopback port.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import select

from appliance.broker import free_port
from appliance.config import load_unit_config
from appliance.i18n import tr
from appliance.store.bootstrap import build_store
from appliance.store.generate import fill
from appliance.store.receipt import Header, render_receipt, save_receipt
from appliance.store.schema import dossiers

if TYPE_CHECKING:
    from appliance.demo.office import Office

log = logging.getLogger("demo.store")
UNIT = "store"
DEMO_DOSSIERS = 3000


def attach(office: Office) -> Callable[[], None]:
    path = office.site_dir / f"{UNIT}.toml"
    if not path.exists():
        return lambda: None
    out = office.out_dir / UNIT
    config = load_unit_config(path, broker_url=office.broker_url, data_dir=out / "data")
    unit = build_store(config, clock=office.clock, http_port=free_port())
    store = unit.store
    with store.engine.connect() as conn:
        empty = conn.execute(select(dossiers.c.id).limit(1)).first() is None
    if empty:
        fill(store.dossiers, DEMO_DOSSIERS, seed=7)
    unit.start()
    unit.bus.wait_connected(10)
    s = store.settings
    api = f"http://{s.http_host}:{s.http_port}/docs"
    print(tr(f"  kho hồ sơ: {store.catalogue.count} thủ tục, HTTP API {api}",
             f"  store: {store.catalogue.count} procedures, HTTP API {api}"))
    with store.engine.connect() as conn:
        picks = [conn.execute(select(dossiers.c.code).where(dossiers.c.stage == stage)
                              .order_by(dossiers.c.id.desc()).limit(1)).scalar()
                 for stage in ("ready", "processing", "awaiting_supplement")]
    for code in filter(None, picks):
        d = store.dossiers.get(code)
        if d is None:
            continue
        print(tr(f"  thử tra cứu: mã hồ sơ {d['code']}  mã tra cứu {d['secret']}  "
                 f"({d['stage_label']})", f"  try a lookup: code {d['code']}  lookup code "
                 f"(Mã tra cứu) {d['secret']}  ({d['stage_label']})"))
        out.mkdir(parents=True, exist_ok=True)
        img = render_receipt(d, store.catalogue.get(d["procedure"]["code"]),
                             Header(s.agency_name, s.office_name, s.lookup_url))
        save_receipt(img, out / f"receipt-{d['code']}.png")
    return unit.stop
