"""ESC/POS receipt printers: connectors, the print path, a fake printer, a byte decoder.

Importing this package is cheap; python-escpos and pyserial are imported when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.printer.connectors import (
    Connector,
    FileLink,
    NetworkLink,
    PrinterUnreachable,
    SerialLink,
    UsbLink,
    WriteFailed,
)
from drivers.printer.fake import FakeLink, FakePrinter, PtyPrinter
from drivers.printer.printer import (
    PaperOut,
    PaperStatus,
    PrinterNotAnswering,
    PrintReport,
    TicketPrinter,
    build_job,
)

if TYPE_CHECKING:
    from appliance.config.dispenser import PrinterConfig


def make_link(conf: PrinterConfig, fake: FakePrinter | None = None) -> Connector:
    """A fresh (closed) connector for the configured printer.

    The ``dummy`` type talks to ``fake`` (a FakePrinter made once per dispenser, so its paper
    and plug state persist between jobs).
    """
    from appliance.config import dispenser as d

    c = conf.connector
    timeouts = {"open_timeout": conf.open_timeout_s, "write_timeout": conf.write_timeout_s}
    if isinstance(c, d.SerialConnector):
        return SerialLink(c, **timeouts)
    if isinstance(c, d.NetworkConnector):
        return NetworkLink(c, **timeouts)
    if isinstance(c, d.FileConnector):
        return FileLink(c, **timeouts)
    if isinstance(c, d.UsbConnector):
        return UsbLink(c, **timeouts)
    if fake is None:
        raise ValueError("a dummy connector needs the FakePrinter it talks to")
    return FakeLink(fake)


__all__ = [
    "Connector",
    "FakeLink",
    "FakePrinter",
    "PaperOut",
    "PaperStatus",
    "PrintReport",
    "PrinterNotAnswering",
    "PrinterUnreachable",
    "PtyPrinter",
    "TicketPrinter",
    "WriteFailed",
    "build_job",
    "make_link",
]
