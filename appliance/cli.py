"""The `motcua` command. Each subcommand imports its role only when chosen (import time)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable

from appliance import i18n
from appliance.errors import ConfigError, MotcuaError
from appliance.i18n import tr
from appliance.logs import configure_logging

# subcommand -> (module with `add_arguments(parser)` and `run(args) -> int`, help vi, en)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check-config": ("appliance.checkconfig", "kiểm tra tệp cấu hình, không chạy gì",
                     "validate config files without starting anything"),
    "hub": ("appliance.hub.bootstrap", "chạy máy chủ tại chỗ (hàng đợi)",
            "run the site hub (queue engine)"),
    "dispenser": ("appliance.dispenser.bootstrap", "chạy máy lấy số", "run a ticket dispenser"),
    "ticket-preview": ("appliance.dispenser.preview", "vẽ ảnh phiếu mà máy lấy số sẽ in",
                       "write the ticket image a dispenser prints"),
    "counter": ("appliance.counter.bootstrap", "chạy thiết bị tại quầy", "run a counter unit"),
    "board": ("appliance.board.bootstrap", "chạy màn hình phòng chờ",
              "run a lobby display board"),
    "store": ("appliance.store.bootstrap", "chạy kho hồ sơ", "run the dossier store"),
    "receipt": ("appliance.store.receipt_cli", "vẽ giấy tiếp nhận hồ sơ (PNG hoặc PDF)",
                "render a dossier receipt (PNG or PDF)"),
    "lookup": ("appliance.lookup.bootstrap", "chạy máy tra cứu cảm ứng",
               "run the touch lookup terminal"),
    "demo": ("appliance.demo.main", "chạy cả một bộ phận một cửa ảo trên máy này",
             "run a whole virtual office"),
    "broker-setup": ("appliance.sitebroker", "tạo chứng chỉ TLS, mật khẩu từng thiết bị, ACL "
                     "và cấu hình cho broker của điểm", "make the site broker's TLS "
                     "certificates, unit passwords, ACL and config"),
    "care": ("appliance.care.bootstrap", "chạy máy chủ chăm sóc của tỉnh (hoặc: enrol ĐIỂM)",
             "run the province care server (or: enrol SITE)"),
    "update": ("appliance.update.run", "chạy một vai trò từ khe bản phát hành, tự cập nhật",
               "run a role from its release slot, applying updates"),
    "backup": ("appliance.backup.agent", "gửi bản sao cơ sở dữ liệu của điểm lên máy chủ chăm sóc",
               "send copies of a site's databases to the care server"),
    "restore": ("appliance.care.restore", "chép bản sao mới nhất của một điểm vào thẻ nhớ",
                "put a site's latest database copies onto a card"),
    "record-exit": ("appliance.exits", "ghi lại vì sao một lần chạy của vai trò kết thúc "
                    "(ExecStopPost= của systemd)", "note why a role's run ended (systemd "
                    "ExecStopPost=)"),
    "setup": ("appliance.setup.firstboot", "áp dụng tệp motcua-setup.toml trên phân vùng khởi động",
              "apply the boot partition's motcua-setup.toml"),
    "status": ("appliance.monitor", "xem tình trạng mọi thiết bị (mã thoát 1 nếu có thiết bị "
               "chưa sẵn sàng)", "show every unit's health (exit 1 if any is not ready)"),
}


def _language_from(argv: list[str]) -> None:
    """``--lang en`` anywhere before the subcommand's own options: read before the help
    texts are made (they are made in the chosen language)."""
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            os.environ[i18n.ENV] = argv[i + 1]
        elif a.startswith("--lang="):
            os.environ[i18n.ENV] = a.split("=", 1)[1]


def _build_parser(
    argv: list[str],
) -> tuple[argparse.ArgumentParser, dict[str, Callable[..., int]]]:
    parser = i18n.Parser(prog="motcua", description=tr(
        "motcua: phần mềm bộ phận một cửa. Mỗi lệnh chạy một vai trò của một thiết bị.",
        "motcua: the one-stop office software. Each command runs one unit's role."))
    parser.add_argument("-v", "--verbose", action="store_true",
                        help=tr("ghi nhật ký chi tiết (debug)", "debug logging"))
    parser.add_argument("--lang", choices=["vi", "en"], metavar="vi|en",
                        help=tr("ngôn ngữ của thông báo (mặc định: tiếng Việt; hoặc đặt "
                                "MOTCUA_LANG=en)", "language of messages (default Vietnamese; "
                                "or set MOTCUA_LANG=en)"))
    sub = parser.add_subparsers(dest="command", metavar=tr("LỆNH", "COMMAND"), required=True,
                                title=tr("lệnh", "commands"))
    runners: dict[str, Callable[..., int]] = {}
    chosen = next((a for a in argv if not a.startswith("-") and a not in ("vi", "en")), None)
    for name, (module_name, help_vi, help_en) in COMMANDS.items():
        p = sub.add_parser(name, help=tr(help_vi, help_en), description=tr(help_vi, help_en))
        if name != chosen:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                p.set_defaults(_missing=tr(f"bản cài này chưa có lệnh '{name}'",
                                           f"'{name}' is not part of this build yet"))
                continue
            raise
        module.add_arguments(p)
        runners[name] = module.run
    return parser, runners


def main(argv: list[str] | None = None) -> int:
    # pygame greets on stdout at its first import, which any role may do: not for a unit
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    argv = sys.argv[1:] if argv is None else argv
    _language_from(argv)
    parser, runners = _build_parser(argv)
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    missing = getattr(args, "_missing", None)
    if missing:
        print(f"motcua: {missing}", file=sys.stderr)
        return 2
    try:
        return runners[args.command](args)
    except ConfigError as exc:
        print(tr("Lỗi cấu hình:", "Config errors:"), file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except MotcuaError as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
