"""SMTP replies as named constants, and the one mapping from core errors to replies (RFC 5321 4.2, RFC 3463)."""

from __future__ import annotations

from smb_suite import errors

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
AUTH_FAILED = "535 5.7.8 Authentication credentials invalid"
NO_RECIPIENTS = "554 5.5.1 No valid recipients"
SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"
TOO_MANY_HOPS = "554 5.4.6 Too many hops: this message is looping"


def for_error(error: Exception) -> str:
    """The reply for a core error; anything unexpected is a temporary local error, never a traceback."""
    match error:
        case errors.PolicyReject(code=code, enhanced=enhanced, text=text):
            return f"{code} {enhanced} {text}"
        case errors.RelayDenied():
            return RELAY_DENIED
        case errors.UnknownRecipient() | errors.UnknownUser() | errors.UnknownDomain():
            return UNKNOWN_USER
        case errors.InvalidInput():
            return BAD_ADDRESS
        case errors.StorageFull():
            return STORAGE_FULL
        case errors.RelayNotConfigured():
            return RELAY_NOT_CONFIGURED
        case errors.QuotaExceeded():
            return QUOTA_FULL
        case errors.AuthenticationFailed():
            return AUTH_FAILED
        case _:
            return LOCAL_ERROR
