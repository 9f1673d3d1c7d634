"""The configuration schema: frozen dataclasses with defaults, help and validation.

Read once at start (`load`) and passed down; no other module reads files or the environment for settings.
`load` reports every problem at once, each naming file, section and key, so an operator fixes them in one go.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from smb_suite.errors import ConfigError


def _help(text: str) -> dict[str, str]:
    return {"help": text}


class Duration(float):
    """Seconds, written in the file as "90s", "15m", "4h", "5d" (or a whole number of seconds)."""


_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class Workers(int):
    """How many worker processes serve the listeners: "auto" (one per core this process may run on) or N."""


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_workers(value: object) -> Workers:
    if value == "auto":
        return Workers(cores())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return Workers(value)
    raise ValueError('expected "auto" or a whole number of processes (1 or more)')


def parse_duration(value: object) -> Duration:
    if isinstance(value, int) and not isinstance(value, bool):
        return Duration(value)
    match = _DURATION.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError('expected a duration like "90s", "15m", "4h" or "5d"')
    return Duration(int(match[1]) * _UNITS[match[2]])


@dataclass(frozen=True, slots=True)
class ServerConfig:
    hostname: str = field(default="localhost", metadata=_help("name of this server in SMTP banners and URLs"))
    data_dir: Path = field(
        default=Path("data"),
        metadata=_help("folder for the database, Maildirs, sites and keys; relative to the config file"),
    )
    public_addresses: tuple[str, ...] = field(
        default=(),
        metadata=_help("public IPv4/IPv6 addresses of the websites (A/AAAA); empty: those of hostname, looked up"),
    )
    workers: Workers = field(
        default_factory=lambda: parse_workers("auto"),
        metadata=_help('"auto" (one per core) or N processes serving every listener; 1: a single process'),
    )


@dataclass(frozen=True, slots=True)
class ListenConfig:
    smtp: str = field(default="127.0.0.1:2525", metadata=_help("inbound MX (port 25 in production)"))
    submission: str = field(default="127.0.0.1:2587", metadata=_help("submission with STARTTLS (587)"))
    submissions: str = field(default="127.0.0.1:2465", metadata=_help("submission over implicit TLS (465)"))
    imap: str = field(default="127.0.0.1:2143", metadata=_help("IMAP with STARTTLS (143)"))
    imaps: str = field(default="127.0.0.1:2993", metadata=_help("IMAP over implicit TLS (993)"))
    http: str = field(default="127.0.0.1:8080", metadata=_help("sites and admin over HTTP (80)"))
    https: str = field(default="127.0.0.1:8443", metadata=_help("sites and admin over HTTPS (443)"))
    proxy_protocol_from: tuple[str, ...] = field(
        default=(),
        metadata=_help(
            "balancers (CIDRs) that must open each connection with a PROXY protocol header naming the real "
            "client; nobody else may send one; empty: off"
        ),
    )
    proxy_protocol_timeout: Duration = field(
        default=Duration(10), metadata=_help("time a balancer has to send its PROXY header")
    )
    metrics: str = field(
        default="", metadata=_help("Prometheus metrics for the operator (e.g. 127.0.0.1:9100); empty: off")
    )


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = field(
        default="",
        metadata=_help(
            "SQLAlchemy URL: empty means SQLite in data_dir/smb-suite.db; postgresql+psycopg://... for PostgreSQL"
        ),
    )


@dataclass(frozen=True, slots=True)
class TlsConfig:
    certificate: Path | None = field(
        default=None, metadata=_help("PEM certificate chain; empty: a self-signed one in data_dir/tls/")
    )
    key: Path | None = field(default=None, metadata=_help("PEM private key matching the certificate"))
    mta_sts_mode: str = field(
        default="testing", metadata=_help("MTA-STS policy mode served on mta-sts.<domain>: testing, enforce or none")
    )
    handshake_timeout: Duration = field(
        default=Duration(30), metadata=_help("time a client has for the TLS handshake on IMAPS, SMTPS and HTTPS")
    )


@dataclass(frozen=True, slots=True)
class AcmeConfig:
    """Automatic certificates (RFC 8555) for the server hostname and every verified domain (ops/certificates.py)."""

    directory: str = field(
        default="", metadata=_help("ACME directory URL (e.g. Let's Encrypt's); empty: no automatic certificates")
    )
    contact: str = field(default="", metadata=_help('account contact, "mailto:postmaster@example.com"'))
    ca_certificates: Path | None = field(
        default=None, metadata=_help("PEM file of CAs trusted for the directory connection; empty: the system's")
    )
    renew_before: Duration = field(default=Duration(30 * 86400), metadata=_help("renew this long before expiry"))
    check_interval: Duration = field(
        default=Duration(600), metadata=_help("how often certificates are checked for renewal and new names")
    )
    retry_first: Duration = field(
        default=Duration(600), metadata=_help("wait after a first failure; doubled after each further one")
    )
    retry_max: Duration = field(default=Duration(86400), metadata=_help("longest wait between failed attempts"))


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    max_message_size: int = field(default=25 * 1024 * 1024, metadata=_help("largest message accepted, bytes"))
    max_recipients: int = field(default=100, metadata=_help("recipients per message"))
    max_sessions: int = field(default=200, metadata=_help("sessions at once on each SMTP listener; more get 421"))
    max_sessions_per_ip: int = field(default=20, metadata=_help("sessions at once from one client address (IPv6: /64)"))
    command_timeout: Duration = field(
        default=Duration(300), metadata=_help("wait for the next command (RFC 5321 4.5.3.2.7: at least 5 minutes)")
    )
    data_timeout: Duration = field(
        default=Duration(180), metadata=_help("wait for the next block of message data (RFC 5321 4.5.3.2.6)")
    )
    spool_memory_kb: int = field(
        default=512, metadata=_help("message data beyond this (KiB) is spooled to disk while it arrives")
    )
    processing_memory_mb: int = field(
        default=256, metadata=_help("memory for messages being checked and stored at once, MiB; more wait")
    )


@dataclass(frozen=True, slots=True)
class ImapConfig:
    max_connections: int = field(default=500, metadata=_help("connections at once on each IMAP listener"))
    max_connections_per_ip: int = field(
        default=50, metadata=_help("connections at once from one client address (IPv6: /64)")
    )
    login_timeout: Duration = field(default=Duration(60), metadata=_help("time to log in after connecting"))
    idle_timeout: Duration = field(
        default=Duration(1800), metadata=_help("a logged-in client silent this long is logged out (RFC 9051: >= 30m)")
    )


@dataclass(frozen=True, slots=True)
class HttpConfig:
    max_connections: int = field(default=1000, metadata=_help("connections at once on each HTTP listener"))
    max_connections_per_ip: int = field(
        default=100, metadata=_help("connections at once from one client address (IPv6: /64)")
    )
    header_timeout: Duration = field(default=Duration(30), metadata=_help("time to send a request's header"))
    body_timeout: Duration = field(
        default=Duration(30), metadata=_help("longest wait for the next piece of a request body")
    )
    send_timeout: Duration = field(
        default=Duration(60), metadata=_help("a client that reads nothing of a response for this long is dropped")
    )
    keepalive_timeout: Duration = field(
        default=Duration(15), metadata=_help("an idle keep-alive connection is closed after this")
    )


SMARTHOST_TLS = ("starttls", "implicit", "none")
COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class OutboundConfig:
    """Remote delivery through the outbound queue (smb_suite/queue/)."""

    retry_schedule: tuple[Duration, ...] = field(
        default=tuple(Duration(s) for s in (300, 600, 1800, 3600, 7200, 14400)),
        metadata=_help("waits between attempts after a temporary failure; the last one repeats"),
    )
    max_age: Duration = field(
        default=Duration(5 * 86400), metadata=_help("give up and tell the sender after this long in the queue")
    )
    delay_notice: Duration = field(
        default=Duration(4 * 3600), metadata=_help("tell the sender once that mail is delayed after this long")
    )
    scan_interval: Duration = field(
        default=Duration(30), metadata=_help("how often the queue looks for due mail and operator changes")
    )
    connections_per_destination: int = field(default=10, metadata=_help("parallel connections to one destination"))
    max_connections: int = field(default=40, metadata=_help("parallel outbound connections in all"))
    connect_timeout: Duration = field(default=Duration(30), metadata=_help("time to connect and get the greeting"))
    command_timeout: Duration = field(default=Duration(300), metadata=_help("time for each SMTP reply"))
    verify_certificates: bool = field(
        default=False, metadata=_help("refuse remote servers whose TLS certificate does not verify")
    )
    smarthost: str = field(default="", metadata=_help('"host:port" to send all remote mail through; "" = MX'))
    smarthost_tls: str = field(default="starttls", metadata=_help("starttls (required), implicit or none"))
    smarthost_username: str = field(default="", metadata=_help("AUTH user at the smarthost; empty: no AUTH"))
    smarthost_password: str = field(default="", metadata=_help("AUTH password at the smarthost"))
    routes: dict[str, str] = field(
        default_factory=dict, metadata=_help('per-domain next hop, domain = "host:port", before MX and smarthost')
    )


@dataclass(frozen=True, slots=True)
class DnsConfig:
    nameservers: tuple[str, ...] = field(
        default=(), metadata=_help('resolvers as "host" or "host:port"; empty: the system resolver')
    )
    timeout: int = field(default=5, metadata=_help("seconds a DNS lookup may take before it is a temporary error"))


DMARC_REJECT_ACTIONS = ("reject", "quarantine")


@dataclass(frozen=True, slots=True)
class InboundConfig:
    dmarc_reject: str = field(
        default="reject",
        metadata=_help('mail failing DMARC with p=reject: "reject" (550 5.7.1) or "quarantine" (Junk folder)'),
    )


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """Local delivery features (delivery/)."""

    recipient_delimiter: str = field(
        default="+", metadata=_help('user+tag@ delivers to user@ ("" turns plus-addressing off)')
    )
    vacation_interval: Duration = field(
        default=Duration(7 * 86400), metadata=_help("a vacation reply goes to each sender at most once per this")
    )


@dataclass(frozen=True, slots=True)
class DomainsConfig:
    """Ownership proof of domains added by owners and partners (ops/verification.py)."""

    verify_interval: Duration = field(
        default=Duration(15 * 60), metadata=_help("how often pending domains are looked up for their TXT record")
    )


@dataclass(frozen=True, slots=True)
class DkimConfig:
    rotation_grace_days: int = field(
        default=7, metadata=_help("days a rotated-out DKIM public key stays published after `dkim rotate`")
    )


BUNDLED_THEMES = Path(__file__).resolve().parent.parent / "themes"


@dataclass(frozen=True, slots=True)
class SitesConfig:
    themes_dir: Path | None = field(
        default=None, metadata=_help("folder of site themes, one folder each; empty: the bundled themes/")
    )
    default_theme: str = field(default="default", metadata=_help("theme of the page a new domain starts with"))
    platform_domain: str = field(
        default="sites.localhost",
        metadata=_help("a business's site also answers at <business>.<platform_domain> (its first domain's site)"),
    )
    certificates_dir: Path | None = field(
        default=None,
        metadata=_help("per-domain certificates: DOMAIN/cert.pem and DOMAIN/key.pem; empty: data_dir/tls/sites"),
    )
    max_upload_mb: int = field(default=50, metadata=_help("largest static site (unpacked) an upload may hold, MiB"))
    max_upload_files: int = field(default=2000, metadata=_help("most files an uploaded static site may hold"))
    cache_mb: int = field(default=64, metadata=_help("memory for the cache of published files, MiB"))
    cache_file_kb: int = field(default=1024, metadata=_help("files up to this size (KiB) are served from memory"))
    contact_per_hour: int = field(default=5, metadata=_help("contact-form messages one address may send per hour"))


MODULES = frozenset({"mail", "site", "collaboration"})  # collaboration: contacts, calendars, tasks, documents
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class TierConfig:
    """A storage tier the operator sells: its limit counts mail, site, contacts, calendars and documents."""

    storage_mb: int = field(metadata=_help("storage limit in MiB (1 MiB = 1,048,576 bytes)"))
    price: str = field(default="", metadata=_help("price shown to owners, free text (e.g. '4.90 EUR/month')"))
    modules: tuple[str, ...] = field(
        default=("mail", "site", "collaboration"), metadata=_help("modules the tier includes")
    )

    @property
    def storage_bytes(self) -> int:
        return self.storage_mb * MIB


def _default_tiers() -> dict[str, TierConfig]:
    return {"starter": TierConfig(storage_mb=50), "plus": TierConfig(storage_mb=100)}


@dataclass(frozen=True, slots=True)
class QuotaConfig:
    default_tier: str = field(default="starter", metadata=_help("tier of a new business"))
    warn_percent: tuple[int, ...] = field(
        default=(80, 95), metadata=_help("usage levels (percent) at which the owner is warned by mail")
    )


@dataclass(frozen=True, slots=True)
class SignupConfig:
    enabled: bool = field(
        default=False,
        metadata=_help("anyone may sign up at /admin/signup: a business, its mailbox and site at <name>.<platform>"),
    )
    per_hour: int = field(default=5, metadata=_help("sign-ups one client address may make per hour"))
    upgrade_contact: str = field(
        default="", metadata=_help("shown to owners on how to change tier (an address or URL); empty: 'your provider'")
    )


@dataclass(frozen=True, slots=True)
class LoginConfig:
    lock_after: int = field(
        default=10, metadata=_help("failed logins of one account within lock_window that lock it (SMTP, IMAP, web)")
    )
    lock_window: Duration = field(default=Duration(15 * 60), metadata=_help("how long a failed login counts"))
    lock_duration: Duration = field(
        default=Duration(15 * 60), metadata=_help("how long a locked account or client address is refused")
    )
    ip_lock_after: int = field(
        default=50, metadata=_help("failed logins from one client address within lock_window that lock it")
    )
    credential_cache_ttl: Duration = field(
        default=Duration(3600),
        metadata=_help("how long a password verified with argon2 is taken again without it (0: always verify)"),
    )


@dataclass(frozen=True, slots=True)
class BrandConfig:
    """The operator's brand: what every business without a partner's brand sees (directory/brands.py)."""

    name: str = field(default="smb-suite", metadata=_help("product name on the admin pages, in mail and mail apps"))
    colour: str = field(default="#1a5fb4", metadata=_help('main colour of the admin pages, "#rrggbb"'))
    support_email: str = field(default="", metadata=_help("support address shown to businesses and in notices"))
    support_phone: str = field(default="", metadata=_help("support phone number shown likewise"))


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """The provisioning API under /api/v1/ on the admin host names (web/api/)."""

    enabled: bool = field(default=True, metadata=_help("serve /api/v1/ to holders of tokens (smb-suite api token)"))
    requests_per_minute: int = field(
        default=300, metadata=_help("calls one token may make per minute; more get 429 with Retry-After")
    )
    idempotency_ttl: Duration = field(
        default=Duration(86400), metadata=_help("how long a creating call's Idempotency-Key replays its answer")
    )


# The modules a business may buy apart (billing/), and how a module's price counts.
BILLED_MODULES = ("mail", "website", "collaboration")
PRICED_PER = ("user", "business")
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class PlanConfig:
    """A plan sold per named user per month (billing/): every standard user pays `price`, a deskless user
    (phone and web only, smaller mailbox) `deskless_price`."""

    price: Decimal = field(metadata=_help('monthly price per standard user, a decimal string like "15.00"'))
    currency: str = field(metadata=_help("ISO 4217 code of the price, e.g. USD"))
    deskless_price: Decimal | None = field(
        default=None, metadata=_help("monthly price per deskless user; empty: the same as price")
    )
    includes: tuple[str, ...] = field(default=BILLED_MODULES, metadata=_help("modules the plan includes"))
    description: str = field(default="", metadata=_help("shown on statements and invoice lines"))


@dataclass(frozen=True, slots=True)
class ModuleConfig:
    """A module sold apart, priced per user (standard or deskless) or per business, per month."""

    price: Decimal = field(metadata=_help("monthly price per user or per business, a decimal string"))
    currency: str = field(metadata=_help("ISO 4217 code of the price"))
    per: str = field(default="user", metadata=_help('"user" (each named user pays) or "business" (one price)'))
    deskless_price: Decimal | None = field(
        default=None, metadata=_help("per-user modules: monthly price per deskless user; empty: price")
    )
    description: str = field(default="", metadata=_help("shown on statements and invoice lines"))


@dataclass(frozen=True, slots=True)
class ExtensionConfig:
    """A storage extension: a business on tier `from_tier` moves to `tier` for a monthly price."""

    from_tier: str = field(metadata=_help("the tier it extends (a [tiers.NAME])"))
    tier: str = field(metadata=_help("the tier the business gets with it (a [tiers.NAME])"))
    price: Decimal = field(metadata=_help("monthly price per business, a decimal string"))
    currency: str = field(metadata=_help("ISO 4217 code of the price"))
    description: str = field(default="", metadata=_help("shown on statements and invoice lines"))


def _default_plans() -> dict[str, PlanConfig]:
    return {"suite": PlanConfig(Decimal("15.00"), "USD", Decimal("5.00"), description="Full suite")}


def _default_modules() -> dict[str, ModuleConfig]:
    return {
        "mail": ModuleConfig(Decimal("4.00"), "USD", "user", Decimal("2.00"), "Mail"),
        "website": ModuleConfig(Decimal("9.00"), "USD", "business", description="Website"),
        "collaboration": ModuleConfig(Decimal("6.00"), "USD", "user", Decimal("3.00"), "Calendars and contacts"),
    }


def _default_extensions() -> dict[str, ExtensionConfig]:
    return {"storage-100": ExtensionConfig("starter", "plus", Decimal("4.00"), "EUR", "Storage 50 MB to 100 MB")}


@dataclass(frozen=True, slots=True)
class BillingConfig:
    """The catalogue (plans, modules, extensions) and the partners' revenue share (billing/)."""

    first_year_percent: Decimal = field(
        default=Decimal("12"), metadata=_help("partner's share of a contract's value in its first year, percent")
    )
    later_years_percent: Decimal = field(
        default=Decimal("6"), metadata=_help("partner's share in every later year of the contract, percent")
    )
    deskless_mailbox_mb: int = field(default=10, metadata=_help("mailbox limit (MiB) a user gets when made deskless"))
    plans: dict[str, PlanConfig] = field(default_factory=_default_plans)
    modules: dict[str, ModuleConfig] = field(default_factory=_default_modules)
    extensions: dict[str, ExtensionConfig] = field(default_factory=_default_extensions)


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    listen: ListenConfig = field(default_factory=ListenConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)
    acme: AcmeConfig = field(default_factory=AcmeConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    imap: ImapConfig = field(default_factory=ImapConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    sites: SitesConfig = field(default_factory=SitesConfig)
    tiers: dict[str, TierConfig] = field(default_factory=_default_tiers)
    quota: QuotaConfig = field(default_factory=QuotaConfig)
    signup: SignupConfig = field(default_factory=SignupConfig)
    login: LoginConfig = field(default_factory=LoginConfig)
    outbound: OutboundConfig = field(default_factory=OutboundConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    dns: DnsConfig = field(default_factory=DnsConfig)
    inbound: InboundConfig = field(default_factory=InboundConfig)
    dkim: DkimConfig = field(default_factory=DkimConfig)
    domains: DomainsConfig = field(default_factory=DomainsConfig)
    billing: BillingConfig = field(default_factory=BillingConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    brand: BrandConfig = field(default_factory=BrandConfig)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.server.data_dir / 'smb-suite.db'}"

    @property
    def themes_dir(self) -> Path:
        return self.sites.themes_dir or BUNDLED_THEMES

    @property
    def site_certificates_dir(self) -> Path:
        return self.sites.certificates_dir or self.server.data_dir / "tls" / "sites"

    @property
    def acme_dir(self) -> Path:
        return self.server.data_dir / "tls" / "acme"

    @property
    def mail_dir(self) -> Path:
        return self.server.data_dir / "mail"

    @property
    def queue_dir(self) -> Path:
        return self.server.data_dir / "queue"

    @property
    def sites_dir(self) -> Path:
        return self.server.data_dir / "sites"

    @property
    def certificate_path(self) -> Path:
        return self.tls.certificate or self.server.data_dir / "tls" / "cert.pem"

    @property
    def key_path(self) -> Path:
        return self.tls.key or self.server.data_dir / "tls" / "key.pem"


def parse_listen_address(value: str) -> tuple[str, int] | None:
    """'host:port' -> (host, port); '' -> None (service disabled). IPv6 as '[::1]:25'."""
    if value == "":
        return None
    host, sep, port_text = value.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError('expected "host:port" or "" to disable')
    port = int(port_text)
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 0-65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        ipaddress.IPv6Address(host)
    return host, port


def _network_problems(networks: tuple[str, ...]) -> list[str]:
    problems = []
    for network in networks:
        try:
            ipaddress.ip_network(network)
        except ValueError as exc:
            problems.append(f'{network!r} is not a network like "10.0.0.0/8": {exc}')
    return problems


DATABASE_SCHEMES = ("sqlite", "postgresql+psycopg")


def _validate(label: str, key: str, value: Any) -> list[str]:
    if label.endswith("[database]") and key == "url" and value:
        scheme = value.partition("://")[0]
        if scheme not in DATABASE_SCHEMES:
            return [f"expected sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST/DBNAME, not {scheme}://"]
    if key == "proxy_protocol_from":
        return _network_problems(value)
    if label.endswith("[listen]") and isinstance(value, str):
        try:
            parse_listen_address(value)
        except ValueError as exc:
            return [str(exc)]
    if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
        return ["must be a positive number"]
    if key in ("smarthost",) and value:
        try:
            parse_listen_address(value)
        except ValueError as exc:
            return [str(exc)]
    if key == "colour" and not COLOUR.fullmatch(value):
        return ['expected a colour like "#1a5fb4"']
    if key == "smarthost_tls" and value not in SMARTHOST_TLS:
        return [f"must be one of {', '.join(SMARTHOST_TLS)}"]
    if key == "routes":
        return _route_problems(value)
    if key == "retry_schedule" and not value:
        return ["needs at least one wait"]
    if key == "directory" and value and not value.startswith(("https://", "http://")):
        return ["must be an http(s) URL"]
    if key == "contact" and value and not value.startswith("mailto:"):
        return ['must be "mailto:ADDRESS"']
    if key == "mta_sts_mode" and value not in ("testing", "enforce", "none"):
        return ["must be testing, enforce or none"]
    if key == "warn_percent" and not all(0 < percent < 100 for percent in value):
        return ["each level must be between 1 and 99"]
    if key == "modules" and not set(value) <= MODULES:
        return [f"unknown module(s) {sorted(set(value) - MODULES)}; known: {sorted(MODULES)}"]
    if key == "dmarc_reject" and value not in DMARC_REJECT_ACTIONS:
        return [f"must be one of {', '.join(DMARC_REJECT_ACTIONS)}"]
    if key in _TIMEOUTS and value <= 0:
        return ["must be more than 0 seconds"]
    if key == "nameservers":
        return [problem for server in value for problem in _nameserver_problems(server)]
    if key == "public_addresses":
        return [problem for address in value for problem in _address_problems(address)]
    return _billing_problems(key, value)


def _billing_problems(key: str, value: Any) -> list[str]:
    if isinstance(value, Decimal) and value < 0:
        return ["must not be negative"]
    if key.endswith("price") and isinstance(value, Decimal) and value != value.quantize(Decimal("0.01")):
        return ["at most two decimal places (cents)"]
    if key.endswith("_percent") and isinstance(value, Decimal) and value > 100:
        return ["must be between 0 and 100"]
    if key == "currency" and not _CURRENCY.fullmatch(value):
        return ["must be an ISO 4217 code of three capital letters, e.g. EUR"]
    if key == "per" and value not in PRICED_PER:
        return [f"must be one of {', '.join(PRICED_PER)}"]
    if key == "includes" and not set(value) <= set(BILLED_MODULES):
        return [f"unknown module(s) {sorted(set(value) - set(BILLED_MODULES))}; known: {list(BILLED_MODULES)}"]
    return []


_TIMEOUTS = frozenset(
    {"handshake_timeout", "command_timeout", "data_timeout", "login_timeout", "idle_timeout", "header_timeout"}
    | {"keepalive_timeout", "body_timeout", "send_timeout", "proxy_protocol_timeout"}
    | {"check_interval", "retry_first", "retry_max"}
)


def parse_nameserver(value: str, default_port: int = 53) -> tuple[str, int]:
    """'192.0.2.1' or '192.0.2.1:5353' or '[2001:db8::1]:53' -> (address, port); raise ValueError."""
    host, port = value, default_port
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"{value!r}: expected [address]:port")
            port = int(rest[1:])
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
        if not port_text.isdigit():
            raise ValueError(f"{value!r}: expected address:port")
        port = int(port_text)
    ipaddress.ip_address(host)
    if not 0 < port <= 65535:
        raise ValueError(f"{value!r}: port out of range 1-65535")
    return host, port


def _nameserver_problems(value: str) -> list[str]:
    try:
        parse_nameserver(value)
    except ValueError as exc:
        return [f"{value!r} is not an IP address with an optional port ({exc})"]
    return []


def _address_problems(value: str) -> list[str]:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return [f"{value!r} is not an IPv4 or IPv6 address"]
    return []


def _route_problems(routes: dict[str, str]) -> list[str]:
    problems = []
    for domain, hop in routes.items():
        try:
            if parse_listen_address(hop) is None:
                raise ValueError('expected "host:port"')
        except ValueError as exc:
            problems.append(f"{domain}: {exc}")
    return problems


def _convert(expected: Any, value: Any) -> Any:
    """Coerce a TOML value to the field's type; raise ValueError with a readable reason."""
    text = str(expected)
    if text == "Duration":
        return parse_duration(value)
    if text == "Workers":
        return parse_workers(value)
    if text.startswith("Decimal"):
        return None if value == "" and "None" in text else _decimal(value)
    if text == "tuple[Duration, ...]":
        if not isinstance(value, list):
            raise ValueError("expected a list of durations")
        return tuple(parse_duration(item) for item in value)
    if text == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if text == "dict[str, str]":
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise ValueError('expected a table of "key" = "value" strings')
        return {k.lower().rstrip("."): v for k, v in value.items()}
    if "Path" in text:
        if not isinstance(value, str):
            raise ValueError("expected a path string")
        return None if value == "" and "None" in text else Path(value)
    if text == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if text == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected a whole number")
        return value
    if text.startswith("tuple["):
        item_type = str if text == "tuple[str, ...]" else int
        if not isinstance(value, list) or not all(type(item) is item_type for item in value):
            raise ValueError(f"expected a list of {'strings' if item_type is str else 'whole numbers'}")
        return tuple(value)
    if text == "str":
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return value
    raise ValueError(f"unsupported type {text}")


def _decimal(value: object) -> Decimal:
    """Money and rates are exact: a string like "15.00" (or a whole number); never a TOML float (binary)."""
    if isinstance(value, float):
        raise ValueError('write it as a string like "15.00": a TOML float is not exact')
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('expected a decimal string like "15.00"')
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a decimal number")
    return number


def _resolve_paths(config: Config, base: Path) -> Config:
    def rebase(path: Path | None) -> Path | None:
        return None if path is None else (path if path.is_absolute() else base / path)

    server = dataclasses.replace(config.server, data_dir=rebase(config.server.data_dir) or base)
    tls = dataclasses.replace(config.tls, certificate=rebase(config.tls.certificate), key=rebase(config.tls.key))
    acme = dataclasses.replace(config.acme, ca_certificates=rebase(config.acme.ca_certificates))
    sites = dataclasses.replace(
        config.sites,
        themes_dir=rebase(config.sites.themes_dir),
        certificates_dir=rebase(config.sites.certificates_dir),
    )
    return dataclasses.replace(config, server=server, tls=tls, acme=acme, sites=sites)


def _load_table(label: str, table: dict[str, Any], section_type: Any, errors: list[str]) -> Any:
    """Convert and validate one TOML table into its dataclass; append every problem to errors."""
    fields = {f.name: f for f in dataclasses.fields(section_type)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in fields:
            errors.append(f"{label} {key}: unknown key")
            continue
        try:
            converted = _convert(fields[key].type, value)
        except ValueError as exc:
            errors.append(f"{label} {key}: {exc}")
            continue
        errors.extend(f"{label} {key}: {problem}" for problem in _validate(label, key, converted))
        values[key] = converted
    required = [
        name
        for name, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    missing = [name for name in required if name not in values]
    errors.extend(f"{label} {name}: missing key" for name in missing)
    return None if missing else section_type(**values)


def _load_tiers(where: str, table: dict[str, Any], errors: list[str]) -> dict[str, TierConfig]:
    tiers: dict[str, TierConfig] = {}
    for name, tier_table in table.items():
        if not isinstance(tier_table, dict):
            errors.append(f"{where}: [tiers] {name}: must be a table [tiers.{name}]")
            continue
        tier = _load_table(f"{where}: [tiers.{name}]", tier_table, TierConfig, errors)
        if tier is not None:
            tiers[name] = tier
    if not tiers and not errors:
        errors.append(f"{where}: [tiers] defines no tier")
    return tiers


_CATALOGUE = {"plans": PlanConfig, "modules": ModuleConfig, "extensions": ExtensionConfig}


def _load_billing(where: str, table: dict[str, Any], errors: list[str]) -> BillingConfig | None:
    """[billing] rates, then one [billing.plans.NAME], [billing.modules.NAME], [billing.extensions.NAME] table
    each; defining any table of a kind replaces the built-in ones of that kind."""
    scalars = {key: value for key, value in table.items() if key not in _CATALOGUE}
    billing = _load_table(f"{where}: [billing]", scalars, BillingConfig, errors)
    catalogue: dict[str, Any] = {}
    for kind, item_type in _CATALOGUE.items():
        if kind not in table:
            continue
        catalogue[kind] = {}
        for name, item in (table[kind] if isinstance(table[kind], dict) else {kind: None}).items():
            label = f"{where}: [billing.{kind}.{name}]"
            if not isinstance(item, dict):
                errors.append(f"{label}: must be a table")
            elif kind == "modules" and name not in BILLED_MODULES:
                errors.append(f"{label}: unknown module; known: {', '.join(BILLED_MODULES)}")
            elif (loaded := _load_table(label, item, item_type, errors)) is not None:
                catalogue[kind][name] = loaded
                errors.extend(f"{label} deskless_price: {problem}" for problem in _deskless_problems(loaded))
    return None if billing is None else dataclasses.replace(billing, **catalogue)


def _deskless_problems(item: PlanConfig | ModuleConfig | ExtensionConfig) -> list[str]:
    deskless = getattr(item, "deskless_price", None)
    return ["must not be more than price"] if deskless is not None and deskless > item.price else []


def _offered_extensions(config: Config, billing_table: dict[str, Any]) -> Config:
    """The built-in storage extension is offered only where its tiers exist: a file that replaces the built-in
    tiers and writes no [billing.extensions.NAME] still loads (extensions written in the file are checked)."""
    if "extensions" in billing_table:
        return config
    offered = {
        name: extension
        for name, extension in config.billing.extensions.items()
        if {extension.from_tier, extension.tier} <= set(config.tiers)
    }
    return dataclasses.replace(config, billing=dataclasses.replace(config.billing, extensions=offered))


def _catalogue_tier_problems(where: str, config: Config) -> list[str]:
    return [
        f"{where}: [billing.extensions.{name}] {key}: no tier named {tier!r}"
        for name, extension in config.billing.extensions.items()
        for key, tier in (("from_tier", extension.from_tier), ("tier", extension.tier))
        if tier not in config.tiers
    ]


def load(path: Path | None) -> Config:
    """Read and validate a TOML file (None: all defaults, paths relative to the working folder)."""
    if path is None:
        return _resolve_paths(Config(), Path.cwd())
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc

    errors: list[str] = []
    sections: dict[str, Any] = {}
    schema = {f.name: f for f in dataclasses.fields(Config)}
    for section_name, table in raw.items():
        if section_name not in schema:
            errors.append(f"{where}: unknown section [{section_name}]")
        elif not isinstance(table, dict):
            errors.append(f"{where}: [{section_name}] must be a table")
        elif section_name == "tiers":
            sections["tiers"] = _load_tiers(where, table, errors)
        elif section_name == "billing":
            sections["billing"] = _load_billing(where, table, errors)
        else:
            section_type: Any = schema[section_name].default_factory
            sections[section_name] = _load_table(f"{where}: [{section_name}]", table, section_type, errors)
    if not errors:
        config = _offered_extensions(Config(**sections), raw.get("billing", {}))
        if config.quota.default_tier not in config.tiers:
            errors.append(f"{where}: [quota] default_tier: no tier named {config.quota.default_tier!r}")
        errors.extend(_catalogue_tier_problems(where, config))
    if errors:
        raise ConfigError("\n".join(errors))
    return _resolve_paths(config, path.resolve().parent)
