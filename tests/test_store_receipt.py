"""The receipt decodes back: QR code and Code 128 carry the code and the secret."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from appliance.cli import main
from appliance.core.dossier_code import parse_scan
from appliance.store.core import Store
from appliance.store.models import DossierIn
from appliance.store.receipt import Header, render_receipt, save_receipt

pytest_plugins = ["tests.pg"]


def test_receipt_codes_decode_to_the_code_and_secret(store: Store, tmp_path: Path) -> None:
    d = store.dossiers.create(DossierIn(procedure_code="1.001022",
                                        applicant_name="Nguyễn Thị Ánh Tuyết",
                                        applicant_phone="0912345678"), "tn")
    img = render_receipt(d, store.catalogue.get("1.001022"),
                         Header("UBND phường Mẫu", "Trung tâm Phục vụ hành chính công"))
    found = {r.format.name: r.text for r in zxingcpp.read_barcodes(img)}
    assert set(found) == {"QRCode", "Code128"}, found
    for text in found.values():
        scan = parse_scan(text)
        assert scan is not None and (scan.code, scan.secret) == (d["code"], d["secret"])
    out = tmp_path / "r.png"
    save_receipt(img, out)
    assert Image.open(out).size == img.size
    with pytest.raises(ValueError, match=r"\.png or \.pdf"):
        save_receipt(img, tmp_path / "r.jpg")


def test_receipt_with_lookup_url(store: Store) -> None:
    d = store.dossiers.create(DossierIn(procedure_code="2.000635", applicant_name="Lê Ước"), "tn")
    img = render_receipt(d, None, Header("UBND phường Mẫu", "Trung tâm",
                                         "https://tracuu.example.vn/hs"))
    qr = [r.text for r in zxingcpp.read_barcodes(img) if r.format.name == "QRCode"]
    assert qr == [f"https://tracuu.example.vn/hs?ma={d['code']}&mk={d['secret']}"]


def test_receipt_command_writes_png_and_pdf(tmp_path: Path, demo_site: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from appliance.config import load_unit_config
    from appliance.store.core import open_store

    cfg = load_unit_config(demo_site / "store.toml")
    assert cfg.store is not None
    s = open_store(cfg.store, data_path=cfg.data_path, base_dir=cfg.base_dir)
    d = s.dossiers.create(DossierIn(procedure_code="1.001193", applicant_name="Võ Văn Kiệt"),
                          "tn")
    s.close()
    png, pdf = tmp_path / "r.png", tmp_path / "r.pdf"
    # the command table picks the subcommand's module from sys.argv
    monkeypatch.setattr(sys, "argv", ["motcua", "receipt"])
    assert main(["receipt", d["code"], "--config", str(demo_site / "store.toml"),
                 "--out", str(png)]) == 0
    assert main(["receipt", d["code"], "--config", str(demo_site / "store.toml"),
                 "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    texts = {r.text for r in zxingcpp.read_barcodes(Image.open(png))}
    assert texts == {f"{d['code']}/{d['secret']}"}
    assert main(["receipt", "000.00.06.G04-261130-0999", "--config",
                 str(demo_site / "store.toml"), "--out", str(png)]) == 1
    assert "no dossier" in capsys.readouterr().err


def test_receipt_image_code128_decodes_with_zbarimg_too(store: Store, tmp_path: Path) -> None:
    """Whole-pixel bars: zbar (stricter about bar widths than zxing) reads the PNG."""
    import subprocess

    d = store.dossiers.create(DossierIn(procedure_code="1.001193",
                                        applicant_name="Đinh Thị Ước"), "tn")
    out = tmp_path / "r.png"
    save_receipt(render_receipt(d, None, Header("UBND phường Mẫu", "Trung tâm")), out)
    zbar = subprocess.run(["zbarimg", "-q", str(out)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert f"CODE-128:{d['code']}/{d['secret']}" in zbar.stdout.splitlines()
