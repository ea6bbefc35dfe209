"""The `motcua` command. Each subcommand imports its role only when chosen (import time)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from appliance.errors import ConfigError, MotcuaError
from appliance.logs import configure_logging

# subcommand -> (module with `add_arguments(parser)` and `run(args) -> int`, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "check-config": ("appliance.checkconfig", "validate config files without starting anything"),
    "hub": ("appliance.hub.bootstrap", "run the site hub (queue engine)"),
    "dispenser": ("appliance.dispenser.bootstrap", "run a ticket dispenser"),
    "ticket-preview": ("appliance.dispenser.preview", "write the ticket image a dispenser prints"),
    "counter": ("appliance.counter.bootstrap", "run a counter unit"),
    "board": ("appliance.board.bootstrap", "run a lobby display board"),
    "store": ("appliance.store.bootstrap", "run the dossier store"),
    "receipt": ("appliance.store.receipt_cli", "render a dossier receipt (PNG or PDF)"),
    "lookup": ("appliance.lookup.bootstrap", "run the touch lookup terminal"),
    "demo": ("appliance.demo.main", "run a whole virtual office"),
    "status": ("appliance.monitor", "show every unit's health (exit 1 if any is not ready)"),
    "record-exit": ("appliance.exits", "note why a role's run ended (systemd ExecStopPost=)"),
    "setup": ("appliance.setup.firstboot", "apply the boot partition's motcua-setup.toml"),
}


def _build_parser(
    argv: list[str],
) -> tuple[argparse.ArgumentParser, dict[str, Callable[..., int]]]:
    parser = argparse.ArgumentParser(prog="motcua", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    runners: dict[str, Callable[..., int]] = {}
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name != chosen:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                p.set_defaults(_missing=f"'{name}' is not part of this build yet")
                continue
            raise
        module.add_arguments(p)
        runners[name] = module.run
    return parser, runners


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser, runners = _build_parser(argv)
    args = parser.parse_args(argv)
    configure_logging(verbose=args.verbose)
    missing = getattr(args, "_missing", None)
    if missing:
        print(f"motcua: {missing}", file=sys.stderr)
        return 2
    try:
        return runners[args.command](args)
    except ConfigError as exc:
        print("Config errors:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except MotcuaError as exc:
        print(f"motcua: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
