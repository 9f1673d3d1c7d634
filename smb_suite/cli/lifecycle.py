"""Commands that manage the data folder or the process: init, serve, backup, restore."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path

from smb_suite.cli.common import Commands
from smb_suite.config import Config
from smb_suite.errors import SmbSuiteError
from smb_suite.ops import backup, domains, first_steps
from smb_suite.quota import format_bytes
from smb_suite.services import initialise, open_services


def cmd_init(args: argparse.Namespace, config: Config) -> int:
    created = initialise(config)
    for item in created:
        print(f"created {item}")
    if args.demo:
        services = open_services(config)
        try:
            password = secrets.token_urlsafe(12)
            user = domains.create_demo(services, password)
        finally:
            services.close()
        if user is not None:
            created.append("demo")
            print(f"created demo domain {domains.DEMO_DOMAIN} with owner {user.address}")
            print(f"password for {user.address} (shown once): {password}")
    if not created:
        print(f"{config.server.data_dir} is already initialised: nothing changed")
    steps = first_steps.next_steps(config)
    if steps:
        print(f"\nNext, to serve {config.server.hostname} on the internet:")
        print("\n".join(steps))
    return 0


def cmd_serve(args: argparse.Namespace, config: Config) -> int:
    from smb_suite import daemon

    initialise(config)
    return daemon.serve(config)


def cmd_backup(args: argparse.Namespace, config: Config) -> int:
    if args.dest is None:
        if str(args.first) == "verify":  # never a backup into ./verify when DEST was forgotten
            raise SmbSuiteError("which backup? use 'backup verify DEST'")
        taken = backup.backup(config, args.first)
        print(
            f"backup {taken.snapshot}: {taken.copied} file(s) copied ({format_bytes(taken.copied_bytes)}), "
            f"{taken.linked} unchanged file(s) linked to the previous backup; database schema {taken.schema}"
        )
        if taken.expunged:
            print(f"{taken.expunged} message(s) expunged during the backup were left out")
        return 0
    if str(args.first) != "verify":
        raise SmbSuiteError(f"unknown backup action {args.first}: use 'backup DEST' or 'backup verify DEST'")
    checked = backup.verify(args.dest)
    print(f"backup {checked.snapshot} is intact: {checked.files} file(s), {format_bytes(checked.size)} checked")
    return 0


def cmd_restore(args: argparse.Namespace, config: Config) -> int:
    restored = backup.restore(config, args.dest)
    print(f"restored {restored.files} file(s) into {restored.data_dir} (database schema {restored.schema})")
    print("start the daemon (smb-suite serve): it brings the index and the Maildirs in line at start")
    return 0


def register(commands: Commands) -> None:
    init = commands.add_parser("init", help="create the data folder, database and certificate")
    init.add_argument("--demo", action="store_true", help="also create example.test and demo@example.test")
    init.set_defaults(process=cmd_init)
    commands.add_parser("serve", help="run every service in one process").set_defaults(process=cmd_serve)
    backup_command = commands.add_parser(
        "backup",
        usage="smb-suite backup [verify] DEST",
        help="take a consistent backup into DEST while the daemon runs (again: incremental), or verify one",
    )
    backup_command.add_argument(
        "first",
        type=Path,
        metavar="[verify] DEST",
        help="DEST: the backups folder (a new snapshot in it each run); verify DEST: check its newest snapshot "
        "against the manifest's checksums",
    )
    backup_command.add_argument("dest", type=Path, nargs="?", help=argparse.SUPPRESS)
    backup_command.set_defaults(process=cmd_backup)
    restore_command = commands.add_parser("restore", help="restore the newest backup in DEST into an empty data folder")
    restore_command.add_argument("dest", type=Path, metavar="DEST")
    restore_command.set_defaults(process=cmd_restore)
