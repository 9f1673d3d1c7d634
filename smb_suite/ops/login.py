"""The one login path for SMTP AUTH, IMAP and the web UI: password check, throttling, lock notices.

A login reads what it needs in one go on the store runner (lock, user, app passwords, suspension, counted
failures), takes a password verified lately from the credential cache (auth/credentials.py) and runs argon2
in a thread otherwise. Only a failure or an account with failures counted writes to the database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from smb_suite import log
from smb_suite.auth.passwords import dummy_hash, verify_password
from smb_suite.auth.throttle import account_key
from smb_suite.directory.model import User
from smb_suite.errors import AccountSuspended, AuthenticationFailed, LoginLocked
from smb_suite.ops.users import principal_of
from smb_suite.services import Services

logger = logging.getLogger("smb_suite.auth")


@dataclass(frozen=True, slots=True)
class Attempt:
    """What the database says about a login before its password is looked at."""

    locked_until: int | None
    user: User | None
    hashes: list[str]  # the stored hashes the password may match: the account's, then its app passwords
    suspended: bool
    failures: bool  # failed logins are counted for the account (a success clears them)


def look_up(services: Services, account: str, username: str, client_ip: str, app_passwords: bool) -> Attempt:
    """Blocking reads for one login attempt (run it on the store runner)."""
    throttle = services.throttle
    until = throttle.locked_until(account, client_ip)
    user = services.directory.find_user(username)
    if user is None:
        return Attempt(until, None, [], False, throttle.has_failures(account))
    hashes = [user.password_hash]
    if app_passwords:  # SMTP, IMAP and DAV, never the web UI
        hashes += services.app_passwords.hashes(user.id)
    suspended = services.directory.tenant_suspended(user.tenant_id)
    return Attempt(until, user, hashes, suspended, throttle.has_failures(account))


def verified_hash(attempt: Attempt, password: str) -> str:
    """The stored hash the password matches (argon2: slow, run it in a thread). Raises AuthenticationFailed."""
    if attempt.user is None:
        verify_password(dummy_hash(), password)  # an unknown user takes as long as a wrong password
    for stored_hash in attempt.hashes:
        if verify_password(stored_hash, password):
            return stored_hash
    raise AuthenticationFailed("wrong user name or password")


async def login(services: Services, username: str, password: str, client_ip: str, app_passwords: bool = False) -> User:
    """The one login path for SMTP AUTH, IMAP and the web UI, throttled per account and per client address
    (auth/throttle.py): attempts for one account run one at a time; a locked account or address is refused with
    LoginLocked before the password is looked at; the failure that locks an account mails its business's owners
    once. A user of a suspended business is refused (AccountSuspended) even with the right password.

    With `app_passwords` (SMTP, IMAP and DAV, never the web UI) the user's app passwords are accepted too."""
    throttle, cache = services.throttle, services.credentials
    account = account_key(username)
    async with throttle.serialised(account):
        attempt = await services.runner.read(look_up, services, account, username, client_ip, app_passwords)
        if attempt.locked_until is not None:
            until = attempt.locked_until
            log.event(logger, "auth.locked", user=account, ip=client_ip, until=until)
            services.metrics.auth_throttled.inc()
            minutes = max(1, -(-(until - int(services.clock())) // 60))
            text = f"Too many failed logins: logins are refused for now. Try again in {minutes} minutes."
            raise LoginLocked(text, until)
        user = attempt.user
        if user is None or cache.matched(user.id, attempt.hashes, password) is None:
            try:
                matched = await asyncio.to_thread(verified_hash, attempt, password)
            except AuthenticationFailed:
                services.metrics.auth_failures.inc()
                failure = await services.runner.write(throttle.failed, account, client_ip)
                log.event(logger, "auth.failed", user=account, ip=client_ip, failures=failure.failures)
                if failure.address_locked:
                    log.event(logger, "auth.lock", ip=client_ip, minutes=int(throttle.settings.lock_duration) // 60)
                if failure.account_locked:
                    log.event(logger, "auth.lock", user=account, ip=client_ip)
                    await services.runner.write(services.notices.account_locked, username, client_ip)
                raise
            assert user is not None  # an unknown user never matches
            cache.remember(user.id, matched, password)
        if attempt.failures:
            await services.runner.write(throttle.succeeded, account)
    if attempt.suspended:
        log.event(logger, "auth.suspended", user=username, ip=client_ip)
        raise AccountSuspended("this business is suspended: ask your provider")
    return user


async def record_sign_in(services: Services, user: User, client_ip: str) -> None:
    """An admin UI sign-in goes into the audit log: owners see who came in and from which address (behind a
    balancer, the client its PROXY header named). Mail logins are not recorded there: too many, and no change."""
    actor = principal_of(user, client_ip)
    await services.runner.write(services.audit.record, actor, "login", "admin UI", user.tenant_id)
