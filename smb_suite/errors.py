"""The one exception tree of smb-suite.

Core code raises these; each front end translates them to its wire format in one place
(smtp/replies.py, imap/errors.py, web/errors.py). Clients never see a traceback.

    SmbSuiteError
    ├── ConfigError                 bad configuration file or value (exit status 2)
    ├── InvalidInput                malformed address, domain, password, mailbox name ...
    │   ├── InvalidMailboxName
    │   └── InvalidProxyHeader      a connection's PROXY protocol header is missing, malformed or not allowed
    ├── NotFound
    │   ├── UnknownDomain
    │   ├── UnknownUser
    │   ├── UnknownRecipient        no such hosted address (SMTP 550 5.1.1)
    │   └── UnknownMailbox
    ├── AlreadyExists
    ├── ChangedMeanwhile            an edit of something another client changed since it was shown (HTTP 409)
    ├── MailboxHasChildren          a folder with subfolders cannot be deleted (IMAP NO [HASCHILDREN])
    ├── AuthenticationFailed        wrong user or password
    │   └── AccountSuspended        right password, but the business is suspended (SMTP 535, IMAP NO)
    ├── PermissionDenied            the acting principal may not do this
    ├── UnsafePath                  a storage path would leave its root (a bug or a tampered data folder)
    ├── RelayDenied                 recipient domain is not hosted and the client may not relay
    │   └── DomainPending           the domain is claimed here but its ownership is not proven yet (550 5.7.1)
    ├── QuotaExceeded               the tenant's storage is full
    ├── TemporaryFailure            retry could succeed (SMTP 4xx, IMAP NO)
    │   ├── RelayNotConfigured      remote delivery not available yet
    │   ├── StorageFull             the recipient's storage is full: the sender should retry later
    │   ├── DiskFull                the server's disk is full (ENOSPC, EDQUOT): SMTP 452 4.3.1, IMAP [UNAVAILABLE]
    │   ├── TenantSuspended         the recipient's business is suspended (SMTP 451 4.7.1): mail waits
    │   ├── LoginLocked             too many failed logins: refused for a while, right password or not
    │   │                           (SMTP 454 4.7.0, IMAP NO [UNAVAILABLE], web 429)
    │   ├── RateLimited             an API token made too many calls this minute, a client too many password
    │   │                           reset requests this hour (HTTP 429)
    │   └── DnsFailure              a DNS lookup timed out or its server failed (not: the name has no record)
    ├── Undeliverable               the outbound queue can never deliver this (no such domain, null MX)
    ├── BackupError                 a backup fails verification, or cannot be taken or restored here
    │   └── MoveRefused             a business's archive is damaged or unsafe, or cannot be imported here
    ├── ImportFailed                moving a mailbox in: the old server cannot be reached or refuses us
    └── PolicyReject                a policy decision with its own SMTP code and text
"""

from __future__ import annotations


class SmbSuiteError(Exception):
    """Base of every error smb-suite raises on purpose."""


class ConfigError(SmbSuiteError):
    """Configuration is invalid; the message lists every problem found."""


class InvalidInput(SmbSuiteError):
    """Input from a user or client is malformed."""


class InvalidMailboxName(InvalidInput):
    """A folder name is empty, escapes the store, or holds forbidden characters."""


class InvalidProxyHeader(InvalidInput):
    """A balancer's PROXY protocol header is malformed or incomplete (the connection is closed)."""


class NotFound(SmbSuiteError):
    """The named object does not exist."""


class UnknownDomain(NotFound):
    """The domain is not hosted here."""


class UnknownUser(NotFound):
    """The user does not exist."""


class UnknownRecipient(NotFound):
    """No hosted mailbox or alias answers to this address."""


class UnknownMailbox(NotFound):
    """The folder does not exist."""


class AlreadyExists(SmbSuiteError):
    """An object with that name already exists."""


class ChangedMeanwhile(SmbSuiteError):
    """The record was changed since the page showed it (its ETag no longer matches): nothing was written."""


class MailboxHasChildren(SmbSuiteError):
    """A folder with subfolders cannot be deleted; delete the subfolders first (RFC 3501 6.3.4)."""


class UnsafePath(SmbSuiteError):
    """A storage path would lead outside its root (storage/paths.py): refused, nothing opened or removed."""


class AuthenticationFailed(SmbSuiteError):
    """Wrong user name or password (never says which)."""


class AccountSuspended(AuthenticationFailed):
    """The password is right but the business is suspended: no login until the operator resumes it."""


class PermissionDenied(SmbSuiteError):
    """The acting principal may not perform this operation."""


class RelayDenied(SmbSuiteError):
    """The recipient is not hosted here and this client may not relay."""


class DomainPending(RelayDenied):
    """The domain was added by an owner or partner and has not proven its ownership (its TXT record) yet: it
    is not hosted for mail, sites or signing; mail for it goes where its DNS says."""


class QuotaExceeded(SmbSuiteError):
    """Writing this would exceed the tenant's storage limit."""


class ImportFailed(SmbSuiteError):
    """The old provider's IMAP server cannot be reached, refuses the login or answers what we cannot use."""


class TemporaryFailure(SmbSuiteError):
    """A failure that a later retry could fix."""


class RelayNotConfigured(TemporaryFailure):
    """Mail for remote domains cannot be sent yet: no outbound transport."""


class StorageFull(TemporaryFailure):
    """The recipient's business (or mailbox) has no room left; an upgrade or a clean-up makes room."""


class DiskFull(TemporaryFailure):
    """The server's file system (or its file-system quota) has no room left: nothing was stored, retry later.
    Raised by the storage layer for ENOSPC/EDQUOT and SQLite's "database or disk is full"."""


class DnsFailure(TemporaryFailure):
    """A DNS lookup timed out or the server failed; an empty answer or NXDOMAIN is not a failure."""


class Undeliverable(SmbSuiteError):
    """A remote recipient can never be reached; carries the RFC 3463 status for the DSN."""

    def __init__(self, status: str, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class PolicyReject(SmbSuiteError):
    """A policy decision that carries its own SMTP reply."""

    def __init__(self, code: int, enhanced: str, text: str) -> None:
        super().__init__(f"{code} {enhanced} {text}")
        self.code = code
        self.enhanced = enhanced
        self.text = text


class TenantSuspended(TemporaryFailure):
    """The business is suspended: its mail waits at the sender (4xx) and its data is kept."""


class LoginLocked(TemporaryFailure):
    """Too many failed logins for this account or client address: every login is refused until `until`."""

    def __init__(self, text: str, until: int) -> None:
        super().__init__(text)
        self.until = until


class RateLimited(TemporaryFailure):
    """Too many calls or requests (a provisioning API token this minute, "forgot password" requests this hour):
    refused for `retry_after` seconds."""

    def __init__(self, text: str, retry_after: int) -> None:
        super().__init__(text)
        self.retry_after = retry_after


class BackupError(SmbSuiteError):
    """A backup is damaged (a checksum, a missing file, a database that fails its check) or cannot be taken or
    restored here (an unsupported database, a data folder that is not empty)."""


class MoveRefused(BackupError):
    """`tenant import` refuses an archive (a checksum, an unsafe member, a domain hosted here already, a tier that
    does not fit) before it changed anything."""
