"""DKIM signing of our domains' mail (submitted and generated) and key rotation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from smb_suite.directory.dkimkeys import DkimKey
from smb_suite.directory.model import Principal
from smb_suite.mail import dkim, message

if TYPE_CHECKING:
    from smb_suite.services import Services


def grace_seconds(services: Services) -> int:
    return services.config.dkim.rotation_grace_days * 86400


def sign(services: Services, message: bytes, domain: str) -> bytes:
    """The message with DKIM signatures of `domain` on top, one per active key (unchanged without keys).

    Blocking (database read, RSA): call it from a thread. Used for local delivery of submitted mail and by the
    outbound queue.
    """
    keys = services.dkim.signing_keys(domain)
    return dkim.sign(message, domain, keys, int(services.clock())) + message


def sign_generated(services: Services, data: bytes) -> bytes:
    """DKIM-sign mail we write ourselves (vacation replies, reports) when its From is one of our domains, so it
    passes DMARC at Gmail and Outlook like the user's own mail. Blocking: call it from a thread."""
    senders = message.from_addresses(data)
    if len(senders) != 1:
        return data
    domain = message.domain_of(senders[0])
    return sign(services, data, domain) if services.directory.find_domain(domain) is not None else data


def rotate_dkim(services: Services, actor: Principal, name: str) -> list[DkimKey]:
    """New signing keys for a domain; the old public keys stay in `dns` output for the grace period."""
    domain = services.directory.get_domain(actor, name)
    services.dkim.rotate(domain.id, grace_seconds(services))
    services.audit.record(actor, "dkim.rotate", domain.name, domain.tenant_id)
    return services.dkim.active(domain.name)


# -- the outbound queue (the operator's) ------------------------------------------------------------------------
