"""Run the care broker (Debian's Mosquitto) with the config ``enrol`` prepared: what
``motcua care --config care.toml broker`` runs (under systemd: motcua-care-broker.service),
and what the tests and the benchmark start."""

from __future__ import annotations

import os
from pathlib import Path

from appliance.broker import MosquittoBroker, find_mosquitto, free_port
from appliance.care.config import CareConfig
from appliance.care.enrol import BrokerFiles, ensure_broker


def mosquitto_conf(files: BrokerFiles, *, tls_port: int, local_port: int, bind: str) -> str:
    lines = [
        "persistence false",
        "user root" if os.geteuid() == 0 else "",
        "max_packet_size 1048576",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        files.config(tls_port=tls_port, local_port=local_port, bind=bind),
    ]
    return "\n".join(line for line in lines if line) + "\n"


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
        conf.write_text(mosquitto_conf(self.files, tls_port=self.tls_port,
                                       local_port=self.port, bind=self.bind))
        return conf


def exec_broker(config: CareConfig) -> None:
    """Become the care broker (exec): its pid is the service's main pid, so
    ``systemctl reload`` (SIGHUP) makes it read the password file ``enrol`` changed."""
    files = ensure_broker(config)
    conf = files.password_file.parent / "mosquitto.conf"
    conf.write_text(mosquitto_conf(files, tls_port=config.care_broker.public_port,
                                   local_port=config.broker.port, bind="0.0.0.0"))
    binary = find_mosquitto()
    os.execv(binary, [binary, "-c", str(conf)])
