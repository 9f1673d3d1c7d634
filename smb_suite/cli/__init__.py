"""The `smb-suite` command line: each command calls one ops function and prints the result.

One module per subject registers its commands (docs/ARCHITECTURE.md, "Entry points")."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from smb_suite import config as config_module
from smb_suite.cli import billing, domains, lifecycle, mailflow, partners, sites, tenants, users
from smb_suite.config import Config
from smb_suite.errors import ConfigError, SmbSuiteError
from smb_suite.services import Services, open_services

EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smb-suite", description="Mail and websites for small businesses.")
    parser.add_argument("-c", "--config", type=Path, help="TOML configuration file (default: built-in)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for subject in (lifecycle, domains, users, mailflow, tenants, billing, partners, sites):
        subject.register(commands)
    return parser


def _run_with_services(
    run: Callable[[argparse.Namespace, Services], None], args: argparse.Namespace, config: Config
) -> int:
    if not config.server.data_dir.exists():
        raise SmbSuiteError(f"{config.server.data_dir} is not initialised: run 'smb-suite init' first")
    services = open_services(config)
    try:
        run(args, services)
    finally:
        services.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "target_or_off", False) and args.off == (args.target is not None):
        parser.error("give either a TARGET address or --off")
    try:
        config = config_module.load(args.config)
    except ConfigError as error:
        print(f"smb-suite: configuration error:\n{error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if hasattr(args, "process"):
            return int(args.process(args, config))
        return _run_with_services(args.run, args, config)
    except SmbSuiteError as error:
        print(f"smb-suite: {error}", file=sys.stderr)
        return EXIT_ERROR
