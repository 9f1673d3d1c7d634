"""Commands about mailboxes and aliases: user and alias."""

from __future__ import annotations

import argparse
import sys

from smb_suite.billing.contract import UserKind
from smb_suite.billing.money import parse_day
from smb_suite.cli.common import Commands, from_day, megabytes, read_password, target_or_off
from smb_suite.directory.model import OPERATOR, Vacation
from smb_suite.ops import accounts, billing, tiers, users
from smb_suite.quota import format_bytes
from smb_suite.services import Services


def cmd_user_add(args: argparse.Namespace, services: Services) -> None:
    user = users.add_user(services, OPERATOR, args.address, read_password(), users.parse_role(args.role))
    print(f"added {user.role} {user.address}")


def cmd_user_passwd(args: argparse.Namespace, services: Services) -> None:
    user = users.set_password(services, OPERATOR, args.address, read_password())
    print(f"changed the password of {user.address}")


def cmd_user_list(args: argparse.Namespace, services: Services) -> None:
    for user in services.directory.list_users(OPERATOR, args.domain):
        print(f"{user.address}\t{user.role}")


def cmd_user_remove(args: argparse.Namespace, services: Services) -> None:
    user = users.remove_user(services, OPERATOR, args.address)
    print(f"removed {user.address} and its mail")


def cmd_user_forward(args: argparse.Namespace, services: Services) -> None:
    target = None if args.off else args.target
    user = accounts.set_forwarding(services, OPERATOR, args.address, target, args.keep_copy)
    if target is None:
        print(f"{user.address} no longer forwards its mail")
    else:
        kept = " (keeping a copy)" if args.keep_copy else ""
        print(f"{user.address} forwards its mail to {target}{kept}")


def cmd_user_vacation(args: argparse.Namespace, services: Services) -> None:
    if args.off:
        user = accounts.set_vacation(services, OPERATOR, args.address, None)
        print(f"vacation reply of {user.address} is off")
        return
    body = sys.stdin.read()
    user = accounts.set_vacation(services, OPERATOR, args.address, Vacation(args.subject or "", body))
    print(f"vacation reply of {user.address} is on")


def cmd_user_quota(args: argparse.Namespace, services: Services) -> None:
    limit = None if args.limit_mb == "off" else megabytes(args.limit_mb)
    user = tiers.set_mailbox_limit(services, OPERATOR, args.address, limit)
    print(f"{user.address}: " + ("no limit of its own" if limit is None else f"limited to {format_bytes(limit)}"))


def cmd_user_kind(args: argparse.Namespace, services: Services) -> None:
    day = parse_day(args.start) if args.start else None
    user = billing.set_user_kind(services, OPERATOR, args.address, UserKind(args.kind), day)
    print(f"{user.address} is billed as a {args.kind} user from {day or services.subscriptions.today()}")


def cmd_alias_add(args: argparse.Namespace, services: Services) -> None:
    source, target = accounts.add_alias(services, OPERATOR, args.alias, args.target)
    print(f"added alias {source} -> {target}")


def cmd_alias_remove(args: argparse.Namespace, services: Services) -> None:
    source, target = accounts.remove_alias(services, OPERATOR, args.alias, args.target)
    print(f"removed alias {source} -> {target}")


def cmd_alias_list(args: argparse.Namespace, services: Services) -> None:
    for source, target in services.directory.list_aliases(OPERATOR):
        print(f"{source}\t{target}")


def register(commands: Commands) -> None:
    user = commands.add_parser("user", help="mailboxes").add_subparsers(dest="action", required=True)
    add = user.add_parser("add", help="create a mailbox")
    add.add_argument("address")
    add.add_argument("--password-stdin", action="store_true", required=True, help="read the password from stdin")
    add.add_argument("--role", default="user", choices=["user", "owner", "partner", "operator"])
    add.set_defaults(run=cmd_user_add)
    passwd = user.add_parser("passwd", help="change a password")
    passwd.add_argument("address")
    passwd.add_argument("--password-stdin", action="store_true", required=True)
    passwd.set_defaults(run=cmd_user_passwd)
    listing = user.add_parser("list", help="list mailboxes")
    listing.add_argument("domain", nargs="?")
    listing.set_defaults(run=cmd_user_list)
    remove = user.add_parser("remove", help="delete a mailbox and its mail")
    remove.add_argument("address")
    remove.set_defaults(run=cmd_user_remove)
    forward = user.add_parser("forward", help="forward a mailbox's mail to TARGET (here or elsewhere)")
    forward.add_argument("address")
    target_or_off(forward)
    forward.add_argument("--keep-copy", action="store_true", help="also keep each message in the mailbox")
    forward.set_defaults(run=cmd_user_forward)
    vacation = user.add_parser("vacation", help="answer mail automatically while away (RFC 3834)")
    vacation.add_argument("address")
    mode = vacation.add_mutually_exclusive_group(required=True)
    mode.add_argument("--message-stdin", action="store_true", help="read the reply text from stdin")
    mode.add_argument("--off", action="store_true", help="stop answering")
    vacation.add_argument("--subject", help='subject of the reply (default: "Auto: " + original subject)')
    vacation.set_defaults(run=cmd_user_vacation)

    limit = user.add_parser("quota", help="give a mailbox its own limit inside its business's tier")
    limit.add_argument("address")
    limit.add_argument("limit_mb", metavar="MB|off")
    limit.set_defaults(run=cmd_user_quota)

    kind = user.add_parser("kind", help="bill a mailbox as a standard or a deskless user (smaller mailbox)")
    kind.add_argument("address")
    kind.add_argument("kind", choices=[k.value for k in UserKind])
    from_day(kind)
    kind.set_defaults(run=cmd_user_kind)

    alias = commands.add_parser("alias", help="aliases").add_subparsers(dest="action", required=True)
    add = alias.add_parser("add", help="deliver mail for ALIAS to TARGET")
    add.add_argument("alias")
    add.add_argument("target")
    add.set_defaults(run=cmd_alias_add)
    alias.add_parser("list", help="list aliases").set_defaults(run=cmd_alias_list)
    remove = alias.add_parser("remove", help="stop delivering mail for ALIAS to TARGET")
    remove.add_argument("alias")
    remove.add_argument("target")
    remove.set_defaults(run=cmd_alias_remove)
