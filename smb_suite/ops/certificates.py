"""Automatic certificates (RFC 8555): which names need one, obtaining and renewing them, and their state for the
admin UI and `smb-suite cert list`.

The daemon runs `run_periodically`: every `[acme] check_interval` a round looks at the server hostname and every
verified domain (with its www., autoconfig. and mta-sts. names). A subject whose stored certificate is missing,
lacks a name, or expires within `renew_before` gets a new order; a failure waits `retry_first`, doubled after
each further failure up to `retry_max`. The ACME calls and key generation run in threads, database writes on the
store writer; files are written by certs/store.py, and every listener picks a new certificate up at its next
handshake (tls.SniContexts, imap/server.py). HTTP-01 answers go through the database (web/acme.py answers
them), so whichever worker or node serves port 80 answers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from smb_suite import log, tls
from smb_suite.certs import store
from smb_suite.certs.records import CertificateRecords, CertificateState
from smb_suite.directory.model import OPERATOR, Principal
from smb_suite.names import host_name
from smb_suite.services import Services

if TYPE_CHECKING:  # the ACME client (acme, josepy, requests: ~20 MB per process) is imported once a
    from smb_suite.certs.issuer import AcmeClient  # certificate is due, never by a worker that has none to get

logger = logging.getLogger("smb_suite.certificates")
DOMAIN_NAMES = ("", "www.", "autoconfig.", "mta-sts.")


@dataclass(frozen=True, slots=True)
class Certificate:
    """What an operator or owner sees of one certificate."""

    subject: str
    label: str  # the server hostname or the domain name
    names: tuple[str, ...]
    state: CertificateState | None  # None: not tried yet

    @property
    def status(self) -> str:
        if self.state is None:
            return "pending"
        if self.state.failures:
            return "failing"
        return "valid" if self.state.not_after is not None else "pending"

    @property
    def expires(self) -> str:
        return store.utc(self.state.not_after) if self.state is not None and self.state.not_after else ""

    @property
    def next_try(self) -> str:
        return store.utc(self.state.next_attempt) if self.state is not None and self.state.failures else ""


def domain_subject(domain_id: int) -> str:
    return f"domain-{domain_id}"


def _public(name: str | None) -> bool:
    if name is None or "." not in name or name == "localhost" or name.endswith(".localhost"):
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return True
    return False


def wanted(services: Services) -> dict[str, tuple[str, tuple[str, ...]]]:
    """subject -> (label, names) for the hostname and every verified domain."""
    result: dict[str, tuple[str, tuple[str, ...]]] = {}
    hostname = host_name(services.config.server.hostname)
    if hostname is not None and _public(hostname):
        result[tls.HOST_SUBJECT] = (hostname, (hostname,))
    for domain in services.directory.list_domains(OPERATOR):
        if domain.verified:
            result[domain_subject(domain.id)] = (domain.name, tuple(prefix + domain.name for prefix in DOMAIN_NAMES))
    return result


def _due(services: Services, names: tuple[str, ...], stored: tuple[int, frozenset[str]] | None) -> bool:
    if stored is None or not set(names) <= stored[1]:
        return True
    return stored[0] - services.clock() <= services.config.acme.renew_before


def _publish_names(root: Path, subjects: list[str]) -> None:
    """names.json from the certificates actually stored (a failed renewal keeps serving the previous one)."""
    names: dict[str, str] = {}
    for subject in subjects:
        stored = store.expiry(root, subject)
        if stored is not None:
            names.update(dict.fromkeys(sorted(stored[1]), subject))
    store.publish_names(root, names)


class Renewal:
    """One round: forget subjects no longer wanted, then obtain what is due (back-off respected)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.records = CertificateRecords(services.engine, services.clock)
        self.root = services.config.acme_dir

    async def run(self) -> int:
        services = self.services
        want = await services.runner.read(wanted, services)
        states = await services.runner.read(self.records.states)
        gone = [subject for subject in states if subject not in want]
        if gone:
            await services.runner.write(self.records.forget, gone)
            for subject in gone:
                await asyncio.to_thread(store.remove, self.root, subject)
        due: list[tuple[str, tuple[str, ...]]] = []
        for subject, (_label, names) in want.items():
            state = states.get(subject)
            if state is not None and state.failures and services.clock() < state.next_attempt:
                continue  # back-off after a failure
            if _due(services, names, await asyncio.to_thread(store.expiry, self.root, subject)):
                due.append((subject, names))
        if gone or due:
            obtained = await self._obtain_all(due, states) if due else 0
            await asyncio.to_thread(_publish_names, self.root, list(want))
            return obtained
        return 0

    async def _obtain_all(self, due: list[tuple[str, tuple[str, ...]]], states: dict[str, CertificateState]) -> int:
        from smb_suite.certs import issuer

        client = issuer.AcmeClient(self.services.config.acme, self.root)
        obtained = 0
        try:
            try:
                await asyncio.to_thread(client.open)
            except issuer.IssuanceFailed as error:
                for subject, names in due:
                    await self._failed(subject, names, str(error), states.get(subject))
                return 0
            for subject, names in due:
                obtained += await self._obtain(client, subject, names, states.get(subject))
        finally:
            client.close()
        return obtained

    async def _obtain(
        self, client: AcmeClient, subject: str, names: tuple[str, ...], state: CertificateState | None
    ) -> int:
        """Order the names; when only some fail validation (a www. or mta-sts. name not pointed here yet), the
        others are ordered again at once, and the failure is still reported and retried with back-off."""
        from smb_suite.certs.issuer import IssuanceFailed

        try:
            await self._order(client, subject, names)
        except IssuanceFailed as error:
            rest = tuple(name for name in names if name not in error.names)
            if not error.names or not rest or rest[0] != names[0]:
                await self._failed(subject, names, str(error), state)
                return 0
            try:
                await self._order(client, subject, rest)
            except IssuanceFailed as again:
                await self._failed(subject, names, str(again), state)
                return 0
            missing = ", ".join(name for name in names if name in error.names)
            await self._failed(subject, names, f"not covered: {missing}; {error}", state)
        return 1

    async def _order(self, client: AcmeClient, subject: str, names: tuple[str, ...]) -> None:
        runner = self.services.runner
        log.event(logger, "cert.ordering", subject=subject, names=",".join(names))
        key = await asyncio.to_thread(store.new_key)
        order = await asyncio.to_thread(client.order, names, key)
        from smb_suite.certs.issuer import ORDER_SECONDS

        expires = int(self.services.clock()) + 2 * ORDER_SECONDS
        await runner.write(self.records.put_challenges, order.answers, expires)
        try:
            chain = await asyncio.to_thread(client.finish, order)
        finally:
            await runner.write(self.records.drop_challenges, list(order.answers))
        await asyncio.to_thread(store.save, self.root, subject, key, chain)
        stored = await asyncio.to_thread(store.expiry, self.root, subject)
        not_after = stored[0] if stored is not None else 0
        await runner.write(self.records.obtained, subject, names, not_after)
        log.event(logger, "cert.obtained", subject=subject, names=",".join(names), not_after=store.utc(not_after))

    async def _failed(self, subject: str, names: tuple[str, ...], error: str, state: CertificateState | None) -> None:
        settings = self.services.config.acme
        failures = (state.failures if state is not None else 0) + 1
        wait = retry_delay(failures, float(settings.retry_first), float(settings.retry_max))
        next_attempt = int(self.services.clock() + wait)
        self.services.metrics.certificate_failures.inc()
        await self.services.runner.write(self.records.failed, subject, names, error, failures, next_attempt)
        log.event(logger, "cert.failed", subject=subject, failures=failures, retry=store.utc(next_attempt), error=error)


def retry_delay(failures: int, first: float, maximum: float) -> float:
    """Seconds to wait after the `failures`-th failure in a row: `first`, doubled each time, at most `maximum`
    (a CA's rate limits punish tight retries; DNS fixed later is picked up within `maximum`)."""
    return min(first * 2.0 ** min(failures - 1, 30), maximum)


async def run_periodically(services: Services) -> None:
    """The daemon's task: a round every `[acme] check_interval` until cancelled."""
    interval = float(services.config.acme.check_interval)
    while True:
        try:
            await Renewal(services).run()
        except Exception:  # a round that failed must not end renewals
            logger.exception("cert.round_failed")
        await asyncio.sleep(interval)


def key_authorization(services: Services, token: str) -> str | None:
    """The HTTP-01 answer for a token of a pending order (RFC 8555 8.3), or None."""
    return CertificateRecords(services.engine, services.clock).key_authorization(token)


def list_certificates(services: Services) -> list[Certificate]:
    """Every certificate the daemon obtains, with its state (the operator's `smb-suite cert list`)."""
    states = CertificateRecords(services.engine, services.clock).states()
    return [
        Certificate(subject, label, names, states.get(subject)) for subject, (label, names) in wanted(services).items()
    ]


def retry(services: Services, name: str | None = None) -> int:
    """The operator fixed DNS: failing certificates (all, or the hostname's or a domain's) are tried again at the
    next round instead of after their back-off; the number of certificates concerned."""
    subjects = [
        subject
        for subject, (label, _names) in wanted(services).items()
        if name is None or label == (host_name(name) or name)
    ]
    return CertificateRecords(services.engine, services.clock).retry_now(subjects)


def detail(certificate: Certificate) -> str:
    """One line: the expiry of a valid certificate, or the failures, the next attempt and the last error."""
    state = certificate.state
    if state is None:
        return "not tried yet"
    valid = f"expires {certificate.expires}" if certificate.expires else "not obtained yet"
    if state.failures:
        return f"{valid}; attempt {state.failures} failed, next try {certificate.next_try}: {state.last_error}"
    return valid


def domain_certificate(services: Services, actor: Principal, name: str) -> Certificate | None:
    """The certificate of a domain the actor manages (its admin page); None while it is unverified or when
    automatic certificates are off."""
    domain = services.directory.get_domain(actor, name)
    if not domain.verified or not services.config.acme.directory:
        return None
    subject = domain_subject(domain.id)
    state = CertificateRecords(services.engine, services.clock).states().get(subject)
    return Certificate(subject, domain.name, tuple(prefix + domain.name for prefix in DOMAIN_NAMES), state)
