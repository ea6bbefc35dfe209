"""What every LED board driver offers."""

from __future__ import annotations

from typing import Protocol

from appliance.errors import DeviceError


class BoardError(DeviceError):
    """The board could not be written, or did not answer."""


class LedBoard(Protocol):
    """A number board. ``show("")`` blanks it. ``answers`` says whether a successful
    ``show`` proves the board is there (Modbus: yes; plain ASCII frames: no)."""

    answers: bool
    can_show_text: bool
    digits: int

    def show(self, text: str) -> None:
        """Write ``text`` (at most ``digits`` characters); BoardError when it fails."""

    def close(self) -> None: ...


def fit_text(text: str, digits: int) -> str:
    """Right-align ``text`` in ``digits`` cells; keep the end if it is too long
    ("A1015" on 4 digits → "1015": the digits the citizen holds matter most)."""
    text = text.upper()
    if len(text) > digits:
        return text[-digits:]
    return text.rjust(digits)
