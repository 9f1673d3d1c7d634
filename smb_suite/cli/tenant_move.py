"""`smb-suite tenant export TENANT FILE` and `tenant import FILE`: move one business between servers
(ops/tenant_move.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from smb_suite.cli.common import Commands
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import tenant_move
from smb_suite.quota import format_bytes
from smb_suite.services import Services


def cmd_tenant_export(args: argparse.Namespace, services: Services) -> None:
    done = tenant_move.export_tenant(services, OPERATOR, args.tenant, args.file)
    print(
        f"exported {done.tenant} ({', '.join(done.domains)}) to {done.file}: {done.mailboxes} folder(s), "
        f"{done.messages} message(s), {done.files} file(s)"
    )
    if done.left_out:
        print(f"{done.left_out} message(s) expunged during the export were left out")
    print("mail delivered here from now on is not in the archive: point the MX at the new server first")


def cmd_tenant_import(args: argparse.Namespace, services: Services) -> None:
    done = tenant_move.import_tenant(services, OPERATOR, args.file)
    for warning in done.warnings:
        print(f"warning: {warning}")
    print(
        f"imported {done.tenant} ({', '.join(done.domains)}): {done.mailboxes} folder(s), {done.messages} "
        f"message(s), {format_bytes(done.used)} used"
    )


def add_commands(tenant_actions: Commands) -> None:
    """`tenant export` and `tenant import`, beside the other tenant actions (cli/tenants.py)."""
    export = tenant_actions.add_parser(
        "export", help="write a business (mail, sites, contacts, calendars, documents, settings) to FILE"
    )
    export.add_argument("tenant")
    export.add_argument("file", type=Path, help="FILE.tar, FILE.tar.gz or FILE.tar.zst (new)")
    export.set_defaults(run=cmd_tenant_export)
    bring = tenant_actions.add_parser("import", help="bring in a business exported by another server, all or nothing")
    bring.add_argument("file", type=Path)
    bring.set_defaults(run=cmd_tenant_import)
