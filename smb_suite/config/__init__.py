"""The configuration schema: frozen dataclasses with defaults, help and validation.

Read once at start (`load`) and passed down; no other module reads files or the environment for settings.
`load` reports every problem at once, each naming file, section and key, so an operator fixes them in one go.
One module per job: value types, sections, the billing catalogue, the whole schema, checks, loading.
"""

from __future__ import annotations

from smb_suite.config.catalogue import (
    BILLED_MODULES,
    CURRENCY,
    PRICED_PER,
    BillingConfig,
    ExtensionConfig,
    ModuleConfig,
    PlanConfig,
)
from smb_suite.config.checks import DATABASE_SCHEMES
from smb_suite.config.loading import load
from smb_suite.config.schema import Config
from smb_suite.config.sections import (
    BUNDLED_THEMES,
    COLOUR,
    DMARC_REJECT_ACTIONS,
    MODULES,
    SMARTHOST_TLS,
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
)
from smb_suite.config.values import (
    MIB,
    Duration,
    Workers,
    cores,
    described,
    parse_duration,
    parse_listen_address,
    parse_nameserver,
    parse_workers,
)
from smb_suite.errors import ConfigError

__all__ = [
    "AcmeConfig",
    "ApiConfig",
    "BILLED_MODULES",
    "BUNDLED_THEMES",
    "BillingConfig",
    "BrandConfig",
    "COLOUR",
    "CURRENCY",
    "Config",
    "ConfigError",
    "DATABASE_SCHEMES",
    "DMARC_REJECT_ACTIONS",
    "DatabaseConfig",
    "DeliveryConfig",
    "DkimConfig",
    "DnsConfig",
    "DomainsConfig",
    "Duration",
    "ExtensionConfig",
    "HttpConfig",
    "ImapConfig",
    "InboundConfig",
    "ListenConfig",
    "LoginConfig",
    "MIB",
    "MODULES",
    "ModuleConfig",
    "OutboundConfig",
    "PRICED_PER",
    "PlanConfig",
    "QuotaConfig",
    "SMARTHOST_TLS",
    "ServerConfig",
    "SignupConfig",
    "SitesConfig",
    "SmtpConfig",
    "TierConfig",
    "TlsConfig",
    "Workers",
    "cores",
    "described",
    "load",
    "parse_duration",
    "parse_listen_address",
    "parse_nameserver",
    "parse_workers",
]
