"""The board's view: plain frozen data, the only input of the renderer (with ``now``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ServiceView:
    id: str
    name: str
    name_en: str | None = None
    waiting: int = 0
    est_wait_s: int | None = None


@dataclass(frozen=True)
class CounterView:
    id: str
    name: str
    open: bool = False
    serving: str | None = None
    service: str | None = None
    service_name: str | None = None


@dataclass(frozen=True)
class Call:
    number: str
    counter: str
    counter_name: str
    service_name: str
    at: datetime  # when this board learnt it (the board's clock: highlight timing)
    recall: bool = False
    seq: int | None = None


@dataclass(frozen=True)
class Figures:
    received: int = 0
    in_progress: int = 0
    returned_early: int = 0
    returned_on_time: int = 0
    returned_late: int = 0
    overdue: int = 0


@dataclass(frozen=True)
class ReadyDossier:
    code: str
    applicant: str
    procedure: str
    counter: str | None


@dataclass(frozen=True)
class DossierBoard:
    ready: tuple[ReadyDossier, ...]
    today: Figures
    month: Figures
    at: datetime | None


@dataclass(frozen=True)
class BoardView:
    """Everything the renderer draws, and nothing else (a pure input)."""

    office_name: str = ""
    office_name_en: str | None = None
    services: tuple[ServiceView, ...] = ()
    counters: tuple[CounterView, ...] = ()
    calls: tuple[Call, ...] = ()  # newest first
    notice: str = ""
    online: bool = False
    ever_synced: bool = False
    last_update: datetime | None = None
    dossier: DossierBoard | None = None
    dossier_online: bool = False
