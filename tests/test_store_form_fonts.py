"""The forms' fonts: parsed once per process and cut down to the Latin/Vietnamese
repertoire (the speed of Mẫu 01), yet a name outside it (Cyrillic, Greek) still prints,
drawn from the whole face; every form keeps its text and its Code 128 decodes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from appliance.clock import VN_TZ, ManualClock
from appliance.config.store import StoreSection
from appliance.store.core import Store, open_store
from appliance.store.forms.base import REPERTOIRE, new_form
from appliance.store.forms.receipt import receipt_pdf
from appliance.store.models import DossierIn
from appliance.store.web.printing import context
from tests.desk_helpers import decode_page, pdf_text


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """Fonts do not depend on the database: SQLite only."""
    clock = ManualClock(datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ))
    s = open_store(StoreSection(), data_path=tmp_path / "d", base_dir=tmp_path, clock=clock,
                   url=f"sqlite:///{tmp_path / 'store.sqlite3'}")
    try:
        yield s
    finally:
        s.close()


def fonts_of(data: bytes, tmp: Path) -> list[str]:
    path = tmp / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    return [line.split()[0] for line in out.splitlines()[2:]]


def receipt_for(store: Store, name: str) -> tuple[bytes, str]:
    """Mẫu 01 of a new dossier, and what its Code 128 must hold."""
    d = store.dossiers.create(DossierIn(procedure_code="1.001193", applicant_name=name), "tn")
    full = store.dossiers.get(d["code"])
    assert full is not None
    return receipt_pdf(context(store, full)), f"{d['code']}/{d['secret']}"


def test_a_name_outside_the_cut_down_face_still_prints(store: Store, tmp_path: Path) -> None:
    assert all(ord(c) in REPERTOIRE for c in "Nguyễn Thị Ánh Tuyết ĐỘC LẬP «»–—…₫")
    assert ord("Ж") not in REPERTOIRE
    viet, _ = receipt_for(store, "Nguyễn Thị Ánh Tuyết")
    assert "Ông/Bà: Nguyễn Thị Ánh Tuyết" in pdf_text(viet, tmp_path, "viet")
    assert len(fonts_of(viet, tmp_path)) == 3  # the three cut-down faces only
    foreign, _ = receipt_for(store, "Иван Петров Ωmega")
    text = pdf_text(foreign, tmp_path, "foreign")
    assert "Ông/Bà: Иван Петров Ωmega" in text
    assert len(fonts_of(foreign, tmp_path)) == 4  # + the whole bold face, for the name


def test_forms_made_one_after_another_are_independent(store: Store, tmp_path: Path) -> None:
    """Each form has its own copy of the shared faces: what one used, or fpdf's in-place
    subsetting when writing it, does not leak into the next."""
    first, _ = receipt_for(store, "Đặng Văn Ất")
    second, scanned = receipt_for(store, "Trịnh Thị Ỷ")
    assert "Ông/Bà: Trịnh Thị Ỷ" in pdf_text(second, tmp_path, "second")
    assert "Ông/Bà: Đặng Văn Ất" in pdf_text(first, tmp_path, "first")
    codes = decode_page(second, tmp_path)
    assert codes["zbar:CODE-128"] == {scanned} and codes["zxing:Code128"] == {scanned}
    blank = new_form("x")
    blank.add_page()
    blank.line_text("Chữ rất dài " * 40)  # wraps: the multi_cell path
    assert "Chữ rất dài" in pdf_text(blank.output_bytes(), tmp_path, "long")


@pytest.mark.parametrize("text", [
    "Nội dung yêu cầu giải quyết: Đăng ký khai sinh kết hợp đăng ký thường trú, cấp thẻ bảo "
    "hiểm y tế cho trẻ em dưới 6 tuổi (mã thủ tục 1.001193); nộp trực tiếp tại Bộ phận Một cửa",
    "Ghi chú: Giấy tiếp nhận hồ sơ và hẹn trả kết quả được lập thành 2 liên; một liên giao "
    "cho cá nhân, tổ chức nộp hồ sơ; một liên lưu tại Bộ phận Một cửa.",
    "Địa chỉ: " + "Số 123 ngõ 45 ngách 67 đường Nguyễn Trãi, phường Thượng Đình, " * 3,
    "Ngắn.",
])
def test_lines_break_where_fpdf_breaks_them(text: str) -> None:
    """The forms wrap a word at a time (fpdf's own line breaking re-measures the line for
    each character); the lines must be the ones fpdf's multi_cell makes."""
    from fpdf.enums import MethodReturnValue

    pdf = new_form("x")
    pdf.add_page()
    for size, w in ((13, 0.0), (11, 80.0)):
        pdf.set_font("serif", "", size)
        room = (w or pdf.w - pdf.r_margin - pdf.x) - 2 * pdf.c_margin
        fpdf_lines = pdf.multi_cell(w, 6, text.strip(), dry_run=True,
                                    output=MethodReturnValue.LINES)
        assert pdf._wrap(text.strip(), room) == fpdf_lines
