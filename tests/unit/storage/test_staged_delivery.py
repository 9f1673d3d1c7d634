"""A delivery's files are written beside the store writer and only its rows committed in the writer's batch
(Transfers.stage_delivery, deliver_staged), and an expunged message's file is removed once the batch has given
up the writers' turn (durable.remove_later): what is on disk and in the index at each step."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from smb_suite import config
from smb_suite.directory.model import OPERATOR, Role, User
from smb_suite.durable import remove_later, removed_later
from smb_suite.errors import QuotaExceeded
from smb_suite.ops import domains, users
from smb_suite.services import Services, initialise, open_services

BIG = b"Subject: big\r\n\r\n" + b"x" * 700_000  # two do not fit the 1 MB tier


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    path = tmp_path_factory.mktemp("staged") / "smb-suite.toml"
    path.write_text('[server]\ndata_dir = "data"\n[tiers.tiny]\nstorage_mb = 1\n[quota]\ndefault_tier = "tiny"\n')
    loaded = config.load(path)
    initialise(loaded)
    opened = open_services(loaded)
    domains.add_domain(opened, OPERATOR, "tiny.test")
    users.add_user(opened, OPERATOR, "ann@tiny.test", "pw", Role.OWNER)
    yield opened
    opened.close()


def ann(services: Services) -> User:
    return services.directory.get_user(OPERATOR, "ann@tiny.test")


def test_a_staged_message_is_on_disk_but_not_in_the_folder_until_committed_once(services: Services) -> None:
    owner = ann(services)
    inbox = services.store.mailbox(owner, "INBOX")
    staged = services.store.stage_delivery([owner], b"Subject: hi\r\n\r\nhello\r\n")
    [file] = staged.written
    assert file.exists() and file.parent.name == "new" and services.store.messages(inbox) == []
    assert services.store.deliver_staged([staged]) == [None] and staged.committed
    assert services.store.deliver_staged([staged]) == [None]  # a batch tried again adds no second row
    staged.discard()
    assert file.exists() and [m.filename for m in services.store.messages(inbox)] == [f"new/{file.name}"]


def test_a_staged_message_over_quota_leaves_no_file_and_the_rest_of_its_batch_is_kept(services: Services) -> None:
    owner = ann(services)
    inbox = services.store.mailbox(owner, "INBOX")
    before = len(services.store.messages(inbox))
    first, second = (services.store.stage_delivery([owner], BIG) for _ in range(2))
    errors = services.store.deliver_staged([first, second])
    assert errors[0] is None and isinstance(errors[1], QuotaExceeded)
    assert all(path.exists() for path in first.written) and not any(path.exists() for path in second.written)
    assert len(services.store.messages(inbox)) == before + 1


def test_files_removed_later_go_when_the_block_ends_and_a_failure_is_only_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    doomed, stubborn = tmp_path / "doomed", tmp_path / "a folder"
    doomed.write_bytes(b"x")
    stubborn.mkdir()
    with caplog.at_level(logging.WARNING, "smb_suite.storage"), removed_later():
        remove_later(doomed)
        remove_later(stubborn)  # unlink refuses a directory
        assert doomed.exists()
    assert not doomed.exists() and stubborn.exists()
    assert "file.remove_failed" in caplog.text
    outside = tmp_path / "at once"
    outside.write_bytes(b"y")
    remove_later(outside)
    assert not outside.exists()
