"""Commands about money: subscriptions, statements, invoice lines."""

from __future__ import annotations

import argparse
import sys

from smb_suite.billing import export
from smb_suite.billing.contract import UserKind
from smb_suite.billing.money import Month, parse_day
from smb_suite.cli.common import Commands, from_day
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import billing
from smb_suite.services import Services


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


def register(commands: Commands) -> None:
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
    from_day(change)
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
