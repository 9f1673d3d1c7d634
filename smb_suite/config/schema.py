"""The whole configuration: every section, and the paths derived from the data folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from smb_suite.config.catalogue import BillingConfig
from smb_suite.config.sections import (
    BUNDLED_THEMES,
    AcmeConfig,
    ApiConfig,
    BrandConfig,
    DatabaseConfig,
    DeliveryConfig,
    DkimConfig,
    DnsConfig,
    DomainsConfig,
    HttpConfig,
    ImapConfig,
    InboundConfig,
    ListenConfig,
    LoginConfig,
    OutboundConfig,
    QuotaConfig,
    ServerConfig,
    SignupConfig,
    SitesConfig,
    SmtpConfig,
    TierConfig,
    TlsConfig,
    default_tiers,
)


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
    tiers: dict[str, TierConfig] = field(default_factory=default_tiers)
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
