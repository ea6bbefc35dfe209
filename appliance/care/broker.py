"""Run the care broker (Debian's Mosquitto) with the config ``enrol`` prepared: the care
server's own command for a small province, and what the tests and the benchmark start."""

from __future__ import annotations

import os
from pathlib import Path

from appliance.broker import MosquittoBroker, free_port
from appliance.care.enrol import BrokerFiles


class CareMosquitto(MosquittoBroker):
    """Mosquitto with a loopback listener (``port``) and a TLS one for sites."""

    def __init__(self, files: BrokerFiles, *, workdir: Path, tls_port: int | None = None,
                 port: int | None = None, bind: str = "127.0.0.1") -> None:
        super().__init__(port, workdir=workdir, anonymous=False)
        self.files = files
        self.tls_port = tls_port or free_port()
        self.bind = bind

    def _write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        lines = [
            "persistence false",
            "user root" if os.geteuid() == 0 else "",
            "max_packet_size 1048576",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            self.files.config(tls_port=self.tls_port, local_port=self.port, bind=self.bind),
        ]
        conf.write_text("\n".join(line for line in lines if line) + "\n")
        return conf
