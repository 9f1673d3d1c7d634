"""Property: whatever mix of writes, deletions and restarts happens, usage equals what is on disk."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from smb_suite import config
from smb_suite.directory.model import OPERATOR, Role, User
from smb_suite.errors import QuotaExceeded
from smb_suite.ops import domains, sites, tiers, users
from smb_suite.services import initialise, open_services

TINY_TIER = '[tiers.tiny]\nstorage_mb = 1\n[quota]\ndefault_tier = "tiny"\n'
SIZES = st.sampled_from([1, 1_000, 60_000, 300_000, 700_000])
USERS = st.sampled_from(["ann@tiny.test", "bob@tiny.test"])


class UsageMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="quota-property-"))
        path = self.folder / "smb-suite.toml"
        path.write_text(f'[server]\ndata_dir = "data"\n{TINY_TIER}')
        self.config = config.load(path)
        initialise(self.config)
        self.services = open_services(self.config)
        domains.add_domain(self.services, OPERATOR, "tiny.test")
        for address in ("ann@tiny.test", "bob@tiny.test"):
            users.add_user(self.services, OPERATOR, address, "pw", Role.OWNER)
        self.folders: dict[str, set[str]] = {"ann@tiny.test": set(), "bob@tiny.test": set()}

    def user(self, address: str) -> User:
        return self.services.directory.get_user(OPERATOR, address)

    @rule(address=USERS, size=SIZES)
    def deliver(self, address: str, size: int) -> None:
        with contextlib.suppress(QuotaExceeded):
            self.services.store.deliver([self.user(address)], b"Subject: x\r\n\r\n" + b"x" * size)

    @rule(size=SIZES)
    def deliver_to_both(self, size: int) -> None:
        users = [self.user("ann@tiny.test"), self.user("bob@tiny.test")]
        with contextlib.suppress(QuotaExceeded):
            self.services.store.deliver(users, b"Subject: both\r\n\r\n" + b"y" * size)

    @rule(address=USERS, size=SIZES, name=st.sampled_from(["Sent", "Projects", "Projects/2026"]))
    def append(self, address: str, size: int, name: str) -> None:
        owner = self.user(address)
        if name not in {m.name for m in self.services.store.mailboxes(owner)}:
            self.services.store.create_mailbox(owner, name)
            self.folders[address].add(name)
        with contextlib.suppress(QuotaExceeded):
            self.services.store.append(owner, name, b"Subject: a\r\n\r\n" + b"z" * size, ["\\Seen"])

    @rule(address=USERS, keep_every=st.integers(min_value=1, max_value=3))
    def expunge_inbox(self, address: str, keep_every: int) -> None:
        owner = self.user(address)
        inbox = self.services.store.mailbox(owner, "INBOX")
        uids = [m.uid for i, m in enumerate(self.services.store.messages(inbox)) if i % keep_every == 0]
        self.services.store.store_flags(owner, inbox, uids, ["\\Deleted"], 1)
        self.services.store.expunge(owner, inbox)

    @precondition(lambda self: any(self.folders.values()))
    @rule(address=USERS)
    def delete_folder(self, address: str) -> None:
        if self.folders[address]:
            name = max(self.folders[address])
            self.services.store.delete_mailbox(self.user(address), name)
            self.folders[address].discard(name)

    @rule()
    def publish_site(self) -> None:
        domain = self.services.directory.get_domain(OPERATOR, "tiny.test")
        with contextlib.suppress(QuotaExceeded):
            sites.publish_content(self.services, domain)

    @rule()
    def restart(self) -> None:
        self.services.close()
        self.services = open_services(self.config)
        self.services.store.reconcile()

    @invariant()
    def usage_equals_disk(self) -> None:
        assert tiers.check_drift(self.services) == []

    def teardown(self) -> None:
        self.services.close()
        shutil.rmtree(self.folder, ignore_errors=True)


UsageMachine.TestCase.settings = settings(max_examples=12, stateful_step_count=12, deadline=None)
test_usage_never_drifts_from_disk = UsageMachine.TestCase
