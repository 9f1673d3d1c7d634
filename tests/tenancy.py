"""Three businesses and a partner on one daemon, for the adversarial isolation suite
(tests/integration/test_isolation_*.py).

Made in-process through the use cases of the commands an operator runs (`tenant create`, `user add`,
`domain add`, `tenant partner`; eleven command-line starts per module cost more than the rest), then given mail
through the daemon itself: every owner and user receives a message over SMTP and keeps a filed message in a
folder of its own. Every message of a business carries `CANARY-<business>-` in its subject, so a test can tell at
a glance whether anything of another business reached an attacker, and `inventory()` reads what a victim still
has (over IMAP, as its mail app would) to show nothing was deleted.

    alpha    alpha.test    owner olga@   user ulf@      folders INBOX, Ledger, Alpha-Plans
    bravo    bravo.test    owner otto@   user uma@      folders INBOX, Ledger, Bravo-Plans
    charlie  charlie.test  owner cleo@   user carl@     folders INBOX, Ledger, Charlie-Plans  (partner: agency.test)
    agency.test  agency.test  partner pat@ (steward of charlie only)
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smb_suite.directory.model import OPERATOR, Role
from smb_suite.ops import domains, tenants
from smb_suite.services import open_services
from tests.daemon import Daemon, add_account, initialised, write_config
from tests.imapwire import Wire

HOSTNAME = "mail.host.test"
PLATFORM = "sites.test"
SERVICES = ("smtp", "submission", "imap", "http", "https")
LOCK_AFTER = 5  # failed logins that lock an account; client addresses never locked (every test is 127.0.0.1)
EXTRA = f'[sites]\nplatform_domain = "{PLATFORM}"\n[login]\nlock_after = {LOCK_AFTER}\nip_lock_after = 100000\n'


@dataclass(frozen=True)
class Account:
    address: str
    password: str

    @property
    def local(self) -> str:
        return self.address.partition("@")[0]


@dataclass(frozen=True)
class Business:
    name: str
    domain: str
    owner: Account
    user: Account
    folder: str  # a folder only this business has (besides the Ledger every business has)

    @property
    def canary(self) -> str:
        return f"CANARY-{self.name}-"

    @property
    def accounts(self) -> tuple[Account, Account]:
        return self.owner, self.user


def _business(name: str, owner: str, user: str) -> Business:
    domain = f"{name}.test"
    return Business(
        name,
        domain,
        Account(f"{owner}@{domain}", f"{owner} of {name}, long secret"),
        Account(f"{user}@{domain}", f"{user} of {name}, long secret"),
        f"{name.title()}-Plans",
    )


ALPHA = _business("alpha", "olga", "ulf")
BRAVO = _business("bravo", "otto", "uma")
CHARLIE = _business("charlie", "cleo", "carl")
BUSINESSES = (ALPHA, BRAVO, CHARLIE)
AGENCY = "agency.test"
PARTNER = Account(f"pat@{AGENCY}", "pat the partner, long secret")
SHARED_FOLDER = "Ledger"
# Every (attacker, victim) pair of businesses.
PAIRS = [(a, v) for a in BUSINESSES for v in BUSINESSES if a is not v]


def pair_id(pair: tuple[Business, Business]) -> str:
    return f"{pair[0].name}-on-{pair[1].name}"


@dataclass
class Tenancy:
    """The running daemon and what each account had when the suite began (folder -> subjects)."""

    daemon: Daemon
    baseline: dict[str, dict[str, set[str]]] = field(default_factory=dict, repr=False)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis prints a failing example with this
        printer.text(f"Tenancy({self.daemon.folder})")

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.daemon.ports['http']}"

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.daemon.ports['https']}"

    def assert_intact(self, *businesses: Business) -> None:
        """Every folder and message each account of these businesses had at the start is still there."""
        for business in businesses or BUSINESSES:
            for account in business.accounts:
                now = inventory(self.daemon, account)
                for folder, subjects in self.baseline[account.address].items():
                    assert folder in now, f"{account.address} lost its folder {folder}"
                    assert subjects <= now[folder], f"{account.address} lost mail in {folder}"


def make_tenancy(folder: Path, nameservers: tuple[str, ...]) -> Tenancy:
    """Create the businesses, start the daemon, give everyone mail."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, EXTRA, SERVICES, HOSTNAME, nameservers)
    daemon = Daemon(folder, config)
    services = open_services(initialised(config))
    try:
        for business in BUSINESSES:
            owner, user = business.accounts
            tenants.create_tenant(services, OPERATOR, business.name, business.domain, owner.address, owner.password)
            add_account(services, user.address, user.password)
        domains.add_domain(services, OPERATOR, AGENCY)
        add_account(services, PARTNER.address, PARTNER.password, Role.PARTNER)
        tenants.set_partner(services, OPERATOR, CHARLIE.name, AGENCY)
    finally:
        services.close()
    daemon.start()
    tenancy = Tenancy(daemon)
    for business in BUSINESSES:
        for account in business.accounts:
            deliver(daemon, account.address, f"{business.canary}inbox-{account.local}")
            with Wire(daemon, user=account.address, password=account.password) as imap:
                for name in (SHARED_FOLDER, business.folder):
                    imap.ok(f'CREATE "{name}"')
                    imap.append(f'"{name}"', message(f"{business.canary}{name}-{account.local}", account.address))
            tenancy.baseline[account.address] = inventory(daemon, account)
            assert len(tenancy.baseline[account.address]["INBOX"]) == 1
    return tenancy


def message(subject: str, to: str, sender: str = "friend@remote.example") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@remote.example>\r\n\r\n"
        f"Body of {subject}.\r\n"
    ).encode()


def deliver(daemon: Daemon, address: str, subject: str) -> None:
    """Mail from the internet to a hosted address, through the MX."""
    with smtplib.SMTP("127.0.0.1", daemon.ports["smtp"], timeout=30) as client:
        client.ehlo("mx.remote.example")
        assert client.sendmail("friend@remote.example", [address], message(subject, address)) == {}


_SUBJECT = re.compile(rb"Subject: ([^\r\n]*)")
_LISTED = re.compile(rb'^\* LIST \([^)]*\) (?:"."|NIL) (.*)$')


def folder_names(lines: list[bytes]) -> list[str]:
    """The folder names of LIST responses (quoted or atom; no literals in our tests' names)."""
    names = []
    for line in lines:
        match = _LISTED.match(line.rstrip(b"\r\n"))
        if match:
            names.append(match.group(1).decode().strip('"'))
    return names


def subjects(lines: list[bytes]) -> set[str]:
    return {match.decode() for line in lines for match in _SUBJECT.findall(line)}


def exists(lines: list[bytes]) -> int:
    """The EXISTS count of a SELECT or EXAMINE."""
    counts = [int(line.split()[1]) for line in lines if line.rstrip().endswith(b" EXISTS")]
    assert counts, lines
    return counts[-1]


def inventory(daemon: Daemon, account: Account) -> dict[str, set[str]]:
    """Folder -> subjects of its messages, as the account's mail app sees them."""
    found: dict[str, set[str]] = {}
    with Wire(daemon, user=account.address, password=account.password) as imap:
        for name in folder_names(imap.ok('LIST "" "*"')):
            found[name] = set()
            if exists(imap.ok(f'EXAMINE "{name}"')):
                found[name] = subjects(imap.ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    return found


def every_account() -> Iterator[tuple[Business, Account]]:
    for business in BUSINESSES:
        for account in business.accounts:
            yield business, account
