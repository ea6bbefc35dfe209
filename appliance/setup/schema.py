"""The set-up file: a unit config (checked exactly as `motcua check-config` checks one) plus
a ``[setup]`` table for what only a card needs: network, Wi-Fi, time.

Every problem is reported at once, each naming its key, in the clerk's language first.
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from appliance.config.base import StrictModel, TimeZoneName
from appliance.config.loader import explain, parse_unit_config
from appliance.config.unit import UnitConfig
from appliance.errors import ConfigError
from appliance.i18n import tr

SETUP_FILE = "motcua-setup.toml"
# what a secret reads as once it has been moved off the boot partition
SAVED = "(đã lưu trên thiết bị / saved on the unit)"
SECRET_KEYS = (("broker", "password"), ("setup", "network", "wifi_password"))


class NetworkSetup(StrictModel):
    kind: Literal["wired", "wifi"] = "wired"
    address: str = "dhcp"  # or "192.168.1.21/24"
    gateway: str | None = None
    dns: list[str] = Field(default_factory=list)
    wifi_ssid: str | None = None
    wifi_password: str | None = Field(default=None, min_length=8, max_length=63)
    wifi_country: str = Field(default="VN", pattern=r"^[A-Z]{2}$")

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if value != "dhcp":
            try:
                ipaddress.ip_interface(value)
            except ValueError:
                raise ValueError(tr('phải là "dhcp" hoặc một địa chỉ kèm độ dài tiền tố, '
                                    'ví dụ "192.168.1.21/24"',
                                    'must be "dhcp" or an address with its prefix, '
                                    'e.g. "192.168.1.21/24"')) from None
            if "/" not in value:
                raise ValueError(tr('cần độ dài tiền tố, ví dụ "192.168.1.21/24"',
                                    'needs its prefix length, e.g. "192.168.1.21/24"'))
        return value

    @field_validator("gateway")
    @classmethod
    def _gateway(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.ip_address(value)
        return value

    @field_validator("dns")
    @classmethod
    def _dns(cls, value: list[str]) -> list[str]:
        for v in value:
            ipaddress.ip_address(v)
        return value

    @model_validator(mode="after")
    def _wifi(self) -> NetworkSetup:
        if self.kind == "wifi" and not self.wifi_ssid:
            raise ValueError(tr('kind = "wifi" cần wifi_ssid (tên mạng)',
                                'kind = "wifi" needs wifi_ssid (the network name)'))
        if self.kind == "wifi" and not self.wifi_password:
            raise ValueError(tr('kind = "wifi" cần wifi_password (mật khẩu mạng)',
                                'kind = "wifi" needs wifi_password'))
        if self.address != "dhcp" and self.gateway is None:
            raise ValueError(tr("địa chỉ cố định cần gateway (cổng mạng)",
                                "a fixed address needs a gateway"))
        return self


class SetupSection(StrictModel):
    timezone: TimeZoneName = "Asia/Ho_Chi_Minh"
    # where the unit takes its time from; by default the broker's host (the hub card serves
    # NTP: a Pi has no battery clock and the office may have no internet)
    ntp: list[str] | None = None
    network: NetworkSetup = NetworkSetup()


@dataclass(frozen=True)
class Setup:
    unit: UnitConfig
    setup: SetupSection
    unit_data: dict[str, Any]  # the unit config as written to /etc/motcua/unit.toml
    raw: dict[str, Any]  # the whole file as read

    @property
    def ntp_servers(self) -> list[str]:
        if self.setup.ntp is not None:
            return self.setup.ntp
        return [] if self.unit.role == "hub" else [self.unit.broker.host]


def read_setup(path: Path, saved_secrets: dict[str, Any] | None = None) -> Setup:
    """Parse and check ``path``; secrets replaced by :data:`SAVED` come from ``saved``."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: không có tệp cài đặt / the set-up file is missing"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: không phải văn bản UTF-8 / not UTF-8 text "
                           f"(byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: không đọc được / cannot read: {exc}"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: sai cú pháp TOML / not valid TOML: {exc}"]) from None
    return check_setup(raw, path, saved_secrets or {})


def check_setup(raw: dict[str, Any], path: Path, saved: dict[str, Any]) -> Setup:
    data = restore_secrets(raw, saved)
    problems: list[str] = []
    if "unit" not in data:
        # never a default from a file or path name: the hub knows units by this id
        problems.append(f"{path}: unit: required key is missing (the unit's id, e.g. "
                        '"dispenser-1")')
    for keys in SECRET_KEYS:
        if _get(data, keys) == SAVED:  # a card moved to another unit, or a new data partition
            problems.append(f"{path}: {'.'.join(keys)}: says it is saved on the unit, but "
                            "this unit has none saved: write it again")
    section: SetupSection | None = None
    try:
        section = SetupSection.model_validate(data.get("setup") or {})
    except ValidationError as exc:
        problems += [p.replace(f"{path}: ", f"{path}: setup.", 1)
                     for p in explain(str(path), exc)]
    unit_data = {k: v for k, v in data.items() if k != "setup"}
    unit: UnitConfig | None = None
    try:
        unit = parse_unit_config(unit_data)
    except ConfigError as exc:
        problems += [p.replace("<config>", str(path), 1) for p in exc.problems]
    if problems or unit is None or section is None:
        raise ConfigError(problems)
    return Setup(unit, section, unit_data, raw)


def _get(d: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _set(d: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def secrets_of(raw: dict[str, Any]) -> dict[str, Any]:
    """The secrets written in the file (not yet replaced by SAVED), by dotted key."""
    found = {}
    for keys in SECRET_KEYS:
        value = _get(raw, keys)
        if isinstance(value, str) and value != SAVED:
            found[".".join(keys)] = value
    return found


def restore_secrets(raw: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    data = _deep_copy(raw)
    for keys in SECRET_KEYS:
        if _get(data, keys) == SAVED:
            dotted = ".".join(keys)
            if dotted in saved:
                _set(data, keys, saved[dotted])
    return data


def _deep_copy(d: Any) -> Any:
    if isinstance(d, dict):
        return {k: _deep_copy(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_deep_copy(v) for v in d]
    return d
