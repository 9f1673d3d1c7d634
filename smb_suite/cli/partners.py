"""Commands for partners: provisioning API tokens and white-label brands."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from smb_suite.auth.apitokens import SCOPES
from smb_suite.cli.common import Commands
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import api, brands
from smb_suite.services import Services


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


def register(commands: Commands) -> None:
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
