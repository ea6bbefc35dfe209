"""The catalogue on both databases: accent-insensitive search, import/export, bad rows."""

from __future__ import annotations

import json

import pytest

from appliance.store.catalogue import sample_catalogue
from appliance.store.core import Store
from appliance.store.models import ProcedureIn
from appliance.store.transfer import (
    ImportError_,
    export_procedures,
    import_procedures,
    parse,
)

pytest_plugins = ["tests.pg"]


def test_sample_catalogue_is_big_and_covers_the_sectors() -> None:
    sample = sample_catalogue()
    assert len(sample) >= 40
    sectors = {p.sector for p in sample}
    assert {"Chứng thực", "Hộ tịch", "Đất đai", "Bảo trợ xã hội"} <= sectors
    assert all(p.documents and p.legal_basis for p in sample)


@pytest.mark.parametrize(("q", "must_find"), [
    ("chung thuc", "Chứng thực"),
    ("CHỨNG THỰC", "Chứng thực"),
    ("ho tich", "Hộ tịch"),
    ("khai sinh", "Đăng ký khai sinh"),
    ("dat dai", "Đất đai"),
    ("ket hon", "Đăng ký kết hôn"),
])
def test_accent_insensitive_search(store: Store, q: str, must_find: str) -> None:
    found, total = store.catalogue.search(q, None, 100)
    assert total == len(found) > 0
    assert any(must_find in p["name"] or must_find == p["sector"] for p in found)
    from appliance.store.text import fold

    assert all(all(w in fold(f"{p['code']} {p['name']} {p['sector']}") for w in fold(q).split())
               for p in found)


def test_search_by_code_puts_it_first_and_filters_by_sector(store: Store) -> None:
    found, total = store.catalogue.search("2.000635", None, 5)
    assert total == 1 and found[0]["name"] == "Cấp bản sao Trích lục hộ tịch"
    found, _ = store.catalogue.search("", "Hộ tịch", 100)
    assert found and all(p["sector"] == "Hộ tịch" for p in found)
    assert store.catalogue.search("zzzz khong co", None, 5) == ([], 0)
    assert store.catalogue.search("100%_", None, 5) == ([], 0)


def test_get_full_record(store: Store) -> None:
    p = store.catalogue.get("1.001193")
    assert p is not None and p["name"] == "Đăng ký khai sinh"
    assert set(p) >= {"steps", "documents", "legal_basis", "fee", "method", "applicant"}
    assert isinstance(p["documents"][0]["original"], int)
    assert store.catalogue.get("9.999999") is None


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_export_import_round_trip(store: Store, fmt: str) -> None:
    before = store.catalogue.all_full()
    text = export_procedures(store.engine, fmt)  # type: ignore[arg-type]
    items = parse(ProcedureIn, text, fmt, "procedures", 1000)  # type: ignore[arg-type]
    assert [i.model_dump() for i in items] == [ProcedureIn.model_validate(b).model_dump()
                                              for b in before]
    version = store.catalogue.version
    assert import_procedures(store.engine, items) == (0, len(before))
    store.catalogue.invalidate()
    assert store.catalogue.version == version


def test_bad_csv_rows_are_named_and_nothing_is_imported(store: Store) -> None:
    count = store.catalogue.count
    csv_text = ("code,name,sector,processing_days\n"
                "9.000001,Thủ tục mới,Hộ tịch,3\n"
                "9.000002,Thủ tục hai,Hộ tịch,ba ngày\n"
                "9.000003,,Hộ tịch,3\n")
    with pytest.raises(ImportError_) as err:
        parse(ProcedureIn, csv_text, "csv", "procedures", 1000)
    problems = err.value.problems
    assert any(p.startswith("row 3, field processing_days") for p in problems)
    assert any(p.startswith("row 4, field name") for p in problems)
    assert store.catalogue.count == count


def test_duplicate_codes_refuse_the_whole_import(store: Store) -> None:
    p = ProcedureIn(code="9.000001", name="Thủ tục mới", sector="Hộ tịch", processing_days=1)
    with pytest.raises(ImportError_, match=r"9\.000001"):
        import_procedures(store.engine, [p, p])
    store.catalogue.invalidate()
    assert store.catalogue.get("9.000001") is None


@pytest.mark.parametrize(("data", "needle"), [
    ("{", "not JSON"),
    ('{"procedures": 3}', "expected a list"),
    ('[{"code": "1", "name": "ab", "sector": "x", "processing_days": 1, "extra": 1}]',
     "item 0, field extra"),
    ('[1]', "item 0: not an object"),
])
def test_bad_json_is_named(data: str, needle: str) -> None:
    with pytest.raises(ImportError_) as err:
        parse(ProcedureIn, data, "json", "procedures", 10)
    assert needle in str(err.value)


@pytest.mark.parametrize(("data", "needle"), [
    ("\r0", "row 2"),  # found by schemathesis: a lone carriage return used to be a 500
    ('code,name\n"2.1,"unclosed\n', "row"),
    ("code,name,sector,processing_days\r2.000001,Thủ tục,Hộ tịch,x\r", "processing_days"),
])
def test_broken_csv_is_a_named_error_never_a_crash(data: str, needle: str) -> None:
    with pytest.raises(ImportError_) as err:
        parse(ProcedureIn, data, "csv", "procedures", 10)
    assert needle in str(err.value)


def test_oversized_import_is_refused() -> None:
    rows = [{"code": f"9.{i:06d}", "name": "Thủ tục", "sector": "x", "processing_days": 1}
            for i in range(11)]
    with pytest.raises(ImportError_, match="at most 10"):
        parse(ProcedureIn, json.dumps(rows), "json", "procedures", 10)


def test_control_characters_never_reach_the_database(store: Store) -> None:
    # PostgreSQL refuses NUL in text: searches and reads drop it, inputs name it
    assert store.catalogue.search("chung\x00 thuc", "Chứng\x00 thực", 5)[1] >= 0
    assert store.catalogue.get("2.000635\x00") is not None
    assert store.dossiers.lookup("A\x00B", "\x00") is None
    with pytest.raises(ImportError_, match="item 0, field name: Value error, contains a control"):
        parse(ProcedureIn, [{"code": "9.1", "name": "a\x00b", "sector": "x",
                             "processing_days": 1}], "json", "procedures", 10)
