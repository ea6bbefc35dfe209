"""Run a private Mosquitto (Debian package) on a free loopback port: tests and the demo."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from appliance.childproc import tied_to_parent
from appliance.errors import MissingDependency, MotcuaError
from appliance.i18n import tr


def find_mosquitto() -> str:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise MissingDependency(tr(
        "chưa cài mosquitto: chạy `sudo apt-get install mosquitto mosquitto-clients`",
        "mosquitto is not installed: run `sudo apt-get install mosquitto mosquitto-clients`"
    ))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MosquittoBroker:
    """A mosquitto process in the foreground of a temp folder; ``url`` to connect to it."""

    def __init__(self, port: int | None = None, *, workdir: Path | None = None,
                 extra_config: str = "", anonymous: bool = True,
                 config_file: Path | None = None, host: str = "127.0.0.1") -> None:
        """``config_file``: run that file as it is (its listeners must include ``port``
        on ``host``) instead of writing one."""
        self.binary = find_mosquitto()
        self.port = port or free_port()
        self._own_dir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="motcua-mosquitto-"))
        self.extra_config = extra_config
        self.anonymous = anonymous
        self.config_file = config_file
        self.host = host
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if self.anonymous else 'false'}",
            # as the shipped config: retained state comes back from its owners on connect
            "persistence false",
            # running as root, mosquitto would drop to a user that cannot write our folder
            "user root" if os.geteuid() == 0 else "",
            "set_tcp_nodelay true",
            "max_packet_size 1048576",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            self.extra_config,
        ]
        conf.write_text("\n".join(line for line in lines if line) + "\n")
        return conf

    def start(self, timeout: float = 10.0) -> MosquittoBroker:
        conf = self.config_file or self._write_config()
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / "mosquitto.log", "ab")  # the child keeps it open
        self.proc = subprocess.Popen(tied_to_parent([self.binary, "-c", str(conf)]),
                                     stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log_file = self.workdir / "mosquitto.log"
                raise MotcuaError(tr(
                    f"mosquitto đã dừng với mã {self.proc.returncode}; xem {log_file}",
                    f"mosquitto exited with {self.proc.returncode}; see {log_file}"))
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise MotcuaError(tr(f"mosquitto chưa mở cổng {self.port} sau {timeout} s",
                             f"mosquitto did not listen on port {self.port} within {timeout} s"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill(self) -> None:
        """Stop abruptly, as a power cut would (clients' last wills fire on restart)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.cleanup()
