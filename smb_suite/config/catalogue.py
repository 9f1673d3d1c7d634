"""The billing catalogue: plans, modules and storage extensions a partner sells ([billing])."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from smb_suite.config.values import described

# The modules a business may buy apart (billing/), and how a module's price counts.
BILLED_MODULES = ("mail", "website", "collaboration")


PRICED_PER = ("user", "business")


CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class PlanConfig:
    """A plan sold per named user per month (billing/): every standard user pays `price`, a deskless user
    (phone and web only, smaller mailbox) `deskless_price`."""

    price: Decimal = field(metadata=described('monthly price per standard user, a decimal string like "15.00"'))
    currency: str = field(metadata=described("ISO 4217 code of the price, e.g. USD"))
    deskless_price: Decimal | None = field(
        default=None, metadata=described("monthly price per deskless user; empty: the same as price")
    )
    includes: tuple[str, ...] = field(default=BILLED_MODULES, metadata=described("modules the plan includes"))
    description: str = field(default="", metadata=described("shown on statements and invoice lines"))


@dataclass(frozen=True, slots=True)
class ModuleConfig:
    """A module sold apart, priced per user (standard or deskless) or per business, per month."""

    price: Decimal = field(metadata=described("monthly price per user or per business, a decimal string"))
    currency: str = field(metadata=described("ISO 4217 code of the price"))
    per: str = field(default="user", metadata=described('"user" (each named user pays) or "business" (one price)'))
    deskless_price: Decimal | None = field(
        default=None, metadata=described("per-user modules: monthly price per deskless user; empty: price")
    )
    description: str = field(default="", metadata=described("shown on statements and invoice lines"))


@dataclass(frozen=True, slots=True)
class ExtensionConfig:
    """A storage extension: a business on tier `from_tier` moves to `tier` for a monthly price."""

    from_tier: str = field(metadata=described("the tier it extends (a [tiers.NAME])"))
    tier: str = field(metadata=described("the tier the business gets with it (a [tiers.NAME])"))
    price: Decimal = field(metadata=described("monthly price per business, a decimal string"))
    currency: str = field(metadata=described("ISO 4217 code of the price"))
    description: str = field(default="", metadata=described("shown on statements and invoice lines"))


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
        default=Decimal("12"), metadata=described("partner's share of a contract's value in its first year, percent")
    )
    later_years_percent: Decimal = field(
        default=Decimal("6"), metadata=described("partner's share in every later year of the contract, percent")
    )
    deskless_mailbox_mb: int = field(
        default=10, metadata=described("mailbox limit (MiB) a user gets when made deskless")
    )
    plans: dict[str, PlanConfig] = field(default_factory=_default_plans)
    modules: dict[str, ModuleConfig] = field(default_factory=_default_modules)
    extensions: dict[str, ExtensionConfig] = field(default_factory=_default_extensions)
