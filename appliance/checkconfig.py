"""`motcua check-config FILE...`: every problem in every file, nothing started."""

from __future__ import annotations

import argparse
import sys

from appliance.config import check_files
from appliance.i18n import tr


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar=tr("TỆP", "FILE"),
                        help=tr("các tệp cấu hình (.toml) cần kiểm tra",
                                "the config files (.toml) to check"))


def run(args: argparse.Namespace) -> int:
    problems = check_files(args.files)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(tr(f"Có {len(problems)} lỗi.", f"{len(problems)} problem(s) found"),
              file=sys.stderr)
        return 2
    print(tr(f"{len(args.files)} tệp: tốt (OK)", f"{len(args.files)} file(s) OK"))
    return 0
