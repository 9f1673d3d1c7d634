"""The IMAP extensions in CAPABILITY each work as their RFC says: ID, ENABLE, UNSELECT, UIDPLUS, MOVE, LITERAL+,
SPECIAL-USE, CONDSTORE, IDLE (ended only by DONE), NAMESPACE, SASL-IR, modified UTF-7 folder names.

Exact responses are checked on the wire (tests/imapwire.py); imaplib and aioimaplib show that real client
libraries get along with them.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import re
import secrets

import aioimaplib
import pytest

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, code, untagged
from tests.integration.test_imap import plain
from tests.mailtest import imap_logout

EXTENSIONS = ["IDLE", "MOVE", "UIDPLUS", "NAMESPACE", "ID", "ENABLE", "LITERAL+", "SPECIAL-USE", "CONDSTORE"]
EXTENSIONS += ["UNSELECT", "CHILDREN", "QUOTA", "SASL-IR", "LIST-EXTENDED", "LIST-STATUS"]


pytestmark = pytest.mark.daemon(services=("smtp", "imap", "imaps"))


def folder_with(wire: Wire, count: int, flags: str = "") -> str:
    name = f"X{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    for n in range(count):
        wire.append(name, plain(f"{name}-{n}"), f"({flags}) " if flags else "")
    return name


def modseq(line: bytes) -> int:
    match = re.search(rb"MODSEQ \((\d+)\)", line)
    assert match is not None, line
    return int(match.group(1))


def test_capability_lists_every_extension_after_login(server: Daemon) -> None:
    with Wire(server) as wire:
        capabilities = untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
    for name in ["IMAP4rev1", *EXTENSIONS]:
        assert name.encode() in capabilities
    assert any(c.startswith(b"APPENDLIMIT=") for c in capabilities)


def test_id_answers_with_the_server_name_before_and_after_login(server: Daemon) -> None:
    with Wire(server, login=False) as wire:
        lines = wire.ok('ID ("name" "pytest" "version" "1.0")')
        assert untagged(lines, b"ID") == [b'* ID ("name" "smb-suite" "version" "0.1.0")']
        wire.ok(f'LOGIN {OWNER} "{OWNER_PASSWORD}"')
        assert untagged(wire.ok("ID NIL"), b"ID")
        assert b"BAD ID takes field/value pairs" in wire.bad('ID ("odd")')


def test_enable_reports_only_what_it_enabled(server: Daemon) -> None:
    with Wire(server) as wire:
        assert untagged(wire.ok("ENABLE CONDSTORE X-UNKNOWN"), b"ENABLED") == [b"* ENABLED CONDSTORE"]


def test_unselect_leaves_deleted_messages_where_close_removes_them(server: Daemon) -> None:
    with Wire(server) as wire:
        name = folder_with(wire, 2)
        wire.ok(f"SELECT {name}")
        wire.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        wire.ok("UNSELECT")
        assert b"MESSAGES 2" in wire.ok(f"STATUS {name} (MESSAGES)")[0]
        wire.bad("FETCH 1 FLAGS")  # nothing is selected any more
        wire.ok(f"SELECT {name}")
        assert untagged(wire.ok("CLOSE"), b"EXPUNGE") == []  # CLOSE expunges silently (RFC 3501 6.4.2)
        assert b"MESSAGES 1" in wire.ok(f"STATUS {name} (MESSAGES)")[0]


def test_append_answers_appenduid_with_the_folders_uidvalidity(server: Daemon) -> None:
    with Wire(server) as wire:
        name = folder_with(wire, 1)
        appenduid = code(wire.append(name, plain("second"))[-1]).split()
        selected = wire.ok(f"EXAMINE {name}")
        uidvalidity = next(code(line).split()[1] for line in selected if b"UIDVALIDITY" in line)
        assert appenduid == [b"APPENDUID", uidvalidity, b"2"]
        assert untagged(wire.ok("UID FETCH 2 RFC822.SIZE"), b"FETCH")


def test_copy_answers_copyuid_with_source_and_target_uids(server: Daemon) -> None:
    with Wire(server) as wire:
        source, target = folder_with(wire, 3), folder_with(wire, 1)
        wire.ok(f"SELECT {source}")
        tagged = wire.ok(f"UID COPY 1,3 {target}")[-1]
        words = code(tagged).split()
        assert words[0] == b"COPYUID" and words[2:] == [b"1,3", b"2:3"]
        assert wire.ok(f"COPY 2 {target}")[-1].split(b"]")[0].endswith(b" 2 4")


def test_move_reports_copyuid_then_expunges_in_the_source(server: Daemon) -> None:
    with Wire(server) as wire:
        source, target = folder_with(wire, 4), folder_with(wire, 0)
        wire.ok(f"SELECT {source}")
        lines = wire.ok(f"MOVE 2:3 {target}")
        assert code(untagged(lines, b"OK")[0]).split()[2:] == [b"2:3", b"1:2"]
        assert untagged(lines, b"EXPUNGE") == [b"* 3 EXPUNGE", b"* 2 EXPUNGE"]
        lines = wire.ok(f"UID MOVE 4 {target}")
        assert untagged(lines, b"EXPUNGE") == [b"* 2 EXPUNGE"]
        assert untagged(wire.ok("UID SEARCH ALL"), b"SEARCH") == [b"* SEARCH 1"]
        assert b"MESSAGES 3" in wire.ok(f"STATUS {target} (MESSAGES)")[0]


def test_uid_expunge_removes_only_the_named_deleted_messages(server: Daemon) -> None:
    with Wire(server) as wire:
        name = folder_with(wire, 3, "\\Deleted")
        wire.ok(f"SELECT {name}")
        assert untagged(wire.ok("UID EXPUNGE 2"), b"EXPUNGE") == [b"* 2 EXPUNGE"]
        assert untagged(wire.ok("UID SEARCH DELETED"), b"SEARCH") == [b"* SEARCH 1 3"]
        wire.bad("UID EXPUNGE")  # RFC 4315 2.1: the set is required


def test_non_synchronizing_literals_need_no_continuation(server: Daemon) -> None:
    with Wire(server, login=False) as wire:
        password = OWNER_PASSWORD.encode()
        wire.send(b"a LOGIN {%d+}\r\n%b {%d+}\r\n%b\r\n" % (len(OWNER), OWNER.encode(), len(password), password))
        assert wire.until(b"a")[-1].startswith(b"a OK")
        wire.send(b"b APPEND Drafts (\\Draft) {5+}\r\nhello\r\nc NOOP\r\n")
        assert wire.until(b"b")[-1].startswith(b"b OK [APPENDUID")
        assert wire.until(b"c") == [b"c OK NOOP completed\r\n"]


def test_sasl_initial_response_logs_in_at_once(server: Daemon) -> None:
    with Wire(server, login=False) as wire:
        blob = base64.b64encode(f"\0{OWNER}\0{OWNER_PASSWORD}".encode()).decode()
        assert wire.ok(f"AUTHENTICATE PLAIN {blob}") == [b"w1 OK Authentication successful\r\n"]


def test_special_use_folders_exist_for_every_new_user_with_their_attributes(server: Daemon) -> None:
    with Wire(server) as wire:
        lines = untagged(wire.ok('LIST "" "*"'), b"LIST")
    for folder, attribute in [("Sent", "Sent"), ("Drafts", "Drafts"), ("Trash", "Trash"), ("Junk", "Junk")]:
        assert any(f"\\{attribute}".encode() in line and line.endswith(f'"{folder}"'.encode()) for line in lines)
    assert any(b"\\Archive" in line and line.endswith(b'"Archive"') for line in lines)


def test_list_extended_selection_return_options_and_list_status(server: Daemon) -> None:
    """RFC 5258 (several patterns, SUBSCRIBED, RECURSIVEMATCH), RFC 6154 5.1 (SPECIAL-USE), RFC 5819 (STATUS)."""
    base = f"L{secrets.token_hex(3)}"
    with Wire(server) as wire:
        for name in (f"{base}/a", f"{base}/b"):
            wire.ok(f"CREATE {name}")
        wire.append(f"{base}/a", plain("listed"))
        wire.ok(f"SUBSCRIBE {base}/a")  # CREATE subscribes nothing (RFC 3501 6.3.6)

        def listed(command: str | bytes) -> list[bytes]:
            return [line.rstrip(b"\r\n") for line in wire.ok(command) if line.startswith(b"* ")]

        assert listed(f'LIST (SUBSCRIBED) "" "{base}*"') == [
            f'* LIST (\\HasNoChildren \\Subscribed) "/" "{base}/a"'.encode()
        ]
        assert listed(f'LIST (SUBSCRIBED RECURSIVEMATCH) "" "{base}"') == [
            f'* LIST (\\HasChildren) "/" "{base}" ("CHILDINFO" ("SUBSCRIBED"))'.encode()
        ]
        assert listed(f'LIST "" ("{base}/a" "{base}/b") RETURN (SUBSCRIBED STATUS (MESSAGES UIDNEXT))') == [
            f'* LIST (\\HasNoChildren \\Subscribed) "/" "{base}/a"'.encode(),
            f'* STATUS "{base}/a" (MESSAGES 1 UIDNEXT 2)'.encode(),
            f'* LIST (\\HasNoChildren) "/" "{base}/b"'.encode(),
            f'* STATUS "{base}/b" (MESSAGES 0 UIDNEXT 1)'.encode(),
        ]
        pattern = f"{base}/%".encode()
        assert len(listed(b'LIST "" {%d+}\r\n%b RETURN (CHILDREN)' % (len(pattern), pattern))) == 2
        special = listed('LIST (SPECIAL-USE) "" "*"')
        assert [line.rsplit(b" ", 1)[1] for line in special] == [
            b'"Archive"',
            b'"Drafts"',
            b'"Junk"',
            b'"Sent"',
            b'"Trash"',
        ]
        assert all(line.split(b")")[0].count(b"\\") == 2 for line in special)  # children + its use
        for wrong in ('LIST (RECURSIVEMATCH) "" "*"', 'LIST (BOGUS) "" "*"', 'LIST "" "*" RETURN (BOGUS)'):
            wire.bad(wrong)
        wire.bad('LIST "" "*" RETURN (STATUS (BOGUS))')
        wire.bad('LIST "" ("*" RETURN (CHILDREN)')


def test_namespace_is_personal_with_the_slash_delimiter(server: Daemon) -> None:
    with Wire(server) as wire:
        assert untagged(wire.ok("NAMESPACE"), b"NAMESPACE") == [b'* NAMESPACE (("" "/")) NIL NIL']


# -- CONDSTORE (RFC 7162) -------------------------------------------------------------------------------------


def test_condstore_select_fetch_and_changedsince(server: Daemon) -> None:
    with Wire(server) as wire:
        name = folder_with(wire, 3)
        selected = wire.ok(f"SELECT {name} (CONDSTORE)")
        highest = int(next(code(line).split()[1] for line in selected if b"HIGHESTMODSEQ" in line))
        fetched = untagged(wire.ok("FETCH 1:* (FLAGS MODSEQ)"), b"FETCH")
        assert [modseq(line) for line in fetched] == sorted(modseq(line) for line in fetched)
        assert max(modseq(line) for line in fetched) == highest
        stored = untagged(wire.ok("STORE 2 +FLAGS (\\Flagged)"), b"FETCH")
        assert modseq(stored[0]) > highest
        changed = untagged(wire.ok(f"FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})"), b"FETCH")
        assert len(changed) == 1 and changed[0].startswith(b"* 2 FETCH") and b"MODSEQ" in changed[0]
        status = wire.ok(f"STATUS {name} (HIGHESTMODSEQ)")[0]
        assert b"HIGHESTMODSEQ %d" % modseq(stored[0]) in status


def test_conditional_store_leaves_messages_changed_since_and_names_them(server: Daemon) -> None:
    with Wire(server) as wire, Wire(server) as other:
        name = folder_with(wire, 3)
        wire.ok(f"SELECT {name} (CONDSTORE)")
        before = max(modseq(line) for line in untagged(wire.ok("FETCH 1:* MODSEQ"), b"FETCH"))
        other.ok(f"SELECT {name}")
        other.ok("STORE 2 +FLAGS (\\Seen)")
        tagged = wire.ok(f"STORE 1:3 (UNCHANGEDSINCE {before}) +FLAGS.SILENT (\\Answered)")[-1]
        assert code(tagged) == b"MODIFIED 2"
        flags = untagged(wire.ok("FETCH 1:3 FLAGS"), b"FETCH")
        assert [b"\\Answered" in line for line in flags] == [True, False, True]


def test_search_modseq_reports_the_highest_modseq_found(server: Daemon) -> None:
    with Wire(server) as wire:
        name = folder_with(wire, 3)
        wire.ok(f"SELECT {name}")
        stored = untagged(wire.ok("STORE 3 +FLAGS (\\Flagged)"), b"FETCH")
        assert b"MODSEQ" not in stored[0]  # not before the client uses CONDSTORE
        found = untagged(wire.ok("SEARCH MODSEQ 2"), b"SEARCH")[0]
        last = untagged(wire.ok("FETCH 3 MODSEQ"), b"FETCH")[0]
        assert found.startswith(b"* SEARCH") and found.endswith(b"(MODSEQ %d)" % modseq(last))
        assert untagged(wire.ok(f"SEARCH MODSEQ {modseq(last) + 1}"), b"SEARCH") == [b"* SEARCH"]


def test_other_sessions_flag_changes_carry_uid_and_modseq_once_condstore_is_on(server: Daemon) -> None:
    with Wire(server) as watcher, Wire(server) as actor:
        name = folder_with(actor, 2)
        watcher.ok("ENABLE CONDSTORE")
        watcher.ok(f"SELECT {name}")  # the first to select: the messages are \Recent here
        actor.ok(f"SELECT {name}")
        actor.ok("STORE 2 +FLAGS (\\Flagged)")
        update = untagged(watcher.ok("NOOP"), b"FETCH")
        assert len(update) == 1 and re.fullmatch(
            rb"\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) UID 2 MODSEQ \(\d+\)\)", update[0]
        )


# -- IDLE (RFC 2177) ------------------------------------------------------------------------------------------


def test_idle_ends_only_on_done_and_reports_changes_meanwhile(server: Daemon) -> None:
    with Wire(server) as idler, Wire(server) as actor:
        name = folder_with(actor, 1)
        idler.ok(f"SELECT {name}")
        idler.send(b"i IDLE\r\n")
        assert idler.response().startswith(b"+ ")
        idler.send(b"i2 NOOP\r\n")  # not DONE: the server says so and keeps idling
        assert idler.response() == b"* BAD expected DONE to end IDLE\r\n"
        actor.append(name, plain("while idle"))
        assert b"* 2 EXISTS\r\n" in idler.wait_for(b"EXISTS")
        actor.ok(f"SELECT {name}")
        actor.ok("STORE 1 +FLAGS (\\Deleted)")
        actor.ok("EXPUNGE")
        assert b"* 1 EXPUNGE\r\n" in idler.wait_for(b"EXPUNGE")
        idler.send(b"DONE\r\n")
        assert idler.until(b"i")[-1] == b"i OK IDLE terminated\r\n"


# -- folder names (RFC 3501 5.1.3) ----------------------------------------------------------------------------


def test_accented_folder_names_round_trip_in_modified_utf7(server: Daemon) -> None:
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"]) as client:
        client.login(OWNER, OWNER_PASSWORD)
        suffix = secrets.token_hex(2)
        for encoded in (f"R&AOk-unions{suffix}", f"&AMk-quipe{suffix}/&AMk-t&AOk-"):
            assert client.create(encoded)[0] == "OK"
        _, listed = client.list('""', f"*{suffix}*")
        names = [line.rsplit(b' "/" ', 1)[1] for line in listed if isinstance(line, bytes)]
        assert f'"R&AOk-unions{suffix}"'.encode() in names
        assert f'"&AMk-quipe{suffix}/&AMk-t&AOk-"'.encode() in names
        assert client.select(f'"&AMk-quipe{suffix}/&AMk-t&AOk-"')[0] == "OK"
        assert client.create("&AGE-")[0] == "NO"  # 'a' written in base64: not the canonical form
    assert server.maildir("demo@example.test", f"Réunions{suffix}").is_dir()


# -- real client libraries ------------------------------------------------------------------------------------


def test_aioimaplib_uses_id_enable_move_uidplus_and_idle(server: Daemon) -> None:
    async def session() -> None:
        client = aioimaplib.IMAP4("127.0.0.1", server.ports["imap"])
        await client.wait_hello_from_server()
        assert (await client.login(OWNER, OWNER_PASSWORD)).result == "OK"
        assert (await client.id(name="aioimaplib", version="2")).result == "OK"
        assert (await client.enable("CONDSTORE")).lines[0] == b"ENABLED CONDSTORE"
        source, target = f"A{secrets.token_hex(3)}", f"B{secrets.token_hex(3)}"
        for name in (source, target):
            assert (await client.create(name)).result == "OK"
        for n in range(3):
            appended = await client.append(plain(f"aio{n}"), mailbox=source, flags="(\\Seen)")
            assert appended.result == "OK" and b"APPENDUID" in appended.lines[-1]
        await client.select(source)
        moved = await client.uid("move", "2", target)
        assert moved.result == "OK" and any(b"COPYUID" in line for line in moved.lines)
        await client.uid("store", "3", "+FLAGS", "(\\Deleted)")
        assert (await client.uid("expunge", "3")).result == "OK"
        idle = await client.idle_start(timeout=30)
        await asyncio.to_thread(_append_elsewhere, server, source)
        pushed = await client.wait_server_push(timeout=30)
        client.idle_done()
        await asyncio.wait_for(idle, 30)
        assert any(line.endswith(b"EXISTS") for line in pushed)
        await imap_logout(client)

    asyncio.run(session())


def _append_elsewhere(server: Daemon, folder: str) -> None:
    with Wire(server) as wire:
        wire.append(folder, plain("pushed"))
