"""A staff keypad: key presses → counter actions, as a pure state machine.

:class:`KeypadDecoder` takes key-down codes (the reader drops key-up and repeat)
with the time they came, and returns what they mean:

* an action key (next, recall, no_show, finish, park, open, close) → that action;
* ``transfer`` then a service key → ``transfer`` with ``to_service``;
* an optional service key, digits, then Enter → ``call`` with the typed number
  (the service letter may be left out: the counter resolves it);
* digits then the ``resume`` key → ``resume`` that number (alone: the oldest parked);
* ``login``, digits, Enter → ``login`` with the officer code (empty = log out);
* ``cancel`` clears what was being typed; a half-typed entry expires after
  ``entry_timeout_s`` so a forgotten digit never prefixes the next number.

Every key that changes the entry also returns an ``entry`` result with the text so
far, so the counter can echo it on its board while the officer types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.errors import ConfigError

# A common USB numeric keypad plus a full keyboard's digits and letters.
DEFAULT_KEYS: dict[str, str] = {
    **{f"KEY_KP{d}": f"digit:{d}" for d in range(10)},
    **{f"KEY_{d}": f"digit:{d}" for d in range(10)},
    "KEY_KPENTER": "enter", "KEY_ENTER": "enter",
    "KEY_KPPLUS": "next", "KEY_KPMINUS": "no_show", "KEY_KPASTERISK": "recall",
    "KEY_KPSLASH": "finish", "KEY_KPDOT": "transfer", "KEY_BACKSPACE": "cancel",
    "KEY_ESC": "cancel", "KEY_NUMLOCK": "login", "KEY_TAB": "login",
    "KEY_F1": "open", "KEY_F2": "close", "KEY_F3": "park", "KEY_F4": "resume",
    "KEY_N": "next", "KEY_R": "recall", "KEY_X": "no_show", "KEY_F": "finish",
    "KEY_T": "transfer", "KEY_P": "park", "KEY_U": "resume", "KEY_O": "open",
    "KEY_L": "login", "KEY_Q": "close",
    **{f"KEY_{c}": f"service:{c}" for c in "ABCDEGHIJKMSVWYZ"},
}
DEFAULT_RATING_KEYS: dict[str, str] = {
    "KEY_KP1": "rate:very_satisfied", "KEY_1": "rate:very_satisfied",
    "KEY_KP2": "rate:satisfied", "KEY_2": "rate:satisfied",
    "KEY_KP3": "rate:unsatisfied", "KEY_3": "rate:unsatisfied",
}
SIMPLE_ACTIONS = ("next", "recall", "no_show", "finish", "park", "open", "close")
MAX_DIGITS = 4


@dataclass(frozen=True)
class KeyResult:
    """What a key meant. ``action`` is a counter action, ``entry`` (echo of the typed
    text), ``rate`` (``rating`` set), or ``error`` (``reason`` says what)."""

    action: str
    number: str | None = None
    service: str | None = None
    officer: str | None = None
    rating: str | None = None
    text: str = ""
    reason: str | None = None

    def extra(self) -> dict[str, Any]:
        return {k: v for k, v in (("number", self.number), ("to_service", self.service),
                                  ("officer", self.officer)) if v is not None}


def resolve_keymap(names: dict[str, str]) -> dict[int, str]:
    """Key names (``KEY_KPPLUS``) → evdev key codes; unknown names are a ConfigError."""
    from evdev import ecodes  # lazy: only units with a keypad import evdev

    out: dict[int, str] = {}
    bad = []
    for name, action in names.items():
        code = ecodes.ecodes.get(name)
        if code is None:
            bad.append(f"[counter] key map: {name} is not a key evdev knows")
            continue
        out[int(code)] = action
    if bad:
        raise ConfigError(bad)
    return out


@dataclass
class KeypadDecoder:
    """The keypad's state; ``press(code, now)`` returns the results of one key-down."""

    keymap: dict[int, str]
    entry_timeout_s: float = 20.0
    mode: str = "idle"  # idle | number | transfer | login
    service: str | None = None
    digits: str = ""
    last_at: float = 0.0
    _out: list[KeyResult] = field(default_factory=list)

    def press(self, code: int, now: float) -> list[KeyResult]:
        action = self.keymap.get(code)
        if action is None:
            return []
        if self.mode != "idle" and now - self.last_at > self.entry_timeout_s:
            self._reset()
        self.last_at = now
        self._out = []
        kind, _, arg = action.partition(":")
        if kind == "digit":
            self._digit(arg)
        elif kind == "service":
            self._service(arg)
        elif kind == "rate":
            self._out.append(KeyResult("rate", rating=arg))
        elif kind == "enter":
            self._enter()
        elif kind == "cancel":
            self._reset()
            self._echo()
        elif kind == "login":
            self._reset()
            self.mode = "login"
            self._echo()
        elif kind == "transfer":
            self._reset()
            self.mode = "transfer"
            self._echo()
        elif kind == "resume":
            number = self._typed_number()
            self._reset()
            self._out.append(KeyResult("resume", number=number or None))
        elif kind in SIMPLE_ACTIONS:
            if self.mode != "idle":
                self._reset()
                self._echo()
            self._out.append(KeyResult(kind))
        return self._out

    @property
    def text(self) -> str:
        """What the officer has typed so far, as the board should echo it."""
        if self.mode == "login":
            return "L" + "*" * len(self.digits)
        if self.mode == "transfer":
            return "T"
        return (self.service or "") + self.digits

    def _digit(self, d: str) -> None:
        if self.mode == "transfer":
            return  # a transfer waits for a service key; digits mean nothing there
        if self.mode == "idle":
            self.mode = "number"
        limit = 12 if self.mode == "login" else MAX_DIGITS
        if len(self.digits) >= limit:
            self._out.append(KeyResult("error", reason="too_long", text=self.text))
            return
        self.digits += d
        self._echo()

    def _service(self, letter: str) -> None:
        if self.mode == "transfer":
            self._reset()
            self._out.append(KeyResult("transfer", service=letter))
            return
        if self.mode == "login":  # officer codes may hold letters ("CB01")
            if len(self.digits) < 12:
                self.digits += letter
                self._echo()
            return
        self.mode = "number"
        self.service = letter
        self._echo()

    def _enter(self) -> None:
        if self.mode == "login":
            code = self.digits
            self._reset()
            self._out.append(KeyResult("login", officer=code or None))
            return
        if self.mode == "number" and self.digits:
            number = self._typed_number()
            self._reset()
            self._out.append(KeyResult("call", number=number))
            return
        self._reset()
        self._out.append(KeyResult("error", reason="nothing_typed"))

    def _typed_number(self) -> str:
        if not self.digits:
            return ""
        return (self.service or "") + self.digits

    def _echo(self) -> None:
        self._out.append(KeyResult("entry", text=self.text))

    def _reset(self) -> None:
        self.mode, self.service, self.digits = "idle", None, ""
