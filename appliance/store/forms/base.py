"""What every form shares: A4 page in a TrueType serif with every Vietnamese diacritic, the
two-column heading (issuing body | national motto), the place-and-date line, signature
blocks, and barcodes drawn as vector rectangles.

fpdf2 was chosen over WeasyPrint: pure Python with no Pango/Cairo stack to install on a
Pi, subsets and embeds TrueType fonts (so pdftotext gives the text back), and renders a
form in a few milliseconds.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from appliance.errors import MissingDependency
from appliance.i18n import tr
from appliance.store.offices import Office
from appliance.store.text import nfc

FONT_DIRS = ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/truetype/dejavu")
FACES = {"": ("NotoSerif-Regular.ttf", "DejaVuSerif.ttf"),
         "B": ("NotoSerif-Bold.ttf", "DejaVuSerif-Bold.ttf"),
         "I": ("NotoSerif-Italic.ttf", "DejaVuSerif-Italic.ttf")}
# one bar module of the Code 128: 3 dots at 300 dpi (6 at 600, 2 at 200), so a printer or
# a renderer at those resolutions draws every bar a whole number of dots wide
MODULE_MM = 25.4 * 3 / 300
QR_MODULE_MM = 25.4 * 6 / 300


def _font_file(names: tuple[str, ...]) -> Path:
    for d in FONT_DIRS:
        for n in names:
            p = Path(d) / n
            if p.exists():
                return p
    raise MissingDependency(tr("không có phông chữ có chân đủ dấu tiếng Việt: "
                               "apt-get install fonts-noto-core",
                               "no serif font with Vietnamese glyphs: "
                               "apt-get install fonts-noto-core"))


def vn_date(t: datetime) -> str:
    return f"ngày {t.day:02d} tháng {t.month:02d} năm {t.year}"


def vn_time(t: datetime) -> str:
    return f"{t.hour:02d} giờ {t.minute:02d} phút, {vn_date(t)}"


def money(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def new_form(title: str, orientation: str = "P") -> FormPDF:
    """A fresh form. (Copying one blank with its fonts loaded was tried: fontTools' lazy
    tables do not survive a deep copy, so each form parses its fonts.)"""
    pdf = FormPDF(orientation)
    pdf.set_title(title)
    return pdf


class FormPDF(FPDF):
    def __init__(self, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.set_margins(20, 15, 15)
        self.set_auto_page_break(True, 15)
        for style, names in FACES.items():
            self.add_font("serif", style, str(_font_file(names)))
        self.set_creator("motcua")
        self.set_font("serif", "", 13)

    def line_text(self, text: str, style: str = "", size: float = 13, align: str = "L",
                  h: float = 6.5) -> None:
        self.set_font("serif", style, size)
        self.multi_cell(0, h, nfc(text), align=align, new_x="LMARGIN", new_y="NEXT")

    def heading(self, office: Office, when: datetime, number: str = "") -> None:
        """Issuing body on the left, the national motto on the right, then the date line."""
        full = self.w - self.l_margin - self.r_margin
        w, wr = full * 0.42, full * 0.58
        y0 = self.get_y()
        self.set_font("serif", "", 12)
        self.multi_cell(w, 5.5, nfc(office.agency_name.upper()), align="C",
                        new_x="LEFT", new_y="NEXT")
        self.set_font("serif", "B", 12)
        self.multi_cell(w, 5.5, nfc(office.name.upper()), align="C", new_x="LEFT", new_y="NEXT")
        self._rule(self.l_margin + w / 2, self.get_y() + 0.5, 30)
        if number:
            self.set_font("serif", "", 12)
            self.set_y(self.get_y() + 2)
            self.multi_cell(w, 5.5, nfc(number), align="C", new_x="LEFT", new_y="NEXT")
        y_left = self.get_y()
        self.set_xy(self.l_margin + w, y0)
        self.set_font("serif", "B", 12)
        self.multi_cell(wr, 5.5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C",
                        new_x="LEFT", new_y="NEXT")
        self.set_font("serif", "B", 12.5)
        self.multi_cell(wr, 6, "Độc lập - Tự do - Hạnh phúc", align="C", new_x="LEFT",
                        new_y="NEXT")
        self._rule(self.l_margin + w + wr / 2, self.get_y() + 0.5, 55)
        self.set_y(self.get_y() + 3)
        self.set_x(self.l_margin + w)
        self.set_font("serif", "I", 12)
        place = office.place or office.agency_name
        self.multi_cell(wr, 6, nfc(f"{place}, {vn_date(when)}"), align="C",
                        new_x="LMARGIN", new_y="NEXT")
        self.set_y(max(self.get_y(), y_left) + 5)

    def _rule(self, cx: float, y: float, width: float) -> None:
        self.set_line_width(0.3)
        self.line(cx - width / 2, y, cx + width / 2, y)

    def title_block(self, title: str, *subtitles: str) -> None:
        self.line_text(title, "B", 14, "C")
        for s in subtitles:
            self.line_text(s, "I", 12, "C")
        self.ln(3)

    def signatures(self, left: tuple[str, str, str] | None,
                   right: tuple[str, str, str]) -> None:
        """(title, hint, printed name) blocks side by side; the name under the signing space."""
        self.ln(4)
        if self.get_y() > self.h - 60:
            self.add_page()
        w = (self.w - self.l_margin - self.r_margin) / 2
        y0 = self.get_y()
        for i, block in enumerate((left, right)):
            if block is None:
                continue
            title, hint, name = block
            self.set_xy(self.l_margin + i * w, y0)
            self.set_font("serif", "B", 12)
            self.multi_cell(w, 6, nfc(title), align="C", new_x="LEFT", new_y="NEXT")
            self.set_font("serif", "I", 11)
            self.multi_cell(w, 5.5, nfc(hint), align="C", new_x="LEFT", new_y="NEXT")
            self.set_y(self.get_y() + 20)
            self.set_x(self.l_margin + i * w)
            self.set_font("serif", "B", 12)
            self.multi_cell(w, 6, nfc(name), align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_y(max(self.get_y(), y0 + 40))

    def code128(self, text: str, x: float, y: float, height: float = 12.0) -> float:
        """A Code 128 of ``text`` at (x, y) whose bars are whole modules; returns its width."""
        from barcode import Code128

        modules = Code128(text).build()[0]
        quiet = 10
        self.set_fill_color(0, 0, 0)
        i = 0
        while i < len(modules):
            if modules[i] == "1":
                j = i
                while j < len(modules) and modules[j] == "1":
                    j += 1
                self.rect(x + (quiet + i) * MODULE_MM, y, (j - i) * MODULE_MM, height, "F")
                i = j
            else:
                i += 1
        return (len(modules) + 2 * quiet) * MODULE_MM

    def qr(self, text: str, x: float, y: float) -> float:
        """A QR code of ``text`` at (x, y) drawn module by module; returns its size."""
        import qrcode

        q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        q.add_data(text)
        q.make(fit=True)
        matrix = q.get_matrix()
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(matrix):
            c = 0
            while c < len(row):
                if row[c]:
                    e = c
                    while e < len(row) and row[e]:
                        e += 1
                    self.rect(x + c * QR_MODULE_MM, y + r * QR_MODULE_MM,
                              (e - c) * QR_MODULE_MM, QR_MODULE_MM, "F")
                    c = e
                else:
                    c += 1
        return len(matrix) * QR_MODULE_MM

    def grid(self, header: list[str], widths: list[float], rows: list[list[str]],
              size: float = 11) -> None:
        """A bordered table; long cells wrap and the row grows to fit."""
        self.set_font("serif", "B", size)
        with super().table(col_widths=widths, text_align="CENTER", line_height=5.5,
                           first_row_as_headings=True) as t:
            t.row([nfc(h) for h in header])
            self.set_font("serif", "", size)
            for r in rows:
                t.row([nfc(c) for c in r])
        self.ln(2)

    def output_bytes(self) -> bytes:
        return bytes(self.output())
