"""Website use cases shared by the command line and the admin UI: edit, preview, publish, roll back, upload,
and the visitors' contact form. No SQL and no HTTP here (core: smb_suite/sites/; views: web/).

Only the owners of a business (and the operator) edit its site; the directory checks that the domain belongs
to the acting principal's business.
"""

from __future__ import annotations

import email.headerregistry
import email.message
import email.policy
import email.utils
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from smb_suite import log
from smb_suite.directory.model import Domain, Principal, Role, User
from smb_suite.errors import (
    InvalidInput,
    PermissionDenied,
    QuotaExceeded,
    RelayDenied,
    StorageFull,
    TemporaryFailure,
    UnknownRecipient,
)
from smb_suite.mail.address import parse_address, parse_stored_address
from smb_suite.quota import format_bytes
from smb_suite.services import Services
from smb_suite.sites import render, themes
from smb_suite.sites.content import SiteContent, check_text, default_info
from smb_suite.sites.library import Picture
from smb_suite.sites.upload import UploadLimits

logger = logging.getLogger("smb_suite.web")

MIB = 1024 * 1024


# -- who may edit ----------------------------------------------------------------------------------------------


def editable_domains(services: Services, actor: Principal) -> list[Domain]:
    """The domains whose site the actor may edit (an owner: those of its business)."""
    if actor.role is Role.USER:
        return []
    return services.directory.list_domains(actor)


def _audit(services: Services, actor: Principal, action: str, domain: Domain, detail: str = "") -> None:
    services.audit.record(actor, action, f"{domain.name}{': ' + detail if detail else ''}", domain.tenant_id)


def site_domain(services: Services, actor: Principal, name: str) -> Domain:
    if actor.role is Role.USER:
        raise PermissionDenied("only an owner of the business edits its website")
    return services.directory.get_domain(actor, name)


# -- editing ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Live:
    """The live version as its owner reads it: when it was published, and by whom (from the audit log)."""

    at: int
    by: str


@dataclass(frozen=True, slots=True)
class Editor:
    """Everything the editing page shows about one site."""

    domain: Domain
    content: SiteContent
    themes: dict[str, themes.Theme]
    live: Live | None
    can_roll_back: bool
    addresses: tuple[str, ...] = ()  # the business's own addresses, offered for the site
    pictures: tuple[Picture, ...] = ()  # the media library (without their bytes)


PUBLISHING = ("site.publish", "site.upload", "site.rollback")


def _live(services: Services, actor: Principal, domain: Domain) -> Live | None:
    version = services.sites.live_version(domain.id)
    if version is None:
        return None
    at = int(version.name) // 1_000_000_000  # version folders are named after the time they were written (ns)
    for entry in services.audit.entries(actor, domain.tenant_id, limit=200):
        if entry.action in PUBLISHING and entry.target.startswith(f"{domain.name}: ") and entry.at >= at:
            return Live(at, entry.actor)
    return Live(at, "")


def business_addresses(services: Services, actor: Principal, domain: Domain) -> tuple[str, ...]:
    """The mailboxes and aliases of the domain's business: those at the domain first, owners before users."""
    users = [user for user in services.directory.list_users(actor) if user.tenant_id == domain.tenant_id]
    domains = {d.name for d in services.directory.list_domains(actor) if d.tenant_id == domain.tenant_id}
    aliases = [source for source, _ in services.directory.list_aliases(actor) if source.domain in domains]
    ranked = [(user.address.domain != domain.name, user.role is not Role.OWNER, str(user.address)) for user in users]
    ranked += [(alias.domain != domain.name, True, str(alias)) for alias in aliases]
    return tuple(dict.fromkeys(address for *_, address in sorted(ranked)))


def editor(services: Services, actor: Principal, name: str) -> Editor:
    domain = site_domain(services, actor, name)
    content = services.content.load(domain, services.config.sites.default_theme)
    kept = services.sites.versions(domain.id)
    return Editor(
        domain=domain,
        content=content,
        themes=themes.discover(services.config.themes_dir),
        live=_live(services, actor, domain),
        can_roll_back=len(kept) > 1,
        addresses=business_addresses(services, actor, domain),
        pictures=tuple(services.media.pictures(domain)),
    )


def choose_theme(services: Services, actor: Principal, name: str, theme_key: str, colour: str) -> None:
    domain = site_domain(services, actor, name)
    theme = themes.get_theme(services.config.themes_dir, theme_key)
    if colour not in {scheme.key for scheme in theme.colours}:
        colour = theme.colours[0].key
    services.content.save_info(domain, services.config.sites.default_theme, theme=theme.key, colour=colour)
    _audit(services, actor, "site.theme", domain, f"{theme.key} {colour}")


INFO_FIELDS = ("business_name", "tagline", "description", "address", "phone", "email", "opening_hours", "lang")


def save_info(services: Services, actor: Principal, name: str, fields: dict[str, str], contact_form: bool) -> None:
    domain = site_domain(services, actor, name)
    values: dict[str, Any] = {key: fields.get(key, "") for key in INFO_FIELDS}
    if values["email"]:
        values["email"] = str(parse_stored_address(values["email"]))
        _check_own_address(services, domain, values["email"])
    values["lang"] = values["lang"] or "en"
    values["contact_form"] = contact_form
    services.content.save_info(domain, services.config.sites.default_theme, **values)
    _audit(services, actor, "site.info", domain)


def _check_own_address(services: Services, domain: Domain, address: str) -> None:
    """An address at one of the business's own domains must receive mail (a mailbox, an alias, a catch-all):
    a visitor writing to it would get 550 otherwise. Addresses elsewhere are the owner's business."""
    hosted = services.directory.find_domain(address.rsplit("@", 1)[1])
    if hosted is None or hosted.tenant_id != domain.tenant_id:
        return
    try:
        services.delivery.resolve(address)
    except (UnknownRecipient, RelayDenied) as exc:
        raise InvalidInput(
            f"{address} receives no mail: choose one of your mailboxes or aliases, or add the alias first"
        ) from exc


def save_logo(services: Services, actor: Principal, name: str, data: bytes | None, content_type: str) -> None:
    domain = site_domain(services, actor, name)
    services.content.save_logo(domain, services.config.sites.default_theme, data, content_type)
    _audit(services, actor, "site.logo", domain, "removed" if data is None else "uploaded")


def add_page(services: Services, actor: Principal, name: str, slug: str, title: str) -> int:
    domain = site_domain(services, actor, name)
    page_id = services.content.add_page(domain, services.config.sites.default_theme, slug, title).id
    _audit(services, actor, "site.page.add", domain, slug)
    return page_id


def update_page(services: Services, actor: Principal, name: str, page_id: int, **values: Any) -> None:
    domain = site_domain(services, actor, name)
    services.content.update_page(domain, services.config.sites.default_theme, page_id, **values)
    _audit(services, actor, "site.page.edit", domain, str(page_id))


def delete_page(services: Services, actor: Principal, name: str, page_id: int) -> None:
    domain = site_domain(services, actor, name)
    services.content.delete_page(domain, services.config.sites.default_theme, page_id)
    _audit(services, actor, "site.page.delete", domain, str(page_id))


def move_page(services: Services, actor: Principal, name: str, page_id: int, offset: int) -> None:
    domain = site_domain(services, actor, name)
    services.content.move_page(domain, services.config.sites.default_theme, page_id, offset)
    _audit(services, actor, "site.page.move", domain, str(page_id))


# -- the first site of a new domain ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirstSite:
    """What a business told at sign-up, from which its first site is made (in the language it signed up in)."""

    business_name: str
    lang: str = "en"
    theme: str = ""
    activity: str = ""
    phone: str = ""
    city: str = ""


def theme_choices(services: Services) -> dict[str, themes.Theme]:
    """The themes a business may choose, by key (read from disk: call in a thread)."""
    return themes.discover(services.config.themes_dir)


def own_address(services: Services, domain: Domain) -> str:
    """The business's own address for its site: an owner's mailbox at the domain, else any owner's (never an
    address nobody receives)."""
    owners = services.directory.owners(domain.tenant_id)
    at_domain = [user for user in owners if user.address.domain == domain.name]
    chosen = (at_domain or owners)[:1]
    return str(chosen[0].address) if chosen else ""


def start_site(services: Services, domain: Domain, answers: FirstSite | None = None) -> SiteContent:
    """Write a new domain's content once: from the sign-up answers, else the defaults; with the business's own
    mail address and a theme that exists (the configured default otherwise)."""
    config = services.config
    info = default_info(domain, config.sites.default_theme)
    info = replace(info, email=own_address(services, domain))
    if answers is not None:
        found = themes.discover(config.themes_dir).get(answers.theme) or themes.get_theme(
            config.themes_dir, config.sites.default_theme
        )
        info = replace(
            info,
            theme=found.key,
            colour=found.colours[0].key,
            lang=answers.lang,
            business_name=answers.business_name,
            tagline=answers.activity,
            description=", ".join(part for part in (answers.activity, answers.city) if part),
            address=answers.city,
            phone=answers.phone,
        )
    return services.content.start(domain, info)


# -- preview, publish, roll back, upload -----------------------------------------------------------------------


def preview(services: Services, actor: Principal, name: str, root: str) -> dict[str, bytes]:
    """The site as it would be published, built in memory with links below `root`; nothing is written."""
    domain = site_domain(services, actor, name)
    content = services.content.load(domain, services.config.sites.default_theme)
    theme = themes.get_theme(services.config.themes_dir, content.info.theme)
    return render.build_site(theme, content, root, services.media.pictures(domain, with_data=True))


def _explain_quota(services: Services, domain: Domain, error: QuotaExceeded) -> QuotaExceeded:
    """The same refusal, telling usage, limit and how to get more room."""
    usage = services.quota.current(domain.tenant_id)
    larger = [
        f"{name} ({format_bytes(tier.storage_bytes)}{', ' + tier.price if tier.price else ''})"
        for name, tier in services.config.tiers.items()
        if tier.storage_bytes > usage.limit
    ]
    how = (
        f"To get more room, ask your provider to move {usage.tenant} to a larger tier: {', '.join(larger)}; "
        "or make the site smaller, or delete old mail."
        if larger
        else "Make the site smaller or delete old mail to make room."
    )
    return QuotaExceeded(
        f"Not published: {error}. Your business uses {format_bytes(usage.used)} of its "
        f"{format_bytes(usage.limit)} limit ({usage.tier} tier). {how} The live site is unchanged."
    )


def publish_content(services: Services, domain: Domain, answers: FirstSite | None = None) -> Path:
    """Build the domain's site from its content and theme and make it live (quota checked); the version. A
    domain without content gets its first site first (start_site)."""
    config = services.config
    content = start_site(services, domain, answers)
    theme = themes.get_theme(config.themes_dir, content.info.theme)
    pictures = services.media.pictures(domain, with_data=True)
    return services.sites.publish_files(domain, render.build_site(theme, content, "/", pictures))


def publish_site(services: Services, actor: Principal, name: str) -> Path:
    """Build from the content and make it live; the version live before stays for rollback."""
    domain = site_domain(services, actor, name)
    try:
        version = publish_content(services, domain)
    except QuotaExceeded as error:
        raise _explain_quota(services, domain, error) from error
    _audit(services, actor, "site.publish", domain, version.name)
    return version


def roll_back(services: Services, actor: Principal, name: str) -> Path:
    domain = site_domain(services, actor, name)
    version = services.sites.rollback(domain)
    _audit(services, actor, "site.rollback", domain, version.name)
    return version


def upload_limits(services: Services) -> UploadLimits:
    sites = services.config.sites
    return UploadLimits(max_bytes=sites.max_upload_mb * MIB, max_files=sites.max_upload_files)


def upload_site(services: Services, actor: Principal, name: str, source: Path | BinaryIO) -> int:
    """Publish a hand-made static site from a zip (checked: no path leaving the docroot, no links, limits)."""
    domain = site_domain(services, actor, name)
    try:
        count = services.sites.publish_zip(domain, source, upload_limits(services))
    except QuotaExceeded as error:
        raise _explain_quota(services, domain, error) from error
    _audit(services, actor, "site.upload", domain, f"{count} files")
    return count


# -- the visitors' contact form --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContactMessage:
    name: str
    email: str
    phone: str
    subject: str
    message: str


def check_contact(name: str, mail: str, phone: str, subject: str, message: str) -> ContactMessage:
    """Validate the form: one-line fields must not hold CR, LF or other control characters."""
    if not name.strip() or not message.strip():
        raise InvalidInput("Please fill in your name and your message.")
    for label, value in (("your name", name), ("your mail address", mail), ("phone", phone), ("subject", subject)):
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise InvalidInput(f"{label.capitalize()} must be a single line.")
    try:
        reply_to = str(parse_address(mail))
    except InvalidInput as exc:
        raise InvalidInput("Please give a valid mail address, so that we can answer you.") from exc
    return ContactMessage(
        name=check_text("business_name", name),
        email=reply_to,
        phone=check_text("phone", phone),
        subject=check_text("title", subject),
        message=check_text("body", message[:10_000]),
    )


def contact_recipients(services: Services, domain: Domain) -> list[User]:
    """The business's mailbox for site mail: the address on the site if hosted here, else its owners.

    Only mailboxes of the site's own business ever receive it: an address on the site (or an alias it names)
    that reaches another business's mailbox is ignored, so a form on one business's site cannot write to
    another's."""
    content = services.content.load(domain, services.config.sites.default_theme)
    if content.info.email:
        try:
            found = list(services.delivery.resolve(content.info.email).mailboxes)
        except (RelayDenied, UnknownRecipient, InvalidInput):
            found = []
        own = [user for user in found if user.tenant_id == domain.tenant_id]
        if len(own) < len(found):
            log.event(logger, "web.contact.foreign_recipient", site=domain.name, address=content.info.email)
        if own:
            return own
    owners = services.directory.owners(domain.tenant_id)
    if not owners:
        raise TemporaryFailure("This business cannot receive messages yet. Please try again later.")
    return owners


def build_contact_mail(domain: Domain, message: ContactMessage, client_ip: str, now: float) -> bytes:
    """The mail for the business: Reply-To is the visitor; headers built by email.message, never by hand."""
    mail = email.message.EmailMessage(policy=email.policy.SMTP)
    mail["From"] = email.headerregistry.Address(f"{message.name} via {domain.name}", "website", domain.name)
    mail["Reply-To"] = email.headerregistry.Address(message.name, *message.email.rsplit("@", 1))
    mail["To"] = email.headerregistry.Address(domain.tenant_name, "website", domain.name)
    mail["Subject"] = message.subject or f"Message from your website {domain.name}"
    mail["Date"] = email.utils.formatdate(now, localtime=True)
    mail["Message-ID"] = email.utils.make_msgid(domain="website." + domain.name)
    details = [f"From: {message.name} <{message.email}>"]
    if message.phone:
        details.append(f"Phone: {message.phone}")
    details.append(f"Sent with the contact form of https://{domain.name}/ from {client_ip}")
    mail.set_content(message.message + "\n\n-- \n" + "\n".join(details) + "\n")
    return mail.as_bytes()


def send_contact_message(services: Services, domain: Domain, message: ContactMessage, client_ip: str) -> int:
    """Deliver a visitor's message to the business's mailbox (synchronous: call through the writer); the
    null envelope sender, so no autoreply answers the form."""
    users = contact_recipients(services, domain)
    data = build_contact_mail(domain, message, client_ip, services.clock())
    try:
        return services.delivery.accept_now(users, data).copies
    except (QuotaExceeded, StorageFull) as exc:
        raise TemporaryFailure("Your message could not be delivered right now. Please call or try later.") from exc
