"""Core errors to tagged IMAP responses, in one place (RFC 3501 7.1; response codes from RFC 5530).

Every command handler sends its failures through replies.reply_error, so a client sees NO or BAD with a code it
can act on, and never a traceback; anything we did not expect is logged here with its traceback.
"""

from __future__ import annotations

import logging

from twisted.mail.imap4 import (
    IllegalClientResponse,
    IllegalMailboxEncoding,
    IllegalOperation,
    IllegalQueryError,
    ReadOnlyMailbox,
)

from smb_suite import errors
from smb_suite.imap.search import SearchSyntaxError
from smb_suite.mail.transfer_encoding import UnknownTransferEncoding

logger = logging.getLogger("smb_suite.imap")
MAX_TEXT = 200


class MessageTooBig(errors.InvalidInput):
    """An APPEND literal larger than our APPENDLIMIT (RFC 7889), refused before its octets are read."""


class UnsupportedCharset(errors.InvalidInput):
    """SEARCH CHARSET other than US-ASCII or UTF-8 (RFC 3501 6.4.4)."""


class ExpungeIssued(errors.SmbSuiteError):
    """Some messages a command named were expunged by another session meanwhile (RFC 5530 EXPUNGEISSUED)."""


class PrivacyRequired(errors.PermissionDenied):
    """A password sent without TLS from a non-loopback address (RFC 3501 6.2.3, RFC 5530 PRIVACYREQUIRED)."""


def response_for(error: BaseException, trycreate: bool = False) -> tuple[bytes, bytes]:
    """(b"NO" or b"BAD", response text) for an error; `trycreate` for APPEND and COPY (RFC 3501 6.3.11)."""
    match error:
        case SearchSyntaxError() | IllegalClientResponse() | IllegalQueryError():
            return b"BAD", _text(error)
        case IllegalOperation() | IllegalMailboxEncoding():
            return b"NO", _text(error)
        case errors.MailboxHasChildren():
            return b"NO", b"[HASCHILDREN] " + _text(error)  # RFC 9051 7.1
        case errors.UnknownMailbox():
            return b"NO", (b"[TRYCREATE] " if trycreate else b"[NONEXISTENT] ") + _text(error)
        case errors.AlreadyExists():
            return b"NO", b"[ALREADYEXISTS] " + _text(error)
        case errors.InvalidMailboxName():
            return b"NO", b"[CANNOT] " + _text(error)
        case UnsupportedCharset():
            return b"NO", b"[BADCHARSET (US-ASCII UTF-8)] " + _text(error)
        case MessageTooBig():
            return b"NO", b"[TOOBIG] " + _text(error)
        case errors.QuotaExceeded():
            return b"NO", b"[OVERQUOTA] " + _text(error)
        case ExpungeIssued():
            return b"NO", b"[EXPUNGEISSUED] " + _text(error)
        case PrivacyRequired():
            return b"NO", b"[PRIVACYREQUIRED] " + _text(error)
        case errors.PermissionDenied():
            return b"NO", b"[NOPERM] " + _text(error)
        case ReadOnlyMailbox():
            return b"NO", b"folder is open read-only (EXAMINE)"
        case errors.AuthenticationFailed():
            return b"NO", b"[AUTHENTICATIONFAILED] " + _text(error)  # RFC 5530 3
        case errors.TemporaryFailure():  # DiskFull among them: never [SERVERBUG] for a full disk
            return b"NO", b"[UNAVAILABLE] " + _text(error)
        case errors.NotFound():
            return b"NO", b"[NONEXISTENT] " + _text(error)
        case UnknownTransferEncoding():
            return b"NO", b"[UNKNOWN-CTE] " + _text(error)  # RFC 3516 4.3
        case errors.SmbSuiteError():
            return b"NO", _text(error)
    logger.error("imap.internal_error", exc_info=error)
    return b"NO", b"[SERVERBUG] internal error, see the server log"


def _text(error: BaseException) -> bytes:
    """resp-text is 7-bit without CR/LF (RFC 3501 9)."""
    text = " ".join(str(error).split())[:MAX_TEXT] or type(error).__name__
    return text.encode("ascii", "backslashreplace")
