"""The staff's language: Vietnamese first, English when asked for.

``MOTCUA_LANG=en`` (or ``motcua --lang en ...``) gives English; anything else Vietnamese.
Each message is written in both languages where it is raised (``tr(vi, en)``): the two
stay side by side in the code, no catalogue to compile or to fall out of step, and
nothing is read at import time. Citizens' screens, tickets and voice stay Vietnamese.

``Parser`` is argparse with its own words (usage, options, errors) in the chosen language.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from contextvars import ContextVar, Token
from typing import Any, NoReturn

ENV = "MOTCUA_LANG"


# A language chosen for one piece of work (a web request of an officer who switched the
# desk to English): it wins over MOTCUA_LANG in that context only.
_chosen: ContextVar[str | None] = ContextVar("motcua_language", default=None)


def language() -> str:
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    return "en" if os.environ.get(ENV, "").strip().lower().startswith("en") else "vi"


def choose(lang: str | None) -> Token[str | None]:
    """Use ``lang`` ("vi" or "en"; None: MOTCUA_LANG) in the current context; give the
    token back to ``unchoose`` when the work is done."""
    return _chosen.set(lang if lang in ("vi", "en") else None)


def unchoose(token: Token[str | None]) -> None:
    _chosen.reset(token)


def tr(vi: str, en: str) -> str:
    """The message in the staff's language."""
    return en if language() == "en" else vi


# argparse's own English, as it raises it, and the Vietnamese for it
_ARGPARSE_VI: tuple[tuple[str, str], ...] = (
    (r"the following arguments are required: (.*)", r"thiếu tham số bắt buộc: \1"),
    (r"unrecognized arguments: (.*)", r"không hiểu tham số: \1"),
    (r"argument (.*?): invalid choice: (.*) \(choose from (.*)\)",
     r"tham số \1: lựa chọn \2 không có (chọn một trong: \3)"),
    (r"argument (.*?): expected one argument", r"tham số \1: cần một giá trị"),
    (r"argument (.*?): invalid (\w+) value: (.*)", r"tham số \1: giá trị \3 không hợp lệ (\2)"),
    (r"argument (.*?): not allowed with argument (.*)",
     r"tham số \1: không dùng được cùng với \2"),
    (r"argument (.*?): ignored explicit argument (.*)", r"tham số \1: không nhận giá trị \2"),
)


def _argparse_message(message: str) -> str:
    if language() == "en":
        return message
    for pattern, vi in _ARGPARSE_VI:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, vi, message)
    return message


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any,
                  prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups,
                          prefix if prefix is not None else tr("Cách dùng: ", "usage: "))


class Parser(argparse.ArgumentParser):
    """An ArgumentParser that speaks the staff's language (help, section titles, errors)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = tr("tham số", "positional arguments")
        self._optionals.title = tr("tuỳ chọn", "options")
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help=tr("xem hướng dẫn này rồi thoát", "show this help and exit"))

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, tr(f"{self.prog}: lỗi: {_argparse_message(message)}\n",
                        f"{self.prog}: error: {message}\n"))
