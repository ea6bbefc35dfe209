"""Apply a release on a unit: download and verify, install into a new slot, switch,
restart the role, and keep the new version only if the unit says ``ready`` on the new
version within the deadline; otherwise switch back by itself and report ``update_failed``.

The updater runs beside the role (its own process under systemd), so a release whose role
crashes at start cannot take the updater down with it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from appliance.config.base import BrokerConfig
from appliance.contract import ROOT
from appliance.i18n import tr
from appliance.update.bundle import Fetcher, UpdateRefused, download
from appliance.update.slots import Slots

log = logging.getLogger(__name__)
Report = Callable[[dict[str, Any]], None]


class Launcher:
    """The role's process, started from a slot's ``lib`` (first on the import path)."""

    def __init__(self, command: list[str], *, base_path: list[str] | None = None) -> None:
        self.command = command
        self.base_path = base_path or []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, lib: Path | None) -> None:
        path = ([str(lib)] if lib else []) + self.base_path
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        # run from the slot: `python -m` puts the working folder first on the import path
        self.proc = subprocess.Popen(self.command, env=env, cwd=lib.parent if lib else None)

    def exit_code(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class StatusWatch:
    """Follows the unit's own retained status on the site broker."""

    def __init__(self, broker: BrokerConfig, site: str, unit: str) -> None:
        self.topic = f"{ROOT}/{site}/unit/{unit}/status"
        self.update_topic = f"{ROOT}/{site}/unit/{unit}/update"
        self.release_topic = f"{ROOT}/{site}/care/release"
        self.latest: dict[str, Any] = {}
        self.on_release: Callable[[dict[str, Any]], None] | None = None
        self._cond = threading.Condition()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                   client_id=f"{site}-{unit}-updater", protocol=mqtt.MQTTv5)
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password)
        if broker.tls:  # units on the LAN reach the site broker over TLS (broker-setup)
            self._client.tls_set(ca_certs=broker.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.connect_async(broker.host, broker.port, broker.keepalive)
        self._client.loop_start()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any,
                    properties: Any) -> None:
        client.subscribe(self.topic, qos=1)
        client.subscribe(self.release_topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, m: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(m.payload)
        except ValueError:
            return
        if not isinstance(body, dict):
            return
        if m.topic == self.release_topic:
            if self.on_release is not None:
                self.on_release(body)
            return
        with self._cond:
            self.latest = body
            self._cond.notify_all()

    def report(self, body: dict[str, Any]) -> None:
        self._client.publish(self.update_topic, json.dumps(body, ensure_ascii=False),
                             qos=1, retain=True).wait_for_publish(5)

    def wait_ready(self, version: str, old_boot: Any, deadline_s: float,
                   exited: Callable[[], int | None],
                   beat: Callable[[], object] = lambda: None) -> tuple[bool, str]:
        end = time.monotonic() + deadline_s
        with self._cond:
            while True:
                beat()
                s = self.latest
                health = s.get("health") or {}
                if (s.get("state") == "ready" and s.get("boot") != old_boot
                        and health.get("version") == version):
                    return True, ""
                code = exited()
                if code is not None:
                    return False, tr(f"vai trò thoát với mã {code} khi khởi động",
                                     f"the role exited with code {code} at start")
                left = end - time.monotonic()
                if left <= 0:
                    state = s.get("state", "no status")
                    return False, tr(f"chưa sẵn sàng trên {version} sau {deadline_s:.0f} giây "
                                     f"(trạng thái cuối: {state})",
                                     f"not ready on {version} within {deadline_s:.0f} s "
                                     f"(last state: {state})")
                self._cond.wait(min(left, 0.5))

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class Updater:
    def __init__(self, slots: Slots, key: Ed25519PublicKey, fetcher: Fetcher,
                 launcher: Launcher, watch: StatusWatch, *, deadline_s: float = 120.0,
                 beat: Callable[[], object] = lambda: None) -> None:
        # beat: systemd's WATCHDOG=1 while the role is down for a switch (its own beats
        # stop then, and the watchdog must not kill the updater mid-switch)
        self.beat = beat
        self.slots = slots
        self.key = key
        self.fetcher = fetcher
        self.launcher = launcher
        self.watch = watch
        self.deadline_s = deadline_s
        self._lock = threading.Lock()

    def _report(self, version: str, state: str, reason: str = "") -> None:
        self.watch.report({"v": 1, "version": version, "state": state, "reason": reason or None,
                           "running": self.slots.start_version(), "at": time.time(),
                           "deadline_s": self.deadline_s})

    @property
    def busy(self) -> bool:
        """Applying a release: the role's exit is the updater's doing, not a crash."""
        return self._lock.locked()

    def apply(self, announcement: dict[str, Any]) -> str:
        """``kept``, ``update_failed``, ``refused`` or ``already`` (nothing to do)."""
        with self._lock:
            return self._apply(announcement)

    def _apply(self, ann: dict[str, Any]) -> str:
        version, url = ann.get("version"), ann.get("url")
        if not isinstance(version, str) or not isinstance(url, str):
            log.warning(tr("bỏ qua thông báo phát hành thiếu version/url: %s",
                           "ignoring a release announcement without version/url: %s"), ann)
            return "refused"
        if version == self.slots.start_version():
            return "already"
        if version in self.slots.failed():
            log.info(tr("bản phát hành %s đã hỏng ở đây trước đó (%s): không thử lại",
                        "release %s failed here before (%s): not tried again"), version,
                     self.slots.failed()[version])
            return "already"
        try:
            manifest, files = download(url, self.key, self.fetcher)
            try:
                if manifest["version"] != version:
                    raise UpdateRefused(tr(f"bản kê là của {manifest['version']}, "
                                           f"không phải {version}",
                                           f"the manifest is for {manifest['version']}, "
                                           f"not {version}"))
                self.slots.install(version, files, manifest)
            finally:
                shutil.rmtree(files, ignore_errors=True)
        except UpdateRefused as exc:
            log.error(tr("từ chối bản phát hành %s: %s",
                         "release %s refused: %s"), version, exc)
            self._report(version, "update_refused", str(exc))
            return "refused"
        old_boot = self.watch.latest.get("boot")
        # said first, so the province does not take the planned restart for a death
        self._report(version, "switching")
        self.launcher.stop()
        self.slots.switch(version)
        self.launcher.start(self.slots.lib_path())
        ok, reason = self.watch.wait_ready(version, old_boot, self.deadline_s,
                                           self.launcher.exit_code, self.beat)
        if ok:
            self._report(version, "kept")
            return "kept"
        log.error(tr("bản phát hành %s không chạy được: %s; quay về bản cũ",
                     "release %s failed: %s; switching back"), version, reason)
        self.launcher.stop()
        self.slots.roll_back()
        self.slots.mark_failed(version, reason)
        self.launcher.start(self.slots.lib_path())
        self._report(version, "update_failed", reason)
        return "update_failed"


def python_command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
