"""What a form is printed from: the staff view of a dossier, its procedure, its office and
the names of the officers involved (account full names, as printed under signatures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from appliance.clock import parse_rfc3339
from appliance.store.offices import Office


@dataclass
class FormContext:
    dossier: dict[str, Any]
    procedure: dict[str, Any] | None
    office: Office
    now: datetime
    names: dict[str, str] = field(default_factory=dict)  # account → full name
    lookup_url: str | None = None

    def at(self, key: str) -> datetime:
        return parse_rfc3339(self.dossier[key])

    def name_of(self, account: str) -> str:
        return self.names.get(account) or account

    @property
    def number(self) -> str:
        """The tracking-book volume (the year) and entry of the dossier."""
        return f"Quyển số: {self.at('received_at').year}, Số thứ tự: " \
               f"{self.dossier.get('book_entry') or ''}"
