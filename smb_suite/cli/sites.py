"""Commands about websites: publish, upload, roll back, themes and pictures."""

from __future__ import annotations

import argparse
from pathlib import Path

from smb_suite.cli.common import Commands
from smb_suite.directory.model import OPERATOR
from smb_suite.errors import SmbSuiteError
from smb_suite.ops import media as media_ops
from smb_suite.ops import sites
from smb_suite.quota import format_bytes
from smb_suite.services import Services
from smb_suite.sites import publish, themes
from smb_suite.sites.media import MAX_MEDIA_BYTES


def cmd_site_publish(args: argparse.Namespace, services: Services) -> None:
    version = sites.publish_site(services, OPERATOR, args.domain)
    print(f"published {args.domain}: version {version.name} ({format_bytes(publish.tree_size(version))}) is live")


def cmd_site_upload(args: argparse.Namespace, services: Services) -> None:
    if not args.file.is_file():
        raise SmbSuiteError(f"{args.file}: no such file")
    count = sites.upload_site(services, OPERATOR, args.domain, args.file)
    print(f"uploaded {args.file.name} to {args.domain}: {count} files are live")


def cmd_site_rollback(args: argparse.Namespace, services: Services) -> None:
    version = sites.roll_back(services, OPERATOR, args.domain)
    print(f"rolled back {args.domain}: version {version.name} is live again")


def cmd_site_themes(args: argparse.Namespace, services: Services) -> None:
    for key, theme in themes.discover(services.config.themes_dir).items():
        colours = ", ".join(scheme.key for scheme in theme.colours)
        print(f"{key}\t{theme.name}\tlayouts: {', '.join(theme.layouts)}\tcolours: {colours}")


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


def register(commands: Commands) -> None:
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
