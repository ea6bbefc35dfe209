"""What goes into the kiosk's state machine and what comes out of it: the actions ``step``
takes (taps on a ``Target``, keys, scans, answers, ticks) and the effects it asks the loop
to carry out (a dossier lookup, a ticket), with the hub's desk info they carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from appliance.lookup.catalogue import Catalogue


@dataclass(frozen=True)
class Target:
    """What a touch hit: produced by the display's hit-testing, consumed by ``step``."""

    kind: str
    value: str = ""


@dataclass(frozen=True)
class Tap:
    target: Target


@dataclass(frozen=True)
class TypeText:
    """Keys from a physical keyboard (or the demo typing)."""

    text: str


@dataclass(frozen=True)
class Scan:
    text: str


@dataclass(frozen=True)
class Scroll:
    dy: int  # finger moved by dy pixels (up is negative: content moves with the finger)
    max_scroll: int


@dataclass(frozen=True)
class Tick:
    pass


@dataclass(frozen=True)
class DossierAnswer:
    request: int
    reply: Mapping[str, Any] | None  # None: no answer in time / not connected


@dataclass(frozen=True)
class NewCatalogue:
    catalogue: Catalogue


@dataclass(frozen=True)
class DeskService:
    id: str
    name: str
    waiting: int | None = None  # from the hub's retained queue/state; None: not heard yet
    est_wait_s: int | None = None


@dataclass(frozen=True)
class DeskInfo:
    """What the ticket screens show: the site's services and the queue as the hub last said."""

    services: tuple[DeskService, ...] = ()
    categories: tuple[str, ...] = ()  # priority: người cao tuổi, người khuyết tật...
    priority_label: str = "Ưu tiên"

    def service(self, sid: str | None) -> DeskService | None:
        return next((s for s in self.services if s.id == sid), None)


@dataclass(frozen=True)
class DeskUpdate:
    desk: DeskInfo


@dataclass(frozen=True)
class TicketResult:
    """What one issue came to: printed (with its number), or why not (a wire/fault code)."""

    ok: bool
    number: str | None = None
    service_name: str = ""
    error: str | None = None


@dataclass(frozen=True)
class TicketAnswer:
    request: int
    result: TicketResult


Action = (Tap | TypeText | Scan | Scroll | Tick | DossierAnswer | NewCatalogue | DeskUpdate
          | TicketAnswer)


@dataclass(frozen=True)
class LookupDossier:
    request: int
    code: str
    secret: str


@dataclass(frozen=True)
class IssueTicket:
    request: int
    service: str
    priority: bool
    category: str | None


Effect = LookupDossier | IssueTicket
