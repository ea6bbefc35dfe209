"""The kiosk's side of the store contract: dossier lookups, catalogue refresh, unit status.

A lookup that gets no answer in time returns None (never a made-up "fine"), and the unit's
retained status turns ``alert`` with the reason until the store answers again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from appliance import contract
from appliance.bus import Bus, Message
from appliance.clock import Clock, rfc3339
from appliance.errors import ContractError, MotcuaError, NotConnected, RequestTimeout
from appliance.i18n import tr
from appliance.lookup import catalogue as cat
from appliance.lookup.catalogue import Catalogue

log = logging.getLogger(__name__)

STORE_NO_ANSWER = "store_no_answer"
CATALOGUE_MISSING = "catalogue_missing"
CATALOGUE_STALE = "catalogue_refresh_failed"


def catalogue_topic(site: str) -> str:
    return f"{contract.Topics(site).base}/store/catalogue"


class UnitStatus:
    """The retained status: ready, or alert with every current reason."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._reasons: set[str] = set()
        self._fields: dict[str, Any] = {}
        self._lock = threading.Lock()

    def set(self, reason: str, on: bool) -> None:
        with self._lock:
            before = set(self._reasons)
            (self._reasons.add if on else self._reasons.discard)(reason)
            if before == self._reasons:
                return
        self.publish()

    def set_group(self, owned: Iterable[str], on: Iterable[str], **fields: Any) -> None:
        """Of the reasons in ``owned`` exactly ``on`` hold now; one status message."""
        with self._lock:
            reasons = (self._reasons - set(owned)) | set(on)
            if reasons == self._reasons and all(self._fields.get(k) == v
                                                for k, v in fields.items()):
                return
            self._reasons = reasons
            self._fields.update(fields)
        self.publish()

    def update(self, **fields: Any) -> None:
        with self._lock:
            self._fields.update(fields)
        self.publish()

    @property
    def reasons(self) -> list[str]:
        with self._lock:
            return sorted(self._reasons)

    def publish(self) -> None:
        with self._lock:
            reasons = sorted(self._reasons)
            fields = dict(self._fields)
        self._bus.set_status("alert" if reasons else "ready", reasons=reasons, **fields)


class StoreClient:
    """Dossier lookups over the bus, with a timeout and honest failure."""

    def __init__(self, bus: Bus, status: UnitStatus, *, timeout_s: float) -> None:
        self._bus = bus
        self._status = status
        self._timeout = timeout_s
        self.on_no_answer: Callable[[], None] | None = None  # e.g. start probing the store

    def lookup(self, code: str, secret: str) -> Mapping[str, Any] | None:
        """The store's reply (ok or error), or None when it did not answer in time."""
        try:
            reply = self._bus.request("store", {"op": "dossier.lookup", "code": code,
                                                "secret": secret}, timeout=self._timeout)
        except (RequestTimeout, NotConnected) as exc:
            log.warning(tr("tra cứu hồ sơ không được trả lời: %s",
                           "dossier lookup got no answer: %s"), exc)
            self._status.set(STORE_NO_ANSWER, True)
            if self.on_no_answer is not None:
                self.on_no_answer()
            return None
        self._status.set(STORE_NO_ANSWER, False)
        return reply

    def probe(self) -> bool:
        """A cheap request to learn whether the store answers again (clears the alert)."""
        try:
            self._bus.request("store", {"op": "procedure.catalogue", "offset": 0, "limit": 1},
                              timeout=self._timeout)
        except (RequestTimeout, NotConnected):
            return False
        self._status.set(STORE_NO_ANSWER, False)
        return True

    def request(self, body: dict[str, Any]) -> dict[str, Any]:
        # background work (catalogue pages): nobody is waiting at the screen, so be patient
        return self._bus.request("store", body, timeout=max(10.0, self._timeout))


class CatalogueSync:
    """Keeps the on-disk catalogue equal to the store's, fetching only on a new version.

    The retained ``store/catalogue`` message arrives on paho's thread; the fetch runs on
    this object's own thread so the network thread is never blocked.
    """

    def __init__(self, bus: Bus, store: StoreClient, status: UnitStatus, path: Path, *,
                 clock: Clock, page_size: int,
                 on_catalogue: Callable[[Catalogue], None]) -> None:
        self._bus = bus
        self._store = store
        self._status = status
        self._path = path
        self._clock = clock
        self._page_size = page_size
        self._on_catalogue = on_catalogue
        self._wanted: str | None = None
        self.probe_s = 30.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.current = cat.load(path)

    def start(self) -> None:
        self._status.set(CATALOGUE_MISSING, self.current.empty)
        self._status.update(catalogue_version=self.current.version or None,
                            procedures=len(self.current.procedures))
        self._bus.subscribe(catalogue_topic(self._bus.site), self._on_announce)
        self._thread = threading.Thread(target=self._run, name="catalogue-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    def nudge(self) -> None:
        """Look again now (the store stopped answering: start probing it)."""
        self._wake.set()

    def _on_announce(self, msg: Message) -> None:
        try:
            body = contract.parse(contract.StoreCatalogue, msg.payload).model_dump()
        except ContractError as exc:
            log.warning(tr("thông báo store/catalogue không đọc được: %s",
                           "unreadable store/catalogue announcement: %s"), exc)
            return
        version = body.get("version")
        if not isinstance(version, str) or not version:
            log.warning(tr("thông báo store/catalogue không có phiên bản: %r",
                           "store/catalogue announcement without a version: %r"), body)
            return
        self._wanted = version
        self._wake.set()

    def _run(self) -> None:
        retry = 5.0
        while not self._stop.is_set():
            unanswered = STORE_NO_ANSWER in self._status.reasons
            self._wake.wait(timeout=retry if self._needs_fetch()
                            else self.probe_s if unanswered else None)
            self._wake.clear()
            if self._stop.is_set():
                continue
            if not self._needs_fetch():
                if unanswered:
                    # "no answer" stays on the status until the store really answers again
                    self._store.probe()
                continue
            try:
                fresh = cat.fetch(self._store.request, page_size=self._page_size,
                                  fetched_at=rfc3339(self._clock.now()))
                cat.save(self._path, fresh)
            except MotcuaError as exc:
                # keep serving the old cache; try again later (or on the next announcement)
                log.warning(tr("không cập nhật được danh mục thủ tục: %s",
                               "catalogue refresh failed: %s"), exc)
                self._status.set(CATALOGUE_STALE, True)
                retry = min(retry * 2, 300.0)
                continue
            retry = 5.0
            self.current = fresh
            log.info(tr("đã lưu danh mục %s (%d thủ tục)",
                        "catalogue %s cached (%d procedures)"), fresh.version,
                     len(fresh.procedures))
            self._status.set(CATALOGUE_STALE, False)
            self._status.set(CATALOGUE_MISSING, fresh.empty)
            self._status.update(catalogue_version=fresh.version,
                                procedures=len(fresh.procedures))
            self._on_catalogue(fresh)

    def _needs_fetch(self) -> bool:
        return self._wanted is not None and self._wanted != self.current.version
