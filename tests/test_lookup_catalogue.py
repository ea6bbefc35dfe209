"""The kiosk's catalogue cache and fetch, and its strict config section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appliance.config import load_unit_config, parse_unit_config
from appliance.errors import ConfigError, ContractError
from appliance.lookup import catalogue as cat
from appliance.lookup import sample

EXAMPLE = Path(__file__).resolve().parent.parent / "firmware_config" / "examples" / "demo-site"


def test_save_then_load_round_trips_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "data" / "catalogue.json"
    original = sample.catalogue()
    cat.save(path, original)
    assert [p.name for p in path.parent.iterdir()] == ["catalogue.json"]
    again = cat.load(path)
    assert again == original
    birth = again.get("1.001193")
    assert birth is not None and birth["name"] == "Đăng ký khai sinh"
    assert again.sectors == ("Chính sách xã hội", "Chứng thực", "Đất đai", "Hộ tịch")


def test_missing_cache_is_an_empty_catalogue(tmp_path: Path) -> None:
    assert cat.load(tmp_path / "nope.json").empty


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": 99}', b"\xff\xfe",
                                     b'{"format": 1, "version": "x", "procedures": [{}]}'])
def test_damaged_cache_is_ignored_not_fatal(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "catalogue.json"
    path.write_bytes(content)
    assert cat.load(path).empty


def test_cache_text_is_nfc(tmp_path: Path) -> None:
    decomposed = {**sample.PROCEDURES[0], "name": "Đa\u0306ng ky\u0301 khai sinh"}
    c = cat.Catalogue.build("v", [decomposed])
    assert c.procedures[0]["name"] == "Đăng ký khai sinh"


class Pages:
    def __init__(self, procs: list[dict[str, Any]], versions: list[str]) -> None:
        self.procs, self.versions = procs, versions
        self.asked: list[tuple[int, int]] = []

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        self.asked.append((body["offset"], body["limit"]))
        version = self.versions[min(len(self.asked) - 1, len(self.versions) - 1)]
        off, lim = body["offset"], body["limit"]
        # like the real store: a page may hold fewer than asked (payload limit)
        page = self.procs[off:off + min(lim, 2)]
        return {"ok": True, "version": version, "total": len(self.procs), "procedures": page}


def test_fetch_reads_every_page_even_short_ones() -> None:
    pages = Pages(sample.PROCEDURES, ["v1"])
    got = cat.fetch(pages, page_size=5)
    assert got.version == "v1" and len(got.procedures) == len(sample.PROCEDURES)
    assert [o for o, _ in pages.asked] == [0, 2, 4, 6]


def test_fetch_refuses_a_catalogue_that_changes_while_paging() -> None:
    with pytest.raises(ContractError) as exc:
        cat.fetch(Pages(sample.PROCEDURES, ["v1", "v2"]), page_size=5)
    assert exc.value.code == "conflict"


def test_fetch_passes_on_a_refusal() -> None:
    def refuse(body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": False, "error": {"code": "rate_limited", "message": "chậm lại"}}

    with pytest.raises(ContractError) as exc:
        cat.fetch(refuse, page_size=5)
    assert exc.value.code == "rate_limited"


def test_fetch_rejects_entries_without_code_or_name() -> None:
    def bad(body: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "version": "v", "total": 1, "procedures": [{"code": "1"}]}

    with pytest.raises(ContractError):
        cat.fetch(bad, page_size=5)


def test_example_config_loads() -> None:
    config = load_unit_config(EXAMPLE / "lookup-1.toml")
    assert config.lookup is not None
    assert config.lookup.min_target_px >= 88  # 15 mm on a 217 mm wide 1280 px panel
    assert config.lookup.touch.source == "sdl" and config.lookup.scanner.kind == "none"


@pytest.mark.parametrize(
    ("section", "needle"),
    [
        ({"colour": "red"}, "lookup.colour: unknown key"),
        ({"touch": {"source": "evdev"}}, "needs touch.device"),
        ({"scanner": {"kind": "hid"}}, "needs scanner.device"),
        ({"touch": {"rotation": 45}}, "lookup.touch.rotation"),
        ({"lookup_timeout_s": 0}, "lookup.lookup_timeout_s"),
        ({"touch": {"source": "evdev", "device": "/dev/input/event3",
                    "calibration": {"min_x": 5, "max_x": 5, "min_y": 0, "max_y": 9}}},
         "must differ"),
    ],
)
def test_bad_config_is_named(section: dict[str, Any], needle: str) -> None:
    raw = {"site": "demo", "unit": "lookup-1", "role": "lookup", "lookup": section}
    with pytest.raises(ConfigError) as exc:
        parse_unit_config(raw)
    assert needle in str(exc.value), str(exc.value)


def test_cache_file_is_json_a_person_can_read(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.json"
    cat.save(path, sample.catalogue())
    text = path.read_text("utf-8")
    assert "Đăng ký khai sinh" in text  # not \\u escapes
    assert json.loads(text)["format"] == cat.CACHE_FORMAT
