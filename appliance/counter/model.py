"""The counter unit's small shared types: what an action did, what the board and the
buzzer must offer (the board keeper and ``GpioBeeper`` fit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class Board(Protocol):
    """What the service needs from the board keeper."""

    def show(self, text: str, *, blink: bool = False) -> None: ...

    def notice(self, text: str, seconds: float | None = None) -> None: ...

    def echo(self, text: str) -> None: ...


class Beeper(Protocol):
    def ok(self) -> None: ...

    def error(self) -> None: ...


@dataclass(frozen=True)
class Result:
    """What one action did. ``code`` is the error code when ``ok`` is False."""

    action: str
    ok: bool
    shown: str = ""
    code: str | None = None
    offline: bool = False
    reply: dict[str, Any] | None = None
    number: str | None = None
