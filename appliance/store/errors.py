"""The store's own error: a wire/HTTP error code and a message naming what was wrong."""

from __future__ import annotations

from appliance.errors import MotcuaError


class StoreError(MotcuaError):
    """``code`` is one of the wire codes (not_found, conflict, bad_request, ...)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(message)
