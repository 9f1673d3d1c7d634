"""SMTP replies as named constants, and the one mapping from core errors to replies (RFC 5321 4.2, RFC 3463)."""

from __future__ import annotations

import re

from smb_suite import errors

OK_SENDER = "250 2.1.0 Ok"
OK_DELIVERED = "250 2.0.0 Ok: delivered"
OK_QUEUED = "250 2.0.0 Ok: queued"
OK_RECIPIENT = "250 2.1.5 Ok"
RELAY_DENIED = "554 5.7.1 Relay access denied"
UNKNOWN_USER = "550 5.1.1 Mailbox unavailable: no such user here"
BAD_ADDRESS = "501 5.1.3 Bad recipient address syntax"
RELAY_NOT_CONFIGURED = "451 4.4.0 Relay not configured: remote delivery is not available yet, try later"
LOCAL_ERROR = "451 4.3.0 Local error in processing, try again later"
TOO_MANY_RECIPIENTS = "452 4.5.3 Too many recipients"
QUOTA_FULL = "552 5.3.4 Message too big for the recipient's storage"
STORAGE_FULL = "452 4.2.2 Mailbox full, try again later"
DISK_FULL = "452 4.3.1 Insufficient system storage, try again later"  # RFC 3463 4.3.1 mail system full
AUTH_FAILED = "535 5.7.8 Authentication credentials invalid"
LOGIN_LOCKED = "454 4.7.0 Temporary authentication failure: too many failed logins, try again later"  # RFC 4954 6
NO_RECIPIENTS = "554 5.5.1 No valid recipients"
SUSPENDED = "451 4.7.1 Mailbox temporarily unavailable, try again later"
SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"
TOO_MANY_CONNECTIONS = "421 4.7.0 Too many connections from your address, try again later"
TIMEOUT = "421 4.4.2 Timeout exceeded, closing connection"  # RFC 5321 4.5.3.2, RFC 3463 4.4.2
BUSY = "452 4.3.1 Insufficient system resources, try again later"
LINE_TOO_LONG = "500 5.5.2 Line too long (RFC 5321 4.5.3.1.6)"
TOO_MUCH_DATA = "552 5.3.4 Message too big"
TOO_MANY_HOPS = "554 5.4.6 Too many hops: this message is looping"
# RFC 6409 6.1 lets the MSA refuse senders the user may not use; 5.7.1 "not authorized" (RFC 3463).
SENDER_NOT_OWNED = "553 5.7.1 Sender address rejected: not one of your addresses or aliases"
FROM_NOT_OWNED = "553 5.7.1 From: header rejected: not one of your addresses or aliases"
# Issue 11: a domain an owner or partner added is pending until its TXT record proves it is theirs.
DOMAIN_PENDING = "550 5.7.1 Recipient domain not verified on this server yet: mail for it is refused"
SENDER_DOMAIN_PENDING = (
    "553 5.7.1 Sender domain not verified on this server yet: publish its smb-suite-verification TXT record"
)
FROM_DOMAIN_PENDING = "553 5.7.1 From: domain not verified on this server yet: it cannot send"
DMARC_REJECTED = "550 5.7.1 Rejected: the From: domain's DMARC policy says this message is not from it"
NUL_IN_MESSAGE = "554 5.6.0 Message refused: it contains NUL bytes, which SMTP does not allow (RFC 5321 2.3.8)"
START_DATA = "354 End data with <CR><LF>.<CR><LF>"
NEED_RECIPIENT = "503 Error: need RCPT command"  # aiosmtpd's own wording, for DATA spooled by smtp/server.py
DATA_SYNTAX = "501 Syntax: DATA"


def extension(name: str) -> str:
    """One line of the EHLO response that advertises an extension (RFC 5321 4.1.1.1)."""
    return f"250-{name}"


def field_not_owned(field: str) -> str:
    """553 for a Sender:, Resent-From: or Resent-Sender: address that is not the user's (like From:)."""
    return f"553 5.7.1 {field.title()}: header rejected: not one of your addresses or aliases"


def display_name_spoof(field: str, shown: str, real: str) -> str:
    """550 for a display name that is itself an address other than the real one (`"ceo@bank.test" <x@a.test>`)."""
    return (
        f"550 5.7.1 {field.title()}: header rejected: its display name is the address {shown}, not the real "
        f"address <{real}>; use a name there, not an address"
    )


# RFC 2034 / RFC 3463: once ENHANCEDSTATUSCODES is advertised, every reply but the greeting, the EHLO/HELO
# response and intermediate 3xx replies carries an enhanced code. aiosmtpd's own replies lack them; these are
# the codes they get (as Postfix sends them).
_ENHANCED_DEFAULTS = {
    221: "2.0.0",
    250: "2.0.0",
    251: "2.1.5",
    252: "2.0.0",
    421: "4.3.0",
    451: "4.3.0",
    452: "4.3.1",
    454: "4.7.0",
    500: "5.5.2",
    501: "5.5.4",
    502: "5.5.1",
    503: "5.5.1",
    504: "5.5.4",
    530: "5.7.0",
    552: "5.3.4",
    553: "5.1.3",
    555: "5.5.4",
}
_REPLY = re.compile(r"([2-5]\d\d)([ -])(.*)", re.DOTALL)
_ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}(?: |$)")


def for_error(error: Exception) -> str:
    """The reply for a core error; anything unexpected is a temporary local error, never a traceback."""
    match error:
        case errors.PolicyReject(code=code, enhanced=enhanced, text=text):
            return f"{code} {enhanced} {text}"
        case errors.DomainPending():
            return DOMAIN_PENDING
        case errors.RelayDenied():
            return RELAY_DENIED
        case errors.UnknownRecipient() | errors.UnknownUser() | errors.UnknownDomain():
            return UNKNOWN_USER
        case errors.InvalidInput():
            return BAD_ADDRESS
        case errors.LoginLocked():
            return LOGIN_LOCKED
        case errors.TenantSuspended():
            return SUSPENDED
        case errors.StorageFull():
            return STORAGE_FULL
        case errors.DiskFull():
            return DISK_FULL
        case errors.RelayNotConfigured():
            return RELAY_NOT_CONFIGURED
        case errors.QuotaExceeded():
            return QUOTA_FULL
        case errors.AuthenticationFailed():
            return AUTH_FAILED
        case _:
            return LOCAL_ERROR


def with_enhanced_code(reply: str) -> str:
    """The reply with an enhanced status code (RFC 3463) if it has none and should have one."""
    match = _REPLY.fullmatch(reply)
    if match is None:
        return reply
    code, separator, text = int(match.group(1)), match.group(2), match.group(3)
    if code == 220 or 300 <= code < 400 or _ENHANCED.match(text):
        return reply
    enhanced = _ENHANCED_DEFAULTS.get(code, f"{code // 100}.0.0")
    return f"{code}{separator}{enhanced} {text}"
