"""Read and validate unit config files; report every problem with its file and key path."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from appliance.config.unit import UnitConfig
from appliance.errors import ConfigError


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item.startswith(("function-", "tagged-union")):
            continue
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts) or "(top level)"


def explain(source: str, exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        key = _key_path(tuple(err["loc"]))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see firmware_config/examples)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        msg = msg.removeprefix("Value error, ")
        problems.append(f"{source}: {key}: {msg}")
    return problems


def parse_unit_config(
    data: dict[str, Any],
    *,
    source: Path | None = None,
    broker_url: str | None = None,
    data_dir: Path | None = None,
) -> UnitConfig:
    data = dict(data)
    if source is not None:
        data.setdefault("unit", source.stem)
    if broker_url is not None:
        broker = dict(data.get("broker") or {})
        broker["url"] = broker_url
        data["broker"] = broker
    name = str(source) if source else "<config>"
    try:
        config = UnitConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain(name, exc)) from None
    config._source = source.resolve() if source else None
    config._data_override = data_dir.resolve() if data_dir else None
    return config


def load_unit_config(
    path: str | Path, *, broker_url: str | None = None, data_dir: str | Path | None = None
) -> UnitConfig:
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read the file: {exc.strerror or exc}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{source}: not UTF-8 text (byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{source}: not valid TOML: {exc}"]) from None
    return parse_unit_config(
        data,
        source=source,
        broker_url=broker_url,
        data_dir=Path(data_dir) if data_dir else None,
    )


def check_files(paths: list[str]) -> list[str]:
    """Every problem in every file; an empty list means all files are good."""
    problems: list[str] = []
    for p in paths:
        try:
            load_unit_config(p)
        except ConfigError as exc:
            problems.extend(exc.problems)
    return problems
