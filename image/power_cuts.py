"""`./run.sh image-test --power-cuts N`: the hub's card, taking a burst of tickets, loses
its power N times in a row (kill -9 of QEMU: the emulated disk keeps exactly what the guest
was told is written, ``cache=writethrough``).

The card is a real hub card: its set-up file is the demo site's hub file, so on the first
boot it makes the site broker from it (appliance/setup/site.py: the site CA, a password per
unit, the ACL) and runs it; the test reads ``motcua-site-ca.crt`` and dispenser-1's
``[broker]`` section from the handout on the boot partition, exactly as a clerk would, and
logs in over TLS to the guest's Mosquitto (a QEMU ``hostfwd`` to its port 8883) as
dispenser-1. Each round: four dispenser threads issue tickets (bench/soak.py's client),
the power is cut after a random number of answers, the card boots again and must say
``ready``; every request that got no answer is retried with its id, some answered ones are
asked again and must get the same number. At the end the card is shut down, the data
partition copied out (its journal replayed by ``e2fsck``) and the hub's database read back:
every acknowledged ticket there once, nothing unacknowledged.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import tempfile
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

from boot_test import Card, Guest, Statuses, ext4_bytes, sh

from appliance.broker import free_port
from appliance.bus import Bus
from appliance.config.base import BrokerConfig
from bench.soak import SoakClient, SoakResult, check_disk, soak_site, wait_answering

HUB_DB = "/hub/hub.sqlite3"  # on the data partition (/var/lib/motcua/hub of the card)


def hub_setup_file() -> str:
    """The soak's site (4-digit numbers, no opening hours) as the hub card's set-up file."""
    with tempfile.TemporaryDirectory() as tmp:
        text = soak_site(Path(tmp) / "site").read_text(encoding="utf-8")
    text = text.replace('role = "hub"', 'role = "hub"\nunit = "hub"', 1)
    return text + '\n[setup]\ntimezone = "Asia/Ho_Chi_Minh"\nntp = []\n'


def handout_login(card: Card, work: Path, unit: str, port: int,
                  guest: Guest, timeout: float) -> BrokerConfig:
    """``unit``'s login from the hub card's boot partition, once its set-up has made it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            ca = card.get("motcua-site-ca.crt", work / "site-ca.crt")
            text = card.get("motcua-unit-passwords.txt", work / "handout.txt").read_text()
            section = text.split(f"# --- {unit} ---\n", 1)[1].split("\n\n", 1)[0]
            broker = tomllib.loads(section)["broker"]
            if "BEGIN CERTIFICATE" in ca.read_text():
                break
        except (subprocess.CalledProcessError, IndexError, ValueError, KeyError):
            pass  # not written yet (or caught mid-write by this reader)
        if time.monotonic() > deadline:
            raise AssertionError(f"no handout on the hub card; console:\n"
                                 f"{guest.console_text()[-3000:]}")
        time.sleep(3)
    # the clerk's url names the hub's address; here the guest's port is forwarded to us
    assert re.fullmatch(r"mqtts://[\w.-]+:8883", broker["url"]), broker
    return BrokerConfig(url=f"mqtts://127.0.0.1:{port}", username=broker["username"],
                        password=broker["password"], ca_file=str(ca))


def read_hub_db(card: Card, work: Path) -> Path:
    """The hub's database from the card's data partition, without mounting anything."""
    table = json.loads(sh("sfdisk", "-J", str(card.path)).stdout)["partitiontable"]
    data = table["partitions"][2]
    part = work / "data.ext4"
    sh("dd", f"if={card.path}", f"of={part}", "bs=512", f"skip={data['start']}",
       f"count={data['size']}", "conv=sparse", "status=none")
    # replay the journal as the kernel would on the next boot (exit 1: fixed, fine)
    fsck = subprocess.run(["e2fsck", "-fy", str(part)], capture_output=True, text=True)
    assert fsck.returncode in (0, 1), f"data partition damaged: {fsck.stdout[-2000:]}"
    # the first boot grew the partition to the end of the (bigger) card, and its file system
    card_mib, part_mib = card.path.stat().st_size >> 20, data["size"] >> 11
    fs_mib = ext4_bytes(part, 0) >> 20
    assert data["start"] + data["size"] + 8192 >= card.path.stat().st_size // 512, data
    assert fs_mib >= part_mib - 4, f"file system {fs_mib} MiB in a {part_mib} MiB partition"
    print(f"  data partition and file system: {fs_mib} MiB, to the end of the {card_mib} MiB "
          "card", flush=True)
    out = work / "hub-db"
    out.mkdir(exist_ok=True)
    for suffix in ("", "-wal"):
        subprocess.run(["debugfs", "-R", f"dump {HUB_DB}{suffix} {out}/hub.sqlite3{suffix}",
                        str(part)], capture_output=True, check=True)
    db = out / "hub.sqlite3"
    assert db.exists() and db.stat().st_size > 0, "no hub database on the data partition"
    part.unlink()
    return db


def _burst_until(client: SoakClient, r: SoakResult, target: int, limit_s: float
                 ) -> tuple[threading.Event, list[threading.Thread]]:
    stop = threading.Event()
    threads = [threading.Thread(target=client.burst, args=(stop, w)) for w in range(4)]
    for t in threads:
        t.start()
    end = time.monotonic() + limit_s
    while len(r.acked) < target and time.monotonic() < end:
        time.sleep(0.005)
    return stop, threads


def power_cuts(image: Path, work: Path, cuts: int, timeout: float) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    card = Card.copy_of(image, work / "hub.img")
    card.put("motcua-setup.toml", hub_setup_file())
    port = free_port()
    guest = Guest(card, None, work, hostfwd=f"hostfwd=tcp:127.0.0.1:{port}-:8883")
    rng = random.Random(10)
    r = SoakResult()
    boots: list[float] = []
    t0 = time.monotonic()
    guest.start()
    bus: Bus | None = None
    statuses: Statuses | None = None
    try:
        # the first boot also grows the data partition and makes two RSA keys: a loaded
        # emulated Pi took over 10 minutes to reach the set-up alone
        login = handout_login(card, work, "dispenser-1", port, guest, 3 * timeout)
        statuses = Statuses(login)
        bus = Bus(site="demo", unit="dispenser-1", role="dispenser", broker=login,
                  status_interval_s=3600)
        bus.start()
        # an emulated Pi answers in tens of milliseconds, not the soak's few
        client = SoakClient(bus, r, timeout=3.0)
        for k in range(cuts + 1):
            ready = statuses.wait("hub", "ready", timeout, after=guest.started)
            boots.append(ready - guest.started)
            print(f"  hub card boot {k + 1}: ready {boots[-1]:.0f} s after power-on", flush=True)
            wait_answering(bus, timeout=timeout, ping_s=5.0)
            client.settle(rng)  # what the last cut left unanswered, and a few answered again
            if k == cuts:
                break
            target = len(r.acked) + rng.randint(5, 25)
            stop, threads = _burst_until(client, r, target, limit_s=120)
            guest.power_cut()  # mid-burst, no warning
            r.kills += 1
            stop.set()
            for t in threads:
                t.join()
            print(f"  power cut {r.kills} with {len(r.acked)} tickets acknowledged", flush=True)
            guest.start()
        guest.power_off()
        check_disk(read_hub_db(card, work), r)
    finally:
        guest.power_cut()
        for b in (bus, statuses):
            if b is not None:
                b.stop()
    r.seconds = time.monotonic() - t0
    print(f"power cuts: {r.line()}; {len(boots)} of {cuts + 1} boots ready "
          f"(power-on to ready {min(boots):.0f}–{max(boots):.0f} s)")
    assert r.clean, r.line()
    assert len(boots) == cuts + 1
    shutil.rmtree(work / "hub-db", ignore_errors=True)
    card.path.unlink()
    return {"cuts": r.kills, "boots_ready": len(boots), "tickets": len(r.acked),
            "lost": r.lost, "duplicated": r.duplicated, "changed_on_retry": r.changed_on_retry,
            "phantom": r.phantom, "interrupted": r.interrupted,
            "first_boot_to_ready_s": round(boots[0], 1),
            "reboot_to_ready_s": [round(b, 1) for b in boots[1:]], "seconds": round(r.seconds)}

