"""An expunged message's file is removed once the store writer's batch has given up the writers' turn
(durable.remove_later): nothing before the block ends, and a failure is only logged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from smb_suite.durable import remove_later, removed_later


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
