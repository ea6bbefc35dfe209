"""Helpers for the desk's tests: accounts in two offices, a logged-in page client, PDFs
read back with pdftotext and barcodes decoded from pdftoppm's rendering."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from appliance.store.core import Store

PASSWORD = "mat-khau-dung-8"
OTHER = "000.00.07.H10"  # a second office's agency code


def add_accounts(store: Store) -> None:
    own = store.settings.agency_code
    store.offices.put(OTHER, "Trung tâm Phục vụ hành chính công xã Khác", "UBND xã Khác",
                      "Xã Khác")
    for name, role, office, full in (
            ("tiepnhan", "staff", own, "Nguyễn Thị Hoa"),
            ("xuly", "processor", own, "Lê Văn Xử"),
            ("lanhdao", "leader", own, "Phạm Minh Lãnh"),
            ("quantri", "admin", own, "Đỗ Quản Trị"),
            ("khac", "staff", OTHER, "Hồ Văn Khác")):
        store.users.set_user(name, role, password=PASSWORD, full_name=full, office=office,
                             officer_code=str(len(name)))


def log_in(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Log in through the page; returns the CSRF token of the session."""
    r = try_log_in(client, name, password)
    assert r.status_code == 200 and r.url.path == "/worklist", r.text
    return csrf_of(r.text)


def try_log_in(client: TestClient, name: str, password: str) -> Any:
    """Open the log-in page (its form's CSRF token) and send it."""
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"username": name, "password": password,
                                       "next": "/worklist", "csrf": token})


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def pdf_text(data: bytes, tmp: Path, name: str = "form") -> str:
    path = tmp / f"{name}.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True,
                         text=True, check=True, timeout=60)
    return " ".join(out.stdout.split())


def decode_page(data: bytes, tmp: Path, dpi: int = 300) -> dict[str, set[str]]:
    """Barcodes on the first page as zbarimg and zxing-cpp read them: {reader: {text}}."""
    import zxingcpp

    path = tmp / "scan.pdf"
    path.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "1", "-png", str(path),
                    str(tmp / "page")], check=True, timeout=60)
    png = next(tmp.glob("page*.png"))
    zbar = subprocess.run(["zbarimg", "-q", str(png)], capture_output=True, text=True,
                          timeout=60, check=False)
    found: dict[str, set[str]] = {}
    for line in zbar.stdout.splitlines():
        kind, _, text = line.partition(":")
        found.setdefault(f"zbar:{kind}", set()).add(text)
    for r in zxingcpp.read_barcodes(Image.open(png)):
        found.setdefault(f"zxing:{r.format.name}", set()).add(r.text)
    png.unlink()
    return found
