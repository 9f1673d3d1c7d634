"""STATUS=SIZE (RFC 8438), OBJECTID (RFC 8474), SAVEDATE (RFC 8514) and IMAP4rev2 (RFC 9051) as their RFCs
say, on the wire (tests/imapwire.py) and through imaplib."""

from __future__ import annotations

import datetime
import imaplib
import re
import secrets

import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, untagged
from tests.integration.test_imap import plain

pytestmark = pytest.mark.daemon(services=("smtp", "imap"))


def new_folder(wire: Wire, *messages: bytes) -> str:
    name = f"R{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    for message in messages:
        wire.append(name, message)
    return name


def status_of(line: bytes) -> dict[str, bytes]:
    """The items of an untagged STATUS response: {"SIZE": b"123", "MAILBOXID": b"(M...)"}."""
    match = re.search(rb"\((.*)\)\s*$", line)
    assert match is not None, line
    return {name.decode(): value for name, value in re.findall(rb"([A-Z0-9-]+) (\([^)]*\)|\S+)", match.group(1))}


def imaplib_client(server: Daemon) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=30)
    client.login(OWNER, OWNER_PASSWORD)
    return client


# -- STATUS=SIZE (RFC 8438) and STATUS DELETED (RFC 9051 6.3.11) -------------------------------------------------


def test_status_size_is_the_sum_of_the_messages_rfc822_sizes(server: Daemon) -> None:
    """RFC 8438 2: SIZE is at least the sum of the RFC822.SIZE of the messages; ours is exactly that sum."""
    with Wire(server) as wire:
        capabilities = untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
        assert b"STATUS=SIZE" in capabilities
        small, large = plain("small"), plain("large " + "x" * 500)
        name = new_folder(wire, small, large)
        assert status_of(wire.ok(f"STATUS {name} (SIZE MESSAGES)")[0]) == {
            "SIZE": b"%d" % (len(small) + len(large)),
            "MESSAGES": b"2",
        }
        wire.ok(f"SELECT {name}")
        sizes = [int(n) for n in re.findall(rb"RFC822.SIZE (\d+)", b"".join(wire.ok("FETCH 1:* RFC822.SIZE")))]
        assert sum(sizes) == len(small) + len(large)
        wire.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        assert status_of(wire.ok(f"STATUS {name} (DELETED SIZE)")[0]) == {
            "DELETED": b"1",
            "SIZE": b"%d" % (len(small) + len(large)),
        }
        wire.ok("EXPUNGE")
        assert status_of(wire.ok(f"STATUS {name} (SIZE DELETED)")[0]) == {"SIZE": b"%d" % len(small), "DELETED": b"0"}
        assert status_of(wire.ok(f'LIST "" {name} RETURN (STATUS (SIZE))')[-2]) == {"SIZE": b"%d" % len(small)}


def test_status_size_of_an_empty_folder_is_zero_and_unknown_items_are_bad(server: Daemon) -> None:
    with Wire(server) as wire:
        name = new_folder(wire)
        assert status_of(wire.ok(f"STATUS {name} (SIZE)")[0]) == {"SIZE": b"0"}
        wire.bad(f"STATUS {name} (SIZES)")


def test_imaplib_reads_status_size(server: Daemon) -> None:
    with Wire(server) as wire:
        message = plain("imaplib size")
        name = new_folder(wire, message)
    client = imaplib_client(server)
    try:
        kind, data = client.status(name, "(SIZE)")
        assert kind == "OK"
        assert data[0] == f'"{name}" (SIZE {len(message)})'.encode()
    finally:
        client.logout()


# -- OBJECTID (RFC 8474) ------------------------------------------------------------------------------------------

_OBJECTID = rb"[A-Za-z0-9_-]{1,255}"  # RFC 8474 4


def mailbox_id(line: bytes) -> bytes:
    match = re.search(rb"MAILBOXID \((" + _OBJECTID + rb")\)", line)
    assert match is not None, line
    return match.group(1)


def fetched(lines: list[bytes], item: bytes) -> list[bytes]:
    """The value of one FETCH item in each FETCH response: b"(E1a2b)" for EMAILID, b"NIL" for THREADID."""
    return [m.group(1) for line in lines if (m := re.search(item + rb" (\([^)]*\)|NIL|\"[^\"]*\")", line))]


def test_create_select_and_status_name_the_same_mailboxid_and_rename_keeps_it(server: Daemon) -> None:
    """RFC 8474 4: CREATE's OK, SELECT's untagged OK and STATUS (MAILBOXID) carry the folder's id, which
    RENAME keeps; another folder has another id, and one created again under the old name a new one."""
    with Wire(server) as wire:
        assert b"OBJECTID" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
        name = f"O{secrets.token_hex(4)}"
        created = mailbox_id(wire.ok(f"CREATE {name}")[-1])
        assert mailbox_id(wire.ok(f"STATUS {name} (MAILBOXID)")[0]) == created
        selected = wire.ok(f"SELECT {name}")
        assert [mailbox_id(line) for line in selected if b"MAILBOXID" in line] == [created]
        wire.ok("UNSELECT")
        wire.ok(f"RENAME {name} {name}-new")
        assert mailbox_id(wire.ok(f"STATUS {name}-new (MAILBOXID)")[0]) == created
        again = mailbox_id(wire.ok(f"CREATE {name}")[-1])
        assert again != created
        assert mailbox_id(wire.ok("STATUS INBOX (MAILBOXID)")[0]) not in (created, again)


def test_mailboxids_are_opaque_tokens_not_row_numbers(server: Daemon) -> None:
    """RFC 8474 7: ids should reveal nothing; two folders made one after the other are not neighbours."""
    with Wire(server) as wire:
        first = mailbox_id(wire.ok(f"CREATE O{secrets.token_hex(4)}")[-1])
        second = mailbox_id(wire.ok(f"CREATE O{secrets.token_hex(4)}")[-1])
    assert len(first) >= 16 and len(second) >= 16
    assert first[:-2] != second[:-2]


def test_emailid_is_kept_by_copy_and_move_and_threadid_is_nil(server: Daemon) -> None:
    """RFC 8474 5.1: a message keeps its EMAILID when moved, and a copy shares it; distinct messages differ.
    RFC 8474 5.2: THREADID is NIL where the server does not keep threads. RFC 8474 6: SEARCH EMAILID."""
    with Wire(server) as wire:
        name = new_folder(wire, plain("one"), plain("two"))
        other = new_folder(wire)
        wire.ok(f"SELECT {name}")
        ids = fetched(wire.ok("FETCH 1:* (EMAILID THREADID)"), b"EMAILID")
        assert len(ids) == 2 and ids[0] != ids[1]
        assert all(re.fullmatch(rb"\(" + _OBJECTID + rb"\)", value) for value in ids)
        assert fetched(wire.ok("FETCH 1:* THREADID"), b"THREADID") == [b"NIL", b"NIL"]
        assert untagged(wire.ok(f"SEARCH EMAILID {ids[1][1:-1].decode()}"), b"SEARCH") == [b"* SEARCH 2"]
        assert untagged(wire.ok("SEARCH THREADID T1"), b"SEARCH") == [b"* SEARCH"]
        wire.ok(f"COPY 1 {other}")
        wire.ok(f"MOVE 2 {other}")
        wire.ok(f"SELECT {other}")
        assert fetched(wire.ok("UID FETCH 1:* EMAILID"), b"EMAILID") == ids


# -- SAVEDATE (RFC 8514) ------------------------------------------------------------------------------------------


def imap_day(day: datetime.date) -> str:
    return f"{day.day}-{day.strftime('%b')}-{day.year}"


def test_savedate_is_when_the_message_was_saved_not_its_internaldate(server: Daemon) -> None:
    """RFC 8514 3: SAVEDATE is when the message was saved into the folder (APPEND, COPY, MOVE); an APPEND
    with an old date-time keeps it as INTERNALDATE only. RFC 8514 4: SAVEDBEFORE/SAVEDON/SAVEDSINCE compare it."""
    with Wire(server) as wire:
        assert b"SAVEDATE" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
        name = new_folder(wire)
        wire.append(name, plain("old"), '"01-Jan-2001 10:00:00 +0000" ')
        wire.ok(f"SELECT {name}")
        lines = wire.ok("FETCH 1 (INTERNALDATE SAVEDATE)")
        assert fetched(lines, b"INTERNALDATE") == [b'"01-Jan-2001 10:00:00 +0000"']
        [saved] = fetched(lines, b"SAVEDATE")
        saved_at = datetime.datetime.strptime(saved.decode().strip('"'), "%d-%b-%Y %H:%M:%S %z")
        assert saved_at.year > 2001
        yesterday = saved_at.date() - datetime.timedelta(days=1)
        day = imap_day(saved_at.date())
        assert untagged(wire.ok(f"SEARCH SAVEDON {day}"), b"SEARCH") == [b"* SEARCH 1"]
        assert untagged(wire.ok(f"SEARCH SAVEDSINCE {imap_day(yesterday)}"), b"SEARCH") == [b"* SEARCH 1"]
        assert untagged(wire.ok(f"SEARCH SAVEDBEFORE {day}"), b"SEARCH") == [b"* SEARCH"]
        assert untagged(wire.ok("SEARCH BEFORE 2-Jan-2001"), b"SEARCH") == [b"* SEARCH 1"]
        assert untagged(wire.ok("SEARCH SAVEDATESUPPORTED"), b"SEARCH") == [b"* SEARCH 1"]
        wire.bad("SEARCH SAVEDON yesterday")


def test_imaplib_fetches_emailid_and_savedate(server: Daemon) -> None:
    with Wire(server) as wire:
        name = new_folder(wire, plain("imaplib ids"))
    client = imaplib_client(server)
    try:
        client.select(name)
        kind, data = client.fetch("1", "(EMAILID SAVEDATE THREADID)")
        assert kind == "OK"
        assert re.fullmatch(rb'1 \(EMAILID \(E[0-9a-f]{24}\) SAVEDATE "[^"]+" THREADID NIL\)', data[0]), data
    finally:
        client.logout()


# -- IMAP4rev2 (RFC 9051), enabled per session; other sessions keep IMAP4rev1 --------------------------------------


def rev2(wire: Wire) -> Wire:
    assert untagged(wire.ok("ENABLE IMAP4rev2"), b"ENABLED") == [b"* ENABLED IMAP4rev2"]
    return wire


def test_imap4rev2_is_advertised_beside_imap4rev1_and_enabled_by_name(server: Daemon) -> None:
    """RFC 9051 6.3.1 and 7.2.2: IMAP4rev2 in CAPABILITY, turned on by ENABLE (names are case-insensitive);
    an unknown name is ignored and listed nowhere (RFC 5161 3.1)."""
    with Wire(server) as wire:
        capabilities = untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
        assert b"IMAP4rev1" in capabilities and b"IMAP4rev2" in capabilities
        enabled = untagged(wire.ok("ENABLE imap4REV2 X-NOTHING CONDSTORE IMAP4rev2"), b"ENABLED")
        assert enabled == [b"* ENABLED IMAP4rev2 CONDSTORE"]


def test_select_under_imap4rev2_sends_list_and_no_recent_while_a_rev1_session_gets_rev1(server: Daemon) -> None:
    """RFC 9051 6.3.2: SELECT answers FLAGS, EXISTS, LIST, UIDVALIDITY, UIDNEXT and PERMANENTFLAGS; RECENT and
    [UNSEEN n] are gone (appendix E). A session that did not enable IMAP4rev2 on the same folder at the same
    time still gets RFC 3501's SELECT."""
    with Wire(server) as new, Wire(server) as old:
        name = new_folder(new, plain("unseen"))
        rev2(new)
        answer = new.ok(f"SELECT {name}")
        assert untagged(answer, b"LIST") == [f'* LIST (\\HasNoChildren) "/" "{name}"'.encode()]
        assert untagged(answer, b"RECENT") == []
        assert not any(b"[UNSEEN" in line for line in answer)
        assert all(any(code in line for line in answer) for code in (b"[UIDVALIDITY", b"[UIDNEXT", b"PERMANENTFLAGS"))
        assert any(b"[CLOSED]" in line for line in new.ok("EXAMINE INBOX"))  # RFC 9051 7.1: CLOSED
        answer = old.ok(f"SELECT {name}")
        assert len(untagged(answer, b"RECENT")) == 1
        assert any(b"[UNSEEN 1]" in line for line in answer)
        assert untagged(answer, b"LIST") == []


def test_search_under_imap4rev2_answers_esearch_and_rev1_answers_search(server: Daemon) -> None:
    """RFC 9051 6.4.4: SEARCH without RETURN is RETURN (ALL) and answered with ESEARCH (TAG ...) [UID] ALL
    set; nothing found is an ESEARCH with no ALL. RFC 3501 7.2.5 for the rev1 session on the same folder."""
    with Wire(server) as new, Wire(server) as old:
        name = new_folder(new, plain("one"), plain("two"), plain("three"))
        rev2(new).ok(f"SELECT {name}")
        old.ok(f"SELECT {name}")
        new.ok("STORE 2 +FLAGS.SILENT (\\Flagged)")
        tag = b"w%d" % (new.count + 1)
        assert untagged(new.ok("SEARCH UNFLAGGED"), b"ESEARCH") == [b'* ESEARCH (TAG "%b") ALL 1,3' % tag]
        tag = b"w%d" % (new.count + 1)
        assert untagged(new.ok("UID SEARCH ALL"), b"ESEARCH") == [b'* ESEARCH (TAG "%b") UID ALL 1:3' % tag]
        tag = b"w%d" % (new.count + 1)
        assert untagged(new.ok("SEARCH DELETED"), b"ESEARCH") == [b'* ESEARCH (TAG "%b")' % tag]
        assert untagged(new.ok("SEARCH UNFLAGGED"), b"SEARCH") == []
        assert untagged(old.ok("SEARCH UNFLAGGED"), b"SEARCH") == [b"* SEARCH 1 3"]
        assert untagged(old.ok("SEARCH UNFLAGGED"), b"ESEARCH") == []


def test_imap4rev2_folder_names_are_utf8_and_rev1_sees_them_in_modified_utf7(server: Daemon) -> None:
    """RFC 9051 5.1: under IMAP4rev2 folder names are UTF-8 ("&" is an ordinary character); a rev1 session
    sees the same folder in modified UTF-7 (RFC 3501 5.1.3)."""
    suffix = secrets.token_hex(3)
    utf8 = f"Café&Co{suffix}".encode()
    with Wire(server) as new, Wire(server) as old:
        rev2(new).ok(b'CREATE "' + utf8 + b'"')
        assert untagged(new.ok(b'LIST "" "Caf*' + suffix.encode() + b'"'), b"LIST") == [
            b'* LIST (\\HasNoChildren) "/" "' + utf8 + b'"'
        ]
        mutf7 = f"Caf&AOk-&-Co{suffix}".encode()
        listed = untagged(old.ok(f'LIST "" "Caf*{suffix}"'), b"LIST")
        assert listed == [b'* LIST (\\HasNoChildren) "/" "' + mutf7 + b'"']
        assert b"[NONEXISTENT]" in new.no(b"SELECT " + mutf7)  # "&AOk-" is five characters under rev2
        assert untagged(new.ok(b'STATUS "' + utf8 + b'" (MESSAGES)'), b"STATUS") == [
            b'* STATUS "' + utf8 + b'" (MESSAGES 0)'
        ]
        old.ok(b"SELECT " + mutf7)


def test_imaplib_enables_imap4rev2_beside_a_rev1_imaplib_session_on_the_same_folder(server: Daemon) -> None:
    """A real client: imaplib's enable() turns IMAP4rev2 on in one session; its SEARCH is answered with
    ESEARCH, while a second imaplib session on the same folder keeps SEARCH and RECENT (RFC 9051 appendix E)."""
    with Wire(server) as wire:
        name = new_folder(wire, plain("a"), plain("b"))
    new, old = imaplib_client(server), imaplib_client(server)
    try:
        assert new.enable("IMAP4rev2")[0] == "OK"
        assert new.response("ENABLED") == ("ENABLED", [b"IMAP4rev2"])
        assert new.select(name)[0] == "OK" and old.select(name)[0] == "OK"
        assert new.response("RECENT") == ("RECENT", [None])
        assert old.response("RECENT")[1][0] is not None
        assert new.search(None, "ALL") == ("OK", [None])
        assert new.response("ESEARCH")[1][0].endswith(b") ALL 1:2")
        assert old.search(None, "ALL") == ("OK", [b"1 2"])
    finally:
        new.logout()
        old.logout()


# -- SEARCHRES (RFC 5182, part of IMAP4rev2): RETURN (SAVE) and "$" ------------------------------------------------


def test_search_return_save_keeps_the_result_for_dollar_in_fetch_store_copy_and_search(server: Daemon) -> None:
    """RFC 5182 2.1: SAVE alone answers no ESEARCH; "$" then names the messages found, with or without UID,
    in FETCH, STORE, COPY and as a search key; with MIN alone only the first is kept."""
    with Wire(server) as wire:
        assert b"SEARCHRES" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
        name = new_folder(wire, plain("a"), plain("b"), plain("c"), plain("d"))
        other = new_folder(wire)
        wire.ok(f"SELECT {name}")
        wire.ok("STORE 2,4 +FLAGS.SILENT (\\Flagged)")
        saved = wire.ok("SEARCH RETURN (SAVE) FLAGGED")
        assert untagged(saved, b"ESEARCH") == [] and untagged(saved, b"SEARCH") == []
        assert re.findall(rb"\* (\d+) FETCH", b"".join(wire.ok("FETCH $ (FLAGS)"))) == [b"2", b"4"]
        assert re.findall(rb"UID (\d+)", b"".join(wire.ok("UID FETCH $ (FLAGS)"))) == [b"2", b"4"]
        wire.ok("STORE $ +FLAGS.SILENT (\\Seen)")
        assert untagged(wire.ok("SEARCH SEEN"), b"SEARCH") == [b"* SEARCH 2 4"]
        assert untagged(wire.ok("SEARCH $ NOT 4"), b"SEARCH") == [b"* SEARCH 2"]
        assert untagged(wire.ok("SEARCH UID $"), b"SEARCH") == [b"* SEARCH 2 4"]
        wire.ok(f"COPY $ {other}")
        assert status_of(wire.ok(f"STATUS {other} (MESSAGES)")[0]) == {"MESSAGES": b"2"}
        tag = b"w%d" % (wire.count + 1)
        assert untagged(wire.ok("SEARCH RETURN (SAVE MIN) UNFLAGGED"), b"ESEARCH") == [
            b'* ESEARCH (TAG "%b") MIN 1' % tag
        ]
        assert untagged(wire.ok("SEARCH $"), b"SEARCH") == [b"* SEARCH 1"]


def test_a_failed_search_or_a_new_select_empties_the_saved_result(server: Daemon) -> None:
    """RFC 5182 2.1: a SEARCH with SAVE that fails sets "$" to the empty set, and so does selecting a folder."""
    with Wire(server) as wire:
        name = new_folder(wire, plain("a"), plain("b"))
        wire.ok(f"SELECT {name}")
        wire.ok("SEARCH RETURN (SAVE) ALL")
        assert untagged(wire.ok("SEARCH $"), b"SEARCH") == [b"* SEARCH 1 2"]
        wire.bad("SEARCH RETURN (SAVE) NOSUCHKEY")
        assert untagged(wire.ok("SEARCH $"), b"SEARCH") == [b"* SEARCH"]
        wire.ok("SEARCH RETURN (SAVE) ALL")
        wire.ok(f"SELECT {name}")
        assert untagged(wire.ok("FETCH $ FLAGS"), b"FETCH") == []


def test_imaplib_saves_a_search_result_and_fetches_it_by_dollar(server: Daemon) -> None:
    with Wire(server) as wire:
        name = new_folder(wire, plain("x"), plain("y"))
    client = imaplib_client(server)
    try:
        client.select(name)
        client.store("2", "+FLAGS", "(\\Flagged)")
        assert client.uid("SEARCH", "RETURN", "(SAVE)", "FLAGGED")[0] == "OK"
        kind, data = client.uid("FETCH", "$", "(FLAGS)")
        assert kind == "OK" and len(data) == 1 and b"UID 2" in data[0]
    finally:
        client.logout()


# -- what IMAP4rev2 and UTF8=ACCEPT change (RFC 9051, RFC 6855) and when ENABLE may come (RFC 5161) -------------


def test_names_sent_in_another_unicode_form_are_stored_in_nfc_and_listed_with_oldname(server: Daemon) -> None:
    """RFC 9051 5.1 (names are Net-Unicode, RFC 5198: NFC) and 6.3.4: "Cafe" + combining acute is stored as
    "Café", and CREATE (and RENAME) say so with a LIST response naming the spelling sent as OLDNAME."""
    suffix = secrets.token_hex(3)
    decomposed, composed = f"Cafe\u0301{suffix}".encode(), f"Caf\u00e9{suffix}".encode()
    with Wire(server) as wire:
        created = rev2(wire).ok(b'CREATE "' + decomposed + b'"')
        assert untagged(created, b"LIST") == [b'* LIST () "/" "' + composed + b'" ("OLDNAME" ("' + decomposed + b'"))']
        assert untagged(wire.ok(b'LIST "" "Caf*' + suffix.encode() + b'"'), b"LIST") == [
            b'* LIST (\\HasNoChildren) "/" "' + composed + b'"'
        ]
        wire.ok(b'SELECT "' + decomposed + b'"')  # every later mention is normalised the same way
        renamed = wire.ok(b'RENAME "' + composed + b'" "' + decomposed + b'2"')
        assert untagged(renamed, b"LIST") == [
            b'* LIST () "/" "' + composed + b'2" ("OLDNAME" ("' + decomposed + b'2"))'
        ]
        assert untagged(wire.ok(b'CREATE "' + composed + b'3"'), b"LIST") == []  # already NFC: nothing to say


def test_status_recent_is_refused_under_imap4rev2_and_answered_under_rev1(server: Daemon) -> None:
    """RFC 9051 removed \\Recent: RECENT is not a status-att any more (section 9); rev1 keeps it."""
    with Wire(server) as new, Wire(server) as old:
        rev2(new).bad("STATUS INBOX (MESSAGES RECENT)")
        assert status_of(new.ok("STATUS INBOX (MESSAGES)")[0]).keys() == {"MESSAGES"}
        assert status_of(old.ok("STATUS INBOX (RECENT)")[0]).keys() == {"RECENT"}


def test_enable_after_a_folder_was_selected_is_bad_and_changes_nothing(server: Daemon) -> None:
    """RFC 5161 3.1: ENABLE is valid in the authenticated state, before any mailbox is selected; after an
    UNSELECT too. The session keeps answering as IMAP4rev1."""
    with Wire(server) as wire:
        wire.ok("SELECT INBOX")
        wire.bad("ENABLE IMAP4rev2")
        wire.ok("UNSELECT")
        wire.bad("ENABLE CONDSTORE")
        wire.ok("SELECT INBOX")
        assert untagged(wire.ok("SEARCH ALL"), b"ESEARCH") == []


def test_utf8_accept_takes_utf8_names_and_utf8_appends(server: Daemon) -> None:
    """RFC 6855 3-4: UTF8=ACCEPT is offered; once enabled, folder names are UTF-8 and APPEND takes a message as
    UTF8 (~{n}); before, that form is BAD. The message is stored as sent (UTF-8 headers, RFC 6532)."""
    message = "From: Zoë <zoe@example.test>\r\nSubject: Crème brûlée\r\n\r\nBon appétit\r\n".encode()
    name = f"Desserts{secrets.token_hex(3)}"
    with Wire(server) as wire:
        assert b"UTF8=ACCEPT" in untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
        wire.ok(f"CREATE {name}")
        wire.bad(f"APPEND {name} UTF8 (~{{{len(message)}+}}\r\n".encode() + message + b")")
        assert untagged(wire.ok("ENABLE UTF8=ACCEPT"), b"ENABLED") == [b"* ENABLED UTF8=ACCEPT"]
        wire.ok(f"APPEND {name} (\\Seen) UTF8 (~{{{len(message)}+}}\r\n".encode() + message + b")")
        wire.ok(f'CREATE "Crème{name}"'.encode())
        assert untagged(wire.ok(f'LIST "" "Cr*{name}"'.encode()), b"LIST") == [
            f'* LIST (\\HasNoChildren) "/" "Crème{name}"'.encode()
        ]
        wire.ok(f"SELECT {name}")
        body = b"".join(wire.ok("FETCH 1 (FLAGS BODY.PEEK[])"))
        assert message in body and b"\\Seen" in body
