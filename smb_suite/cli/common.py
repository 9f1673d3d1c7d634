"""What several command modules share: reading a password, sizes, dates and the TARGET-or---off pair."""

from __future__ import annotations

import argparse
import sys
from typing import TypeAlias

from smb_suite.config import MIB
from smb_suite.errors import SmbSuiteError

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"  # not subscriptable at run time


def read_password() -> str:
    """The password given on standard input (never on the command line, where `ps` shows it)."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise SmbSuiteError("no password on standard input (empty passwords are not allowed)")
    return password


def megabytes(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise SmbSuiteError(f"expected a size in MB or 'off', not {text!r}")
    return int(text) * MIB


def age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def target_or_off(parser: argparse.ArgumentParser) -> None:
    """TARGET or --off, exactly one of them: checked by main() after parsing."""
    parser.add_argument("target", nargs="?", help="an address here or elsewhere")
    parser.add_argument("--off", action="store_true", help="turn it off")
    parser.set_defaults(target_or_off=True)


def from_day(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="the day it takes effect (default: today)")
