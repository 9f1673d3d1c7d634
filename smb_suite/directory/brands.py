"""White label: the brand a business sees. A partner's customers see the partner's brand (name, logo, colour,
support address and phone, the platform domain its sign-ups get names under); the partner sees its own; everyone
else sees the operator's, from the configuration ([brand]). Blocking: call through the store runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from smb_suite.config import BrandConfig
from smb_suite.storage import db

DEFAULT_KEY = "default"


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand as shown; `partner_id` None: the operator's. `key` names its logo and stylesheet URLs."""

    name: str
    colour: str
    support_email: str = ""
    support_phone: str = ""
    platform_domain: str = ""
    partner_id: int | None = None
    has_logo: bool = False

    @property
    def key(self) -> str:
        return DEFAULT_KEY if self.partner_id is None else str(self.partner_id)

    @property
    def support(self) -> str:
        """The support contacts on one line ('' when there are none)."""
        return " · ".join(part for part in (self.support_email, self.support_phone) if part)


def default_brand(config: BrandConfig, platform_domain: str) -> Brand:
    return Brand(config.name, config.colour, config.support_email, config.support_phone, platform_domain)


class Brands:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float], default: Brand) -> None:
        self._engine = engine
        self._clock = clock
        self.default = default

    def _query(self) -> sa.Select[Any]:
        table = db.brands
        return sa.select(
            table.c.tenant_id,
            table.c.name,
            table.c.colour,
            table.c.support_email,
            table.c.support_phone,
            table.c.platform_domain,
            table.c.logo.is_not(None).label("has_logo"),
        )

    @staticmethod
    def _brand(row: Any) -> Brand:
        return Brand(
            row.name, row.colour, row.support_email, row.support_phone, row.platform_domain or "", row.tenant_id,
            bool(row.has_logo),
        )  # fmt: skip

    def of_partner(self, partner_id: int) -> Brand | None:
        with self._engine.connect() as conn:
            row = conn.execute(self._query().where(db.brands.c.tenant_id == partner_id)).first()
        return None if row is None else self._brand(row)

    def for_tenant(self, tenant_id: int) -> Brand:
        """What a business sees: its partner's brand, else its own (a partner), else the operator's."""
        with self._engine.connect() as conn:
            partner_id = conn.execute(sa.select(db.tenants.c.partner_id).where(db.tenants.c.id == tenant_id)).scalar()
        for candidate in (partner_id, tenant_id):
            if candidate is not None:
                found = self.of_partner(int(candidate))
                if found is not None:
                    return found
        return self.default

    def by_platform(self, domain: str) -> Brand | None:
        with self._engine.connect() as conn:
            row = conn.execute(self._query().where(db.brands.c.platform_domain == domain)).first()
        return None if row is None else self._brand(row)

    def save(self, partner_id: int, brand: Brand) -> Brand:
        """Store the partner's brand: name, colour, support contacts, platform domain ('' for none)."""
        values = {
            "name": brand.name,
            "colour": brand.colour,
            "support_email": brand.support_email,
            "support_phone": brand.support_phone,
            "platform_domain": brand.platform_domain or None,
            "updated_at": int(self._clock()),
        }
        table = db.brands
        with self._engine.begin() as conn:
            updated = conn.execute(sa.update(table).where(table.c.tenant_id == partner_id).values(**values)).rowcount
            if not updated:
                conn.execute(sa.insert(table).values(tenant_id=partner_id, **values))
        return replace(brand, partner_id=partner_id, has_logo=self.logo(partner_id) is not None)

    def set_logo(self, partner_id: int, data: bytes, media_type: str) -> None:
        table = db.brands
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(table).where(table.c.tenant_id == partner_id).values(logo=data, logo_type=media_type)
            )

    def logo(self, partner_id: int) -> tuple[bytes, str] | None:
        table = db.brands
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(table.c.logo, table.c.logo_type).where(table.c.tenant_id == partner_id)
            ).first()
        return None if row is None or row.logo is None else (bytes(row.logo), str(row.logo_type))
