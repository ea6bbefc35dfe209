"""`motcua check-config FILE...`: every problem in every file, nothing started."""

from __future__ import annotations

import argparse
import sys

from appliance.config import check_files


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    problems = check_files(args.files)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 2
    print(f"{len(args.files)} file(s) OK")
    return 0
