"""`motcua ticket-preview --config FILE [--out ticket.png]`: the exact picture a dispenser prints.

Site data (office name, service names, counters) comes from ``--site hub.toml`` if given,
else from the site info the dispenser cached in its data folder, else placeholders.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance.clock import VN_TZ
from appliance.i18n import tr


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, metavar=tr("TỆP", "FILE"),
                        help=tr("tệp TOML của máy lấy số", "the dispenser's TOML"))
    parser.add_argument("--out", default="ticket.png", metavar="PNG",
                        help=tr("ảnh cần ghi", "image to write"))
    parser.add_argument("--site", metavar=tr("TỆP_HUB", "HUB_TOML"), help=tr(
        "tệp của hub, để lấy tên đơn vị và dịch vụ", "the hub's file, for site names"))
    parser.add_argument("--data", metavar=tr("THƯ_MỤC", "DIR"), help=tr(
        "thư mục dữ liệu (thay cho thư mục trong tệp)", "data folder (overrides the file)"))
    parser.add_argument("--service", default=None, metavar=tr("MÃ", "CODE"), help=tr(
        "mã dịch vụ (mặc định: dịch vụ đầu tiên)", "service id (default: the first)"))
    parser.add_argument("--number", default=None, metavar=tr("SỐ", "NUMBER"), help=tr(
        "số thứ tự (mặc định: <chữ>001)", "ticket number (default: <letter>001)"))
    parser.add_argument("--priority", action="store_true",
                        help=tr("phiếu ưu tiên", "a priority ticket"))
    parser.add_argument("--offline", action="store_true",
                        help=tr("như khi cấp lúc mất kết nối với hub", "as issued without the hub"))
    parser.add_argument("--ahead", type=int, default=3, metavar=tr("SỐ_NGƯỜI", "N"),
                        help=tr("số người chờ trước", "people ahead"))
    parser.add_argument("--wait", type=int, default=900, metavar=tr("GIÂY", "SECONDS"),
                        help=tr("thời gian chờ dự kiến", "estimated wait"))
    parser.add_argument("--job", metavar="BIN", help=tr(
        "ghi thêm các byte ESC/POS gửi máy in vào đây", "also write the ESC/POS bytes here"))


def _site_body(args: argparse.Namespace, config: Any) -> dict[str, Any] | None:
    if args.site:
        from appliance.config import load_unit_config
        from appliance.core.snapshot import site_info

        hub = load_unit_config(args.site)
        if hub.hub is None:
            return None
        return site_info(hub.hub)
    store = config.data_path / "dispenser.sqlite"
    if store.exists():
        from appliance.ticketing.outbox import Outbox

        outbox = Outbox(store)
        try:
            return outbox.get("site_info")
        finally:
            outbox.close()
    return None


def run(args: argparse.Namespace) -> int:
    from appliance.config import load_unit_config
    from appliance.dispenser.bootstrap import escpos_cache, printable_width, section_of
    from appliance.ticketing.siteinfo import parse_site_info
    from appliance.ticketing.ticket import TicketView, qr_text, render_ticket
    from drivers.printer import build_job

    config = load_unit_config(args.config, data_dir=Path(args.data) if args.data else None)
    section = section_of(config)
    escpos_cache(config)
    width = printable_width(section)
    body = _site_body(args, config)
    site = parse_site_info(body, config.unit) if body else None
    service = args.service or (next(iter(site.services)) if site else "A")
    svc = site.services.get(service) if site else None
    if site is not None and svc is None:
        print(tr(f"ticket-preview: đơn vị không có dịch vụ {service!r}",
                 f"ticket-preview: no service {service!r} in the site"), file=sys.stderr)
        return 2
    letter = svc.letter if svc else service
    number = args.number or (f"{letter}801" if args.offline else f"{letter}001")
    now = datetime.now(VN_TZ).replace(microsecond=0)
    view = TicketView(
        number=number,
        service_name=svc.name if svc else f"Dịch vụ {service}",
        issued_at=now,
        office=site.office_name if site else "Bộ phận Một cửa",
        ahead=None if args.offline else args.ahead,
        est_wait_s=None if args.offline else args.wait,
        counters=site.counter_names(site.counters_for(service)) if site else ("Quầy 1",),
        qr=qr_text(site=config.site, day=now.date().isoformat(), number=number,
                   lookup_url=site.lookup_url if site else None),
        priority=args.priority,
        priority_label=site.priority_label if site else "Ưu tiên",
        offline=args.offline,
    )
    image = render_ticket(view, section.ticket, width)
    out = Path(args.out)
    image.save(out)
    p = section.printer
    job = build_job(image, profile=p.profile, impl=p.image_impl, cut=p.cut)
    if args.job:
        Path(args.job).write_bytes(job)
    print(tr(f"{out}: {image.width}x{image.height} điểm, {len(job)} byte gửi máy in",
             f"{out}: {image.width}x{image.height} dots, {len(job)} bytes to the printer"))
    return 0
