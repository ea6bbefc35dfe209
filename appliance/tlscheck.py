"""TLS with the broker: the one set-up every MQTT client of the project uses, and why a
TLS connection fails, told in words (paho's own loop only retries)."""

from __future__ import annotations

import socket
import ssl

import paho.mqtt.client as mqtt

from appliance.config.base import BrokerConfig
from appliance.i18n import tr


def set_up_tls(client: mqtt.Client, broker: BrokerConfig) -> None:
    """Verify the broker against the site's CA when the broker URL is ``mqtts://``."""
    if broker.tls:
        client.tls_set(ca_certs=broker.ca_file, cert_reqs=ssl.CERT_REQUIRED)


def tls_problem(broker: BrokerConfig) -> str | None:
    """Why a TLS handshake with ``broker`` fails (wrong CA, wrong name), or None."""
    if not broker.tls:
        return None
    ctx = ssl.create_default_context(cafile=broker.ca_file)
    try:
        with socket.create_connection((broker.host, broker.port), timeout=3) as raw, \
                ctx.wrap_socket(raw, server_hostname=broker.host):
            return None
    except ssl.SSLError as exc:
        return tr(f"TLS với broker {broker.url} không được: {exc}",
                  f"TLS with the broker {broker.url} failed: {exc}")
    except OSError:
        return None  # not reachable at all: that is not a TLS problem
