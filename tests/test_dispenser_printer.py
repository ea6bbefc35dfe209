"""The printer path: python-escpos bytes, a serial printer on a pty, paper states, unplugging."""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from datetime import datetime

import pytest
import zxingcpp
from PIL import Image, ImageChops

from appliance.clock import VN_TZ
from appliance.config.dispenser import (
    FileConnector,
    NetworkConnector,
    PrinterConfig,
    SerialConnector,
    TicketLayout,
)
from appliance.dispenser.ticket import TicketView, qr_text, render_ticket
from drivers.printer import (
    FakeLink,
    FakePrinter,
    PaperOut,
    PaperStatus,
    PrinterNotAnswering,
    PrinterUnreachable,
    PtyPrinter,
    TicketPrinter,
    WriteFailed,
    build_job,
    make_link,
)
from drivers.printer.decode import parse
from drivers.printer.printer import paper_from_byte
from tests.printer_helpers import printed_image

QR = qr_text(site="demo", day="2026-11-30", number="B012", lookup_url=None)


def _ticket(width: int = 576) -> Image.Image:
    view = TicketView(
        number="B012", service_name="Tư pháp – Hộ tịch",
        issued_at=datetime(2026, 11, 30, 8, 15, tzinfo=VN_TZ),
        office="Trung tâm Phục vụ hành chính công phường Mẫu", ahead=4, est_wait_s=1200,
        counters=("Quầy 1", "Quầy 2"), qr=QR,
    )
    return render_ticket(view, TicketLayout(), width)


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() \
        is None


def test_job_is_a_raster_image_then_a_cut_and_holds_the_qr():
    image = _ticket()
    job = build_job(image, cut="partial")
    cmds = parse(job)
    kinds = [c.kind for c in cmds]
    assert kinds[0] == "init"
    assert job.startswith(b"\x1b@\x1dv0\x00")  # ESC @, then GS v 0 normal density
    raster = [c for c in cmds if c.kind == "raster"]
    assert raster and raster[0].args[1] == 576 // 8 and raster[0].args[2] == image.height
    assert kinds[-1] == "cut" and cmds[-1].args == (1,)  # GS V 1: partial cut
    assert job.endswith(b"\x1dV\x01")
    assert "text" not in kinds, "Vietnamese must never go out as text"
    # the QR inside the printed raster reads back as the ticket's code
    found = zxingcpp.read_barcodes(printed_image(job).convert("L"))
    assert [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode] == [QR]


def test_full_cut_and_no_cut_and_column_mode():
    image = _ticket(384)
    assert build_job(image, cut="full").endswith(b"\x1dV\x00")
    assert b"\x1dV" not in build_job(image, cut="none")
    column = parse(build_job(image, impl="bitImageColumn"))
    assert any(c.kind == "column" for c in column) and not any(c.kind == "raster"
                                                                for c in column)


def test_printed_raster_decodes_back_to_the_preview():
    image = _ticket()
    assert _same(printed_image(build_job(image)), image)


def test_profile_width_is_enforced():
    from escpos.exceptions import ImageWidthError

    with pytest.raises(ImageWidthError):
        build_job(_ticket(576), profile="TM-T88V")  # 512 dots at 180 dpi


@pytest.mark.parametrize(
    ("answer", "paper"),
    [
        (b"\x12", PaperStatus.OK),
        (b"\x1e", PaperStatus.LOW),
        (b"\x72", PaperStatus.OUT),
        (b"\x7e", PaperStatus.OUT),
        (b"", PaperStatus.UNKNOWN),  # python-escpos would say "adequate" here
        (b"\xff", PaperStatus.UNKNOWN),
        (b"\x12\x12", PaperStatus.UNKNOWN),
    ],
)
def test_paper_answer_decoding(answer, paper):
    assert paper_from_byte(answer) is paper


def test_serial_printer_over_a_pty_gets_the_exact_bytes():
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    got = bytearray()
    stop = threading.Event()

    def device() -> None:
        # a printer with paper: answers each DLE EOT 4 with 0x12, keeps everything else
        while not stop.is_set():
            r, _, _ = select.select([master], [], [], 0.05)
            if r:
                chunk = os.read(master, 65536)
                got.extend(chunk)
                for _ in range(chunk.count(b"\x10\x04\x04")):
                    os.write(master, b"\x12")

    thread = threading.Thread(target=device, daemon=True)
    thread.start()
    try:
        conf = PrinterConfig(connector=SerialConnector(type="serial", device=os.ttyname(slave),
                                                       baudrate=115200))
        printer = TicketPrinter(lambda: make_link(conf), status_timeout_s=1.0)
        job = build_job(_ticket())
        report = printer.print_job(job)
        deadline = time.monotonic() + 5
        want = b"\x10\x04\x04" + job + b"\x10\x04\x04"
        while len(got) < len(want) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert bytes(got) == want
        assert report.paper is PaperStatus.OK and report.bytes_sent == len(job)
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)


def test_pty_printer_with_fake_answers_and_decodes():
    pty = PtyPrinter(FakePrinter(paper="low")).start()
    try:
        conf = PrinterConfig(connector=SerialConnector(type="serial", device=pty.device))
        printer = TicketPrinter(lambda: make_link(conf), status_timeout_s=1.0)
        image = _ticket()
        report = printer.print_job(build_job(image))
        assert report.paper is PaperStatus.LOW
        deadline = time.monotonic() + 5
        while pty.printer.cuts < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(pty.printer.printed) == 1
        assert _same(printed_image(bytes(pty.printer.received)), image)
    finally:
        pty.stop()


def test_missing_serial_device_is_unreachable_not_a_hang():
    conf = PrinterConfig(connector=SerialConnector(type="serial", device="/dev/ttyNOPE9"))
    with pytest.raises(PrinterUnreachable, match="ttyNOPE9"):
        TicketPrinter(lambda: make_link(conf)).paper_status()


def test_paper_out_refuses_and_a_silent_printer_is_not_fine():
    fake = FakePrinter(paper="out")
    printer = TicketPrinter(lambda: FakeLink(fake), status_timeout_s=0.05)
    with pytest.raises(PaperOut):
        printer.print_job(build_job(_ticket()))
    assert fake.printed == [] and not any(c.kind == "raster" for c in fake.commands)
    fake.paper, fake.mute = "ok", True
    assert printer.paper_status() is PaperStatus.UNKNOWN
    with pytest.raises(PrinterNotAnswering):
        printer.print_job(build_job(_ticket()))
    fake.mute = False
    assert printer.paper_status() is PaperStatus.OK


def test_unplugged_then_plugged_back_recovers_without_restart():
    fake = FakePrinter()
    printer = TicketPrinter(lambda: FakeLink(fake), status_timeout_s=0.05)
    fake.plugged = False
    with pytest.raises(PrinterUnreachable):
        printer.print_job(build_job(_ticket()))
    fake.plugged = True
    assert printer.print_job(build_job(_ticket())).paper is PaperStatus.OK
    assert len(fake.printed) == 1


def test_network_printer_on_a_local_socket():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    got = bytearray()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            fake = FakePrinter()
            while chunk := conn.recv(65536):
                got.extend(chunk)
                reply = fake.feed(chunk)
                if reply:
                    conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    conf = PrinterConfig(connector=NetworkConnector(type="network", host="127.0.0.1",
                                                    port=port))
    job = build_job(_ticket(384))
    assert TicketPrinter(lambda: make_link(conf)).print_job(job).paper is PaperStatus.OK
    thread.join(timeout=5)
    server.close()
    assert bytes(got) == b"\x10\x04\x04" + job + b"\x10\x04\x04"


def test_network_printer_down_is_unreachable():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    conf = PrinterConfig(connector=NetworkConnector(type="network", host="127.0.0.1",
                                                    port=port), open_timeout_s=0.5)
    with pytest.raises(PrinterUnreachable):
        TicketPrinter(lambda: make_link(conf)).paper_status()


def test_file_printer_writes_the_job_and_paper_is_unknown(tmp_path):
    path = tmp_path / "jobs.bin"
    conf = PrinterConfig(connector=FileConnector(type="file", path=str(path)),
                         paper_sensor=False)
    job = build_job(_ticket(384))
    report = TicketPrinter(lambda: make_link(conf), paper_sensor=False).print_job(job)
    assert path.read_bytes() == job
    assert report.paper is PaperStatus.UNKNOWN  # no sensor: never reported as ok


def test_file_device_missing_is_not_created(tmp_path):
    conf = PrinterConfig(connector=FileConnector(type="file", path="/dev/usb/lp9"),
                         paper_sensor=False)
    with pytest.raises(PrinterUnreachable):
        TicketPrinter(lambda: make_link(conf), paper_sensor=False).print_job(b"x")
    assert not os.path.exists("/dev/usb/lp9")


def test_usb_printer_absent_is_loud():
    from appliance.config.dispenser import UsbConnector
    from appliance.errors import MissingDependency

    conf = PrinterConfig(connector=UsbConnector(type="usb", vendor_id=0x0416,
                                                product_id=0x5011))
    # no such device here, and on this machine possibly no libusb: either way it says which
    with pytest.raises((PrinterUnreachable, MissingDependency), match=r"usb|libusb"):
        TicketPrinter(lambda: make_link(conf)).paper_status()


def test_write_to_unplugged_midway_fails_loudly():
    fake = FakePrinter()
    link = FakeLink(fake)
    link.open()
    fake.plugged = False
    with pytest.raises(WriteFailed):
        link.write(b"\x1b@")


def test_serial_printer_unplugged_and_back_through_pyserial(tmp_path):
    # /dev/serial/by-id/... is a symlink that comes and goes with the adapter: so here
    link = tmp_path / "usb-printer"
    conf = PrinterConfig(connector=SerialConnector(type="serial", device=str(link)),
                         status_timeout_s=1.0)
    printer = TicketPrinter(lambda: make_link(conf), status_timeout_s=1.0)
    job = build_job(_ticket(384))
    first = PtyPrinter().start()
    link.symlink_to(first.device)
    try:
        assert printer.print_job(job).paper is PaperStatus.OK
    finally:
        first.stop()
        link.unlink()
    with pytest.raises(PrinterUnreachable):
        printer.print_job(job)
    second = PtyPrinter().start()  # plugged back: a new tty behind the same name
    link.symlink_to(second.device)
    try:
        assert printer.print_job(job).paper is PaperStatus.OK
        deadline = time.monotonic() + 5
        while second.printer.cuts < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert second.printer.cuts == 1
    finally:
        second.stop()
