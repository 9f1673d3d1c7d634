"""Use cases of mail accounts: add, remove, set a password (checked and hashed here), their principal."""

from __future__ import annotations

from smb_suite.auth.passwords import hash_password
from smb_suite.directory.model import Principal, Role, User
from smb_suite.errors import InvalidInput
from smb_suite.mail.address import parse_stored_address
from smb_suite.services import Services

MIN_PASSWORD = 8


def check_new_password(password: str, strict: bool = True) -> None:
    """Refuse an empty password, and (strict) one shorter than MIN_PASSWORD."""
    if not password.strip():
        raise InvalidInput("the password must not be empty")
    if strict and len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD} characters")


def new_password_hash(password: str, actor: Principal) -> str:
    """The argon2id hash of a password someone chose; slow: not on the loop. Shorter than MIN_PASSWORD is
    refused, except from the operator (scripts and tests at the command line choose their own)."""
    check_new_password(password, strict=actor.role is not Role.OPERATOR)
    return hash_password(password)


def add_user(services: Services, actor: Principal, address: str, password: str, role: Role = Role.USER) -> User:
    services.directory.get_domain(actor, parse_stored_address(address).domain)  # unknown or foreign: say so first
    user = services.directory.add_user(actor, address, new_password_hash(password, actor), role)
    user_added(services, actor, user)
    return user


def user_added(services: Services, actor: Principal, user: User) -> None:
    """What follows a committed new account: its mail folders, the audit record."""
    services.store.create_user_store(user)
    services.audit.record(actor, "mailbox.add", f"{user.address} ({user.role})", user.tenant_id)


def set_password(services: Services, actor: Principal, address: str, password: str) -> User:
    services.directory.get_user(actor, address)  # unknown or foreign: say so before judging the password
    user = services.directory.set_password(actor, address, new_password_hash(password, actor))
    services.web_sessions.end_user(user.id)  # a copied session cookie stops working with the old password
    services.audit.record(actor, "password.set", str(user.address), user.tenant_id)
    return user


def remove_user(services: Services, actor: Principal, address: str) -> User:
    user = services.directory.remove_user(actor, address)  # drops its index and app passwords (services.py)
    services.store.remove_files(user)
    services.dav.remove_files(user)  # its own calendar, address book and private documents
    services.audit.record(actor, "mailbox.remove", str(user.address), user.tenant_id)
    return user


def principal_of(user: User, client: str = "") -> Principal:
    """The principal a signed-in user acts as; `client` is the address its front end saw (for the audit log)."""
    return Principal(user.role, tenant_id=user.tenant_id, user_id=user.id, name=str(user.address), client=client)


def parse_role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError as exc:
        raise InvalidInput(f"role must be one of {', '.join(Role)}, not {text!r}") from exc
