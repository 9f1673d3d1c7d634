"""One frozen dataclass per section of the configuration file, with defaults and help."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from smb_suite.config.values import MIB, Duration, Workers, described, parse_workers


@dataclass(frozen=True, slots=True)
class ServerConfig:
    hostname: str = field(default="localhost", metadata=described("name of this server in SMTP banners and URLs"))
    data_dir: Path = field(
        default=Path("data"),
        metadata=described("folder for the database, Maildirs, sites and keys; relative to the config file"),
    )
    public_addresses: tuple[str, ...] = field(
        default=(),
        metadata=described("public IPv4/IPv6 addresses of the websites (A/AAAA); empty: those of hostname, looked up"),
    )
    workers: Workers = field(
        default_factory=lambda: parse_workers("auto"),
        metadata=described('"auto" (one per core) or N processes serving every listener; 1: a single process'),
    )


@dataclass(frozen=True, slots=True)
class ListenConfig:
    smtp: str = field(default="127.0.0.1:2525", metadata=described("inbound MX (port 25 in production)"))
    submission: str = field(default="127.0.0.1:2587", metadata=described("submission with STARTTLS (587)"))
    submissions: str = field(default="127.0.0.1:2465", metadata=described("submission over implicit TLS (465)"))
    imap: str = field(default="127.0.0.1:2143", metadata=described("IMAP with STARTTLS (143)"))
    imaps: str = field(default="127.0.0.1:2993", metadata=described("IMAP over implicit TLS (993)"))
    http: str = field(default="127.0.0.1:8080", metadata=described("sites and admin over HTTP (80)"))
    https: str = field(default="127.0.0.1:8443", metadata=described("sites and admin over HTTPS (443)"))
    proxy_protocol_from: tuple[str, ...] = field(
        default=(),
        metadata=described(
            "balancers (CIDRs) that must open each connection with a PROXY protocol header naming the real "
            "client; nobody else may send one; empty: off"
        ),
    )
    proxy_protocol_timeout: Duration = field(
        default=Duration(10), metadata=described("time a balancer has to send its PROXY header")
    )
    metrics: str = field(
        default="", metadata=described("Prometheus metrics for the operator (e.g. 127.0.0.1:9100); empty: off")
    )


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = field(
        default="",
        metadata=described(
            "SQLAlchemy URL: empty means SQLite in data_dir/smb-suite.db; postgresql+psycopg://... for PostgreSQL"
        ),
    )


@dataclass(frozen=True, slots=True)
class TlsConfig:
    certificate: Path | None = field(
        default=None, metadata=described("PEM certificate chain; empty: a self-signed one in data_dir/tls/")
    )
    key: Path | None = field(default=None, metadata=described("PEM private key matching the certificate"))
    mta_sts_mode: str = field(
        default="testing",
        metadata=described("MTA-STS policy mode served on mta-sts.<domain>: testing, enforce or none"),
    )
    handshake_timeout: Duration = field(
        default=Duration(30), metadata=described("time a client has for the TLS handshake on IMAPS, SMTPS and HTTPS")
    )


@dataclass(frozen=True, slots=True)
class AcmeConfig:
    """Automatic certificates (RFC 8555) for the server hostname and every verified domain (ops/certificates.py)."""

    directory: str = field(
        default="", metadata=described("ACME directory URL (e.g. Let's Encrypt's); empty: no automatic certificates")
    )
    contact: str = field(default="", metadata=described('account contact, "mailto:postmaster@example.com"'))
    ca_certificates: Path | None = field(
        default=None, metadata=described("PEM file of CAs trusted for the directory connection; empty: the system's")
    )
    renew_before: Duration = field(default=Duration(30 * 86400), metadata=described("renew this long before expiry"))
    check_interval: Duration = field(
        default=Duration(600), metadata=described("how often certificates are checked for renewal and new names")
    )
    retry_first: Duration = field(
        default=Duration(600), metadata=described("wait after a first failure; doubled after each further one")
    )
    retry_max: Duration = field(default=Duration(86400), metadata=described("longest wait between failed attempts"))


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    max_message_size: int = field(default=25 * 1024 * 1024, metadata=described("largest message accepted, bytes"))
    max_recipients: int = field(default=100, metadata=described("recipients per message"))
    max_sessions: int = field(default=200, metadata=described("sessions at once on each SMTP listener; more get 421"))
    max_sessions_per_ip: int = field(
        default=20, metadata=described("sessions at once from one client address (IPv6: /64)")
    )
    command_timeout: Duration = field(
        default=Duration(300), metadata=described("wait for the next command (RFC 5321 4.5.3.2.7: at least 5 minutes)")
    )
    data_timeout: Duration = field(
        default=Duration(180), metadata=described("wait for the next block of message data (RFC 5321 4.5.3.2.6)")
    )
    spool_memory_kb: int = field(
        default=512, metadata=described("message data beyond this (KiB) is spooled to disk while it arrives")
    )
    processing_memory_mb: int = field(
        default=256, metadata=described("memory for messages being checked and stored at once, MiB; more wait")
    )


@dataclass(frozen=True, slots=True)
class ImapConfig:
    max_connections: int = field(default=500, metadata=described("connections at once on each IMAP listener"))
    max_connections_per_ip: int = field(
        default=50, metadata=described("connections at once from one client address (IPv6: /64)")
    )
    login_timeout: Duration = field(default=Duration(60), metadata=described("time to log in after connecting"))
    idle_timeout: Duration = field(
        default=Duration(1800),
        metadata=described("a logged-in client silent this long is logged out (RFC 9051: >= 30m)"),
    )


@dataclass(frozen=True, slots=True)
class HttpConfig:
    max_connections: int = field(default=1000, metadata=described("connections at once on each HTTP listener"))
    max_connections_per_ip: int = field(
        default=100, metadata=described("connections at once from one client address (IPv6: /64)")
    )
    header_timeout: Duration = field(default=Duration(30), metadata=described("time to send a request's header"))
    body_timeout: Duration = field(
        default=Duration(30), metadata=described("longest wait for the next piece of a request body")
    )
    send_timeout: Duration = field(
        default=Duration(60), metadata=described("a client that reads nothing of a response for this long is dropped")
    )
    keepalive_timeout: Duration = field(
        default=Duration(15), metadata=described("an idle keep-alive connection is closed after this")
    )


SMARTHOST_TLS = ("starttls", "implicit", "none")


COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True, slots=True)
class OutboundConfig:
    """Remote delivery through the outbound queue (smb_suite/queue/)."""

    retry_schedule: tuple[Duration, ...] = field(
        default=tuple(Duration(s) for s in (300, 600, 1800, 3600, 7200, 14400)),
        metadata=described("waits between attempts after a temporary failure; the last one repeats"),
    )
    max_age: Duration = field(
        default=Duration(5 * 86400), metadata=described("give up and tell the sender after this long in the queue")
    )
    delay_notice: Duration = field(
        default=Duration(4 * 3600), metadata=described("tell the sender once that mail is delayed after this long")
    )
    scan_interval: Duration = field(
        default=Duration(30), metadata=described("how often the queue looks for due mail and operator changes")
    )
    connections_per_destination: int = field(default=10, metadata=described("parallel connections to one destination"))
    max_connections: int = field(default=40, metadata=described("parallel outbound connections in all"))
    connect_timeout: Duration = field(default=Duration(30), metadata=described("time to connect and get the greeting"))
    command_timeout: Duration = field(default=Duration(300), metadata=described("time for each SMTP reply"))
    verify_certificates: bool = field(
        default=False, metadata=described("refuse remote servers whose TLS certificate does not verify")
    )
    smarthost: str = field(default="", metadata=described('"host:port" to send all remote mail through; "" = MX'))
    smarthost_tls: str = field(default="starttls", metadata=described("starttls (required), implicit or none"))
    smarthost_username: str = field(default="", metadata=described("AUTH user at the smarthost; empty: no AUTH"))
    smarthost_password: str = field(default="", metadata=described("AUTH password at the smarthost"))
    routes: dict[str, str] = field(
        default_factory=dict, metadata=described('per-domain next hop, domain = "host:port", before MX and smarthost')
    )


@dataclass(frozen=True, slots=True)
class DnsConfig:
    nameservers: tuple[str, ...] = field(
        default=(), metadata=described('resolvers as "host" or "host:port"; empty: the system resolver')
    )
    timeout: int = field(default=5, metadata=described("seconds a DNS lookup may take before it is a temporary error"))


DMARC_REJECT_ACTIONS = ("reject", "quarantine")


@dataclass(frozen=True, slots=True)
class InboundConfig:
    dmarc_reject: str = field(
        default="reject",
        metadata=described('mail failing DMARC with p=reject: "reject" (550 5.7.1) or "quarantine" (Junk folder)'),
    )


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    """Local delivery features (delivery/)."""

    recipient_delimiter: str = field(
        default="+", metadata=described('user+tag@ delivers to user@ ("" turns plus-addressing off)')
    )
    vacation_interval: Duration = field(
        default=Duration(7 * 86400), metadata=described("a vacation reply goes to each sender at most once per this")
    )


@dataclass(frozen=True, slots=True)
class DomainsConfig:
    """Ownership proof of domains added by owners and partners (ops/verification.py)."""

    verify_interval: Duration = field(
        default=Duration(15 * 60), metadata=described("how often pending domains are looked up for their TXT record")
    )


@dataclass(frozen=True, slots=True)
class DkimConfig:
    rotation_grace_days: int = field(
        default=7, metadata=described("days a rotated-out DKIM public key stays published after `dkim rotate`")
    )


BUNDLED_THEMES = Path(__file__).resolve().parents[2] / "themes"


@dataclass(frozen=True, slots=True)
class SitesConfig:
    themes_dir: Path | None = field(
        default=None, metadata=described("folder of site themes, one folder each; empty: the bundled themes/")
    )
    default_theme: str = field(default="default", metadata=described("theme of the page a new domain starts with"))
    platform_domain: str = field(
        default="sites.localhost",
        metadata=described("a business's site also answers at <business>.<platform_domain> (its first domain's site)"),
    )
    certificates_dir: Path | None = field(
        default=None,
        metadata=described("per-domain certificates: DOMAIN/cert.pem and DOMAIN/key.pem; empty: data_dir/tls/sites"),
    )
    max_upload_mb: int = field(default=50, metadata=described("largest static site (unpacked) an upload may hold, MiB"))
    max_upload_files: int = field(default=2000, metadata=described("most files an uploaded static site may hold"))
    cache_mb: int = field(default=64, metadata=described("memory for the cache of published files, MiB"))
    cache_file_kb: int = field(default=1024, metadata=described("files up to this size (KiB) are served from memory"))
    contact_per_hour: int = field(default=5, metadata=described("contact-form messages one address may send per hour"))


MODULES = frozenset({"mail", "site", "collaboration"})  # collaboration: contacts, calendars, tasks, documents


@dataclass(frozen=True, slots=True)
class TierConfig:
    """A storage tier the operator sells: its limit counts mail, site, contacts, calendars and documents."""

    storage_mb: int = field(metadata=described("storage limit in MiB (1 MiB = 1,048,576 bytes)"))
    price: str = field(default="", metadata=described("price shown to owners, free text (e.g. '4.90 EUR/month')"))
    modules: tuple[str, ...] = field(
        default=("mail", "site", "collaboration"), metadata=described("modules the tier includes")
    )

    @property
    def storage_bytes(self) -> int:
        return self.storage_mb * MIB


def default_tiers() -> dict[str, TierConfig]:
    return {"starter": TierConfig(storage_mb=50), "plus": TierConfig(storage_mb=100)}


@dataclass(frozen=True, slots=True)
class QuotaConfig:
    default_tier: str = field(default="starter", metadata=described("tier of a new business"))
    warn_percent: tuple[int, ...] = field(
        default=(80, 95), metadata=described("usage levels (percent) at which the owner is warned by mail")
    )


@dataclass(frozen=True, slots=True)
class SignupConfig:
    enabled: bool = field(
        default=False,
        metadata=described(
            "anyone may sign up at /admin/signup: a business, its mailbox and site at <name>.<platform>"
        ),
    )
    per_hour: int = field(default=5, metadata=described("sign-ups one client address may make per hour"))
    upgrade_contact: str = field(
        default="",
        metadata=described("shown to owners on how to change tier (an address or URL); empty: 'your provider'"),
    )


@dataclass(frozen=True, slots=True)
class LoginConfig:
    lock_after: int = field(
        default=10, metadata=described("failed logins of one account within lock_window that lock it (SMTP, IMAP, web)")
    )
    lock_window: Duration = field(default=Duration(15 * 60), metadata=described("how long a failed login counts"))
    lock_duration: Duration = field(
        default=Duration(15 * 60), metadata=described("how long a locked account or client address is refused")
    )
    ip_lock_after: int = field(
        default=50, metadata=described("failed logins from one client address within lock_window that lock it")
    )
    credential_cache_ttl: Duration = field(
        default=Duration(3600),
        metadata=described("how long a password verified with argon2 is taken again without it (0: always verify)"),
    )


@dataclass(frozen=True, slots=True)
class BrandConfig:
    """The operator's brand: what every business without a partner's brand sees (directory/brands.py)."""

    name: str = field(default="smb-suite", metadata=described("product name on the admin pages, in mail and mail apps"))
    colour: str = field(default="#1a5fb4", metadata=described('main colour of the admin pages, "#rrggbb"'))
    support_email: str = field(default="", metadata=described("support address shown to businesses and in notices"))
    support_phone: str = field(default="", metadata=described("support phone number shown likewise"))


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """The provisioning API under /api/v1/ on the admin host names (web/api/)."""

    enabled: bool = field(default=True, metadata=described("serve /api/v1/ to holders of tokens (smb-suite api token)"))
    requests_per_minute: int = field(
        default=300, metadata=described("calls one token may make per minute; more get 429 with Retry-After")
    )
    idempotency_ttl: Duration = field(
        default=Duration(86400), metadata=described("how long a creating call's Idempotency-Key replays its answer")
    )
