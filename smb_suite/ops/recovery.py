"""Password recovery's use cases: a recovery address outside the business (confirmed by a link mailed to it),
"forgot password" links (single use, 30 minutes), and reset links an owner, a partner or the operator mails to
someone it manages. Shared by the admin UI and sign-up; the records are auth/recovery.py's, the mails
delivery/recovery_mail.py's. No SQL and no HTTP here.

A request for a link answers the same whether the account exists or not: the page is given before anything is
looked up (the lookup and the mail run after the answer, web/recovery.py), so neither its words nor its time say
which addresses exist. Requests are counted per address asked for and per client address in `rate_events`
(auth/ratelimit.py), so every worker process and node shares the count.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from smb_suite import log
from smb_suite.auth.recovery import (
    CONFIRM,
    CONFIRM_SECONDS,
    RESET,
    RESET_SECONDS,
    Outcome,
    RecoveryAddress,
    State,
    password_mark,
)
from smb_suite.auth.throttle import account_key
from smb_suite.delivery import recovery_mail
from smb_suite.directory.model import OPERATOR, Principal, Role, User
from smb_suite.errors import InvalidInput, PermissionDenied, RateLimited
from smb_suite.mail.address import parse_address
from smb_suite.ops.users import new_password_hash
from smb_suite.services import Services

logger = logging.getLogger("smb_suite.auth")

PER_ADDRESS_PER_HOUR = 5
PER_CLIENT_PER_HOUR = 20
RESET_PATH = "/admin/reset"
CONFIRM_PATH = "/admin/recovery/confirm"
FORM = "forgot-password form"  # who acts in the audit log when nobody signed in
LINK = "recovery link"
THROTTLED = "Too many password reset requests: try again in an hour."
REFUSALS = {
    State.EXPIRED: "This link has expired: ask for a new one.",
    State.UNKNOWN: "This link does not work: a newer one was sent, or it was mistyped. Ask for a new one.",
    State.USED: "This link was used already: it works once. Ask for a new one if you need it.",
    State.STALE: "This link does not work any more: the password or the recovery address changed since it was sent.",
}


def admin_link(services: Services, path: str, token: str) -> str:
    """A link to an admin page on our own name (never the Host a request named: a forged Host would send the
    token elsewhere), over HTTPS when it is served."""
    host, listening = services.config.server.hostname, services.listening
    scheme, default = ("http", 80) if "https" not in listening and "http" in listening else ("https", 443)
    port = listening.get(scheme, default)
    shown = "" if port == default else f":{port}"
    return f"{scheme}://{host}{shown}{path}?token={token}"


def _principal(user: User | None, client: str, name: str = FORM) -> Principal:
    """Who acts through a public recovery page: nobody signed in, on behalf of this account's business."""
    return Principal(Role.USER, tenant_id=user.tenant_id if user else None, name=name, client=client)


def _own(services: Services, actor: Principal) -> User:
    user = services.directory.user_by_id(actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise PermissionDenied("a recovery address belongs to a signed-in user")
    return user


# -- the recovery address -------------------------------------------------------------------------------------


def recovery_address(services: Services, actor: Principal) -> RecoveryAddress | None:
    return services.recovery.address_of(_own(services, actor).id)


def check_address(services: Services, tenant_id: int, address: str, own_domains: tuple[str, ...] = ()) -> str:
    """The recovery address, refused at the business's own domains (mail there is lost with the password)."""
    parsed = parse_address(address.strip())
    owned = {d.name for d in services.directory.list_domains(OPERATOR) if d.tenant_id == tenant_id}
    if parsed.domain in owned or parsed.domain in own_domains:
        raise InvalidInput(f"the recovery address must be outside your business: {parsed.domain} is one of its domains")
    return str(parsed)


def set_address(services: Services, actor: Principal, address: str, language: str) -> str | None:
    """Choose (or, empty, remove) the user's own recovery address; a new one is used once the link mailed to
    it is opened (the confirmed one stays in use until then)."""
    user = _own(services, actor)
    if not address.strip():
        services.recovery.remove(user.id)
        services.audit.record(actor, "recovery.remove", str(user.address), user.tenant_id)
        return None
    chosen = check_address(services, user.tenant_id, address)
    services.recovery.set_pending(user.id, chosen, language)
    token = services.recovery.issue(user.id, CONFIRM, chosen, CONFIRM_SECONDS)
    link = admin_link(services, CONFIRM_PATH, token)
    subject, body = recovery_mail.words(recovery_mail.CONFIRM, language, account=str(user.address), link=link)
    services.notices.mail_address(chosen, user.tenant_id, subject, body)
    services.audit.record(actor, "recovery.set", f"{user.address}: {chosen} (confirmation mailed)", user.tenant_id)
    return chosen


def confirm_address(services: Services, token: str, client: str) -> str:
    """Open a confirmation link: its address becomes the recovery address."""
    outcome = services.recovery.confirm(token)
    if outcome.state is not State.VALID:
        _refuse(services, outcome, client, CONFIRM)
    user = services.directory.user_by_id(outcome.user_id) if outcome.user_id is not None else None
    assert user is not None  # its row was there in the transaction that used the link
    actor = _principal(user, client, LINK)
    services.audit.record(actor, "recovery.confirm", f"{user.address}: {outcome.bound}", user.tenant_id)
    return outcome.bound


# -- reset links ------------------------------------------------------------------------------------------------


def allow_request(services: Services, address: str, client: str) -> None:
    """Count one "forgot password" request; RateLimited past the hourly allowance of the client or the address."""
    limits = services.rate_limits
    if not limits.allow("recovery-ip", client, PER_CLIENT_PER_HOUR) or not limits.allow(
        "recovery-account", account_key(address), PER_ADDRESS_PER_HOUR
    ):
        log.event(logger, "recovery.throttled", user=account_key(address), ip=client)
        raise RateLimited(THROTTLED, 3600)


def request_reset(services: Services, address: str, client: str) -> None:
    """After the answer: mail a reset link to the account's confirmed recovery address, if it has one."""
    user = services.directory.find_user(address)
    if user is None:
        log.event(logger, "recovery.unknown", user=account_key(address), ip=client)
        return
    found = services.recovery.address_of(user.id)
    actor = _principal(user, client)
    if found is None or found.address is None:
        target = f"{user.address}: no confirmed recovery address, nothing sent"
        services.audit.record(actor, "recovery.request", target, user.tenant_id)
        return
    services.audit.record(actor, "recovery.request", str(user.address), user.tenant_id)
    _mail_reset(services, actor, user, found, recovery_mail.FORGOT.get(found.language, recovery_mail.FORGOT["en"]))


def send_reset_link(services: Services, actor: Principal, address: str) -> User:
    """An owner (its business's accounts), a partner (its customers') or the operator (anyone's) mails a reset
    link to an account's confirmed recovery address."""
    if actor.role is Role.USER:
        raise PermissionDenied("only an owner of the business may do this")
    user = services.directory.get_user(actor, address)  # another business's: refused like a domain not hosted
    found = services.recovery.address_of(user.id)
    if found is None or found.address is None:
        raise InvalidInput(f"{user.address} has no confirmed recovery address: set a new password for it instead")
    _mail_reset(services, actor, user, found, actor.name)
    return user


def _mail_reset(services: Services, actor: Principal, user: User, found: RecoveryAddress, who: str) -> None:
    assert found.address is not None
    token = services.recovery.issue(user.id, RESET, password_mark(user.password_hash), RESET_SECONDS)
    subject, body = recovery_mail.words(
        recovery_mail.RESET,
        found.language,
        account=str(user.address),
        who=who,
        client=actor.client,
        link=admin_link(services, RESET_PATH, token),
    )
    services.notices.mail_address(found.address, user.tenant_id, subject, body)
    services.audit.record(actor, "recovery.mail", f"{user.address}: link mailed to {found.address}", user.tenant_id)


def check_link(services: Services, token: str, purpose: str, client: str | None = None) -> None:
    """Refuse a link that would not work, without using it: when its page opens (not recorded: mail scanners
    open links) and, recorded with the `client`, when its form is sent (before the new password is hashed)."""
    outcome = services.recovery.peek(token, purpose)
    if outcome.state is State.VALID:
        return
    if client is not None:
        _refuse(services, outcome, client, purpose)
    raise InvalidInput(REFUSALS[outcome.state])


def new_hash(password: str) -> str:
    """The hash of a password chosen through a reset link: the rules of every other path (slow: in a thread)."""
    return new_password_hash(password, _principal(None, ""))


def reset_password(services: Services, token: str, password_hash: str, client: str) -> User:
    """Use a reset link: the password changes in the transaction that uses the link; then the user's admin
    sessions end (a stolen session dies with the old password) and its own mailbox is told."""
    outcome = services.recovery.reset_password(token, password_hash)
    if outcome.state is not State.VALID:
        _refuse(services, outcome, client, RESET)
    user = services.directory.user_by_id(outcome.user_id) if outcome.user_id is not None else None
    assert user is not None
    services.web_sessions.end_user(user.id)
    services.audit.record(_principal(user, client, LINK), "recovery.reset", str(user.address), user.tenant_id)
    found = services.recovery.address_of(user.id)  # the account's own mailbox hears of it too
    language = found.language if found else "en"
    subject, body = recovery_mail.words(recovery_mail.DONE, language, account=str(user.address), client=client)
    services.notices.mail_address(str(user.address), user.tenant_id, subject, body)
    return user


def _refuse(services: Services, outcome: Outcome, client: str, purpose: str) -> NoReturn:
    """Record a link that did not work (in its business's log when it names an account) and say why."""
    user = services.directory.user_by_id(outcome.user_id) if outcome.user_id is not None else None
    log.event(logger, "recovery.failed", purpose=purpose, state=outcome.state, ip=client)
    if user is not None:
        action = "recovery.expired" if outcome.state is State.EXPIRED else "recovery.failed"
        target = f"{user.address}: {purpose} link {outcome.state}"
        services.audit.record(_principal(user, client, LINK), action, target, user.tenant_id)
    raise InvalidInput(REFUSALS[outcome.state])
