"""The ticket picture: Vietnamese glyphs, layout from config, size on paper, the preview CLI."""

from __future__ import annotations

import argparse
import unicodedata
from datetime import datetime
from typing import Any

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFont

from appliance.clock import VN_TZ
from appliance.config.dispenser import TicketLayout
from appliance.dispenser.ticket import TicketView, qr_text, render_ticket, ticket_lines
from display.fonts import VIETNAMESE_LETTERS, MissingGlyphs, font_path
from drivers.printer import build_job
from drivers.printer.decode import parse
from tests.printer_helpers import printed_image

WHEN = datetime(2026, 11, 30, 9, 5, tzinfo=VN_TZ)


def _view(**kw) -> TicketView:
    base: dict[str, Any] = dict(
        number="C007", service_name="Đất đai", issued_at=WHEN,
        office="Trung tâm Phục vụ hành chính công phường Mẫu", ahead=2,
        est_wait_s=600, counters=("Quầy 2", "Quầy 3"),
        qr=qr_text(site="demo", day="2026-11-30", number="C007", lookup_url=None))
    base.update(kw)
    return TicketView(**base)


def _ink(text: str, font: ImageFont.FreeTypeFont) -> bytes:
    img = Image.new("1", (80, 80), 1)
    ImageDraw.Draw(img).text((10, 10), text, font=font, fill=0)
    return img.tobytes()


@pytest.mark.parametrize("bold", [False, True])
def test_every_vietnamese_letter_has_its_own_glyph(bold):
    font = ImageFont.truetype(str(font_path(bold)), 40)
    notdef = _ink("\ue000", font)  # a private-use code point: the font's missing-glyph box
    assert len(VIETNAMESE_LETTERS) >= 2 * 67
    for ch in VIETNAMESE_LETTERS:
        assert _ink(ch, font) != notdef, f"{ch!r} draws as a missing glyph"
    # each toned letter differs from its base letter (the mark is really drawn)
    for ch in VIETNAMESE_LETTERS:
        base = unicodedata.normalize("NFD", ch)[0]
        if base != ch:
            assert _ink(ch, font) != _ink(base, font), ch


def test_whole_alphabet_on_a_ticket_renders_and_decomposed_text_is_composed():
    lower = VIETNAMESE_LETTERS[: len(VIETNAMESE_LETTERS) // 2]
    composed = render_ticket(_view(service_name=lower), TicketLayout(), 576)
    decomposed = render_ticket(
        _view(service_name=unicodedata.normalize("NFD", lower)), TicketLayout(), 576)
    assert ImageChops.difference(composed.convert("L"), decomposed.convert("L")).getbbox() \
        is None
    upper = render_ticket(_view(service_name=VIETNAMESE_LETTERS.upper()), TicketLayout(), 384)
    assert upper.width == 384


def test_a_letter_the_font_lacks_fails_loudly():
    with pytest.raises(MissingGlyphs, match="漢"):
        render_ticket(_view(service_name="Dịch vụ 漢"), TicketLayout(), 576)


def test_texts_are_vietnamese_and_nfc():
    lines = ticket_lines(_view(priority=True, offline=True), TicketLayout())
    assert lines["ahead"] == "Số người chờ trước: 2"
    assert lines["wait"] == "Thời gian chờ dự kiến: khoảng 10 phút"
    assert lines["counters"] == "Quầy phục vụ: 2, 3"
    # offline: a discreet mark for staff, nothing that alarms the citizen
    assert lines["time"] == "Lấy số lúc 09:05 ngày 30/11/2026 *"
    assert lines["marks"] == "ƯU TIÊN"
    assert "kết nối" not in " ".join(lines.values())
    online = ticket_lines(_view(), TicketLayout())
    assert online["time"] == "Lấy số lúc 09:05 ngày 30/11/2026" and online["marks"] == ""
    assert all(unicodedata.is_normalized("NFC", v) for v in lines.values())


@pytest.mark.parametrize(("width", "limit"), [(576, 40 * 1024), (384, 30 * 1024)])
def test_ticket_fits_the_paper_and_the_byte_budget(width, limit):
    image = render_ticket(_view(priority=True), TicketLayout(), width)
    job = build_job(image)
    assert image.width == width and image.mode == "1"
    assert len(job) < limit, f"{len(job)} bytes"
    qr = zxingcpp.read_barcodes(printed_image(job).convert("L"))
    assert [r.text for r in qr] == ["MOTCUA:demo:2026-11-30:C007"]


def test_layout_from_config_chooses_lines_and_header():
    short = TicketLayout(lines=["number", "service"], number_px=100)
    full = render_ticket(_view(), TicketLayout(), 576)
    small = render_ticket(_view(), short, 576)
    assert small.height < full.height / 2
    assert zxingcpp.read_barcodes(small.convert("L")) == []  # no QR line, no QR
    custom = render_ticket(_view(), TicketLayout(header="UBND PHƯỜNG MẪU"), 576)
    assert ImageChops.difference(custom.convert("L"), full.convert("L")).getbbox() is not None


def test_lookup_url_goes_in_the_qr():
    url = qr_text(site="demo", day="2026-11-30", number="A001",
                  lookup_url="https://tracuu.example.vn/ve")
    assert url == "https://tracuu.example.vn/ve?ve=A001&ngay=2026-11-30"
    image = render_ticket(_view(qr=url), TicketLayout(), 576)
    assert [r.text for r in zxingcpp.read_barcodes(image.convert("L"))] == [url]


def test_preview_cli_writes_what_would_be_printed(tmp_path, demo_site):
    out = tmp_path / "ticket.png"
    job = tmp_path / "ticket.bin"
    from appliance.dispenser import preview

    parser = argparse.ArgumentParser()
    preview.add_arguments(parser)
    rc = preview.run(parser.parse_args(["--config", str(demo_site / "dispenser-1.toml"),
                 "--site", str(demo_site / "hub.toml"), "--service", "B", "--out", str(out),
                 "--job", str(job), "--data", str(tmp_path / "data")]))
    assert rc == 0
    png = Image.open(out)
    assert png.width == 576
    printed = printed_image(job.read_bytes())
    assert ImageChops.difference(png.convert("L"), printed.convert("L")).getbbox() is None
    assert parse(job.read_bytes())[-1].kind == "cut"
