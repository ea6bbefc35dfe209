"""Each role on the emulated Pi: start to ready, idle CPU over 60 s, RSS — beside the guest's
own baselines (``python3 -c pass``, SQLite commits/s) and the same baselines on this host,
so the guest's slowness is a measured factor, not a guess.

    .venv/bin/python bench/bench_guest.py [--image build/image/motcua-<v>-arm64.img]

The card's own kernel boots with ``systemd.run=`` starting bench/guest_roles.py (copied to the
boot partition) instead of the set-up; the figures come back on the serial console.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "image"))
sys.path.insert(0, str(REPO / "bench"))

import guest_roles  # noqa: E402


def main() -> int:
    import boot_test

    parser = argparse.ArgumentParser(description=__doc__)
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    parser.add_argument("--image", type=Path,
                        default=REPO / f"build/image/motcua-{version}-arm64.img")
    parser.add_argument("--timeout", type=float, default=1500)
    args = parser.parse_args()
    work = REPO / "build/image/bench"
    work.mkdir(parents=True, exist_ok=True)
    host = {"python_c_pass_s": guest_roles.python_start_s()}
    with tempfile.TemporaryDirectory() as tmp:
        guest_roles.DATA = Path(tmp)
        host["sqlite_commits_per_s"] = guest_roles.sqlite_commits_per_s()
    card = boot_test.Card.copy_of(args.image, work / "bench.img")
    card.put("guest_roles.py", (REPO / "bench/guest_roles.py").read_text())
    import os

    os.environ["MOTCUA_GUEST_APPEND"] = (
        "systemd.journald.max_level_console=err systemd.mask=motcua-setup.service "
        'systemd.run="/opt/motcua/venv/bin/python /boot/firmware/guest_roles.py" '
        "systemd.run_success_action=poweroff")
    guest = boot_test.Guest(card, 9, work)
    guest.start()
    try:
        deadline = time.monotonic() + args.timeout
        line = ""
        while time.monotonic() < deadline and not line:
            for text in guest.console_text().splitlines():
                if "MOTCUA-BENCH " in text:
                    line = text.split("MOTCUA-BENCH ", 1)[1]
            time.sleep(2)
        if not line:
            raise SystemExit(f"no figures from the guest; see {guest.console}")
    finally:
        guest.power_cut()
    g = json.loads(line)
    slow_py = g["python_c_pass_s"] / host["python_c_pass_s"]
    slow_db = host["sqlite_commits_per_s"] / max(g["sqlite_commits_per_s"], 1e-9)
    print(f"baseline python3 -c pass: guest {g['python_c_pass_s']:.2f} s, host "
          f"{host['python_c_pass_s']:.2f} s (guest x{slow_py:.1f} slower)")
    print(f"baseline SQLite WAL synchronous=FULL commits/s: guest "
          f"{g['sqlite_commits_per_s']:.0f}, host {host['sqlite_commits_per_s']:.0f} "
          f"(guest x{slow_db:.1f} slower)")
    print(f"{'role':<10} {'start→ready s':>14} {'÷ python -c pass':>17} {'idle CPU %':>11} "
          f"{'RSS MB':>8}")
    for role, r in g["roles"].items():
        print(f"{role:<10} {r['start_to_ready_s']:>14.1f} "
              f"{r['start_to_ready_s'] / g['python_c_pass_s']:>17.1f} "
              f"{r['idle_cpu_pct']:>11.2f} {r['rss_mb']:>8.1f}")
    print(f"all six roles together: {g['rss_total_mb']:.0f} MB RSS (goal 400 MB)")
    (work / "results.json").write_text(json.dumps({"guest": g, "host": host}, indent=2))
    subprocess.run(["rm", "-f", str(card.path)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
