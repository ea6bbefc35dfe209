"""The store's parts put together over one database: catalogue, dossiers, users."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import time
from pathlib import Path

from sqlalchemy.engine import Engine

from appliance.clock import Clock, SystemClock
from appliance.config.store import StoreSection
from appliance.i18n import tr
from appliance.store import db
from appliance.store.auth import Users
from appliance.store.calendar import WorkCalendar, load_calendar
from appliance.store.catalogue import Catalogue, sample_catalogue
from appliance.store.desk import Desk
from appliance.store.dossiers import Dossiers, DossierSettings
from appliance.store.offices import Offices
from appliance.store.records import QueueRecords
from appliance.store.transfer import import_procedures
from appliance.store.worklist import Worklist

log = logging.getLogger(__name__)


@dataclass
class Store:
    settings: StoreSection
    engine: Engine
    calendar: WorkCalendar
    catalogue: Catalogue
    dossiers: Dossiers
    users: Users
    offices: Offices
    desk: Desk
    worklist: Worklist
    records: QueueRecords

    def close(self) -> None:
        if self.dossiers.reader is not self.engine:
            self.dossiers.reader.dispose()
        self.engine.dispose()


def database_url(settings: StoreSection, data_path: Path) -> str:
    if settings.database_url:
        return settings.database_url
    data_path.mkdir(parents=True, exist_ok=True)
    return db.sqlite_url(data_path / "store.sqlite3")


def open_store(settings: StoreSection, *, data_path: Path, base_dir: Path,
               clock: Clock | None = None, url: str | None = None) -> Store:
    """Open (and migrate) the database; seed the sample catalogue and the first admin."""
    clock = clock or SystemClock()
    hh, mm = (int(x) for x in settings.cutoff.split(":"))
    cal_path = (base_dir / settings.calendar_file).resolve() if settings.calendar_file else None
    cal = load_calendar(cal_path, weekdays=settings.working_weekdays, cutoff=time(hh, mm))
    engine = db.make_engine(url or database_url(settings, data_path))
    db.migrate(engine)
    catalogue = Catalogue(engine)
    dossiers_ = Dossiers(engine, cal, clock, DossierSettings(settings.agency_code,
                                                             settings.code_format))
    offices_ = Offices(engine, settings)
    store = Store(
        settings=settings, engine=engine, calendar=cal, catalogue=catalogue,
        dossiers=dossiers_,
        users=Users(engine, settings.token_ttl_s, default_office=settings.agency_code),
        offices=offices_, desk=Desk(dossiers_, offices_), worklist=Worklist(dossiers_),
        records=QueueRecords(engine),
    )
    store.offices.adopt()
    if settings.seed_sample_catalogue and catalogue.count == 0:
        added, _ = import_procedures(engine, sample_catalogue())
        catalogue.invalidate()
        log.info(tr("đã nạp danh mục mẫu: %d thủ tục",
                    "loaded the sample catalogue: %d procedures"), added)
    if settings.users_file:
        store.users.load_file((base_dir / settings.users_file).resolve())
    if settings.admin_password_file and store.users.count() == 0:
        pw_path = (base_dir / settings.admin_password_file).resolve()
        password = pw_path.read_text(encoding="utf-8").strip()
        store.users.set_user(settings.admin_user, "admin", password=password)
        log.info(tr("đã tạo tài khoản quản trị đầu tiên %r",
                    "created the first admin account %r"), settings.admin_user)
    return store
