"""Server-sent events for pages that follow the queue (the citizen's ticket page, the
officer's counter screen): the page's picture is sent again whenever it changes.

Each stream waits on the QueueView (woken by the hub's events), never on a timer; a comment
line goes out every ``KEEPALIVE_S`` so proxies and phones keep the connection, and a stream
ends after ``MAX_STREAM_S`` (the browser's EventSource reconnects by itself) or once its
picture is final (a ticket served or expired). At most ``MAX_STREAMS`` are open at once;
beyond that the page polls its JSON instead.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from appliance.store.live.view import QueueView

KEEPALIVE_S = 15.0
MAX_STREAM_S = 600.0
MAX_STREAMS = 200
_NEVER = object()


class Streams:
    """Counts the open streams, to keep their number bounded on a small machine."""

    def __init__(self, limit: int = MAX_STREAMS) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give(self) -> None:
        with self._lock:
            self.open -= 1


def event_stream(view: QueueView, streams: Streams, picture: Callable[[], dict[str, Any]],
                 depends: Callable[[], object] = lambda: None,
                 min_gap_s: float = 0.0) -> Response:
    """A text/event-stream of ``picture()`` each time it changes; 503 when too many are
    open (the page then polls). ``picture`` is built again only when ``depends()`` changed
    (what it is made of), and at most once per ``min_gap_s`` (it may ask the hub)."""
    if not streams.take():
        return JSONResponse({"error": {"code": "busy", "message": "Quá nhiều kết nối; trang "
                                                                  "sẽ tự tải lại định kỳ."}},
                            status_code=503)

    async def gen() -> AsyncIterator[bytes]:
        try:
            started = time.monotonic()
            last: dict[str, Any] | None = None
            made_of: object = _NEVER
            while time.monotonic() - started < MAX_STREAM_S:
                version = view.version
                if depends() != made_of or last is None:
                    made_of = depends()
                    body = await run_in_threadpool(picture)
                    if body != last:
                        last = body
                        yield b"data: " + json.dumps(body, ensure_ascii=False).encode() \
                            + b"\n\n"
                    if body.get("final"):
                        return
                    if min_gap_s:
                        await asyncio.sleep(min_gap_s)
                if await view.wait(version, KEEPALIVE_S) == version:
                    yield b": keepalive\n\n"
        finally:
            streams.give()

    return StreamingResponse(gen(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
