"""The ticket as a picture: a pure function of the ticket's data and the layout (dispenser and
lookup terminal print the same ticket).

ESC/POS text mode cannot print Vietnamese (code pages differ per printer; CP1258 prints tone
marks beside the letters), so the whole ticket is drawn with Pillow in black and white at
the printer's own dot width and sent as a raster image. Drawing straight onto a 1-bit
image means the preview is, dot for dot, what the printer burns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from display.fonts import font_path, nfc, require_glyphs

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

    from appliance.config.dispenser import TicketLayout

INFO_LINES = ("time", "ahead", "wait", "counters")
OFFLINE_MARK = " *"


@dataclass(frozen=True)
class TicketView:
    """Everything printed on one ticket."""

    number: str
    service_name: str
    issued_at: datetime
    office: str = ""
    ahead: int | None = None
    est_wait_s: int | None = None
    counters: tuple[str, ...] = ()
    qr: str | None = None
    priority: bool = False
    priority_label: str = "Ưu tiên"
    offline: bool = False
    reprint: bool = False


def qr_text(*, site: str, day: str, number: str, lookup_url: str | None,
            public_url: str | None = None) -> str:
    """What the ticket's QR code holds.

    With the unit's ``[ticket] public_url`` the store's page of this ticket (a phone camera
    opens it); else the site's lookup page for it; else the plain code.
    """
    if public_url:
        return f"{public_url.rstrip('/')}/ticket/{site}/{day}/{number}"
    if lookup_url:
        sep = "&" if "?" in lookup_url else "?"
        return f"{lookup_url}{sep}ve={number}&ngay={day}"
    return f"MOTCUA:{site}:{day}:{number}"


def wait_text(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"khoảng {minutes} phút"
    return f"khoảng {minutes // 60} giờ {minutes % 60:02d} phút"


def counters_text(counters: tuple[str, ...]) -> str:
    """Which counters serve this ticket ("Quầy phục vụ: 2, 3"), not an order to go there now."""
    if not counters:
        return ""
    names = [c.strip() for c in counters]
    if all(n.lower().startswith("quầy ") for n in names):
        names = [n[5:].strip() for n in names]
    return f"Quầy phục vụ: {', '.join(names)}"


def ticket_lines(view: TicketView, layout: TicketLayout) -> dict[str, str]:
    """The text of each line (NFC), for drawing and for the glyph check."""
    lines: dict[str, str] = {}
    lines["header"] = layout.header if layout.header is not None else view.office
    lines["label"] = layout.label
    lines["number"] = view.number
    lines["service"] = view.service_name
    marks = []
    if view.priority:
        marks.append(view.priority_label.upper())
    if view.reprint:
        marks.append("IN LẠI")
    lines["marks"] = " · ".join(marks)
    # a ticket issued while the hub was away carries a small star for staff (docs/dispenser.md),
    # not a line that tells the citizen something went wrong
    star = OFFLINE_MARK if view.offline else ""
    lines["time"] = f"Lấy số lúc {view.issued_at:%H:%M} ngày {view.issued_at:%d/%m/%Y}{star}"
    lines["ahead"] = "" if view.ahead is None else f"Số người chờ trước: {view.ahead}"
    wait = wait_text(view.est_wait_s)
    lines["wait"] = f"Thời gian chờ dự kiến: {wait}" if wait else ""
    lines["counters"] = counters_text(view.counters)
    lines["footer"] = layout.footer
    return {k: nfc(v) for k, v in lines.items()}


@lru_cache(maxsize=32)
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.truetype(str(font_path(bold)), size)


def _sizes(layout: TicketLayout, width: int) -> dict[str, int]:
    k = width / 576
    return {
        "header": layout.header_px or round(24 * k),
        "number": layout.number_px or round(132 * k),
        "service": layout.service_px or round(32 * k),
        "text": layout.text_px or round(22 * k),
        "qr_box": layout.qr_box or (4 if width >= 480 else 3),
    }


def _fit(text: str, px: int, width: int) -> ImageFont.FreeTypeFont:
    """Bold font at ``px``, or down to 80 % of it if that keeps the text on one line."""
    for size in range(px, max(8, int(px * 0.8)) - 1, -1):
        font = _font(True, size)
        if font.getlength(text) <= width:
            return font
    return _font(True, px)  # too long for one line anyway: wrap at full size


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    out: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if font.getlength(trial) <= width or not line:
            line = trial
        else:
            out.append(line)
            line = word
    if line:
        out.append(line)
    return out


class _Pen:
    """Draws lines of text down a 1-bit page, keeping the cursor."""

    def __init__(self, draw: ImageDraw.ImageDraw, width: int, margin: int) -> None:
        self.draw = draw
        self.width = width
        self.margin = margin
        self.y = margin

    def text(self, text: str, font: ImageFont.FreeTypeFont, *, align: str = "center",
             left: int | None = None, right: int | None = None, gap: int = 4) -> None:
        x0 = self.margin if left is None else left
        x1 = (self.width - self.margin) if right is None else right
        for line in _wrap(text, font, x1 - x0):
            ascent, descent = font.getmetrics()
            w = font.getlength(line)
            x = x0 + (x1 - x0 - w) / 2 if align == "center" else x0
            self.draw.text((x, self.y), line, font=font, fill=0)
            self.y += ascent + descent + gap

    def tight(self, text: str, font: ImageFont.FreeTypeFont) -> None:
        """Big text placed by its ink box, not its line box (saves paper)."""
        left, top, right, bottom = font.getbbox(text)
        x = (self.width - (right - left)) / 2 - left
        self.draw.text((x, self.y - top), text, font=font, fill=0)
        self.y += int(bottom - top) + 10

    def badge(self, text: str, font: ImageFont.FreeTypeFont) -> None:
        """White text on a black bar: the priority/reprint marks must stand out."""
        ascent, descent = font.getmetrics()
        w = font.getlength(text)
        x = (self.width - w) / 2
        self.draw.rectangle((x - 8, self.y, x + w + 8, self.y + ascent + descent + 4), fill=0)
        self.draw.text((x, self.y + 2), text, font=font, fill=1)
        self.y += ascent + descent + 10

    def rule(self) -> None:
        self.y += 2
        self.draw.line((self.margin, self.y, self.width - self.margin, self.y), fill=0, width=2)
        self.y += 8


def _qr_matrix(text: str) -> list[list[bool]]:
    import qrcode

    # A fixed mask: trying all eight (the default) costs ~12 ms of a ~25 ms render, and
    # for short codes printed this large any mask scans.
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M,
                         mask_pattern=0)
    code.add_data(text)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def _draw_qr(draw: ImageDraw.ImageDraw, matrix: list[list[bool]], x: int, y: int,
             box: int) -> None:
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                draw.rectangle((x + c * box, y + r * box, x + (c + 1) * box - 1,
                                y + (r + 1) * box - 1), fill=0)


def render_ticket(view: TicketView, layout: TicketLayout, width: int) -> Image.Image:
    """The ticket picture: mode "1", ``width`` dots wide, as short as its content."""
    from PIL import Image, ImageDraw

    texts = ticket_lines(view, layout)
    wanted = [n for n in layout.lines if n in ("qr",) or texts.get(n)]
    regular, bold = font_path(False), font_path(True)
    printed = "".join(texts[n] for n in wanted if n != "qr")
    require_glyphs(regular, printed)
    require_glyphs(bold, printed)
    size = _sizes(layout, width)
    f_text = _font(False, size["text"])
    page = Image.new("1", (width, 2400), 1)
    draw = ImageDraw.Draw(page)
    draw.fontmode = "1"  # no grey edges: what we see is what the printer burns
    pen = _Pen(draw, width, layout.margin)
    matrix = _qr_matrix(view.qr) if view.qr and "qr" in wanted else None
    qr_px = len(matrix) * size["qr_box"] if matrix else 0
    # On wide paper the QR sits to the right of the info lines, saving ~15 mm of paper.
    beside = matrix is not None and width >= 480 and any(n in INFO_LINES for n in wanted)
    info_top: int | None = None
    for name in wanted:
        if name == "header":
            pen.text(texts[name], _fit(texts[name], size["header"], width - 2 * layout.margin))
            pen.rule()
        elif name == "label":
            pen.text(texts[name], f_text)
        elif name == "number":
            pen.tight(texts[name], _font(True, size["number"]))
        elif name == "service":
            pen.text(texts[name], _font(True, size["service"]))
        elif name == "marks":
            pen.badge(texts[name], _font(True, size["text"]))
        elif name in INFO_LINES:
            if info_top is None:
                info_top = pen.y
            right = width - layout.margin - qr_px - 8 if beside else None
            pen.text(texts[name], f_text, align="left" if beside else "center", right=right,
                     gap=2)
        elif name == "qr" and matrix is not None:
            if beside:
                top = info_top if info_top is not None else pen.y
                _draw_qr(draw, matrix, width - layout.margin - qr_px, top, size["qr_box"])
                pen.y = max(pen.y, top + qr_px + 4)
            else:
                _draw_qr(draw, matrix, (width - qr_px) // 2, pen.y, size["qr_box"])
                pen.y += qr_px + 4
        elif name == "footer":
            # as large as the other lines: the last words on the ticket are read too
            pen.y += 4
            pen.text(texts[name], f_text, gap=2)
    return page.crop((0, 0, width, pen.y + layout.margin))
