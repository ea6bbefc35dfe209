"""`motcua demo`: a whole virtual office on this machine.

Headless (`--headless --minutes N`) runs N simulated minutes as fast as it can and prints
the day's figures from the hub's own records. Otherwise it runs in real time (or faster
with `--speed`) with the units' windows open, until Ctrl-C or `--minutes`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import NoReturn

from appliance.clock import VN_TZ, Clock, ManualClock, OffsetClock
from appliance.config.site import WEEKDAYS, SiteConfig
from appliance.demo.office import Office
from appliance.demo.simulate import Morning
from appliance.hub.report import day_report, format_report
from appliance.i18n import tr

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--headless", action="store_true", help=tr(
        "không mở cửa sổ: chạy giờ mô phỏng nhanh nhất có thể, ghi ảnh PNG",
        "no windows: simulated time as fast as possible, PNG output"))
    parser.add_argument("--minutes", type=float, default=None, metavar=tr("PHÚT", "MINUTES"),
                        help=tr("số phút mô phỏng (mặc định: 240 khi --headless, không dừng "
                                "khi có cửa sổ)", "simulated minutes to run (default: 240 "
                                "headless, forever live)"))
    parser.add_argument("--speed", type=float, default=1.0, metavar=tr("LẦN", "TIMES"),
                        help=tr("khi có cửa sổ: số giây mô phỏng cho mỗi giây thật",
                                "live mode: simulated seconds per real second"))
    parser.add_argument("--broker", metavar="URL", help=tr(
        "dùng broker này thay vì tự chạy một broker", "use this broker instead of starting one"))
    parser.add_argument("--out", metavar=tr("THƯ_MỤC", "DIR"), default="demo-out", help=tr(
        "nơi ghi phiếu, ảnh, âm thanh và dữ liệu (mặc định demo-out)",
        "where tickets, frames, sounds and data go (default demo-out)"))
    parser.add_argument("--seed", type=int, default=1, metavar=tr("SỐ", "N"), help=tr(
        "hạt giống ngẫu nhiên của buổi sáng mô phỏng", "random seed of the simulated morning"))


def opening_time(site: SiteConfig, today: date) -> datetime:
    """The next working day's opening time (today's if today is one)."""
    day = today
    while WEEKDAYS[day.weekday()] not in site.hours.days:
        day += timedelta(days=1)
    return datetime.combine(day, site.hours.open, tzinfo=site.tz)


def _stop_on_signals() -> None:
    """SIGTERM (systemd, ``timeout``, ``kill``) ends the demo as Ctrl-C does.

    Installed before pygame starts: SDL takes over a signal whose handler is still the
    default and turns it into a window's quit event, so the windows closed and the rest of
    the office (its Mosquitto among it) went on running. After the first signal further ones
    are ignored, so that a second one cannot cut the clean-up short.
    """
    def handler(signum: int, frame: object) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")


def run(args: argparse.Namespace) -> int:
    _stop_on_signals()
    if not args.headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print(tr("motcua demo: không có màn hình, chạy không cửa sổ (ảnh PNG thay cho cửa sổ)",
                 "motcua demo: no display here, running headless (PNG frames instead of "
                 "windows)"))
        args.headless = True
    if args.headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    today = datetime.now(VN_TZ).date()
    # the clock is made once the site is known; a placeholder start is replaced below
    clock: Clock = ManualClock(datetime.combine(today, datetime.min.time(), tzinfo=VN_TZ))
    office: Office | None = None
    minutes = args.minutes if args.minutes is not None else (240.0 if args.headless else 1e9)
    try:
        office = Office(out_dir, clock, headless=args.headless, broker_url=args.broker)
        start = opening_time(office.site, today)
        if args.headless:
            assert isinstance(clock, ManualClock)
            clock.set(start)
        else:
            clock = OffsetClock(start, speed=args.speed)
            office.clock = clock
        print(f"motcua demo: {office.site.office_name}")
        print(tr(f"  broker {office.broker_url}, kết quả ghi vào {out_dir.resolve()}",
                 f"  broker {office.broker_url}, output in {out_dir.resolve()}"))
        office.start()
        units = "hub" + "".join(", " + r for r in office.attached)
        print(tr(f"  thiết bị: {units}", f"  units: {units}"))
        morning = Morning(office, start, seed=args.seed)
        morning.run(minutes, realtime_speed=None if args.headless else args.speed)
    except KeyboardInterrupt:
        print(tr("\nđã dừng", "\nstopped"))
        if office is not None:
            office.interrupted = True
        if office is None or office.hub is None:
            return 130
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        if office is not None:
            office.stop()
    log.debug("demo: stopped; the day's figures follow")
    names = {s.id: s.name for s in office.site.services}
    report = day_report(office.hub_config.data_path / "hub.sqlite3", start.date().isoformat())
    ran = max(0.0, (office.clock.now() - start).total_seconds() / 60)
    print(tr(f"\nĐã mô phỏng {ran:.0f} phút từ {start:%H:%M}.",
             f"\nSimulated {ran:.0f} minutes from {start:%H:%M}."))
    print(format_report(report, names))
    if office.interrupted:
        _leave_now()
    return 0


def _leave_now() -> NoReturn:
    """Exit without the interpreter's teardown, once a signal has stopped the demo.

    Every unit, the hub and the broker are stopped and their files closed by now; what is
    left is Python unwinding the store, the renderers and a dozen libraries, which took
    2-3 s on a loaded two-core machine (measured: after the last atexit handler) and
    pushed a SIGTERM past a service manager's patience. Output is flushed first.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
