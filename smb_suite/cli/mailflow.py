"""Commands about mail on the move: the outbound queue and imports from another provider."""

from __future__ import annotations

import argparse
import asyncio
import time

from smb_suite.cli.common import Commands, age, read_password
from smb_suite.directory.model import OPERATOR
from smb_suite.errors import SmbSuiteError
from smb_suite.imports import records as imports_records
from smb_suite.imports import remote
from smb_suite.ops import imports, queue_admin
from smb_suite.quota import format_bytes
from smb_suite.services import Services


def cmd_queue_list(args: argparse.Namespace, services: Services) -> None:
    messages = services.queue.messages()
    now = time.time()
    for message in messages:
        sender = message.sender or "<>"
        print(f"{message.queue_id}  {message.size} bytes  {age(now - message.created_at)} old  from {sender}")
        for r in message.recipients:
            when = f", next try in {age(max(r.next_attempt_at - now, 0))}" if r.status == "queued" else ""
            reply = f": {r.last_reply}" if r.last_reply else ""
            print(f"    {r.address}  {r.status}, {r.attempts} attempt(s){when}{reply}")
    print(f"{len(messages)} message(s) in the queue")


def cmd_queue_retry(args: argparse.Namespace, services: Services) -> None:
    count = queue_admin.queue_retry(services, OPERATOR, args.queue_id)
    print(f"{count} recipient(s) will be tried again at the next queue run")


def cmd_queue_delete(args: argparse.Namespace, services: Services) -> None:
    removed = queue_admin.queue_delete(services, OPERATOR, args.queue_id)
    missing = set(args.queue_id) - set(removed)
    for queue_id in removed:
        print(f"deleted {queue_id}")
    if missing:
        raise SmbSuiteError(f"not in the queue: {' '.join(sorted(missing))}")


def cmd_import_imap(args: argparse.Namespace, services: Services) -> None:
    security = remote.Security(args.security)
    source = remote.Source(
        args.host, args.port or remote.DEFAULT_PORTS[security], security, args.user, read_password(), not args.insecure
    )

    def show(progress: imports_records.Progress, folder: str) -> None:
        print(
            f"{folder}: {progress.messages_done}/{progress.messages_total} messages, "
            f"{format_bytes(progress.bytes_done)}/{format_bytes(progress.bytes_total)}",
            flush=True,
        )

    done = asyncio.run(imports.import_imap(services, OPERATOR, args.address, source, show))
    print(f"imported into {args.address}: {done.messages_done}/{done.messages_total} messages from {source.key}")


def register(commands: Commands) -> None:
    queue = commands.add_parser("queue", help="the outbound queue").add_subparsers(dest="action", required=True)
    queue.add_parser("list", help="show waiting mail and why it waits").set_defaults(run=cmd_queue_list)
    retry = queue.add_parser("retry", help="try waiting mail again now (all, or the given queue ids)")
    retry.add_argument("queue_id", nargs="*")
    retry.set_defaults(run=cmd_queue_retry)
    delete = queue.add_parser("delete", help="remove mail from the queue without telling the sender")
    delete.add_argument("queue_id", nargs="+")
    delete.set_defaults(run=cmd_queue_delete)

    moving = commands.add_parser("import", help="bring mail in from another provider").add_subparsers(
        dest="action", required=True
    )
    imap = moving.add_parser("imap", help="copy every folder of an IMAP account into ADDRESS (resumes if run again)")
    imap.add_argument("address")
    imap.add_argument("--host", required=True)
    imap.add_argument("--port", type=int, help="default: 993 for ssl, 143 otherwise")
    imap.add_argument("--security", choices=[s.value for s in remote.Security], default="ssl")
    imap.add_argument("--insecure", action="store_true", help="do not check the server's certificate")
    imap.add_argument("--user", required=True, help="the user name at the old provider")
    imap.add_argument("--password-stdin", action="store_true", required=True)
    imap.set_defaults(run=cmd_import_imap)
