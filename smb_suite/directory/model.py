"""Who acts and what the directory holds: roles, principals, and the records of domains, businesses (tenants),
users, recipient resolutions and vacation replies (frozen values, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import sqlalchemy as sa

from smb_suite.mail.address import Address


class Role(StrEnum):
    """Who may do what (enforced here, not in pages): the operator everything; a partner the businesses it
    created or was given (tenants.partner_id = its own business) and its own; an owner its business; a user
    its own account."""

    OPERATOR = "operator"
    PARTNER = "partner"
    OWNER = "owner"
    USER = "user"


# The same refusal for what belongs to another business and for what does not exist (no probing).
NOT_YOUR_DOMAIN = "this domain is not one of yours"
NOT_YOUR_BUSINESS = "this business is not one of yours"
MANAGERS = frozenset({Role.OPERATOR, Role.PARTNER, Role.OWNER})
RANK = {Role.USER: 0, Role.OWNER: 1, Role.PARTNER: 2, Role.OPERATOR: 3}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting, and from where (recorded in the audit log): the operator at the command line (no
    tenant), or a signed-in user of a tenant with the client address its front end saw."""

    role: Role
    tenant_id: int | None = None
    user_id: int | None = None
    name: str = "operator@cli"
    client: str = "cli"


OPERATOR = Principal(Role.OPERATOR)


@dataclass(frozen=True, slots=True)
class Domain:
    id: int
    name: str
    tenant_id: int
    tenant_name: str
    verified: bool = True  # False: pending ownership proof (ops/verification.py): no mail, no site, no DKIM
    token: str = ""  # the value of its smb-suite-verification= TXT record


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    name: str
    tier: str
    partner_id: int | None = None
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class User:
    id: int
    address: Address
    role: Role
    tenant_id: int
    domain_id: int
    password_hash: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where mail for one address goes: hosted mailboxes, and addresses elsewhere (forwards, alias targets)."""

    mailboxes: tuple[User, ...]
    remote: tuple[Address, ...]
    suspended: bool = False  # the address's business, or one a mailbox it reaches belongs to, is suspended


@dataclass(frozen=True, slots=True)
class Vacation:
    subject: str
    body: str


class UserRecords(Protocol):
    """What another part keeps about a user (mail index, app passwords): dropped in the directory's transaction
    when the user is removed. Given to the directory at composition (services.py)."""

    def forget_user(self, conn: sa.Connection, user: User) -> None: ...


class DomainRecords(Protocol):
    """What another part keeps about a domain (site content, site bytes): dropped in the directory's transaction
    when the domain is removed. Given to the directory at composition (services.py)."""

    def forget_domain(self, conn: sa.Connection, domain: Domain) -> None: ...
