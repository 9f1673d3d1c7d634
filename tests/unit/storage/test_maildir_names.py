"""Folder names are checked, and mapped (in the layout of old versions, which legacy.py moves) to Maildir++
directories that never leave the user's store."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.errors import InvalidMailboxName
from smb_suite.storage.legacy import old_folder_path as folder_path
from smb_suite.storage.maildir import validate_mailbox_name

ROOT = Path("/srv/mail/example.test/alice")


@pytest.mark.parametrize(
    ("name", "directory"),
    [
        ("INBOX", ""),
        ("inbox", ""),
        ("Sent", ".Sent"),
        ("Archive/2024", ".Archive.2024"),
        ("Réunions", ".R%C3%A9unions"),
        ("a.b", ".a%2Eb"),
        ("Work/Client A", ".Work.Client A"),
    ],
)
def test_folder_names_map_to_maildir_plus_plus(name: str, directory: str) -> None:
    assert folder_path(ROOT, validate_mailbox_name(name)) == (ROOT / directory if directory else ROOT)


@pytest.mark.parametrize("name", ["", "..", "../other", "a/../b", "/abs", "a//b", "trail/", "nul\x00x", "tab\tx", " x"])
def test_dangerous_folder_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidMailboxName):
        validate_mailbox_name(name)


@given(st.text(min_size=1, max_size=60))
def test_any_accepted_name_stays_inside_the_store(name: str) -> None:
    try:
        canonical = validate_mailbox_name(name)
    except InvalidMailboxName:
        return
    path = folder_path(ROOT, canonical)
    assert path == ROOT or (path.parent == ROOT and path.name.startswith(".") and "/" not in path.name)
