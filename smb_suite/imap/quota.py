"""IMAP QUOTA (RFC 9208): the business's storage as the root "", a mailbox's own limit as the root "mailbox".

Clients (Thunderbird, Apple Mail) show a usage bar from GETQUOTAROOT. Limits are set by the operator and the
owner, never by IMAP: SETQUOTA answers NO.
"""

from __future__ import annotations

from typing import Protocol

from twisted.mail.imap4 import IMAP4Server

from smb_suite.errors import PermissionDenied, UnknownMailbox
from smb_suite.imap import wire
from smb_suite.imap.account import Account
from smb_suite.imap.bridge import as_deferred
from smb_suite.imap.replies import Responder, run
from smb_suite.services import Services

TENANT_ROOT = ""
MAILBOX_ROOT = "mailbox"
KIB = 1024


def _kib_used(octets: int) -> int:
    return -(-octets // KIB)  # RFC 9208 5.1: STORAGE in units of 1024 octets; usage rounds up


class QuotaServer(Responder, Protocol):
    """What the QUOTA commands need from the server (session.IMAPSession)."""

    @property
    def services(self) -> Services: ...
    @property
    def account(self) -> Account: ...
    @property
    def names(self) -> wire.MailboxNames: ...  # how folder names travel (UTF-8 under IMAP4rev2)


async def _roots(server: QuotaServer) -> dict[str, tuple[int, int]]:
    """Each quota root of the logged-in user: (used KiB, limit KiB)."""
    user = server.account.user
    runner, quota = server.services.runner, server.services.store.quota
    tenant = await runner.read(quota.current, user.tenant_id)
    roots = {TENANT_ROOT: (_kib_used(tenant.used), tenant.limit // KIB)}
    used, limit = await runner.read(quota.mailbox_usage, user.id)
    if limit is not None:
        roots[MAILBOX_ROOT] = (_kib_used(used), limit // KIB)
    return roots


def _send_quota(server: QuotaServer, root: str, used: int, limit: int) -> None:
    server.sendUntaggedResponse(b"QUOTA %b (STORAGE %d %d)" % (wire.string(root.encode()), used, limit))


class QuotaCommands:
    """The command table entries of GETQUOTAROOT, GETQUOTA and SETQUOTA, inherited by the server class."""

    def do_GETQUOTAROOT(self: QuotaServer, tag: bytes, mailbox: bytes) -> None:
        name = self.names.decode(mailbox)

        async def work() -> None:
            await self.services.runner.read(self.services.store.mailbox, self.account.user, name)
            roots = await _roots(self)
            names = b" ".join(wire.string(root.encode()) for root in roots)
            self.sendUntaggedResponse(b"QUOTAROOT %b %b" % (self.names.encode(name), names))
            for root, (used, limit) in roots.items():
                _send_quota(self, root, used, limit)

        run(self, tag, lambda: as_deferred(work()), b"GETQUOTAROOT completed")

    def do_GETQUOTA(self: QuotaServer, tag: bytes, root: bytes) -> None:
        async def work() -> None:
            roots = await _roots(self)
            wanted = root.decode("utf-8", "replace")
            if wanted not in roots:
                raise UnknownMailbox(f"no quota root named {wanted!r}")
            _send_quota(self, wanted, *roots[wanted])

        run(self, tag, lambda: as_deferred(work()), b"GETQUOTA completed")

    def do_SETQUOTA(self: QuotaServer, tag: bytes, root: bytes, limits: object) -> None:
        def refuse() -> None:
            raise PermissionDenied("storage limits are set by your provider's tier, not over IMAP")

        run(self, tag, refuse, None)

    a = IMAP4Server
    auth_GETQUOTAROOT = select_GETQUOTAROOT = (do_GETQUOTAROOT, a.arg_finalastring)
    auth_GETQUOTA = select_GETQUOTA = (do_GETQUOTA, a.arg_finalastring)
    auth_SETQUOTA = select_SETQUOTA = (do_SETQUOTA, a.arg_astring, a.arg_plist)
    del a
