"""Read and validate unit config files; report every problem with its file and key path."""

from __future__ import annotations

import errno
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from appliance.config.unit import UnitConfig
from appliance.errors import ConfigError
from appliance.i18n import language, tr


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


_OS_VI = {errno.ENOENT: "không có tệp này", errno.EACCES: "không có quyền đọc",
          errno.EISDIR: "đây là một thư mục, không phải tệp"}

# pydantic's error types, in Vietnamese (its English messages are kept as they are)
_PYDANTIC_VI = {
    "int_type": "phải là số nguyên", "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên", "float_type": "phải là số",
    "float_parsing": "phải là số", "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false", "string_type": "phải là chữ (trong dấu nháy)",
    "list_type": "phải là một danh sách [...]", "dict_type": "phải là một bảng (mục TOML)",
    "model_type": "phải là một bảng (mục TOML)", "model_attributes_type":
    "phải là một bảng (mục TOML)", "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải lớn hơn hoặc bằng {ge}", "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "phải nhỏ hơn hoặc bằng {le}",
    "literal_error": "phải là một trong: {expected}", "enum": "phải là một trong: {expected}",
    "string_too_short": "quá ngắn (ít nhất {min_length} ký tự)",
    "string_too_long": "quá dài (nhiều nhất {max_length} ký tự)",
    "too_short": "cần ít nhất {min_length} mục", "too_long": "nhiều nhất {max_length} mục",
    "string_pattern_mismatch": "không đúng dạng (mẫu {pattern})",
    "time_parsing": "phải là giờ dạng HH:MM", "time_type": "phải là giờ dạng HH:MM",
    "date_parsing": "phải là ngày dạng YYYY-MM-DD", "date_type": "phải là ngày dạng YYYY-MM-DD",
    "union_tag_invalid": "loại {tag!r} không có; chọn một trong: {expected_tags}",
    "union_tag_not_found": "thiếu khoá {discriminator}",
}


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return tr("khoá không có trong cấu hình (kiểm tra chính tả; xem "
                  "firmware_config/examples)",
                  "unknown key (check the spelling; see firmware_config/examples)")
    if kind == "missing":
        return tr("thiếu khoá bắt buộc", "required key is missing")
    msg = str(err["msg"]).removeprefix("Value error, ")  # ours: already in the language
    vi = _PYDANTIC_VI.get(kind)
    if vi is None or language() == "en":
        return msg
    try:
        return vi.format(**(err.get("ctx") or {}))
    except (KeyError, IndexError):
        return msg


def field_message(err: Any) -> str:
    """The same words for a field of an HTTP request (JSON or a form, not a TOML file)."""
    kind = err["type"]
    if kind == "extra_forbidden":
        return tr("trường không có trong yêu cầu", "unknown field")
    if kind == "missing":
        return tr("thiếu trường bắt buộc", "field required")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return tr("phải là một đối tượng {...}", str(err.get("msg", "")))
    return _message(err)


def explain(source: str, exc: ValidationError) -> list[str]:
    return [f"{source}: {_key_path(tuple(err['loc']))}: {_message(err)}"
            for err in exc.errors()]


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
        why = tr(_OS_VI.get(exc.errno or 0, ""), "") or exc.strerror or exc
        raise ConfigError([tr(f"{source}: không đọc được tệp: {why}",
                              f"{source}: cannot read the file: {why}")]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError([tr(f"{source}: không phải văn bản UTF-8 (byte {exc.start})",
                                f"{source}: not UTF-8 text (byte {exc.start})")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([tr(f"{source}: không đúng cú pháp TOML: {exc}",
                                f"{source}: not valid TOML: {exc}")]) from None
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
