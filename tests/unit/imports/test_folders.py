"""Each folder of an old provider lands where a user looks for it (RFC 6154 special use first, then well-known
names; Maildir++ "INBOX." prefixes dropped; levels joined with "/"; modified UTF-7 decoded)."""

from __future__ import annotations

import pytest

from smb_suite.imports.folders import RemoteFolder, local_name


@pytest.mark.parametrize(
    ("wire", "separator", "attributes", "ours"),
    [
        ("INBOX", "/", (), "INBOX"),
        ("inbox", ".", (), "INBOX"),
        ("Sent Items", "/", (), "Sent"),
        ("Gesendete Objekte", "/", (), "Sent"),
        ("&AMk-l&AOk-ments envoy&AOk-s", "/", (), "Sent"),  # Éléments envoyés, in modified UTF-7
        ("Deleted Items", ".", (), "Trash"),
        ("Corbeille", "/", (), "Trash"),
        ("Spam", "/", (), "Junk"),
        ("Brouillons", "/", (), "Drafts"),
        ("Mes envois", "/", ("\\sent",), "Sent"),  # the attribute wins over the name
        ("[Gmail]/Sent Mail", "/", ("\\sent",), "[Gmail]/Sent Mail"),  # only top-level folders are mapped
        ("INBOX.Sent", ".", (), "Sent"),  # Courier: everything below INBOX
        ("INBOX.Clients.Dupont", ".", (), "Clients/Dupont"),
        ("Projects.2026", ".", (), "Projects/2026"),
        ("Invoices/2026", ".", (), "Invoices-2026"),  # "/" is our delimiter: not inside a level
        ("Caf&AOk-", None, (), "Café"),
    ],
)
def test_folders_land_where_users_look(
    wire: str, separator: str | None, attributes: tuple[str, ...], ours: str
) -> None:
    assert local_name(RemoteFolder(wire, separator, frozenset(attributes))) == ours


def test_noselect_folders_are_not_copied() -> None:
    assert not RemoteFolder("[Gmail]", "/", frozenset({"\\noselect", "\\haschildren"})).selectable
    assert RemoteFolder("INBOX", "/", frozenset({"\\hasnochildren"})).selectable
