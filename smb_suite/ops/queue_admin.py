"""The operator's handling of the outbound queue: retry or delete waiting mail."""

from __future__ import annotations

from smb_suite.directory.model import Principal, Role
from smb_suite.errors import PermissionDenied
from smb_suite.services import Services


def queue_retry(services: Services, actor: Principal, queue_ids: list[str]) -> int:
    """Try waiting mail again at the next queue run (all of it without ids); the number of recipients."""
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator manages the outbound queue")
    count = services.queue.retry(queue_ids)
    services.audit.record(actor, "queue.retry", " ".join(queue_ids) or "all")
    return count


def queue_delete(services: Services, actor: Principal, queue_ids: list[str]) -> list[str]:
    """Remove waiting mail without telling its senders; the ids that were removed."""
    if actor.role is not Role.OPERATOR:
        raise PermissionDenied("only the operator manages the outbound queue")
    removed = services.queue.delete(queue_ids)
    if removed:
        services.audit.record(actor, "queue.delete", " ".join(removed))
    return removed
