"""Each role on the emulated Pi: start to ready, idle CPU over 60 s, RSS — beside the guest's
own baselines (``python3 -c pass``, SQLite commits/s) and the same baselines on this host,
so the guest's slowness is a measured factor, not a guess.

    .venv/bin/python bench/bench_guest.py [--image build/image/motcua-<v>-arm64.img]

The card's own kernel boots with ``systemd.run=`` starting bench/guest_roles.py (bench/ and
firmware_config/ copied to the boot partition) instead of the set-up; the roles' figures come
back on the serial console, then the project's board, hub, counter and dispenser benchmarks
run inside the guest too (issue 16: absolute figures from a slow CPU) and their outputs are
read back from the boot partition.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

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
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--benches", default=",".join(guest_roles.BENCHES), help=(
        "the project benchmarks to run inside the guest after the roles' figures"))
    args = parser.parse_args()
    work = REPO / "build/image/bench"
    work.mkdir(parents=True, exist_ok=True)
    host = {"python_c_pass_s": guest_roles.python_start_s()}
    # on the disk that holds the guest's card: the same device under both figures
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        guest_roles.DATA = Path(tmp)
        host["sqlite_commits_per_s"] = guest_roles.sqlite_commits_per_s()
    card = boot_test.Card.copy_of(args.image, work / "bench.img")
    stage = work / "motcua-bench"
    shutil.rmtree(stage, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "out", "*.pyc")
    shutil.copytree(REPO / "bench", stage / "bench", ignore=ignore)
    shutil.copytree(REPO / "firmware_config", stage / "firmware_config", ignore=ignore)
    boot_test.sh("mcopy", "-s", "-o", "-i", card._fat(), str(stage), "::")
    script = "/boot/firmware/motcua-bench/bench/guest_roles.py"
    # the boot partition is a nofail mount: nothing orders it before this command, so the
    # command waits for it (single quotes: systemd's ExecStart= quoting; no $ in it)
    run = (f"/bin/sh -c 'until test -e {script}; do sleep 1; done; "
           f"exec /opt/motcua/venv/bin/python {script} {args.benches}'")
    os.environ["MOTCUA_GUEST_APPEND"] = (
        "systemd.journald.max_level_console=err systemd.mask=motcua-setup.service "
        f'systemd.run="{run}" systemd.run_success_action=poweroff')
    guest = boot_test.Guest(card, None, work)
    guest.start()
    t0 = time.monotonic()
    try:
        found: dict[str, str] = {}
        while time.monotonic() < t0 + args.timeout and "MOTCUA-BENCH" not in found:
            for text in guest.console_text().splitlines():
                for marker in ("MOTCUA-ROLES", "MOTCUA-BENCH"):
                    if f"{marker} " in text:
                        found[marker] = text.split(f"{marker} ", 1)[1]
            if guest.proc is not None and guest.proc.poll() is not None:
                break
            time.sleep(2)
        if not found:
            raise SystemExit(f"no figures from the guest; see {guest.console}")
        if guest.proc is not None:
            try:
                guest.proc.wait(timeout=120)  # it powers itself off: the FAT is clean
            except subprocess.TimeoutExpired:
                pass
    finally:
        guest.power_cut()
    g = json.loads(found.get("MOTCUA-BENCH") or found["MOTCUA-ROLES"])
    print(f"emulated Cortex-A53 guest (qemu-system-aarch64 TCG, 2 vCPUs), whole run "
          f"{time.monotonic() - t0:.0f} s")
    report(g, host)
    outs = work / "bench-out"
    shutil.rmtree(outs, ignore_errors=True)
    subprocess.run(["mcopy", "-s", "-o", "-i", card._fat(), "::bench-out", str(work)],
                   check=False, capture_output=True)
    for name, done in (g.get("benches") or {}).items():
        print(f"\n== {name} benchmark inside the guest (exit {done['rc']}, {done['s']} s) ==")
        text = (outs / f"{name}.txt").read_text(errors="replace") if (
            outs / f"{name}.txt").exists() else "(no output)"
        print("\n".join(line for line in text.splitlines()
                        if " INFO " not in line and " WARNING " not in line))
    (work / "results.json").write_text(json.dumps({"guest": g, "host": host}, indent=2))
    card.path.unlink()
    return 0


def report(g: dict[str, Any], host: dict[str, float]) -> None:
    slow_py = g["python_c_pass_s"] / host["python_c_pass_s"]
    slow_db = host["sqlite_commits_per_s"] / max(g["sqlite_commits_per_s"], 1e-9)
    print(f"baseline python3 -c pass: guest {g['python_c_pass_s']:.2f} s, host "
          f"{host['python_c_pass_s']:.3f} s (guest x{slow_py:.1f} slower)")
    print(f"baseline SQLite WAL synchronous=FULL commits/s: guest "
          f"{g['sqlite_commits_per_s']:.0f}, host {host['sqlite_commits_per_s']:.0f} "
          f"(guest x{slow_db:.1f} slower)")
    print(f"{'role':<10} {'start→ready s':>14} {'÷ python -c pass':>17} {'idle CPU %':>11} "
          f"{'RSS MB':>8}")
    for role, r in g["roles"].items():
        print(f"{role:<10} {r['start_to_ready_s']:>14.1f} "
              f"{r['start_to_ready_s'] / g['python_c_pass_s']:>17.1f} "
              f"{r['idle_cpu_pct']:>11.2f} {r['rss_mb']:>8.1f}")
    for role, why in (g.get("failed") or {}).items():
        print(f"{role:<10} never ready: {why}")
    print(f"all roles together: {g['rss_total_mb']:.0f} MB RSS (goal 400 MB); goals: "
          "ready <= 10 s, idle <= 2 % of a core")


if __name__ == "__main__":
    sys.exit(main())
