"""Moving a business between servers: `smb-suite tenant export TENANT FILE` and `tenant import FILE`
(docs/ARCHITECTURE.md "Moving a business between servers").

Export reads the business's rows in one read transaction (storage/dbcopy.read_consistently) while the daemon
serves, then the files those rows name: a message file is found under its row's name or, renamed by a flag change
since, by its unique key (the backup's `maildir.whereabouts`); a message expunged meanwhile is left out with its
row. Mail delivered after that transaction began is not in the archive: it stays on this server (switch the MX
first, or suspend the business, for a move that leaves nothing behind).

Import checks everything before it changes anything: the archive against its manifest (ops/tenant_archive.py),
then its rows (tenantrows.check), names, UIDs, the files' places, the target (no domain hosted yet, no business of
that name, the tier configured here and large enough). The files are arranged in a staging folder in the data
folder; one transaction inserts the rows under new ids, renames the staged folders to the places those ids name
and commits; any failure removes what was renamed and the staging folder. Mailboxes are always new on the target
(their domains are not hosted there), so UIDVALIDITY and UIDs are kept as they were: nothing is renumbered.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from smb_suite import __version__
from smb_suite.dav.layout import COLLECTION_ROOT, TENANT_PREFIX, USER_PREFIX, DavLayout, visible_bytes
from smb_suite.directory.model import Principal, Role
from smb_suite.errors import MoveRefused, PermissionDenied, SmbSuiteError
from smb_suite.mail.summary import summarize
from smb_suite.names import check_tenant_name, normalize_domain
from smb_suite.ops import tenant_archive
from smb_suite.ops.tenant_archive import ROWS, Manifest
from smb_suite.quota import format_bytes
from smb_suite.services import Services
from smb_suite.sites import publish
from smb_suite.storage import database, dbcopy, maildir, paths, tenantrows
from smb_suite.storage.index import summary_values

INBOX = "INBOX"
BOX = "box-"  # a staged folder before it has its new id (never a Maildir++ name: those start with '.')


@dataclass(frozen=True, slots=True)
class ExportReport:
    file: Path
    tenant: str
    domains: list[str]
    mailboxes: int
    messages: int
    files: int
    left_out: int  # messages expunged between the read of the rows and the copy of their file


@dataclass(frozen=True, slots=True)
class ImportReport:
    tenant: str
    domains: list[str]
    mailboxes: int
    messages: int
    used: int
    warnings: list[str] = field(default_factory=list)


def _operator_only(actor: Principal) -> None:
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator moves a business between servers")


# -- export -------------------------------------------------------------------------------------------------


def export_tenant(services: Services, actor: Principal, name: str, target: Path) -> ExportReport:
    """Write business `name` (rows, mail, sites, DAV trees) into the archive `target` while the daemon serves."""
    _operator_only(actor)
    tenant = services.tenants.get(actor, name)
    if target.exists():
        raise MoveRefused(f"{target} exists: choose a new file name")
    snapshot = dbcopy.read_consistently(services.engine, lambda conn: tenantrows.read(conn, tenant.id))
    rows = snapshot.rows
    manifest = Manifest(__version__, snapshot.schema, services.config.server.hostname, tenant.name, snapshot.partner)
    with tenant_archive.writing(target, manifest) as writer:
        left_out = _export_mail(services, rows, writer)
        _export_sites(services, rows, writer)
        _export_dav(DavLayout(services.config.server.data_dir), tenant.id, writer)
        writer.add_bytes(ROWS, json.dumps(rows, separators=(",", ":")).encode())
    services.audit.record(actor, "tenant.export", f"{tenant.name} -> {target.name}", tenant.id)
    return ExportReport(
        target,
        tenant.name,
        [row["name"] for row in rows["domains"]],
        len(rows["mailboxes"]),
        len(rows["messages"]),
        len(manifest.members),
        left_out,
    )


def _export_mail(services: Services, rows: tenantrows.Rows, writer: tenant_archive.Writer) -> int:
    """Add each message's file as mail/<message id>; drop the rows of messages expunged since (returned)."""
    layout = paths.MailLayout(services.config.mail_dir)
    boxes = {row["id"]: (row["user_id"], row["name"] == INBOX) for row in rows["mailboxes"]}
    scans: dict[Path, dict[str, str]] = {}
    kept = []
    for row in rows["messages"]:
        user_id, inbox = boxes[row["mailbox_id"]]
        folder = layout.folder(user_id, row["mailbox_id"], inbox)
        for path in maildir.whereabouts(folder, row["filename"], scans):
            try:
                with open(path, "rb") as handle:
                    writer.add_file(f"mail/{row['id']}", handle)
                kept.append(row)
                break
            except FileNotFoundError:
                continue  # renamed (a flag change) between looking and opening: look again
    left_out = len(rows["messages"]) - len(kept)
    rows["messages"] = kept
    return left_out


def _export_sites(services: Services, rows: tenantrows.Rows, writer: tenant_archive.Writer) -> None:
    """Every kept version of each domain's site (the live one and the one before, for rollback); which one is
    live goes in the manifest (the archive holds no symbolic link)."""
    for domain in rows["domains"]:
        root = publish.site_root(services.config.sites_dir, domain["id"])
        live = publish.live_version(root)
        if live is not None:
            writer.manifest.live_sites[str(domain["id"])] = live.name
        for version in publish.versions(root):
            prefix = f"sites/{domain['id']}/{publish.VERSIONS}/{version.name}"
            _add_tree(writer, version, prefix)


def _export_dav(layout: DavLayout, tenant_id: int, writer: tenant_archive.Writer) -> None:
    """Contacts, calendars and task lists (Radicale's collections, without its caches and locks) and the
    documents (shared and private; uploads still arriving in incoming/ are not documents yet)."""
    _add_tree(writer, layout.calendars(tenant_id) / COLLECTION_ROOT, f"dav/{COLLECTION_ROOT}")
    for part in ("shared", "users"):
        _add_tree(writer, layout.files(tenant_id) / part, f"files/{part}")


def _add_tree(writer: tenant_archive.Writer, folder: Path, prefix: str) -> None:
    for path in _tree_files(folder):
        try:
            with open(path, "rb") as handle:
                writer.add_file(f"{prefix}/{path.relative_to(folder).as_posix()}", handle)
        except FileNotFoundError:
            continue  # removed meanwhile (an old site version pruned, a document deleted)


def _tree_files(folder: Path) -> Iterator[Path]:
    """Regular files below `folder`, symbolic links neither followed nor taken, Radicale's caches left out."""
    for directory, folders, files in os.walk(folder):
        folders[:] = sorted(f for f in folders if not _scratch(f) and not os.path.islink(os.path.join(directory, f)))
        for name in sorted(files):
            path = Path(directory) / name
            if not _scratch(name) and path.is_file() and not path.is_symlink():
                yield path


def _scratch(name: str) -> bool:
    """Radicale's own caches, locks and temporary files: rebuilt on the target."""
    return name.startswith((".Radicale.cache", ".Radicale.lock", ".Radicale.tmp"))


# -- import -------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """What an archive becomes on this server, decided before anything changes."""

    rows: tenantrows.Rows
    manifest: Manifest
    tenant_id: int  # in the archive
    partner_id: int | None
    mail_names: dict[int, str] = field(default_factory=dict)  # archive message id -> its new file name
    summaries: dict[int, dict[str, Any]] = field(default_factory=dict)
    user_bytes: dict[int, int] = field(default_factory=dict)  # archive user id -> bytes of its messages
    site_bytes: dict[int, int] = field(default_factory=dict)  # archive domain id -> bytes of its versions
    used: int = 0
    warnings: list[str] = field(default_factory=list)


def import_tenant(services: Services, actor: Principal, archive: Path) -> ImportReport:
    """Bring the business of `archive` in, under new ids, all or nothing."""
    _operator_only(actor)
    data_dir = services.config.server.data_dir
    tenantrows.clear_interrupted(services.engine, data_dir)  # an import killed before its commit, if any
    staging = tenantrows.staging_folder(data_dir, os.getpid(), secrets.token_hex(4))
    staging.mkdir(mode=0o700)
    try:
        unpacked = staging / "archive"
        unpacked.mkdir()
        extracted = tenant_archive.extract(archive, unpacked)
        plan = _plan(services, extracted)
        _arrange(unpacked, plan)
        _check_tier(services, plan)
        tenant_id = _commit(services, unpacked, staging, plan)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    tenant = plan.rows["tenants"][0]["name"]
    source = f"{tenant} from {plan.manifest.source_host} ({archive.name})"
    services.audit.record(actor, "tenant.import", source, tenant_id)
    return ImportReport(
        tenant,
        [row["name"] for row in plan.rows["domains"]],
        len(plan.rows["mailboxes"]),
        len(plan.rows["messages"]),
        plan.used,
        plan.warnings,
    )


def _plan(services: Services, extracted: tenant_archive.Extracted) -> _Plan:
    try:
        rows = json.loads(extracted.rows)
    except ValueError as error:
        raise MoveRefused(f"the archive's {ROWS} is not readable ({error})") from error
    if not isinstance(rows, dict):
        raise MoveRefused(f"the archive's {ROWS} is not a set of tables")
    tenantrows.check(rows)
    tenant = rows["tenants"][0]
    plan = _Plan(rows, extracted.manifest, tenant["id"], None)
    _check_names(rows)
    _check_uids(rows)
    _check_places(rows, extracted.files, extracted.manifest)
    with services.engine.connect() as conn:
        _check_target(conn, rows)
        if plan.manifest.partner is not None:
            plan.partner_id = tenantrows.tenant_named(conn, plan.manifest.partner)
            if plan.partner_id is None:
                plan.warnings.append(
                    f"partner {plan.manifest.partner!r} does not exist on this server: the business has no partner"
                )
    here = _schema(services)
    if plan.manifest.schema != here:
        plan.warnings.append(
            f"the archive was made at database schema {plan.manifest.schema}, this server is at {here}: "
            "columns added since take their defaults"
        )
    return plan


def _schema(services: Services) -> str:
    with services.engine.connect() as conn:
        return tenantrows.read_schema(conn)


def _check_names(rows: tenantrows.Rows) -> None:
    """Names are checked as if typed here: a domain, a business, a folder name the target would refuse is refused."""
    try:
        check_tenant_name(rows["tenants"][0]["name"])
        for domain in rows["domains"]:
            if normalize_domain(domain["name"]) != domain["name"]:
                raise MoveRefused(f"the archive's domain {domain['name']!r} is not in canonical form")
        for user in rows["users"]:
            Role(user.get("role", Role.USER.value))
        for box in rows["mailboxes"]:
            if maildir.validate_mailbox_name(box["name"]) != box["name"]:
                raise MoveRefused(f"the archive's folder {box['name']!r} is not in canonical form")
    except MoveRefused:
        raise
    except (SmbSuiteError, KeyError, TypeError, ValueError) as error:
        raise MoveRefused(f"the archive holds a name or role this server refuses ({error})") from error


def _check_uids(rows: tenantrows.Rows) -> None:
    """UIDs are kept, so they must be what RFC 3501 2.3.1.1 promises: unique and below the folder's UIDNEXT."""
    next_uid = {box["id"]: box["uidnext"] for box in rows["mailboxes"]}
    seen: set[tuple[int, int]] = set()
    for message in rows["messages"]:
        key = (message["mailbox_id"], message["uid"])
        if key in seen or not (0 < message["uid"] < next_uid.get(message["mailbox_id"], 0)):
            raise MoveRefused(f"the archive's message {message['id']} has a UID its folder cannot hold")
        seen.add(key)


def _check_places(rows: tenantrows.Rows, files: list[PurePosixPath], manifest: Manifest) -> None:
    """Every file is in a place the rows account for: one file per message, sites of the business's domains,
    collections of its users and of itself, documents shared or of its users."""
    messages = {str(row["id"]) for row in rows["messages"]}
    domains = {str(row["id"]) for row in rows["domains"]}
    users = {str(row["id"]) for row in rows["users"]}
    principals = {f"{USER_PREFIX}{u}" for u in users} | {f"{TENANT_PREFIX}{rows['tenants'][0]['id']}"}
    mail = set()
    for path in files:
        parts = path.parts
        if parts[0] == "mail" and len(parts) == 2 and parts[1] in messages:
            mail.add(parts[1])
        elif not _accounted(parts, domains, users, principals):
            raise MoveRefused(f"the archive holds {path}, which belongs to nothing of the business")
    if mail != messages:
        raise MoveRefused(f"the archive lacks the files of {len(messages - mail)} message(s) its rows name")
    for domain, version in manifest.live_sites.items():
        if domain not in domains or not _version_name(version):
            raise MoveRefused(f"the archive's manifest names a live site {domain}/{version} it does not hold")


def _accounted(parts: tuple[str, ...], domains: set[str], users: set[str], principals: set[str]) -> bool:
    """Whether a site, DAV or document file's place belongs to the business (by its archive ids)."""
    top, depth = parts[0], len(parts)
    if top == "sites":
        return depth > 4 and parts[1] in domains and parts[2] == publish.VERSIONS and _version_name(parts[3])
    if top == "dav":
        return depth > 3 and parts[1] == COLLECTION_ROOT and parts[2] in principals
    if top == "files":
        return (depth > 2 and parts[1] == "shared") or (depth > 3 and parts[1] == "users" and parts[2] in users)
    return False


def _version_name(name: str) -> bool:
    return name.isdigit() and name.isascii()


def _check_target(conn: Any, rows: tenantrows.Rows) -> None:
    """Refuse a target that hosts one of the domains or a business of the same name (checked again when the
    rows go in, inside their transaction)."""
    hosted = tenantrows.hosted_domains(conn, [row["name"] for row in rows["domains"]])
    if hosted:
        raise MoveRefused(f"this server hosts {', '.join(hosted)} already: nothing was imported")
    name = rows["tenants"][0]["name"]
    if tenantrows.tenant_named(conn, name) is not None:
        raise MoveRefused(f"a business named {name!r} exists on this server already: nothing was imported")


def _arrange(unpacked: Path, plan: _Plan) -> None:
    """Give the staged files their Maildir shape and names, the sites their `current` link; measure what the
    business will use and refuse it when its tier here is too small."""
    rows = plan.rows
    boxes = {row["id"]: row for row in rows["mailboxes"]}
    staged_users = unpacked / "users"
    for box in boxes.values():
        folder = _staged_folder(staged_users, box)
        maildir.create_folder(folder)
    for message in rows["messages"]:
        box = boxes[message["mailbox_id"]]
        source = unpacked / "mail" / str(message["id"])
        data = source.read_bytes()
        flags = frozenset(message["flags"].split())
        key = maildir.new_key(len(data))
        fresh = str(message["filename"]).startswith("new/") and not flags
        name = f"new/{key}" if fresh else f"cur/{key}{maildir.info_suffix(flags)}"
        target = _staged_folder(staged_users, box) / name
        os.rename(source, target)
        os.utime(target, (message["internaldate"], message["internaldate"]))
        plan.mail_names[message["id"]] = name
        plan.summaries[message["id"]] = summary_values(summarize(data))
        plan.user_bytes[box["user_id"]] = plan.user_bytes.get(box["user_id"], 0) + len(data)
    for domain in rows["domains"]:
        root = unpacked / "sites" / str(domain["id"])
        live = plan.manifest.live_sites.get(str(domain["id"]))
        if live is not None:
            if not (root / publish.VERSIONS / live).is_dir():
                raise MoveRefused(f"the archive lacks the live version of {domain['name']}'s site")
            (root / publish.CURRENT).symlink_to(f"{publish.VERSIONS}/{live}")
        if rows["tenants"][0]["suspended"] and root.is_dir():
            publish.set_suspended(root, True)
        plan.site_bytes[domain["id"]] = publish.tree_size(root / publish.VERSIONS) if root.is_dir() else 0
    pictures = sum(int(row["size"]) for row in rows["site_media"])
    dav = visible_bytes(unpacked / "dav" / COLLECTION_ROOT) + visible_bytes(unpacked / "files")
    plan.used = sum(plan.user_bytes.values()) + sum(plan.site_bytes.values()) + pictures + dav


def _staged_folder(staged_users: Path, box: dict[str, Any]) -> Path:
    user = staged_users / str(box["user_id"])
    return user if box["name"] == INBOX else user / f"{BOX}{box['id']}"


def _check_tier(services: Services, plan: _Plan) -> None:
    """The business's tier must be configured here and hold what it uses (its bytes, counted as `quota check`)."""
    tier = plan.rows["tenants"][0]["tier"]
    config = services.config.tiers.get(tier)
    if config is None:
        raise MoveRefused(f"the business's tier {tier!r} is not configured on this server ([tiers.{tier}])")
    if plan.used > config.storage_bytes:
        raise MoveRefused(
            f"the business uses {format_bytes(plan.used)}, more than its tier {tier!r} allows on this server "
            f"({format_bytes(config.storage_bytes)}): raise [tiers.{tier}] storage_mb, nothing was imported"
        )


def _commit(services: Services, unpacked: Path, staging: Path, plan: _Plan) -> int:
    """Insert the rows under new ids and rename the staged folders to the places those ids name, in one
    transaction; on any failure the renamed folders go and nothing stays. Returns the business's new id."""
    placed: list[Path] = []
    warnings_before = len(plan.warnings)

    def adjust(table: str, old: int | None, values: dict[str, Any]) -> None:
        if table == "tenants":
            values.update(partner_id=plan.partner_id, usage_bytes=plan.used, warned_percent=0)
        elif table == "subscriptions":
            values["partner_id"] = plan.partner_id
        elif table == "users" and old is not None:
            values["usage_bytes"] = plan.user_bytes.get(old, 0)
            if values.get("role") == Role.OPERATOR.value:  # the source's operator is nobody's operator here
                values["role"] = Role.OWNER.value
                plan.warnings.append(
                    f"{values['local_part']}: an operator account there, an owner of its business here"
                )
        elif table == "domains" and old is not None:
            values["site_bytes"] = plan.site_bytes.get(old, 0)
        elif table == "messages" and old is not None:
            values["filename"] = plan.mail_names[old]
        elif table == "brands" and values.get("platform_domain"):
            plan.warnings.append("the partner's platform domain is not moved: the operator sets it here")
            values["platform_domain"] = None

    try:
        with database.writes_first(), services.engine.begin() as conn:
            _check_target(conn, plan.rows)
            new = tenantrows.insert(conn, plan.rows, adjust)
            tenantrows.add_summaries(conn, {new.of("messages", old): values for old, values in plan.summaries.items()})
            tenant_id = new.of("tenants", plan.tenant_id)
            moves = _moves(services, unpacked, staging, plan, new, tenant_id)
            tenantrows.note_placing(staging, [(table, row_id, target) for _, target, table, row_id in moves])
            for source, target, _, _ in moves:
                _move(source, target, placed)
            os.sync()  # the files are durable before the rows that name them commit (the durability contract)
    except BaseException:
        del plan.warnings[warnings_before:]
        for folder in placed:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    left = len(plan.rows["billing_seats"]) - len(new.ids.get("billing_seats", {}))
    if left:
        plan.warnings.append(f"{left} billing seat record(s) of mailboxes removed before the export were left out")
    return tenant_id


Move = tuple[Path, Path, str, int]  # staged folder, its place, the table and id of the row it belongs to


def _moves(
    services: Services, unpacked: Path, staging: Path, plan: _Plan, new: tenantrows.NewIds, tenant_id: int
) -> list[Move]:
    """Name the staged folders after their new ids inside staging, and list where each goes: a place its new id
    names, which never exists (ids are never reused)."""
    moves: list[Move] = []
    layout = paths.MailLayout(services.config.mail_dir)
    layout.users.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged_users = unpacked / "users"
    for box in plan.rows["mailboxes"]:
        if box["name"] != INBOX:
            home = staged_users / str(box["user_id"])
            os.rename(home / f"{BOX}{box['id']}", home / f"{paths.FOLDER_PREFIX}{new.of('mailboxes', box['id'])}")
    for user in plan.rows["users"]:
        home = staged_users / str(user["id"])
        home.mkdir(parents=True, exist_ok=True)
        user_id = new.of("users", user["id"])
        moves.append((home, layout.user_root(user_id), "users", user_id))
    services.config.sites_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for domain in plan.rows["domains"]:
        staged = unpacked / "sites" / str(domain["id"])
        if staged.is_dir():
            domain_id = new.of("domains", domain["id"])
            moves.append((staged, publish.site_root(services.config.sites_dir, domain_id), "domains", domain_id))
    dav = DavLayout(services.config.server.data_dir)
    renamed = staging / "renamed"
    principals = {f"{USER_PREFIX}{old}": f"{USER_PREFIX}{new_id}" for old, new_id in new.ids.get("users", {}).items()}
    principals[f"{TENANT_PREFIX}{plan.tenant_id}"] = f"{TENANT_PREFIX}{tenant_id}"
    _renamed_children(unpacked / "dav" / COLLECTION_ROOT, renamed / "dav" / COLLECTION_ROOT, principals)
    users = {str(old): str(new_id) for old, new_id in new.ids.get("users", {}).items()}
    _renamed_children(unpacked / "files" / "users", renamed / "files" / "users", users)
    if (unpacked / "files" / "shared").is_dir():
        (renamed / "files").mkdir(parents=True, exist_ok=True)
        os.rename(unpacked / "files" / "shared", renamed / "files" / "shared")
    for tree, target in (("dav", dav.calendars(tenant_id)), ("files", dav.files(tenant_id))):
        if (renamed / tree).is_dir():
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            moves.append((renamed / tree, target, "tenants", tenant_id))
    return moves


def _renamed_children(source: Path, target: Path, names: dict[str, str]) -> None:
    """Move each child of `source` to `target` under its new name (into a new folder, so an old name that
    equals another's new one never collides)."""
    if not source.is_dir():
        return
    target.mkdir(parents=True)
    for child in source.iterdir():
        os.rename(child, target / names[child.name])


def _move(source: Path, target: Path, placed: list[Path]) -> None:
    if target.exists() or target.is_symlink():
        raise MoveRefused(f"{target} exists already: a folder left by a failed run? nothing was imported")
    os.rename(source, target)
    placed.append(target)
