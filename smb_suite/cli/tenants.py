"""Commands about businesses: tenant, audit and quota."""

from __future__ import annotations

import argparse
import time

from smb_suite.cli import tenant_move
from smb_suite.cli.common import Commands, read_password
from smb_suite.directory.model import OPERATOR
from smb_suite.errors import SmbSuiteError
from smb_suite.ops import tenants, tiers
from smb_suite.quota import format_bytes
from smb_suite.services import Services


def cmd_tenant_list(args: argparse.Namespace, services: Services) -> None:
    print("business\ttier\tused\tlimit\tpercent")
    for usage in tiers.tenant_usage(services, OPERATOR):
        print(
            f"{usage.tenant}\t{usage.tier}\t{format_bytes(usage.used)}\t{format_bytes(usage.limit)}"
            f"\t{usage.percent:.0f}%"
        )


def cmd_tenant_tier(args: argparse.Namespace, services: Services) -> None:
    usage = tiers.set_tier(services, OPERATOR, args.tenant, args.tier)
    print(f"{usage.tenant} is now on {usage.tier}: {format_bytes(usage.used)} of {format_bytes(usage.limit)} used")


def cmd_tenant_usage(args: argparse.Namespace, services: Services) -> None:
    print("day\tused\tlimit")
    for day, used, limit in tiers.usage_history(services, OPERATOR, args.tenant, args.days):
        print(f"{day}\t{used}\t{limit}")


def cmd_tenant_suspend(args: argparse.Namespace, services: Services) -> None:
    tenant = tenants.set_suspended(services, OPERATOR, args.tenant, True)
    print(f"suspended {tenant.name}: mail to it waits (451), its users cannot log in, its sites answer 503")


def cmd_tenant_resume(args: argparse.Namespace, services: Services) -> None:
    tenant = tenants.set_suspended(services, OPERATOR, args.tenant, False)
    print(f"resumed {tenant.name}")


def cmd_tenant_create(args: argparse.Namespace, services: Services) -> None:
    tenant, domain, owner = tenants.create_tenant(
        services, OPERATOR, args.tenant, args.domain, args.owner, read_password(), args.tier
    )
    print(f"created {tenant.name} ({tenant.tier}) with {domain.name} and owner {owner.address}")


def cmd_tenant_partner(args: argparse.Namespace, services: Services) -> None:
    partner = None if args.partner == "none" else args.partner
    tenant = tenants.set_partner(services, OPERATOR, args.tenant, partner)
    print(f"{tenant.name} is now managed by " + (f"the partner {partner}" if partner else "the operator only"))


def cmd_audit(args: argparse.Namespace, services: Services) -> None:
    for entry in tenants.audit_entries(services, OPERATOR, args.tenant, args.limit):
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(entry.at))
        print(f"{when}Z\t{entry.actor}\t{entry.client}\t{entry.tenant or '-'}\t{entry.action}\t{entry.target}")


def cmd_quota_check(args: argparse.Namespace, services: Services) -> None:
    drifts = tiers.check_drift(services)
    for drift in drifts:
        print(f"{drift.tenant}: counted {drift.counted} bytes, on disk {drift.on_disk} bytes ({drift.difference:+d})")
    if drifts:
        raise SmbSuiteError(f"usage differs from disk for {len(drifts)} business(es)")
    print("usage matches the disk for every business")


def register(commands: Commands) -> None:
    tenant = commands.add_parser("tenant", help="businesses and their storage tiers")
    tenant_actions = tenant.add_subparsers(dest="action", required=True)
    tenant_actions.add_parser("list", help="tier, usage and limit of each business").set_defaults(run=cmd_tenant_list)
    tier = tenant_actions.add_parser("tier", help="move a business to another tier")
    tier.add_argument("tenant")
    tier.add_argument("tier")
    tier.set_defaults(run=cmd_tenant_tier)
    history = tenant_actions.add_parser("usage", help="daily usage records of a business (bytes)")
    history.add_argument("tenant")
    history.add_argument("--days", type=int, default=31, help="how many days back (default 31)")
    history.set_defaults(run=cmd_tenant_usage)
    for verb, run, text in (
        ("suspend", cmd_tenant_suspend, "refuse mail (451) and logins, sites answer 503; data is kept"),
        ("resume", cmd_tenant_resume, "lift a suspension"),
    ):
        action = tenant_actions.add_parser(verb, help=text)
        action.add_argument("tenant")
        action.set_defaults(run=run)
    create = tenant_actions.add_parser("create", help="a business with its first domain and owner mailbox")
    create.add_argument("tenant")
    create.add_argument("domain")
    create.add_argument("owner", help="the owner's mail address (password on standard input)")
    create.add_argument("--password-stdin", action="store_true", required=True)
    create.add_argument("--tier", help="storage tier (default: [quota] default_tier)")
    create.set_defaults(run=cmd_tenant_create)
    partner = tenant_actions.add_parser("partner", help="give a business to a partner's business ('none': take back)")
    partner.add_argument("tenant")
    partner.add_argument("partner")
    partner.set_defaults(run=cmd_tenant_partner)
    tenant_move.add_commands(tenant_actions)
    audit = commands.add_parser("audit", help="the audit log: who changed what, when, from where")
    audit.add_argument("--tenant", help="only this business")
    audit.add_argument("--limit", type=int, default=100)
    audit.set_defaults(run=cmd_audit)
    quota = commands.add_parser("quota", help="storage accounting").add_subparsers(dest="action", required=True)
    quota.add_parser("check", help="recompute usage from disk and report any difference").set_defaults(
        run=cmd_quota_check
    )
