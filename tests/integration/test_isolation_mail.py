"""Each business against the others over SMTP (MX and submission) and IMAP: nothing of another business is read,
written or deleted (tests/tenancy.py: the businesses, their mail and the canaries in every subject)."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.imapwire import Wire
from tests.mailtest import insecure_context
from tests.tenancy import (
    ALPHA,
    BRAVO,
    BUSINESSES,
    CHARLIE,
    HOSTNAME,
    PAIRS,
    SHARED_FOLDER,
    Account,
    Business,
    Tenancy,
    deliver,
    exists,
    folder_names,
    message,
    pair_id,
    subjects,
)


def login(tenancy: Tenancy, account: Account) -> Wire:
    return Wire(tenancy.daemon, user=account.address, password=account.password)


def quoted(name: str) -> str:
    """An IMAP quoted string (RFC 3501 4.3)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def literal(name: str) -> bytes:
    """A non-synchronizing literal (RFC 7888): carries any bytes, NUL and line breaks included."""
    data = name.encode("utf-8", "surrogatepass")
    return b"{%d+}\r\n" % len(data) + data


def assert_no_canary_of_others(lines: list[bytes], attacker: Business) -> None:
    seen = b"".join(lines)
    for business in BUSINESSES:
        if business is not attacker:
            assert business.canary.encode() not in seen, (attacker.name, business.name, seen[:500])


# -- IMAP ------------------------------------------------------------------------------------------------------


def victim_paths(tenancy: Tenancy, victim: Business) -> list[str]:
    """Names an attacker would try to reach a victim's folders: relative and absolute paths (as the data folder
    was laid out before issue 11, by domain and local part), home-directory and namespace forms, addresses."""
    owner = victim.owner.local
    mail = tenancy.daemon.folder / "data" / "mail"
    return [
        f"../{owner}",
        f"../{victim.domain}/{owner}",
        f"../../{victim.domain}/{owner}/.{SHARED_FOLDER}",
        f"{SHARED_FOLDER}/../../{victim.domain}/{owner}",
        f"INBOX/../../../{victim.domain}/{owner}",
        "../../users/1/.~1",
        str(mail / "users" / "1"),
        str(mail / victim.domain / owner),
        str(mail / victim.domain / owner / f".{victim.folder}"),
        "..",
        "/",
    ]


def victim_names(victim: Business) -> list[str]:
    """Names that are harmless folder names of the attacker's own (they may exist there only)."""
    owner = victim.owner.local
    return [f"~{owner}", f"~{owner}/{victim.folder}", victim.owner.address, f"{victim.owner.address}/INBOX",
            f"#shared/{owner}", f"#user/{owner}/{victim.folder}", f"Other Users/{owner}",
            "~1", ".~1", "users/1"]  # fmt: skip


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_list_shows_only_the_accounts_own_folders(tenancy: Tenancy, attacker: Business, victim: Business) -> None:
    with login(tenancy, attacker.owner) as imap:
        for reference, pattern in [("", "*"), ("", "%"), ("", "*/*"), ("../", "*"), ("/", "*"), ("~", "*"),
                                   (f"~{victim.owner.local}/", "*"), ("#shared/", "*"), ("", f"*{victim.folder}*"),
                                   (str(tenancy.daemon.folder), "*"), ("", "../*")]:  # fmt: skip
            lines = imap.ok(f"LIST {quoted(reference)} {quoted(pattern)}")
            assert victim.folder not in " ".join(folder_names(lines)), (reference, pattern, lines)
            assert_no_canary_of_others(lines, attacker)


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_paths_aiming_at_another_business_are_refused_by_every_command(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    with login(tenancy, attacker.user) as imap:
        for name in victim_paths(tenancy, victim):
            target = quoted(name)
            for command in (f"SELECT {target}", f"EXAMINE {target}", f"STATUS {target} (MESSAGES UIDNEXT)",
                            f"CREATE {target}", f"DELETE {target}", f"RENAME {target} Stolen",
                            f"RENAME {quoted(SHARED_FOLDER)} {target}", f"SUBSCRIBE {target}"):  # fmt: skip
                answer = imap.command(command)[-1]
                assert b" NO [CANNOT] " in answer or b" BAD " in answer, (command, answer)
            append = imap.command(f"APPEND {target} {{5+}}\r\nHi\r\n\r\n".encode())[-1]
            assert b" NO " in append or b" BAD " in append, (name, append)
            imap.ok("SELECT INBOX")
            for command in (f"COPY 1 {target}", f"UID COPY 1:* {target}", f"MOVE 1 {target}"):
                answer = imap.command(command)[-1]
                assert b" NO " in answer or b" BAD " in answer, (command, answer)
            imap.ok("UNSELECT")
        assert "Stolen" not in folder_names(imap.ok('LIST "" "*"'))
    tenancy.assert_intact(victim)


@pytest.mark.parametrize(
    "name", ["..\\bravo.test\\otto", "Ledger\\..\\x", "a\x00b", "a\x01b", "tab\there", "del\x7f", "line\r\nbreak"]
)
def test_folder_names_with_backslashes_or_control_characters_are_refused(tenancy: Tenancy, name: str) -> None:
    with login(tenancy, ALPHA.user) as imap:
        for command in (b"CREATE ", b"SELECT ", b"RENAME Ledger "):
            answer = imap.command(command + literal(name))[-1]
            assert b" NO [CANNOT] " in answer, (command, answer)
        assert name not in folder_names(imap.ok('LIST "" "*"'))


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_other_users_names_are_only_the_attackers_own_empty_folders(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    with login(tenancy, attacker.user) as imap:
        for name in victim_names(victim):
            target = quoted(name)
            assert b"[NONEXISTENT]" in imap.no(f"SELECT {target}")
            imap.ok(f"CREATE {target}")
            selected = imap.ok(f"SELECT {target}")
            assert exists(selected) == 0
            imap.ok("UNSELECT")
            imap.ok(f"DELETE {target}")
    tenancy.assert_intact(victim)


def test_delete_then_create_never_shows_the_old_messages(tenancy: Tenancy) -> None:
    """A folder made right after another account's folder was deleted (and one re-made under the same name by
    the same account) starts empty at UID 1, whoever kept the old one open."""
    with login(tenancy, ALPHA.user) as alpha, login(tenancy, ALPHA.user) as keeper, login(tenancy, BRAVO.user) as bravo:
        for round_ in range(3):
            name = quoted(f"Scratch-{round_}")
            alpha.ok(f"CREATE {name}")
            for number in range(5):
                alpha.append(name, message(f"{ALPHA.canary}scratch-{round_}-{number}", ALPHA.user.address))
            keeper.ok(f"SELECT {name}")
            keeper.ok("STORE 1:3 +FLAGS (\\Flagged)")
            keeper.ok("STORE 2,4 +FLAGS (\\Deleted)")
            keeper.ok("EXPUNGE")
            alpha.ok(f"DELETE {name}")
            fresh = quoted(f"Fresh-{round_}")
            bravo.ok(f"CREATE {fresh}")
            for who, imap, folder in [("bravo", bravo, fresh), ("alpha", alpha, name)]:
                if who == "alpha":
                    imap.ok(f"CREATE {folder}")
                selected = imap.ok(f"SELECT {folder}")
                assert exists(selected) == 0, (who, selected)
                assert b"[UIDNEXT 1]" in b"".join(selected), (who, selected)
                status = imap.ok(f"STATUS {folder} (MESSAGES UIDNEXT)")
                assert b"(MESSAGES 0 UIDNEXT 1)" in status[0], (who, status)
                imap.append(folder, message(f"{who}-own-{round_}", "x@remote.example"))
                fetched = imap.ok("UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
                assert subjects(fetched) == {f"{who}-own-{round_}"}, (who, fetched)
                assert b"\\Flagged" not in b"".join(fetched)
                imap.ok("UNSELECT")
            keeper.command("NOOP")
            bravo.ok(f"DELETE {fresh}")
            alpha.ok(f"DELETE {name}")


FOLDER_ALPHABET = st.sampled_from(
    list("aZ09 ./\\~#%*&-_\x00\x01\t\x7fé日") + ["..", "../", "/..", "otto", "bravo.test"]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.lists(FOLDER_ALPHABET, min_size=1, max_size=12).map("".join))
def test_any_folder_name_stays_inside_the_account(tenancy: Tenancy, imap_pair: tuple[Wire, Wire], name: str) -> None:
    attacker, victim = imap_pair
    before = folder_names(victim.ok('LIST "" "*"'))
    created = attacker.command(b"CREATE " + literal(name))
    answer = created[-1].split(b" ")[1]
    assert answer in (b"OK", b"NO", b"BAD"), created
    selected = attacker.command(b"SELECT " + literal(name))
    if selected[-1].split(b" ")[1] == b"OK":
        if answer == b"OK":
            assert exists(selected) == 0, (name, selected)
        assert_no_canary_of_others(attacker.ok("FETCH 1:* (BODY.PEEK[])") if exists(selected) else selected, ALPHA)
        attacker.ok("UNSELECT")
    if answer == b"OK":
        attacker.command(b"DELETE " + literal(name))
    assert folder_names(victim.ok('LIST "" "*"')) == before


@pytest.fixture(scope="module")
def imap_pair(tenancy: Tenancy) -> Iterator[tuple[Wire, Wire]]:
    """alpha's user (the attacker) and bravo's owner (the victim), logged in for the property tests."""
    with login(tenancy, ALPHA.user) as attacker, login(tenancy, BRAVO.owner) as victim:
        yield attacker, victim
    tenancy.assert_intact(BRAVO)


# -- SMTP ------------------------------------------------------------------------------------------------------


def submission(tenancy: Tenancy, account: Account) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", tenancy.daemon.ports["submission"], timeout=30)
    client.starttls(context=insecure_context())
    client.login(account.address, account.password)
    return client


def submit(
    tenancy: Tenancy, account: Account, envelope_from: str, headers: str, body: str = "Hi.\r\n"
) -> tuple[int, bytes]:
    """The first reply that is not 250 (MAIL, RCPT or DATA), or the final 250 of DATA."""
    with submission(tenancy, account) as client:
        code, text = client.mail(envelope_from)
        if code != 250:
            return code, text
        code, text = client.rcpt(CHARLIE.user.address)
        if code != 250:
            return code, text
        return client.data((headers + "\r\n" + body).encode())


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_submission_refuses_another_business_as_envelope_sender(
    tenancy: Tenancy, attacker: Business, victim: Business
) -> None:
    own = attacker.owner.address
    code, text = submit(tenancy, attacker.owner, victim.owner.address, f"From: {own}\r\nSubject: spoof\r\n")
    assert (code, text[:5]) == (553, b"5.7.1")


@pytest.mark.parametrize(("attacker", "victim"), PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_submission_refuses_another_business_in_from(tenancy: Tenancy, attacker: Business, victim: Business) -> None:
    own, other = attacker.owner.address, victim.owner.address
    code, text = submit(tenancy, attacker.owner, own, f"From: {other}\r\nSubject: spoof\r\n")
    assert (code, text[:5]) == (553, b"5.7.1")


@pytest.mark.parametrize(
    ("header", "reply"),
    [
        ("Sender: {other}", (553, b"5.7.1")),
        ("Resent-From: {other}", (553, b"5.7.1")),
        ("Resent-Sender: {other}", (553, b"5.7.1")),
        ('From: "{other}" <{own}>', (550, b"5.7.1")),  # a display name that is another address
    ],
)
def test_submission_refuses_another_business_in_sender_resent_from_or_display_name(
    tenancy: Tenancy, header: str, reply: tuple[int, bytes]
) -> None:
    own, other = ALPHA.owner.address, BRAVO.owner.address
    extra = header.format(own=own, other=other)
    if extra.startswith("From:"):
        headers = f"{extra}\r\nSubject: spoof\r\n"
    else:
        headers = f"From: {own}\r\n{extra}\r\nSubject: spoof\r\n"
    code, text = submit(tenancy, ALPHA.owner, own, headers)
    assert (code, text[:5]) == reply


def test_submission_refuses_a_message_with_a_nul_byte(tenancy: Tenancy) -> None:
    own = ALPHA.owner.address
    code, text = submit(tenancy, ALPHA.owner, own, f"From: {own}\r\nSubject: nul\r\n", "a\x00b\r\n")
    assert (code, text[:5]) == (554, b"5.6.0")


@pytest.mark.parametrize("envelope_from", [f"postmaster@{HOSTNAME}", f"abuse@{HOSTNAME}", f"MAILER-DAEMON@{HOSTNAME}"])
def test_submission_refuses_the_servers_own_addresses_as_sender(tenancy: Tenancy, envelope_from: str) -> None:
    code, text = submit(tenancy, ALPHA.owner, envelope_from, f"From: {envelope_from}\r\nSubject: admin\r\n")
    assert (code, text[:5]) == (553, b"5.7.1")


@pytest.mark.parametrize("recipient", ["victim@elsewhere.example", f"postmaster@{HOSTNAME}", "x@agency.test.evil"])
def test_mx_relays_for_nobody(tenancy: Tenancy, recipient: str) -> None:
    with smtplib.SMTP("127.0.0.1", tenancy.daemon.ports["smtp"], timeout=30) as client:
        client.ehlo("mx.remote.example")
        assert client.mail(BRAVO.owner.address)[0] == 250  # a forged hosted sender gains nothing
        code, text = client.rcpt(recipient)
    assert (code, text[:5]) == (554, b"5.7.1")


def test_mail_through_the_mx_reaches_only_its_recipient(tenancy: Tenancy) -> None:
    subject = f"{BRAVO.canary}mx-only-uma"
    with smtplib.SMTP("127.0.0.1", tenancy.daemon.ports["smtp"], timeout=30) as client:
        client.ehlo("mx.remote.example")
        assert client.sendmail("friend@remote.example", [f"<{BRAVO.user.address}>"], message(subject, "x")) == {}
    for business in BUSINESSES:
        for account in business.accounts:
            with login(tenancy, account) as imap:
                imap.ok("EXAMINE INBOX")
                found = imap.ok(f"SEARCH SUBJECT {quoted(subject)}")
                assert (found[0].split()[2:] != []) == (account == BRAVO.user), (account, found)


def test_businesses_reading_at_once_each_see_only_their_own_mail(tenancy: Tenancy) -> None:
    """Three owners list and fetch at the same time; each sees only its own subjects."""
    errors: list[BaseException] = []

    def work(business: Business) -> None:
        try:
            with login(tenancy, business.owner) as imap:
                for _ in range(5):
                    imap.ok("SELECT INBOX")
                    assert_no_canary_of_others(imap.ok("FETCH 1:* (BODY.PEEK[HEADER])"), business)
                    imap.ok('LIST "" "*"')
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(business,)) for business in BUSINESSES]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


# -- folders deleted and re-made by many accounts at once ------------------------------------------------------

CHURNERS = (ALPHA.user, ALPHA.owner, BRAVO.user, CHARLIE.user)
CHURN_FOLDERS = ("Churn-A", "Churn-B")
STEP = st.tuples(st.sampled_from(["create", "append", "append", "delete", "check"]), st.sampled_from(CHURN_FOLDERS))
_serial = iter(range(10**9))


@pytest.fixture(scope="module")
def churn_sessions(tenancy: Tenancy) -> Iterator[list[tuple[Wire, Wire]]]:
    """Per account a worker session and a reader session (whose SELECT/UNSELECT leave folder states kept)."""
    sessions = [(login(tenancy, account), login(tenancy, account)) for account in CHURNERS]
    yield sessions
    for worker, reader in sessions:
        for name in CHURN_FOLDERS:
            worker.command(f"DELETE {name}")
        worker.close()
        reader.close()


def churn(account: Account, worker: Wire, reader: Wire, steps: list[tuple[str, str]]) -> None:
    """Run one account's steps against a model of its folders; every check sees exactly the model's messages."""
    model: dict[str, set[str]] = {}
    for name in CHURN_FOLDERS:
        worker.command(f"DELETE {name}")
    for op, name in steps:
        if op == "create":
            answer = worker.command(f"CREATE {name}")[-1]
            assert (b" OK " in answer) == (name not in model), (account, op, name, answer)
            model.setdefault(name, set())
        elif op == "append":
            subject = f"churn-{account.local}-{next(_serial)}"
            answer = worker.command(f"APPEND {name} {{{len(message(subject, 'x'))}+}}\r\n".encode()
                                    + message(subject, "x"))[-1]  # fmt: skip
            assert (b" OK " in answer) == (name in model), (account, op, name, answer)
            if name in model:
                model[name].add(subject)
        elif op == "delete":
            answer = worker.command(f"DELETE {name}")[-1]
            assert (b" OK " in answer) == (name in model), (account, op, name, answer)
            model.pop(name, None)
        else:
            selected = reader.command(f"SELECT {name}")
            if name not in model:
                assert b" NO " in selected[-1], (account, name, selected)
                continue
            seen = subjects(reader.ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")) if exists(selected) else set()
            assert seen == model[name], (account, name, seen, model[name])
            assert b"[UIDNEXT %d]" % (len(model[name]) + 1) in b"".join(selected), selected  # nothing expunged
            reader.ok("UNSELECT")


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(st.lists(STEP, min_size=4, max_size=14), min_size=len(CHURNERS), max_size=len(CHURNERS)))
def test_accounts_of_several_businesses_deleting_and_remaking_folders_at_once_each_see_only_their_own(
    churn_sessions: list[tuple[Wire, Wire]], plans: list[list[tuple[str, str]]]
) -> None:
    """Four accounts of three businesses create, fill, delete and re-create folders of the same names in
    parallel (one thread each); a folder made again is empty, whoever kept the old one, and never shows
    another account's messages."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            churn(CHURNERS[index], *churn_sessions[index], plans[index])
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(CHURNERS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors


def test_idle_hears_only_its_own_mailbox(tenancy: Tenancy) -> None:
    """alpha's user idles on its INBOX while bravo and charlie receive mail, then alpha does: the only news is
    alpha's own message (the change notices of other mailboxes never reach its session)."""
    with login(tenancy, ALPHA.user) as imap:
        before = exists(imap.ok("SELECT INBOX"))
        imap.send(b"idle1 IDLE\r\n")
        assert imap.response().startswith(b"+")
        for address in (BRAVO.user.address, CHARLIE.user.address, BRAVO.owner.address):
            deliver(tenancy.daemon, address, f"idle-elsewhere-{address}")
        deliver(tenancy.daemon, ALPHA.user.address, "idle-own")
        news = imap.wait_for(b" EXISTS")
        imap.send(b"DONE\r\n")
        news += imap.until(b"idle1")
        counts = [int(line.split()[1]) for line in news if line.rstrip().endswith(b" EXISTS")]
        assert counts == [before + 1], news
        assert subjects(imap.ok(f"FETCH {before + 1} (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")) == {"idle-own"}
