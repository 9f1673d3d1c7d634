"""DKIM signing of our domains' submitted mail and key rotation (generated mail: Delivery.sign_generated)."""

from __future__ import annotations

from smb_suite.directory.dkimkeys import DkimKey
from smb_suite.directory.model import Principal
from smb_suite.services import Services


def grace_seconds(services: Services) -> int:
    return services.config.dkim.rotation_grace_days * 86400


def sign(services: Services, message: bytes, domain: str) -> bytes:
    """The message with DKIM signatures of `domain` on top, one per active key (unchanged without keys).

    Blocking (database read, RSA): call it from a thread. Used for local delivery of submitted mail and by the
    outbound queue.
    """
    return services.dkim.sign(message, domain)


def rotate_dkim(services: Services, actor: Principal, name: str) -> list[DkimKey]:
    """New signing keys for a domain; the old public keys stay in `dns` output for the grace period."""
    domain = services.directory.get_domain(actor, name)
    services.dkim.rotate(domain.id, grace_seconds(services))
    services.audit.record(actor, "dkim.rotate", domain.name, domain.tenant_id)
    return services.dkim.active(domain.name)


# -- the outbound queue (the operator's) ------------------------------------------------------------------------
