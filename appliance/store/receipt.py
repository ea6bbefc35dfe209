"""The dossier receipt (Mẫu 01: Giấy tiếp nhận hồ sơ và hẹn trả kết quả) as an image.

The QR code and the Code 128 barcode carry ``scan_text(code, secret)`` so the lookup
terminal's scanner opens the dossier. Drawn with Pillow in DejaVu Sans (every Vietnamese
diacritic), NFC text; saved as PNG or PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from appliance.clock import parse_rfc3339
from appliance.core.dossier_code import scan_text
from appliance.errors import MissingDependency
from appliance.i18n import tr
from appliance.store.text import nfc

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/noto")
WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
MARGIN = 90


@dataclass(frozen=True)
class Header:
    agency_name: str
    office_name: str
    lookup_url: str | None = None


def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    names = (["DejaVuSans-Bold.ttf", "NotoSans-Bold.ttf"] if bold
             else ["DejaVuSans.ttf", "NotoSans-Regular.ttf"])
    for d in FONT_DIRS:
        for n in names:
            p = Path(d) / n
            if p.exists():
                return ImageFont.truetype(str(p), size)
    raise MissingDependency(tr("không có phông chữ đủ dấu tiếng Việt: "
                               "apt-get install fonts-dejavu-core",
                               "no font with Vietnamese glyphs: apt-get install fonts-dejavu-core"))


def _when(text: str) -> str:
    t: datetime = parse_rfc3339(text)
    return f"{t.hour:02d} giờ {t.minute:02d} phút, ngày {t.day:02d}/{t.month:02d}/{t.year}"


class _Page:
    def __init__(self) -> None:
        self.img = Image.new("RGB", (WIDTH, HEIGHT), "white")
        self.draw = ImageDraw.Draw(self.img)
        self.y = MARGIN

    def wrap(self, text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
        lines: list[str] = []
        line = ""
        for word in nfc(text).split():
            trial = f"{line} {word}".strip()
            if self.draw.textlength(trial, font=font) <= width or not line:
                line = trial
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
        return lines

    def text(self, text: str, *, bold: bool = False, size: int = 26, center: bool = False,
             x: int = MARGIN, width: int = WIDTH - 2 * MARGIN, gap: int = 8) -> None:
        font = _font(bold, size)
        for line in self.wrap(text, font, width):
            lx = x + (width - int(self.draw.textlength(line, font=font))) // 2 if center else x
            self.draw.text((lx, self.y), line, font=font, fill="black")
            self.y += size + gap

    def column(self, x: int, width: int, lines: list[tuple[str, bool]], size: int = 21) -> int:
        y0 = self.y
        for text, bold in lines:
            self.text(text, bold=bold, size=size, center=True, x=x, width=width, gap=6)
        bottom = self.y
        self.y = y0
        return bottom


def render_receipt(dossier: dict[str, Any], procedure: dict[str, Any] | None,
                   header: Header) -> Image.Image:
    """The receipt of a dossier (the staff view from the store, with name and secret)."""
    import qrcode

    code, secret = dossier["code"], dossier["secret"]
    payload = scan_text(code, secret, header.lookup_url)
    page = _Page()
    half = (WIDTH - 2 * MARGIN) // 2
    left = page.column(MARGIN, half, [(header.agency_name.upper(), False),
                                      (header.office_name.upper(), True)])
    right = page.column(MARGIN + half, half, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True),
                                              ("Độc lập - Tự do - Hạnh phúc", True)])
    page.y = max(left, right) + 40
    page.text("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", bold=True, size=34, center=True)
    page.text(f"Mã hồ sơ: {code}", bold=True, size=28, center=True)
    page.y += 20
    page.text(f"{header.office_name} tiếp nhận hồ sơ của:")
    page.text(f"Ông/Bà: {dossier.get('applicant_name', dossier.get('applicant', ''))}",
              bold=True)
    if dossier.get("applicant_phone"):
        page.text(f"Số điện thoại: {dossier['applicant_phone']}")
    if dossier.get("applicant_address"):
        page.text(f"Địa chỉ: {dossier['applicant_address']}")
    page.text(f"Nội dung yêu cầu giải quyết: {dossier['procedure']['name']}")
    docs = (procedure or {}).get("documents") or []
    if docs:
        page.text("Thành phần hồ sơ nộp gồm:")
        for i, d in enumerate(docs, 1):
            page.text(f"{i}. {d['name']} (bản chính: {d['original']}, bản sao: {d['copies']})",
                      size=24, x=MARGIN + 30, width=WIDTH - 2 * MARGIN - 30)
    if procedure is not None:
        days = procedure["processing_days"]
        page.text("Thời gian giải quyết hồ sơ theo quy định: "
                  + (f"{days} ngày làm việc" if days else "trong ngày làm việc"))
    page.text(f"Thời gian nhận hồ sơ: {_when(dossier['received_at'])}")
    page.text(f"Thời gian trả kết quả giải quyết hồ sơ: {_when(dossier['due_at'])}", bold=True)
    where = (f"Quầy {dossier['pickup_counter']}" if dossier.get("pickup_counter")
             else "Bộ phận Một cửa")
    page.text(f"Nhận kết quả tại: {where}")
    if procedure is not None and procedure.get("fee"):
        page.text(f"Phí, lệ phí: {procedure['fee']}")
    page.text(f"Mã tra cứu: {secret}  (tra cứu tại máy tra cứu hoặc quét mã dưới đây)",
              bold=True)
    page.y += 20
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    qr.add_data(payload)
    qr.make(fit=True)
    qr_img = qr.make_image(fill_color="black", back_color="white").get_image().convert("RGB")
    page.img.paste(qr_img, (MARGIN, page.y))
    page.y += qr_img.height + 10
    bar = code128_image(f"{code}/{secret}", module_px=2, height_px=90)
    page.img.paste(bar, (MARGIN + (WIDTH - 2 * MARGIN - bar.width) // 2, page.y))
    page.y += bar.height + 30
    left = page.column(MARGIN, half, [("NGƯỜI NỘP HỒ SƠ", True), ("(Ký và ghi rõ họ tên)", False)])
    right = page.column(MARGIN + half, half, [("NGƯỜI TIẾP NHẬN HỒ SƠ", True),
                                              ("(Ký và ghi rõ họ tên)", False)])
    page.y = max(left, right)
    return page.img


def code128_image(text: str, module_px: int, height_px: int, quiet: int = 10) -> Image.Image:
    """A Code 128 whose every bar and space is a whole number of pixels (``module_px`` per
    module): a resized barcode has uneven bars that readers reject."""
    from barcode import Code128

    modules = Code128(text).build()[0]
    img = Image.new("RGB", ((len(modules) + 2 * quiet) * module_px, height_px), "white")
    draw = ImageDraw.Draw(img)
    for i, m in enumerate(modules):
        if m == "1":
            x = (quiet + i) * module_px
            draw.rectangle((x, 0, x + module_px - 1, height_px - 1), fill="black")
    return img


def save_receipt(img: Image.Image, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".png":
        img.save(path, "PNG")
    elif suffix == ".pdf":
        img.save(path, "PDF", resolution=150.0)
    else:
        raise ValueError(tr(f"{path.name}: giấy tiếp nhận chỉ ghi ra tệp .png hoặc .pdf",
                            f"{path.name}: the receipt is written as .png or .pdf"))
