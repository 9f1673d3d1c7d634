"""SORT and THREAD (RFC 5256), ESORT (RFC 5267) and SORT=DISPLAY (RFC 5957) on the wire, and imaplib's sort()
and thread() as a client uses them."""

from __future__ import annotations

import imaplib
import secrets

from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, code, untagged


def mail(subject: str, sender: str, to: str, date: str = "", cc: str = "", extra: str = "", body: str = "hi") -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    lines += [f"Date: {date}"] if date else []
    lines += [f"Cc: {cc}"] if cc else []
    lines += [extra] if extra else []
    return ("\r\n".join(lines) + f"\r\n\r\n{body}\r\n").encode()


# Four messages whose every sort key orders them differently (sequence numbers 1-4).
MESSAGES = [
    (
        mail("Re: beta", "Zed <zed@x.test>", "bob@x.test", "Mon, 2 Jan 2023 10:00:00 +0000", "carl@x.test"),
        "03-Jan-2023",
    ),
    (
        mail("alpha", "Anna <anna@x.test>", "alice@x.test", "Sun, 1 Jan 2023 23:00:00 -0500", body="x" * 500),
        "04-Jan-2023",
    ),
    (mail("[list] Gamma", "mike@x.test", "Zoe <zoe@x.test>", body="x" * 100), "01-Jan-2020"),  # no Date
    (
        mail("Fwd: alpha", "=?utf-8?q?=C3=89mile?= <emile@x.test>", "dave@x.test", "Tue, 3 Jan 2023 08:00:00 +0000"),
        "06-Jan-2023",
    ),
]


def sorted_folder(wire: Wire) -> str:
    name = f"S{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    for message, arrival in MESSAGES:
        wire.append(name, message, f'"{arrival} 12:00:00 +0000" ')
    wire.ok(f"SELECT {name}")
    return name


def sort(wire: Wire, command: str) -> bytes:
    return untagged(wire.ok(command), b"SORT")[0]


def test_capability_advertises_sort_esort_and_both_thread_algorithms(daemon: Daemon) -> None:
    with Wire(daemon) as wire:
        capabilities = untagged(wire.ok("CAPABILITY"), b"CAPABILITY")[0].split()
    for name in (b"SORT", b"SORT=DISPLAY", b"ESORT", b"THREAD=ORDEREDSUBJECT", b"THREAD=REFERENCES"):
        assert name in capabilities


def test_sort_orders_by_each_key_of_rfc_5256(daemon: Daemon) -> None:
    """RFC 5256 3: ARRIVAL (internal date), CC/FROM/TO (first addr-mailbox), DATE (sent date with its zone, else
    the internal date), SIZE, SUBJECT (base subject); ties in mailbox order; RFC 5957 DISPLAYFROM/DISPLAYTO."""
    with Wire(daemon) as wire:
        sorted_folder(wire)
        assert sort(wire, "SORT (ARRIVAL) UTF-8 ALL") == b"* SORT 3 1 2 4"
        assert sort(wire, "SORT (DATE) UTF-8 ALL") == b"* SORT 3 2 1 4"  # 2 is 04:00 UTC, before 1's 10:00
        assert sort(wire, "SORT (SUBJECT) UTF-8 ALL") == b"* SORT 2 4 1 3"  # alpha, alpha, beta, gamma
        assert sort(wire, "SORT (FROM) UTF-8 ALL") == b"* SORT 2 4 3 1"  # anna emile mike zed
        assert sort(wire, "SORT (TO) US-ASCII ALL") == b"* SORT 2 1 4 3"  # alice bob dave zoe
        assert sort(wire, "SORT (CC) UTF-8 ALL") == b"* SORT 2 3 4 1"  # no Cc sorts as ""
        assert sort(wire, "SORT (SIZE) UTF-8 ALL") == b"* SORT 1 4 3 2"
        assert sort(wire, "SORT (DISPLAYFROM) UTF-8 ALL") == b"* SORT 2 3 1 4"  # Anna mike@x.test Zed Émile
        assert sort(wire, "SORT (DISPLAYTO) UTF-8 ALL") == b"* SORT 2 1 4 3"  # addr-specs but Zoe


def test_reverse_applies_to_the_next_key_only_and_later_keys_break_ties(daemon: Daemon) -> None:
    with Wire(daemon) as wire:
        sorted_folder(wire)
        assert sort(wire, "SORT (REVERSE SIZE) UTF-8 ALL") == b"* SORT 2 3 4 1"
        assert sort(wire, "SORT (SUBJECT REVERSE DATE) UTF-8 ALL") == b"* SORT 4 2 1 3"
        assert sort(wire, "SORT (REVERSE SUBJECT DATE) UTF-8 ALL") == b"* SORT 3 1 2 4"


def test_sort_sorts_only_what_the_search_keys_find(daemon: Daemon) -> None:
    with Wire(daemon) as wire:
        sorted_folder(wire)
        assert sort(wire, "SORT (SUBJECT) UTF-8 OR FROM anna FROM zed") == b"* SORT 2 1"
        assert sort(wire, "SORT (DATE) UTF-8 SUBJECT nothing-like-this") == b"* SORT"


def test_uid_sort_answers_uids(daemon: Daemon) -> None:
    with Wire(daemon) as wire:
        sorted_folder(wire)
        wire.ok("STORE 1 +FLAGS (\\Deleted)")
        wire.ok("EXPUNGE")
        assert sort(wire, "UID SORT (SUBJECT) UTF-8 ALL") == b"* SORT 2 4 3"
        assert sort(wire, "SORT (SUBJECT) UTF-8 ALL") == b"* SORT 1 3 2"


def test_esort_return_options_answer_in_esearch_form_in_sort_order(daemon: Daemon) -> None:
    """RFC 5267 3: MIN and MAX are the first and last in sort order; ALL lists the sort order."""
    with Wire(daemon) as wire:
        sorted_folder(wire)
        tag = wire.tag()
        wire.send(tag + b" UID SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL\r\n")
        lines = wire.until(tag)
        assert untagged(lines, b"ESEARCH") == [b'* ESEARCH (TAG "%b") UID MIN 3 MAX 4 ALL 3,2,1,4 COUNT 4' % tag]
        assert not untagged(lines, b"SORT")


def test_sort_with_a_modseq_key_ends_with_the_highest_modseq(daemon: Daemon) -> None:
    """RFC 7162 3.1.5 and its sort-data syntax (7): `* SORT 2 (MODSEQ n)`; ESORT's ESEARCH form adds MODSEQ n."""
    with Wire(daemon) as wire:
        sorted_folder(wire)
        wire.ok("STORE 2 +FLAGS (\\Seen)")
        fetched = untagged(wire.ok("FETCH 2 (MODSEQ)"), b"FETCH")[0]
        modseq = int(fetched.rsplit(b"(", 1)[1].rstrip(b")"))
        assert sort(wire, f"SORT (SUBJECT) UTF-8 MODSEQ {modseq}") == b"* SORT 2 (MODSEQ %d)" % modseq
        found = untagged(wire.ok("SORT RETURN (COUNT) (SUBJECT) UTF-8 MODSEQ 1"), b"ESEARCH")
        assert found[0].endswith(b" COUNT 4 MODSEQ %d" % modseq)


def test_bad_sort_criteria_and_charsets_are_refused(daemon: Daemon) -> None:
    with Wire(daemon) as wire:
        sorted_folder(wire)
        wire.bad("SORT (BOGUS) UTF-8 ALL")
        wire.bad("SORT (REVERSE) UTF-8 ALL")
        wire.bad("SORT () UTF-8 ALL")
        wire.bad("SORT SUBJECT UTF-8 ALL")
        assert code(wire.no("SORT (SUBJECT) KOI8-R ALL")).startswith(b"BADCHARSET")
        wire.bad("THREAD NOSUCH UTF-8 ALL")
        assert code(wire.no("THREAD REFERENCES KOI8-R ALL")).startswith(b"BADCHARSET")


def thread_folder(wire: Wire) -> str:
    """A conversation (1, its replies 2 and 4, 3 replying to 2), an unrelated 5, and 6 replying by subject only."""
    name = f"T{secrets.token_hex(4)}"
    wire.ok(f"CREATE {name}")
    specs = [
        ("Plans", "<a@x.test>", ""),
        ("Re: Plans", "<b@x.test>", "References: <a@x.test>"),
        ("Re: Plans", "<c@x.test>", "References: <a@x.test> <b@x.test>"),
        ("Re: Plans", "<d@x.test>", "In-Reply-To: <a@x.test>"),
        ("Lunch", "<e@x.test>", ""),
        ("Re: Lunch", "<f@x.test>", ""),
    ]
    for day, (subject, message_id, headers) in enumerate(specs, 1):
        extra = f"Message-ID: {message_id}" + (f"\r\n{headers}" if headers else "")
        date = f"Mon, {day} Jan 2024 10:00:00 +0000"
        wire.append(name, mail(subject, "a@x.test", "b@x.test", date, extra=extra))
    wire.ok(f"SELECT {name}")
    return name


def test_thread_references_follows_references_and_in_reply_to_then_subjects(daemon: Daemon) -> None:
    """RFC 5256 3 REFERENCES, and the THREAD response of RFC 5256 4 (a parent not among those found is a dummy)."""
    with Wire(daemon) as wire:
        thread_folder(wire)
        assert untagged(wire.ok("THREAD REFERENCES UTF-8 ALL"), b"THREAD") == [b"* THREAD (1 (2 3)(4))(5 6)"]
        assert untagged(wire.ok("UID THREAD REFERENCES UTF-8 NOT 1"), b"THREAD") == [b"* THREAD ((2 3)(4))(5 6)"]
        assert untagged(wire.ok("THREAD REFERENCES UTF-8 SUBJECT nothing"), b"THREAD") == [b"* THREAD"]


def test_thread_orderedsubject_groups_by_base_subject(daemon: Daemon) -> None:
    """RFC 5256 3 ORDEREDSUBJECT: the first message of a subject is the parent of the later ones."""
    with Wire(daemon) as wire:
        thread_folder(wire)
        lines = wire.ok("THREAD ORDEREDSUBJECT US-ASCII ALL")
        assert untagged(lines, b"THREAD") == [b"* THREAD (1 (2)(3)(4))(5 6)"]


def test_imaplib_sorts_and_threads(daemon: Daemon) -> None:
    client = imaplib.IMAP4("127.0.0.1", daemon.ports["imap"], timeout=30)
    try:
        client.login(OWNER, OWNER_PASSWORD)
        with Wire(daemon) as wire:
            sorted_name = sorted_folder(wire)
            thread_name = thread_folder(wire)
        client.select(sorted_name)
        assert client.sort("(REVERSE DATE)", "UTF-8", "ALL") == ("OK", [b"4 1 2 3"])
        assert client.uid("SORT", "(SUBJECT)", "UTF-8", "ALL") == ("OK", [b"2 4 1 3"])
        client.select(thread_name)
        assert client.thread("REFERENCES", "UTF-8", "ALL") == ("OK", [b"(1 (2 3)(4))(5 6)"])
    finally:
        client.logout()
