"""No staff-facing sentence left in English only.

Reads the source (ast) of every role, driver and display module and finds the sentences an
installer or officer meets: log lines at info level and above (the journal), errors raised
as the project's own exceptions (printed by ``motcua``, shown in statuses and HTTP answers)
and ``ValueError`` raised by a config/set-up validator (shown as a config problem). Each must
be written as ``tr(vi, en)``. A sentence is "English" when it has two or more plain lowercase
words and no Vietnamese letter; a bare code, a number or a ``"%s"`` passes.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("appliance", "drivers", "display")
# Not scanned: test twins and fakes speak to tests, not to staff; migrations run once.
NOT_SCANNED = (
    "appliance/counter/twin.py", "drivers/evdev_fake.py",
    "drivers/printer/decode.py", "drivers/printer/fake.py", "appliance/store/migrations/",
)
LOG_LEVELS = {"info", "warning", "error", "exception", "critical"}
LOGGERS = {"log", "logger", "_log"}
VALIDATORS = {"field_validator", "model_validator"}
VIETNAMESE = re.compile(r"[À-ỹđĐ]")
WORD = re.compile(r"\b[a-z]{3,}\b")


def _text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else "{}"
                       for v in node.values)
    return None


def english_only(text: str) -> bool:
    return not VIETNAMESE.search(text) and len(WORD.findall(text)) >= 2


def _sources() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
            if not str(p.relative_to(ROOT)).startswith(NOT_SCANNED)]


def _own_errors(trees: list[ast.Module]) -> set[str]:
    """MotcuaError and every class that derives from one of ours (by name, to a fixpoint)."""
    names = {"MotcuaError"}
    while True:
        more = {n.name for t in trees for n in ast.walk(t) if isinstance(n, ast.ClassDef)
                and any(getattr(b, "id", getattr(b, "attr", None)) in names for b in n.bases)}
        if more <= names:
            return names
        names |= more


def _in_validator(parents: dict[ast.AST, ast.AST], node: ast.AST) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef):
            return any(getattr(getattr(d, "func", d), "id", None) in VALIDATORS
                       for d in node.decorator_list)
    return False


def sentences(tree: ast.Module, errors: set[str]) -> list[tuple[int, str]]:
    """(line, text) of each English-only staff-facing sentence in one module."""
    parents = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = getattr(f, "attr", None) or getattr(f, "id", None)
        args = node.args
        if (isinstance(f, ast.Attribute) and name in LOG_LEVELS
                and getattr(f.value, "id", None) in LOGGERS):
            said = args[:1]
        elif isinstance(f, ast.Attribute) and name == "log":
            said = args[2:3]  # LogBudget.log(level, key, message, *args)
        elif name in errors or (name == "ValueError" and _in_validator(parents, node)):
            said = args[-1:] if name == "StoreError" else args[:1]  # StoreError(code, text)
        else:
            continue
        for arg in said:
            text = _text(arg)
            if text is not None and english_only(text):
                found.append((node.lineno, text))
    return found


def test_the_scan_sees_an_english_only_sentence() -> None:
    # the detector itself: English caught, Vietnamese, codes and tr() calls let through
    assert english_only("cannot open the display")
    assert not english_only("không mở được màn hình")
    assert not english_only("%s: %s") and not english_only("band_exhausted")
    source = """
log.warning("cannot open the display %s", x)
log.info(tr("không mở được %s", "cannot open the display %s"), x)
log.debug("debug lines are for developers")
raise PrinterGone(f"printer {name} is not plugged in")
raise StoreError("not_found", "no such dossier here")
raise StoreError("not_found", tr("không có hồ sơ", "no such dossier here"))
_budget.log(logging.ERROR, unit, "request from %s refused", unit)
raise KeyError("a programming error, not for staff")

class Setup:
    @field_validator("x")
    def _x(cls, v):
        raise ValueError("needs a gateway address")
"""
    lines = [line for line, _ in sentences(ast.parse(source), {"MotcuaError", "PrinterGone",
                                                               "StoreError"})]
    assert sorted(lines) == [2, 5, 6, 8, 14]


def test_our_errors_are_found_by_their_bases() -> None:
    tree = ast.parse("class DeviceError(MotcuaError): ...\nclass PaperOut(DeviceError): ...\n")
    assert _own_errors([tree]) == {"MotcuaError", "DeviceError", "PaperOut"}


def test_no_staff_facing_sentence_is_english_only() -> None:
    files = _sources()
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in files]
    errors = _own_errors(trees)
    assert {"ConfigError", "StoreError", "DeviceError"} <= errors  # the scan sees ours
    found = [f"{path.relative_to(ROOT)}:{line}: {text!r}"
             for path, tree in zip(files, trees, strict=True)
             for line, text in sentences(tree, errors)]
    assert not found, "write these as tr(vi, en):\n" + "\n".join(found)
