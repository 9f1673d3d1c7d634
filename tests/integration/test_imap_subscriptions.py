"""Subscriptions and listing, checked on the wire from the RFC text: subscriptions are names that outlive their
folder (RFC 3501 6.3.6), LSUB's \\Noselect parents (6.3.9), LIST-EXTENDED's SUBSCRIBED, \\NonExistent and
RECURSIVEMATCH with CHILDINFO (RFC 5258 3, 3.4, 3.5, example 9), and patterns made of atom characters (RFC 3501
5.1.3, 9)."""

from __future__ import annotations

import imaplib
import secrets

import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire

pytestmark = pytest.mark.daemon(services=("imap",))


def listed(wire: Wire, command: str) -> list[bytes]:
    return [line.rstrip(b"\r\n") for line in wire.ok(command) if line.startswith(b"* ")]


def test_create_does_not_subscribe_and_delete_keeps_the_subscription(server: Daemon) -> None:
    """RFC 3501 6.3.6: the server MUST NOT unilaterally remove a name from the subscription list when its
    folder goes; CREATE makes no subscription. LIST (SUBSCRIBED) shows such a name \\NonExistent (RFC 5258 3.4)."""
    name = f"T{secrets.token_hex(4)}"
    with Wire(server) as wire:
        wire.ok(f"CREATE {name}")
        assert listed(wire, f'LSUB "" {name}') == []
        wire.ok(f"SUBSCRIBE {name}")
        wire.ok(f"DELETE {name}")
        assert listed(wire, f'LIST "" {name}') == []
        assert listed(wire, f'LSUB "" {name}') == [f'* LSUB (\\Noselect) "/" "{name}"'.encode()]
        assert listed(wire, f'LIST (SUBSCRIBED) "" {name}') == [
            f'* LIST (\\NonExistent \\Subscribed) "/" "{name}"'.encode()
        ]
        wire.ok(f"UNSUBSCRIBE {name}")  # RFC 3501 6.3.7: a subscribed name can go, folder or not
        assert listed(wire, f'LIST (SUBSCRIBED) "" {name}') == []
        wire.no(f"UNSUBSCRIBE {name}")


def test_lsub_percent_lists_the_unsubscribed_parent_of_a_subscribed_folder_as_noselect(server: Daemon) -> None:
    """RFC 3501 6.3.9: with "foo/bar" subscribed and "foo" not, LSUB "%" answers `* LSUB (\\Noselect) "/" foo`."""
    base = f"T{secrets.token_hex(4)}"
    with Wire(server) as wire:
        wire.ok(f"CREATE {base}/foo/bar")
        wire.ok(f"SUBSCRIBE {base}/foo/bar")
        assert listed(wire, f'LSUB "{base}/" "%"') == [f'* LSUB (\\Noselect) "/" "{base}/foo"'.encode()]
        assert listed(wire, f'LSUB "{base}/" "*"') == [f'* LSUB (\\HasNoChildren) "/" "{base}/foo/bar"'.encode()]


def test_recursivematch_gives_childinfo_to_parents_whose_subscribed_children_the_pattern_leaves_out(
    server: Daemon,
) -> None:
    """RFC 5258 3.5 and example 9: CHILDINFO ("SUBSCRIBED") marks a listed folder (subscribed or not) that has
    a subscribed descendant the pattern does not match; a child that matches needs none."""
    base = f"T{secrets.token_hex(4)}"
    with Wire(server) as wire:
        for name in (f"{base}/a/x", f"{base}/b/y", f"{base}/c"):
            wire.ok(f"CREATE {name}")
        for name in (f"{base}/a/x", f"{base}/b", f"{base}/b/y", f"{base}/c"):
            wire.ok(f"SUBSCRIBE {name}")
        wire.ok(f"DELETE {base}/c")
        assert listed(wire, f'LIST (SUBSCRIBED RECURSIVEMATCH) "{base}/" "%"') == [
            f'* LIST (\\HasChildren) "/" "{base}/a" ("CHILDINFO" ("SUBSCRIBED"))'.encode(),
            f'* LIST (\\HasChildren \\Subscribed) "/" "{base}/b" ("CHILDINFO" ("SUBSCRIBED"))'.encode(),
            f'* LIST (\\NonExistent \\Subscribed) "/" "{base}/c"'.encode(),
        ]
        assert listed(wire, f'LIST (SUBSCRIBED RECURSIVEMATCH) "{base}/" "*"') == [
            f'* LIST (\\HasNoChildren \\Subscribed) "/" "{base}/a/x"'.encode(),
            f'* LIST (\\HasChildren \\Subscribed) "/" "{base}/b"'.encode(),
            f'* LIST (\\HasNoChildren \\Subscribed) "/" "{base}/b/y"'.encode(),
            f'* LIST (\\NonExistent \\Subscribed) "/" "{base}/c"'.encode(),
        ]


def test_a_pattern_of_atom_characters_is_listed_not_refused(server: Daemon) -> None:
    """RFC 3501 9: list-mailbox takes any atom character; one that is not a valid modified UTF-7 name (a bare
    "&") simply names no folder, while names with atom-specials round-trip."""
    with Wire(server) as wire:
        wire.ok('CREATE "!#$&-\'+,-.0123456789:;<=>?@^_`|}~"')
        assert listed(wire, 'LIST "" "!#$&\'+,-./0123456789:;<=>?@^_`|}~"') == []
        assert listed(wire, 'LIST "" "!#$&-*"') == [
            b'* LIST (\\HasNoChildren) "/" "!#$&-\'+,-.0123456789:;<=>?@^_`|}~"'
        ]
        wire.ok('DELETE "!#$&-\'+,-.0123456789:;<=>?@^_`|}~"')


def test_imaplib_lsub_sees_only_what_was_subscribed(server: Daemon) -> None:
    """A real client's view: imaplib's create/subscribe/lsub round trip (RFC 3501 6.3.3, 6.3.6, 6.3.9)."""
    base = f"T{secrets.token_hex(4)}"
    client = imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=30)
    try:
        client.login(OWNER, OWNER_PASSWORD)
        client.create(f"{base}/one")
        client.create(f"{base}/two")
        client.subscribe(f"{base}/two")
        status, lines = client.lsub('""', f"{base}/*")
        assert status == "OK" and lines == [f'(\\HasNoChildren) "/" "{base}/two"'.encode()]
    finally:
        client.logout()
