"""Commands about hosted domains: domain, cert, dns and dkim."""

from __future__ import annotations

import argparse
import asyncio
import sys

from smb_suite.cli.common import Commands, target_or_off
from smb_suite.directory.model import OPERATOR
from smb_suite.errors import SmbSuiteError
from smb_suite.ops import accounts, certificates, dns_records, domains, signing, verification
from smb_suite.services import Services


def cmd_domain_add(args: argparse.Namespace, services: Services) -> None:
    domain = domains.add_domain(services, OPERATOR, args.domain, args.tenant)
    print(f"added domain {domain.name} (tenant {domain.tenant_name})")


def cmd_domain_list(args: argparse.Namespace, services: Services) -> None:
    for domain in services.directory.list_domains(OPERATOR):
        print(f"{domain.name}\t{domain.tenant_name}\t{'verified' if domain.verified else 'pending'}")


def cmd_domain_verify(args: argparse.Namespace, services: Services) -> None:
    if args.grant:
        domain = verification.grant(services, OPERATOR, args.domain)
        print(f"{domain.name} is verified (granted by the operator)")
        return
    outcome = asyncio.run(verification.check_now(services, OPERATOR, args.domain))
    if outcome.verified:
        print(f"{outcome.domain.name} is verified")
        return
    found = f" (found: {', '.join(outcome.found)})" if outcome.found else ""
    problem = f" ({outcome.problem})" if outcome.problem else ""
    raise SmbSuiteError(
        f"{outcome.domain.name} is still pending: no TXT record "
        f"{verification.record_value(outcome.domain)}{found}{problem}"
    )


def cmd_domain_remove(args: argparse.Namespace, services: Services) -> None:
    domain = domains.remove_domain(services, OPERATOR, args.domain)
    print(f"removed domain {domain.name}")


def cmd_domain_catchall(args: argparse.Namespace, services: Services) -> None:
    target = None if args.off else args.target
    domain = accounts.set_catchall(services, OPERATOR, args.domain, target)
    if target is None:
        print(f"{domain.name} has no catch-all: mail for unknown addresses is refused")
    else:
        print(f"mail for unknown addresses of {domain.name} goes to {target}")


def cmd_cert_list(args: argparse.Namespace, services: Services) -> None:
    for certificate in certificates.list_certificates(services):
        print(
            "\t".join(
                (certificate.label, certificate.status, " ".join(certificate.names), certificates.detail(certificate))
            )
        )


def cmd_cert_retry(args: argparse.Namespace, services: Services) -> None:
    count = certificates.retry(services, args.name)
    interval = int(services.config.acme.check_interval)
    print(f"{count} failing certificate(s) will be tried again at the next check (every {interval} s)")


def cmd_dns(args: argparse.Namespace, services: Services) -> None:
    domain = services.directory.get_domain(OPERATOR, args.domain)
    addresses = asyncio.run(dns_records.website_addresses(services))
    for warning in dns_records.warnings(services.config, addresses):
        print(f"warning: {warning}", file=sys.stderr)
    for record in dns_records.records(services, domain, addresses):
        print(record.zone_line())


def cmd_dkim_rotate(args: argparse.Namespace, services: Services) -> None:
    keys = signing.rotate_dkim(services, OPERATOR, args.domain)
    days = services.config.dkim.rotation_grace_days
    selectors = ", ".join(f"{key.selector} ({key.algorithm})" for key in keys)
    print(f"{args.domain} now signs with {selectors}")
    print(f"publish the new records (smb-suite dns {args.domain}); the old keys stay listed for {days} days")


def register(commands: Commands) -> None:
    domain = commands.add_parser("domain", help="hosted domains").add_subparsers(dest="action", required=True)
    add = domain.add_parser("add", help="host a domain")
    add.add_argument("domain")
    add.add_argument("--tenant", help="business the domain belongs to (default: a new one named after it)")
    add.set_defaults(run=cmd_domain_add)
    domain.add_parser("list", help="list hosted domains").set_defaults(run=cmd_domain_list)
    catchall = domain.add_parser("catchall", help="deliver mail for unknown addresses of DOMAIN to TARGET")
    catchall.add_argument("domain")
    target_or_off(catchall)
    catchall.set_defaults(run=cmd_domain_catchall)
    verify = domain.add_parser("verify", help="look for a pending domain's verification TXT record now")
    verify.add_argument("domain")
    verify.add_argument("--grant", action="store_true", help="mark it verified without the record (you vouch)")
    verify.set_defaults(run=cmd_domain_verify)
    remove = domain.add_parser("remove", help="stop hosting a domain (it must have no mailboxes)")
    remove.add_argument("domain")
    remove.set_defaults(run=cmd_domain_remove)

    cert = commands.add_parser("cert", help="automatic certificates ([acme])").add_subparsers(
        dest="action", required=True
    )
    cert.add_parser(
        "list", help="each certificate: name, status (valid, pending, failing), names, expiry or last error"
    ).set_defaults(run=cmd_cert_list)
    retry = cert.add_parser("retry", help="try failing certificates again at the next check, without back-off")
    retry.add_argument("name", nargs="?", help="the server hostname or a domain (default: every failing one)")
    retry.set_defaults(run=cmd_cert_retry)

    dns = commands.add_parser("dns", help="print the DNS records to publish for a domain")
    dns.add_argument("domain")
    dns.set_defaults(run=cmd_dns)

    dkim = commands.add_parser("dkim", help="DKIM signing keys").add_subparsers(dest="action", required=True)
    rotate = dkim.add_parser("rotate", help="sign with new keys; keep the old ones published for a grace period")
    rotate.add_argument("domain")
    rotate.set_defaults(run=cmd_dkim_rotate)
