"""What every form shares: A4 page in a TrueType serif with every Vietnamese diacritic, the
two-column heading (issuing body | national motto), the place-and-date line, signature
blocks, and barcodes drawn as vector rectangles.

fpdf2 was chosen over WeasyPrint: pure Python with no Pango/Cairo stack to install on a
Pi, subsets and embeds TrueType fonts (so pdftotext gives the text back), and renders a
form in a few milliseconds.
"""

from __future__ import annotations

import copy
import functools
import io
import threading
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import Any

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont

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
    """A fresh form."""
    pdf = FormPDF(orientation)
    pdf.set_title(title)
    return pdf


# What the forms print: Latin with every Vietnamese letter, punctuation, currency, arrows,
# math and box shapes. A face cut down to these (500 of Noto Serif's glyphs, no layout
# tables) is what each form subsets when it is written: fpdf's subsetting of each face
# costs in proportion to the glyphs it has to read. Text outside it (a Cyrillic name,
# say) is drawn from the whole font (fpdf's fallback fonts).
REPERTOIRE = frozenset(chain(range(0x180), (0x1A0, 0x1A1, 0x1AF, 0x1B0), range(0x300, 0x30A),
                             (0x323,), range(0x1EA0, 0x1EFA), range(0x2010, 0x2050),
                             (0x20AB, 0x20AC, 0x2116), range(0x2190, 0x219A), range(0x2212, 0x2216),
                             (0x2264, 0x2265), range(0x25A0, 0x25A2), (0x25CB, 0x25CF)))
_faces: dict[tuple[str, bool], tuple[TTFFont, bytes]] = {}
_faces_lock = threading.Lock()


def _cut_down(data: bytes) -> bytes:
    from fontTools import subset

    font = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False)
    options = subset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True,
                             name_IDs=["*"], name_languages=["*"], name_legacy=True)
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "DSIG"]  # fpdf drops them anyway
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[u for u in font.getBestCmap() if u in REPERTOIRE])
    sub.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class _Face(TTFFont):
    def get_text_width(self, text: str, font_size_pt: float,
                       text_shaping_params: dict[str, Any] | None) -> tuple[int, float]:
        """fpdf's sum of the glyphs' widths, summed in C: its line breaking and every
        cell measure texts thousands of times a form."""
        if text_shaping_params or self.is_symbol:
            return super().get_text_width(text, font_size_pt, text_shaping_params)
        self.biggest_size_pt = max(self.biggest_size_pt, font_size_pt)
        return len(text), sum(map(self.cw.__getitem__, map(ord, text))) * font_size_pt * 0.001


def _face(pdf: FPDF, style: str, whole: bool) -> tuple[TTFFont, bytes]:
    """The face of ``style`` parsed once per process (its widths, cmap and glyph ids: the
    bulk of a form's time when parsed for each form), and its font file's bytes."""
    with _faces_lock:
        found = _faces.get((style, whole))
        if found is None:
            path = _font_file(FACES[style])
            data = path.read_bytes() if whole else _cut_down(path.read_bytes())
            family = "serifall" if whole else "serif"
            face = _Face(pdf, io.BytesIO(data), f"{family}{style}", style)  # type: ignore[arg-type]
            face.ttffile = path
            found = (face, data)
            _faces[(style, whole)] = found
        return found


def _add_faces(pdf: FPDF, whole: bool = False) -> None:
    """Give ``pdf`` the serif faces: a shallow copy of each parsed face, with what is the
    document's own made afresh (which glyphs it used; and the fontTools font, which fpdf
    subsets in place when it writes the file, so it cannot be shared)."""
    for style in FACES:
        face, data = _face(pdf, style, whole)
        font = copy.copy(face)
        font.i = len(pdf.fonts) + 1
        # recalcBBoxes=False: the glyphs' outlines are not changed, so their boxes stand;
        # recomputing them decoded and re-encoded every glyph kept (a third of the rest)
        font.ttfont = ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False,
                                   recalcBBoxes=False, lazy=True)
        font.subset = SubsetMap(font)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        pdf.fonts[font.fontkey] = font


# each copy (liên) of a receipt draws the same codes: work them out once
@functools.lru_cache(maxsize=16)
def _code128_modules(text: str) -> str:
    from barcode import Code128

    return str(Code128(text).build()[0])


@functools.lru_cache(maxsize=16)
def _qr_matrix(text: str) -> tuple[tuple[bool, ...], ...]:
    import qrcode

    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    q.add_data(text)
    q.make(fit=True)
    return tuple(tuple(row) for row in q.get_matrix())


class FormPDF(FPDF):
    def __init__(self, orientation: str = "P") -> None:
        super().__init__(orientation=orientation, unit="mm", format="A4")
        self.set_margins(20, 15, 15)
        self.set_auto_page_break(True, 15)
        _add_faces(self)
        self._whole = False
        self.set_creator("motcua")
        self.set_font("serif", "", 13)

    def normalize_text(self, text: str) -> str:
        if not self._whole and not REPERTOIRE.issuperset(map(ord, text)):
            self._whole = True  # from now on, what the cut-down face lacks comes from these
            _add_faces(self, whole=True)
            self.set_fallback_fonts(["serifall"])
        return super().normalize_text(text)

    def line_text(self, text: str, style: str = "", size: float = 13, align: str = "L",
                  h: float = 6.5) -> None:
        self.set_font("serif", style, size)
        self.text_block(0, h, nfc(text), align, "LMARGIN")

    def text_block(self, w: float, h: float, text: str, align: str = "L",
                   new_x: str = "LMARGIN") -> None:
        """multi_cell(w, h, text), then the next line: drawn as one cell per line, in the
        same places, broken where multi_cell breaks it (see _wrap) but without fpdf's
        line breaking."""
        room = (w or self.w - self.r_margin - self.x) - 2 * self.c_margin
        lines = self._wrap(text, room)
        if lines is None:
            self.multi_cell(w, h, text, align=align, new_x=new_x, new_y="NEXT")
            return
        x0 = self.x
        for i, line in enumerate(lines):
            self.set_x(x0)
            self.cell(w, h, line, align=align, new_y="NEXT",
                      new_x=new_x if i == len(lines) - 1 else "LEFT")

    def _wrap(self, text: str, room: float) -> list[str] | None:
        """The lines fpdf's multi_cell breaks ``text`` into (greedy, at spaces), measured a
        word at a time: its own line breaking measures the line again for each character
        added (two thirds of Mẫu 01's time). None where it must do it itself: a line
        break, a word wider than the line, runs of spaces, a face from the fallback."""
        if "\n" in text or self._whole or not REPERTOIRE.issuperset(map(ord, text)):
            return None
        width = self.get_string_width
        if width(text) < room:
            return [text]
        words = text.split(" ")
        if "" in words:
            return None
        lines, line = [], words[0]
        for word in words[1:]:
            if width(word) >= room:
                return None
            joined = f"{line} {word}"
            if width(joined) <= room:
                line = joined
            else:
                lines.append(line)
                line = word
        if width(line) >= room:
            return None
        return [*lines, line]

    def heading(self, office: Office, when: datetime, number: str = "") -> None:
        """Issuing body on the left, the national motto on the right, then the date line."""
        full = self.w - self.l_margin - self.r_margin
        w, wr = full * 0.42, full * 0.58
        y0 = self.get_y()
        self.set_font("serif", "", 12)
        self.text_block(w, 5.5, nfc(office.agency_name.upper()), "C", "LEFT")
        self.set_font("serif", "B", 12)
        self.text_block(w, 5.5, nfc(office.name.upper()), "C", "LEFT")
        self._rule(self.l_margin + w / 2, self.get_y() + 0.5, 30)
        if number:
            self.set_font("serif", "", 12)
            self.set_y(self.get_y() + 2)
            self.text_block(w, 5.5, nfc(number), "C", "LEFT")
        y_left = self.get_y()
        self.set_xy(self.l_margin + w, y0)
        self.set_font("serif", "B", 12)
        self.text_block(wr, 5.5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "C", "LEFT")
        self.set_font("serif", "B", 12.5)
        self.text_block(wr, 6, "Độc lập - Tự do - Hạnh phúc", "C", "LEFT")
        self._rule(self.l_margin + w + wr / 2, self.get_y() + 0.5, 55)
        self.set_y(self.get_y() + 3)
        self.set_x(self.l_margin + w)
        self.set_font("serif", "I", 12)
        place = office.place or office.agency_name
        self.text_block(wr, 6, nfc(f"{place}, {vn_date(when)}"), "C", "LMARGIN")
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
            self.text_block(w, 6, nfc(title), "C", "LEFT")
            self.set_font("serif", "I", 11)
            self.text_block(w, 5.5, nfc(hint), "C", "LEFT")
            self.set_y(self.get_y() + 20)
            self.set_x(self.l_margin + i * w)
            self.set_font("serif", "B", 12)
            self.text_block(w, 6, nfc(name), "C", "LMARGIN")
        self.set_y(max(self.get_y(), y0 + 40))

    def code128(self, text: str, x: float, y: float, height: float = 12.0) -> float:
        """A Code 128 of ``text`` at (x, y) whose bars are whole modules; returns its width."""
        modules = _code128_modules(text)
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
        matrix = _qr_matrix(text)
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
