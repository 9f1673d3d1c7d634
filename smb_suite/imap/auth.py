"""LOGIN and AUTHENTICATE through twisted.cred, checked by `ops.login.login` (throttled, argon2 in a thread).

A portal is built per connection because the checker needs the client address for the shared throttle.
Wrong credentials and locked accounts fail with our own errors; `session.py` answers them
(NO [AUTHENTICATIONFAILED], NO [UNAVAILABLE]) in place of twisted's bare "LOGIN failed".
"""

from __future__ import annotations

import logging
from typing import cast

from twisted.cred.checkers import ICredentialsChecker
from twisted.cred.credentials import IUsernamePassword
from twisted.cred.portal import IRealm, Portal
from twisted.internet.defer import Deferred
from twisted.mail.imap4 import IAccount
from zope.interface import implementer

from smb_suite import log
from smb_suite.directory.model import User
from smb_suite.errors import AuthenticationFailed, LoginLocked
from smb_suite.imap.account import Account
from smb_suite.imap.bridge import as_deferred
from smb_suite.ops.login import login
from smb_suite.services import Services

logger = logging.getLogger("smb_suite.imap")


@implementer(ICredentialsChecker)
class LoginChecker:
    credentialInterfaces = (IUsernamePassword,)

    def __init__(self, services: Services, client_ip: str, connection: int) -> None:
        self.services = services
        self.client_ip = client_ip
        self.connection = connection

    def requestAvatarId(self, credentials: IUsernamePassword) -> Deferred[User]:
        return as_deferred(self._check(credentials))

    async def _check(self, credentials: IUsernamePassword) -> User:
        try:
            username = credentials.username.decode("utf-8")
            password = credentials.password.decode("utf-8")
        except (AttributeError, UnicodeDecodeError) as exc:
            raise AuthenticationFailed("user name and password must be UTF-8") from exc
        try:
            user = await login(self.services, username, password, self.client_ip, app_passwords=True)
        except (AuthenticationFailed, LoginLocked):
            log.event(logger, "imap.auth_failed", conn=self.connection, client=self.client_ip)
            raise
        log.event(logger, "imap.auth_ok", conn=self.connection, client=self.client_ip, user=user.address)
        return user


@implementer(IRealm)
class AccountRealm:
    def __init__(self, services: Services) -> None:
        self.services = services

    def requestAvatar(self, avatarId: User, mind: object, *interfaces: object) -> tuple[object, Account, object]:
        if IAccount not in interfaces:
            raise NotImplementedError("only IMAP accounts live here")
        return IAccount, Account(self.services, avatarId), lambda: None


def portal_for(services: Services, client_ip: str, connection: int) -> Portal:
    checker = cast(ICredentialsChecker, LoginChecker(services, client_ip, connection))
    return Portal(cast(IRealm, AccountRealm(services)), [checker])
