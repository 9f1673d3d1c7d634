"""The `smb-suite` command line: each command calls one ops function and prints the result."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from smb_suite import config as config_module
from smb_suite.auth.apitokens import SCOPES
from smb_suite.billing import export
from smb_suite.billing.contract import UserKind
from smb_suite.billing.money import Month, parse_day
from smb_suite.config import MIB, Config
from smb_suite.directory.model import OPERATOR, Vacation
from smb_suite.errors import ConfigError, SmbSuiteError
from smb_suite.imports import records as imports_records
from smb_suite.imports import remote
from smb_suite.ops import (
    accounts,
    api,
    backup,
    billing,
    brands,
    certificates,
    dns_records,
    domains,
    first_steps,
    imports,
    queue_admin,
    signing,
    sites,
    tenants,
    tiers,
    users,
    verification,
)
from smb_suite.ops import media as media_ops
from smb_suite.quota import format_bytes
from smb_suite.services import Services, initialise, open_services
from smb_suite.sites import publish, themes
from smb_suite.sites.media import MAX_MEDIA_BYTES

EXIT_ERROR = 1
EXIT_USAGE = 2


def _read_password() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise SmbSuiteError("no password on standard input (empty passwords are not allowed)")
    return password


# -- commands: each takes the parsed arguments, the configuration and the services --------------------------


def cmd_domain_add(args: argparse.Namespace, services: Services) -> None:
    domain = domains.add_domain(services, OPERATOR, args.domain, args.tenant)
    print(f"added domain {domain.name} (tenant {domain.tenant_name})")


def cmd_domain_list(args: argparse.Namespace, services: Services) -> None:
    for domain in services.directory.list_domains(OPERATOR):
        print(f"{domain.name}\t{domain.tenant_name}\t{'verified' if domain.verified else 'pending'}")


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


def cmd_user_add(args: argparse.Namespace, services: Services) -> None:
    user = users.add_user(services, OPERATOR, args.address, _read_password(), users.parse_role(args.role))
    print(f"added {user.role} {user.address}")


def cmd_user_passwd(args: argparse.Namespace, services: Services) -> None:
    user = users.set_password(services, OPERATOR, args.address, _read_password())
    print(f"changed the password of {user.address}")


def cmd_user_list(args: argparse.Namespace, services: Services) -> None:
    for user in services.directory.list_users(OPERATOR, args.domain):
        print(f"{user.address}\t{user.role}")


def cmd_user_remove(args: argparse.Namespace, services: Services) -> None:
    user = users.remove_user(services, OPERATOR, args.address)
    print(f"removed {user.address} and its mail")


def cmd_alias_add(args: argparse.Namespace, services: Services) -> None:
    source, target = accounts.add_alias(services, OPERATOR, args.alias, args.target)
    print(f"added alias {source} -> {target}")


def cmd_alias_remove(args: argparse.Namespace, services: Services) -> None:
    source, target = accounts.remove_alias(services, OPERATOR, args.alias, args.target)
    print(f"removed alias {source} -> {target}")


def cmd_alias_list(args: argparse.Namespace, services: Services) -> None:
    for source, target in services.directory.list_aliases(OPERATOR):
        print(f"{source}\t{target}")


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


def cmd_domain_catchall(args: argparse.Namespace, services: Services) -> None:
    target = None if args.off else args.target
    domain = accounts.set_catchall(services, OPERATOR, args.domain, target)
    if target is None:
        print(f"{domain.name} has no catch-all: mail for unknown addresses is refused")
    else:
        print(f"mail for unknown addresses of {domain.name} goes to {target}")


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def cmd_queue_list(args: argparse.Namespace, services: Services) -> None:
    messages = services.queue.messages()
    now = time.time()
    for message in messages:
        sender = message.sender or "<>"
        print(f"{message.queue_id}  {message.size} bytes  {_age(now - message.created_at)} old  from {sender}")
        for r in message.recipients:
            when = f", next try in {_age(max(r.next_attempt_at - now, 0))}" if r.status == "queued" else ""
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


def cmd_dns(args: argparse.Namespace, services: Services) -> None:
    domain = services.directory.get_domain(OPERATOR, args.domain)
    addresses = asyncio.run(dns_records.website_addresses(services))
    for warning in dns_records.warnings(services.config, addresses):
        print(f"warning: {warning}", file=sys.stderr)
    for record in dns_records.records(services, domain, addresses):
        print(record.zone_line())


def cmd_import_imap(args: argparse.Namespace, services: Services) -> None:
    security = remote.Security(args.security)
    source = remote.Source(
        args.host, args.port or remote.DEFAULT_PORTS[security], security, args.user, _read_password(), not args.insecure
    )

    def show(progress: imports_records.Progress, folder: str) -> None:
        print(
            f"{folder}: {progress.messages_done}/{progress.messages_total} messages, "
            f"{format_bytes(progress.bytes_done)}/{format_bytes(progress.bytes_total)}",
            flush=True,
        )

    done = asyncio.run(imports.import_imap(services, OPERATOR, args.address, source, show))
    print(f"imported into {args.address}: {done.messages_done}/{done.messages_total} messages from {source.key}")


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


def cmd_tenant_suspend(args: argparse.Namespace, services: Services) -> None:
    tenant = tenants.set_suspended(services, OPERATOR, args.tenant, True)
    print(f"suspended {tenant.name}: mail to it waits (451), its users cannot log in, its sites answer 503")


def cmd_tenant_resume(args: argparse.Namespace, services: Services) -> None:
    tenant = tenants.set_suspended(services, OPERATOR, args.tenant, False)
    print(f"resumed {tenant.name}")


def cmd_tenant_create(args: argparse.Namespace, services: Services) -> None:
    tenant, domain, owner = tenants.create_tenant(
        services, OPERATOR, args.tenant, args.domain, args.owner, _read_password(), args.tier
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


def cmd_tenant_usage(args: argparse.Namespace, services: Services) -> None:
    print("day\tused\tlimit")
    for day, used, limit in tiers.usage_history(services, OPERATOR, args.tenant, args.days):
        print(f"{day}\t{used}\t{limit}")


def cmd_user_quota(args: argparse.Namespace, services: Services) -> None:
    limit = None if args.limit_mb == "off" else _megabytes(args.limit_mb)
    user = tiers.set_mailbox_limit(services, OPERATOR, args.address, limit)
    print(f"{user.address}: " + ("no limit of its own" if limit is None else f"limited to {format_bytes(limit)}"))


def _megabytes(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise SmbSuiteError(f"expected a size in MB or 'off', not {text!r}")
    return int(text) * MIB


def cmd_quota_check(args: argparse.Namespace, services: Services) -> None:
    drifts = tiers.check_drift(services)
    for drift in drifts:
        print(f"{drift.tenant}: counted {drift.counted} bytes, on disk {drift.on_disk} bytes ({drift.difference:+d})")
    if drifts:
        raise SmbSuiteError(f"usage differs from disk for {len(drifts)} business(es)")
    print("usage matches the disk for every business")


def cmd_site_publish(args: argparse.Namespace, services: Services) -> None:
    version = sites.publish_site(services, OPERATOR, args.domain)
    print(f"published {args.domain}: version {version.name} ({format_bytes(publish.tree_size(version))}) is live")


def cmd_site_upload(args: argparse.Namespace, services: Services) -> None:
    if not args.file.is_file():
        raise SmbSuiteError(f"{args.file}: no such file")
    count = sites.upload_site(services, OPERATOR, args.domain, args.file)
    print(f"uploaded {args.file.name} to {args.domain}: {count} files are live")


def cmd_site_picture(args: argparse.Namespace, services: Services) -> None:
    if not args.file.is_file():
        raise SmbSuiteError(f"{args.file}: no such file")
    if args.file.stat().st_size > MAX_MEDIA_BYTES:
        raise SmbSuiteError(f"{args.file}: the picture is too big (at most {format_bytes(MAX_MEDIA_BYTES)})")
    prepared = media_ops.prepare_picture(services, OPERATOR, args.domain, args.file.read_bytes(), args.alt)
    found = media_ops.add_picture(services, OPERATOR, args.domain, prepared, args.alt)
    if prepared.removed:
        print(f"removed from the SVG: {', '.join(prepared.removed)}")
    print(f"added picture {found.id} to {args.domain} ({format_bytes(found.size)}): write {found.markdown} in a page")


def cmd_site_pictures(args: argparse.Namespace, services: Services) -> None:
    for found in media_ops.pictures(services, OPERATOR, args.domain):
        print(f"{found.id}\t{found.media_type}\t{found.width}x{found.height}\t{format_bytes(found.size)}\t{found.alt}")


def cmd_site_rollback(args: argparse.Namespace, services: Services) -> None:
    version = sites.roll_back(services, OPERATOR, args.domain)
    print(f"rolled back {args.domain}: version {version.name} is live again")


def cmd_site_themes(args: argparse.Namespace, services: Services) -> None:
    for key, theme in themes.discover(services.config.themes_dir).items():
        colours = ", ".join(scheme.key for scheme in theme.colours)
        print(f"{key}\t{theme.name}\tlayouts: {', '.join(theme.layouts)}\tcolours: {colours}")


def cmd_dkim_rotate(args: argparse.Namespace, services: Services) -> None:
    keys = signing.rotate_dkim(services, OPERATOR, args.domain)
    days = services.config.dkim.rotation_grace_days
    selectors = ", ".join(f"{key.selector} ({key.algorithm})" for key in keys)
    print(f"{args.domain} now signs with {selectors}")
    print(f"publish the new records (smb-suite dns {args.domain}); the old keys stay listed for {days} days")


def cmd_user_kind(args: argparse.Namespace, services: Services) -> None:
    day = parse_day(args.start) if args.start else None
    user = billing.set_user_kind(services, OPERATOR, args.address, UserKind(args.kind), day)
    print(f"{user.address} is billed as a {args.kind} user from {day or services.subscriptions.today()}")


def cmd_subscription_show(args: argparse.Namespace, services: Services) -> None:
    contract = billing.show_subscription(services, OPERATOR, args.tenant)
    users = contract.users_on(services.subscriptions.today())
    print(f"business\t{contract.business}")
    print(f"sold by\t{contract.partner or 'the operator'}")
    print(f"started\t{contract.start}")
    print(f"users today\t{users[UserKind.STANDARD]} standard, {users[UserKind.DESKLESS]} deskless")
    for change in contract.changes:
        print(f"from {change.day}\t{billing.describe(change.state)}")


def cmd_subscription_set(args: argparse.Namespace, services: Services) -> None:
    edit = billing.Edit(args.plan or "", args.module, args.no_module, args.extension, args.no_extension)
    day = parse_day(args.start) if args.start else None
    contract = billing.set_subscription(services, OPERATOR, args.tenant, edit, day, args.partner)
    change = contract.changes[-1]
    print(f"{contract.business} from {change.day}: {billing.describe(change.state)}")


def cmd_billing_statement(args: argparse.Namespace, services: Services) -> None:
    found = billing.statement(services, OPERATOR, args.partner, Month.parse(args.month))
    if args.csv:
        sys.stdout.write(export.statement_csv(found.lines, found.totals))
    elif args.json:
        print(export.statement_json(found.partner, str(found.month), found.lines, found.totals))
    else:
        print("business\tmonth\tcontract year\tcurrency\tbilled\trate\tshare")
        for line in found.lines:
            print(
                f"{line.business}\t{line.month}\t{line.contract_year}\t{line.currency}\t{line.billed}"
                f"\t{line.rate} %\t{line.share}"
            )
        for total in found.totals:
            print(f"total {total.currency}: billed {total.billed}, share {total.share}")


def cmd_billing_summary(args: argparse.Namespace, services: Services) -> None:
    month = Month.parse(args.month)
    lines = billing.summary(services, OPERATOR, month)
    if args.csv:
        sys.stdout.write(export.summary_csv(lines))
    elif args.json:
        print(export.summary_json(str(month), lines))
    else:
        print("partner\tcurrency\tbusinesses\tbilled\tshare")
        for line in lines:
            print(f"{line.partner or '(operator)'}\t{line.currency}\t{line.businesses}\t{line.billed}\t{line.share}")


def cmd_billing_invoice_lines(args: argparse.Namespace, services: Services) -> None:
    month = Month.parse(args.month)
    lines = billing.invoice_lines(services, OPERATOR, month)
    if args.json:
        print(export.invoice_json(str(month), lines))
    else:
        sys.stdout.write(export.invoice_csv(lines))


def cmd_api_token_create(args: argparse.Namespace, services: Services) -> None:
    row, secret = api.create_token(services, OPERATOR, None if args.operator else args.partner, args.scope)
    owner = row.partner or api.OPERATOR_NAME
    print(f"token {row.token.id} for {owner}, scopes {' '.join(sorted(row.token.scopes))}")
    print(secret)
    print("keep it now: it is stored hashed and cannot be shown again", file=sys.stderr)


def cmd_api_token_list(args: argparse.Namespace, services: Services) -> None:
    print("id	partner	scopes	created	state")
    for row in api.list_tokens(services, OPERATOR):
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(row.token.created_at))
        revoked = row.token.revoked_at
        state = "active" if revoked is None else "revoked " + time.strftime("%Y-%m-%d", time.gmtime(revoked))
        scopes = " ".join(sorted(row.token.scopes))
        print(f"{row.token.id}	{row.partner or '(operator)'}	{scopes}	{created}Z	{state}")


def cmd_api_token_revoke(args: argparse.Namespace, services: Services) -> None:
    token = api.revoke_token(services, OPERATOR, args.id)
    print(f"token {token.id} is revoked: every call with it is refused (401)")


def cmd_partner_brand(args: argparse.Namespace, services: Services) -> None:
    current = brands.brand_of(services, OPERATOR, args.partner)
    if any(value is not None for value in (args.name, args.colour, args.support_email, args.support_phone)):
        current = brands.set_brand(
            services,
            OPERATOR,
            args.partner,
            current.name if args.name is None else args.name,
            current.colour if args.colour is None else args.colour,
            current.support_email if args.support_email is None else args.support_email,
            current.support_phone if args.support_phone is None else args.support_phone,
        )
    if args.logo is not None:
        current = brands.set_logo(services, OPERATOR, args.partner, args.logo.read_bytes())
    if args.platform_domain is not None:
        current = brands.set_platform_domain(services, OPERATOR, args.partner, args.platform_domain)
    print(
        f"brand of {args.partner}: {current.name}, colour {current.colour}, logo {'yes' if current.has_logo else 'no'}"
    )
    print(f"support: {current.support or 'none'}")
    print(f"sign-ups: {current.platform_domain or 'not through this partner'}")


def _api_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tokens = (
        commands.add_parser("api", help="the provisioning API (/api/v1/)")
        .add_subparsers(dest="action", required=True)
        .add_parser("token", help="bearer tokens of partners and the operator")
        .add_subparsers(dest="verb", required=True)
    )
    create = tokens.add_parser("create", help="a token for a partner's business (shown once, stored hashed)")
    whose = create.add_mutually_exclusive_group(required=True)
    whose.add_argument("partner", nargs="?", help="the partner's business")
    whose.add_argument("--operator", action="store_true", help="a token of the operator (every business)")
    create.add_argument(
        "--scope", action="append", default=[], choices=SCOPES, help="what it may do (repeatable; default: all)"
    )
    create.set_defaults(run=cmd_api_token_create)
    tokens.add_parser("list", help="every token: partner, scopes, revoked or not").set_defaults(run=cmd_api_token_list)
    revoke = tokens.add_parser("revoke", help="refuse a token from now on")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=cmd_api_token_revoke)


# -- commands that manage the data folder or the process ----------------------------------------------------


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


def _target_or_off(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", help="an address here or elsewhere")
    parser.add_argument("--off", action="store_true", help="turn it off")


def _from_day(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="the day it takes effect (default: today)")


def _billing_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    actions = commands.add_parser("billing", help="subscriptions, statements and invoice lines").add_subparsers(
        dest="action", required=True
    )
    subscription = actions.add_parser("subscription", help="what a business subscribes to").add_subparsers(
        dest="verb", required=True
    )
    show = subscription.add_parser("show", help="the contract, its users by kind and every change")
    show.add_argument("tenant")
    show.set_defaults(run=cmd_subscription_show)
    change = subscription.add_parser("set", help="start or change a business's subscription")
    change.add_argument("tenant")
    change.add_argument("--plan", help="a plan of the catalogue, or 'none'")
    for flag, what in (("module", "module"), ("extension", "storage extension")):
        change.add_argument(f"--{flag}", action="append", default=[], help=f"add a {what} (repeatable)")
        change.add_argument(f"--no-{flag}", action="append", default=[], help=f"remove a {what} (repeatable)")
    change.add_argument("--partner", help="first change only: the partner who sold it (default: the business's)")
    _from_day(change)
    change.set_defaults(run=cmd_subscription_set)
    for name, run, text in (
        ("statement", cmd_billing_statement, "a partner's revenue share for a month"),
        ("summary", cmd_billing_summary, "every partner's billed amounts and shares for a month"),
        ("invoice-lines", cmd_billing_invoice_lines, "what every business owes for a month, line by line"),
    ):
        command = actions.add_parser(name, help=text)
        if run is cmd_billing_statement:
            command.add_argument("partner", help="the partner's business")
        command.add_argument("--month", required=True, metavar="YYYY-MM")
        formats = command.add_mutually_exclusive_group()
        formats.add_argument(
            "--csv", action="store_true", help="CSV (RFC 4180)" + (", the default" if name == "invoice-lines" else "")
        )
        formats.add_argument("--json", action="store_true", help="JSON, amounts as decimal strings")
        command.set_defaults(run=run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smb-suite", description="Mail and websites for small businesses.")
    parser.add_argument("-c", "--config", type=Path, help="TOML configuration file (default: built-in)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create the data folder, database and certificate")
    init.add_argument("--demo", action="store_true", help="also create example.test and demo@example.test")
    init.set_defaults(process=cmd_init)
    commands.add_parser("serve", help="run every service in one process").set_defaults(process=cmd_serve)
    backup_command = commands.add_parser(
        "backup",
        usage="smb-suite backup [verify] DEST",
        help="take a consistent backup into DEST while the daemon runs (again: incremental), or verify one",
    )
    backup_command.add_argument("first", type=Path, metavar="[verify] DEST")
    backup_command.add_argument("dest", type=Path, nargs="?", help=argparse.SUPPRESS)
    backup_command.set_defaults(process=cmd_backup)
    restore_command = commands.add_parser("restore", help="restore the newest backup in DEST into an empty data folder")
    restore_command.add_argument("dest", type=Path, metavar="DEST")
    restore_command.set_defaults(process=cmd_restore)

    domain = commands.add_parser("domain", help="hosted domains").add_subparsers(dest="action", required=True)
    add = domain.add_parser("add", help="host a domain")
    add.add_argument("domain")
    add.add_argument("--tenant", help="business the domain belongs to (default: a new one named after it)")
    add.set_defaults(run=cmd_domain_add)
    domain.add_parser("list", help="list hosted domains").set_defaults(run=cmd_domain_list)
    catchall = domain.add_parser("catchall", help="deliver mail for unknown addresses of DOMAIN to TARGET")
    catchall.add_argument("domain")
    _target_or_off(catchall)
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
    _target_or_off(forward)
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
    _from_day(kind)
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

    queue = commands.add_parser("queue", help="the outbound queue").add_subparsers(dest="action", required=True)
    queue.add_parser("list", help="show waiting mail and why it waits").set_defaults(run=cmd_queue_list)
    retry = queue.add_parser("retry", help="try waiting mail again now (all, or the given queue ids)")
    retry.add_argument("queue_id", nargs="*")
    retry.set_defaults(run=cmd_queue_retry)
    delete = queue.add_parser("delete", help="remove mail from the queue without telling the sender")
    delete.add_argument("queue_id", nargs="+")
    delete.set_defaults(run=cmd_queue_delete)

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
    audit = commands.add_parser("audit", help="the audit log: who changed what, when, from where")
    audit.add_argument("--tenant", help="only this business")
    audit.add_argument("--limit", type=int, default=100)
    audit.set_defaults(run=cmd_audit)
    quota = commands.add_parser("quota", help="storage accounting").add_subparsers(dest="action", required=True)
    quota.add_parser("check", help="recompute usage from disk and report any difference").set_defaults(
        run=cmd_quota_check
    )

    _billing_commands(commands)
    _api_commands(commands)
    brand = (
        commands.add_parser("partner", help="partners' white label")
        .add_subparsers(dest="action", required=True)
        .add_parser("brand", help="show or set a partner's brand, seen by its customers instead of [brand]")
    )
    brand.add_argument("partner", help="the partner's business")
    brand.add_argument("--name")
    brand.add_argument("--colour", help='main colour, "#rrggbb"')
    brand.add_argument("--support-email")
    brand.add_argument("--support-phone")
    brand.add_argument("--logo", type=Path, help="a PNG, JPEG or WebP file of at most 256 KiB")
    brand.add_argument("--platform-domain", help="sign-ups through the partner get NAME.DOMAIN ('' for none)")
    brand.set_defaults(run=cmd_partner_brand)

    site = commands.add_parser("site", help="websites").add_subparsers(dest="action", required=True)
    site_publish = site.add_parser("publish", help="build a domain's site from its content and make it live")
    site_publish.add_argument("domain")
    site_publish.set_defaults(run=cmd_site_publish)
    site_upload = site.add_parser("upload", help="publish a hand-made static site from a .zip file")
    site_upload.add_argument("domain")
    site_upload.add_argument("file", type=Path, metavar="FILE.zip")
    site_upload.set_defaults(run=cmd_site_upload)
    site_rollback = site.add_parser("rollback", help="make the previously live version live again")
    site_rollback.add_argument("domain")
    site_rollback.set_defaults(run=cmd_site_rollback)
    site.add_parser("themes", help="list the themes found in the themes folder").set_defaults(run=cmd_site_themes)
    site_picture = site.add_parser("picture", help="add a picture (JPEG, PNG, WebP, SVG) to a site's library")
    site_picture.add_argument("domain")
    site_picture.add_argument("file", type=Path, metavar="FILE")
    site_picture.add_argument("--alt", required=True, help="what the picture shows, for people who cannot see it")
    site_picture.set_defaults(run=cmd_site_picture)
    site_pictures = site.add_parser("pictures", help="list the pictures of a site's library")
    site_pictures.add_argument("domain")
    site_pictures.set_defaults(run=cmd_site_pictures)

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

    dns = commands.add_parser("dns", help="print the DNS records to publish for a domain")
    dns.add_argument("domain")
    dns.set_defaults(run=cmd_dns)

    dkim = commands.add_parser("dkim", help="DKIM signing keys").add_subparsers(dest="action", required=True)
    rotate = dkim.add_parser("rotate", help="sign with new keys; keep the old ones published for a grace period")
    rotate.add_argument("domain")
    rotate.set_defaults(run=cmd_dkim_rotate)
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
    if getattr(args, "run", None) in (cmd_user_forward, cmd_domain_catchall) and args.off == (args.target is not None):
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


if __name__ == "__main__":
    sys.exit(main())
