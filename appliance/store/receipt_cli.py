"""``motcua receipt CODE --config store.toml --out FILE.png|pdf``: print a dossier's receipt."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from appliance.config.store import StoreSection
from appliance.i18n import tr
from appliance.runtime import load_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("code", help=tr("mã hồ sơ, ví dụ 000.00.06.G04-261130-0001",
                                        "the dossier code, e.g. 000.00.06.G04-261130-0001"))
    parser.add_argument("--config", required=True, metavar=tr("TỆP", "FILE"),
                        help=tr("tệp TOML của kho hồ sơ", "the store's TOML file"))
    parser.add_argument("--broker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--data", metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "thư mục dữ liệu (thay cho thư mục trong tệp)", "data folder (overrides the file)"))
    parser.add_argument("--database", metavar="URL", help=tr(
        "địa chỉ cơ sở dữ liệu (thay cho địa chỉ trong tệp)", "database URL (overrides the file)"))
    parser.add_argument("--out", required=True, metavar=tr("TỆP", "FILE"),
                        help=tr("TỆP.png hoặc TỆP.pdf", "FILE.png or FILE.pdf"))


def run(args: argparse.Namespace) -> int:
    from appliance.store.core import open_store
    from appliance.store.receipt import Header, render_receipt, save_receipt

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".pdf"):
        print(tr(f"motcua receipt: {out.name}: hãy đặt tên tệp đuôi .png hoặc .pdf",
                 f"motcua receipt: {out.name}: give a .png or .pdf file name"), file=sys.stderr)
        return 2
    config = load_from_args(args)
    settings = config.store or StoreSection()
    store = open_store(settings, data_path=config.data_path, base_dir=config.base_dir,
                       url=args.database)
    try:
        dossier = store.dossiers.get(args.code.strip().upper())
        if dossier is None:
            print(tr(f"motcua receipt: không có hồ sơ {args.code!r}",
                     f"motcua receipt: no dossier {args.code!r}"), file=sys.stderr)
            return 1
        procedure = store.catalogue.get(dossier["procedure"]["code"])
        if out.suffix.lower() == ".pdf":
            # the legal form (Mẫu 01, two copies), as the desk prints it
            from appliance.store.forms.receipt import receipt_pdf
            from appliance.store.web.printing import context

            out.write_bytes(receipt_pdf(context(store, dossier)))
        else:
            img = render_receipt(dossier, procedure, Header(settings.agency_name,
                                                            settings.office_name,
                                                            settings.receipt_lookup_url))
            save_receipt(img, out)
    finally:
        store.close()
    print(tr(f"đã ghi giấy tiếp nhận hồ sơ {dossier['code']} vào {out}",
             f"receipt of {dossier['code']} written to {out}"))
    return 0
