"""The one login path for SMTP AUTH, IMAP and the web UI: password check, throttling, lock notices."""

from __future__ import annotations

import asyncio
import logging

from smb_suite import log
from smb_suite.auth.passwords import DUMMY_HASH, verify_password
from smb_suite.auth.throttle import account_key
from smb_suite.directory.model import User
from smb_suite.errors import AccountSuspended, AuthenticationFailed, LoginLocked
from smb_suite.services import Services

logger = logging.getLogger("smb_suite.auth")


def check_password(services: Services, username: str, password: str, app_passwords: bool = False) -> User:
    """Verify a login synchronously (argon2: slow, run it in a thread). Raises AuthenticationFailed.

    With `app_passwords` (SMTP and IMAP, never the web UI) the user's app passwords are accepted too.
    """
    user = services.directory.find_user(username)
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise AuthenticationFailed("wrong user name or password")
    if verify_password(user.password_hash, password):
        return user
    if app_passwords and any(verify_password(h, password) for h in services.app_passwords.hashes(user.id)):
        return user
    raise AuthenticationFailed("wrong user name or password")


async def login(services: Services, username: str, password: str, client_ip: str, app_passwords: bool = False) -> User:
    """The one login path for SMTP AUTH, IMAP and the web UI, throttled per account and per client address
    (auth/throttle.py): attempts for one account run one at a time; a locked account or address is refused with
    LoginLocked before the password is looked at; the failure that locks an account mails its business's owners
    once. A user of a suspended business is refused (AccountSuspended) even with the right password."""
    throttle = services.throttle
    account = account_key(username)
    async with throttle.serialised(account):
        until = await services.runner.read(throttle.locked_until, account, client_ip)
        if until is not None:
            log.event(logger, "auth.locked", user=account, ip=client_ip, until=until)
            minutes = max(1, -(-(until - int(services.clock())) // 60))
            text = f"Too many failed logins: logins are refused for now. Try again in {minutes} minutes."
            raise LoginLocked(text, until)
        try:
            user = await asyncio.to_thread(check_password, services, username, password, app_passwords)
        except AuthenticationFailed:
            failure = await services.runner.write(throttle.failed, account, client_ip)
            log.event(logger, "auth.failed", user=account, ip=client_ip, failures=failure.failures)
            if failure.address_locked:
                log.event(logger, "auth.lock", ip=client_ip, minutes=int(throttle.settings.lock_duration) // 60)
            if failure.account_locked:
                log.event(logger, "auth.lock", user=account, ip=client_ip)
                await services.runner.write(services.notices.account_locked, username, client_ip)
            raise
        await services.runner.write(throttle.succeeded, account)
    if await services.runner.read(services.directory.tenant_suspended, user.tenant_id):
        log.event(logger, "auth.suspended", user=username, ip=client_ip)
        raise AccountSuspended("this business is suspended: ask your provider")
    return user
