"""The mini CRM on a running daemon: the admin pages and CardDAV clients share one address book (a change on
either side shows on the other, in a sync-collection REPORT too); the last contact follows mail received and
sent; Outlook CSV and vCard files go in and come out; a bad file or a full business changes nothing; another
business's contacts are not there, and a business without the collaboration module has no contacts."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from contextlib import closing
from xml.etree import ElementTree

import httpx
import pytest

from smb_suite.config import load as load_config
from smb_suite.dav import cards, outlook
from smb_suite.directory.model import OPERATOR, Role
from smb_suite.ops import domains, tiers, users
from smb_suite.services import open_services
from tests.adminweb import PASSWORD, browser, csrf_token, make_admin_daemon, post, sign_in, signed_in
from tests.daemon import DOMAIN, USER, USER_PASSWORD, Daemon
from tests.mailtest import message, send_inbound, submit

TIERS = '[tiers.tiny]\nstorage_mb = 1\n[tiers.nodav]\nstorage_mb = 50\nmodules = ["mail", "site"]\n'
TINY = "tina@tiny.test"
NODAV = "nora@nodav.test"
CONTACTS = f"/admin/business/{DOMAIN}/contacts/"
ID = re.compile(r'<tr data-id="([^"]+)">')
SYNC = (
    '<?xml version="1.0" encoding="utf-8"?><D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token>'
    "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
)


def add_businesses(server: Daemon) -> None:
    services = open_services(load_config(server.config))
    try:
        for address, tier in ((TINY, "tiny"), (NODAV, "nodav")):
            domain = domains.add_domain(services, OPERATOR, address.partition("@")[2])
            users.add_user(services, OPERATOR, address, PASSWORD, Role.OWNER)
            tiers.set_tier(services, OPERATOR, domain.tenant_name, tier)
    finally:
        services.close()


pytestmark = pytest.mark.daemon(TIERS, make=make_admin_daemon, before_start=add_businesses)


@pytest.fixture(scope="module")
def alice(server: Daemon) -> Iterator[httpx.Client]:
    with closing(browser(server)) as client:
        assert sign_in(client, USER, USER_PASSWORD).status_code == 303
        yield client


def ids(page: httpx.Response) -> list[str]:
    return ID.findall(page.text)


def create(client: httpx.Client, **fields: str) -> str:
    response = post(client, CONTACTS + "new", fields)
    assert response.status_code == 303, response.text[:800]
    return response.headers["location"].split("/contacts/")[1].split("?")[0]


def addressbook(server: Daemon) -> str:
    principal = httpx.request(
        "PROPFIND", f"https://127.0.0.1:{server.ports['https']}/dav/", auth=(USER, USER_PASSWORD), verify=False,
        headers={"Depth": "1"}, timeout=60,
    )  # fmt: skip
    business = re.findall(r"/dav/(t\d+)/", principal.text)
    assert business, principal.text
    return f"/dav/{business[0]}/contacts/"


def sync(server: Daemon, path: str, token: str = "") -> tuple[str, dict[str, str]]:
    """A sync-collection REPORT (RFC 6578) as a phone sends it: the new token and href -> etag (or status)."""
    response = httpx.request(
        "REPORT", f"https://127.0.0.1:{server.ports['https']}{path}", auth=(USER, USER_PASSWORD), verify=False,
        content=SYNC.format(token=token), headers={"Content-Type": "application/xml"}, timeout=60,
    )  # fmt: skip
    assert response.status_code == 207, response.text
    tree = ElementTree.fromstring(response.content)
    found = {}
    for item in tree.iter("{DAV:}response"):
        href = item.findtext("{DAV:}href", "").rsplit("/", 1)[1]
        found[href] = item.findtext(".//{DAV:}getetag") or item.findtext("{DAV:}status", "")
    return tree.findtext("{DAV:}sync-token", ""), found


def test_pages_and_carddav_clients_see_each_others_changes(server: Daemon, alice: httpx.Client) -> None:
    book = addressbook(server)
    token, _ = sync(server, book)
    made = create(alice, first_name="Ada", last_name="Lovelace", emails="ada@engine.example", tags="vip", status="lead")
    token, changed = sync(server, book, token)
    assert list(changed) == [made]
    card = httpx.get(f"https://127.0.0.1:{server.ports['https']}{book}{made}", auth=(USER, USER_PASSWORD), verify=False)
    assert "FN:Ada Lovelace" in card.text and "CATEGORIES:vip" in card.text and "X-SMB-STATUS:lead" in card.text
    phone_card = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:from-phone\r\nFN:Grace Hopper\r\nN:Hopper;Grace;;;\r\nEND:VCARD\r\n"
    put = httpx.put(
        f"https://127.0.0.1:{server.ports['https']}{book}from-phone.vcf", content=phone_card,
        auth=(USER, USER_PASSWORD), verify=False, headers={"Content-Type": "text/vcard"},
    )  # fmt: skip
    assert put.status_code == 201, put.text
    assert "Grace Hopper" in alice.get(CONTACTS).text
    assert post(alice, CONTACTS + "from-phone.vcf", {"first_name": "Grace", "last_name": "Hopper", "role": "Admiral"})
    token, changed = sync(server, book, token)
    assert list(changed) == ["from-phone.vcf"]
    assert post(alice, CONTACTS + made + "/delete").status_code == 303
    _, changed = sync(server, book, token)
    assert "404" in changed[made]


def test_last_contact_follows_mail_received_and_sent(server: Daemon, alice: httpx.Client) -> None:
    client = create(alice, company="Remote Client", emails="buyer@client.example")
    supplier = create(alice, company="Far Supplier", emails="sales@far.example")
    page = alice.get(CONTACTS + client).text
    assert "No mail exchanged yet." in page
    send_inbound(server, "buyer@client.example", [USER], message("order", USER, "buyer@client.example"))
    submit(server, ["sales@far.example"], message("quote", "sales@far.example", USER), USER, USER_PASSWORD)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    for contact in (client, supplier):
        assert f"Last contact: {today}" in alice.get(CONTACTS + contact).text
    listed = alice.get(CONTACTS, params={"q": "far.example"}).text
    assert ids(alice.get(CONTACTS, params={"q": "far.example"})) == [supplier] and today in listed


def test_outlook_csv_and_vcard_files_round_trip_through_import_and_export(alice: httpx.Client) -> None:
    before = len(ids(alice.get(CONTACTS)))
    csv = (
        '"First Name","Last Name","Company","E-mail Address","Business Phone","Categories","Notes"\r\n'
        '"Hélène","Côté","Société Générale d\'Études","helene@etudes.example","+33 1 00","fournisseur;paris","Né"\r\n'
    ).encode("cp1252")
    response = alice.post(
        CONTACTS + "import", data={"csrf": csrf_token(alice.get(CONTACTS))}, files={"file": ("outlook.csv", csv)}
    )
    assert response.status_code == 303, response.text[:500]
    assert len(ids(alice.get(CONTACTS))) == before + 1
    assert ids(alice.get(CONTACTS, params={"tag": "paris"}))
    exported = alice.get(CONTACTS + "export", params={"format": "csv-windows-1252"})
    assert exported.headers["content-type"].startswith("text/csv")
    helene = next(c for c in outlook.read_contacts(exported.content) if c.company.startswith("Soci"))
    assert (helene.first_name, helene.last_name, helene.tags) == ("Hélène", "Côté", ("fournisseur", "paris"))
    vcards = alice.get(CONTACTS + "export", params={"format": "vcard4"}).text
    assert vcards.count("VERSION:4.0") == len(ids(alice.get(CONTACTS)))
    token = csrf_token(alice.get(CONTACTS))
    again = alice.post(CONTACTS + "import", data={"csrf": token}, files={"file": ("all.vcf", vcards.encode())})
    assert again.status_code == 303
    names = [cards.contact_of(card).name for card in cards.parse_cards(vcards)]
    assert len(ids(alice.get(CONTACTS))) == 2 * len(names)


@pytest.mark.parametrize(
    ("filename", "data"),
    [("contacts.csv", b"Name,Phone\r\nx,1\r\n"), ("contacts.vcf", b"BEGIN:VCARD\r\nFN:x\r\n"), ("x.csv", b"\x81\x8d")],
)
def test_a_bad_file_is_refused_with_its_reason_and_changes_nothing(
    alice: httpx.Client, filename: str, data: bytes
) -> None:
    before = ids(alice.get(CONTACTS))
    token = csrf_token(alice.get(CONTACTS))
    response = alice.post(CONTACTS + "import", data={"csrf": token}, files={"file": (filename, data)})
    assert response.status_code == 422 and 'role="alert"' in response.text
    assert ids(alice.get(CONTACTS)) == before


def test_an_import_that_does_not_fit_is_refused_with_507_and_changes_nothing(server: Daemon) -> None:
    rows = "".join(f'"Person{n}","x@{n}.example","{"n" * 12000}"\r\n' for n in range(100))  # 1.2 MB of cards
    data = ('"First Name","E-mail Address","Notes"\r\n' + rows).encode()
    with closing(browser(server)) as tina:
        assert sign_in(tina, TINY, PASSWORD).status_code == 303
        page = "/admin/business/tiny.test/contacts/"
        token = csrf_token(tina.get(page))
        response = tina.post(page + "import", data={"csrf": token}, files={"file": ("big.csv", data)})
        assert response.status_code == 507 and "storage is full" in response.text
        assert ids(tina.get(page)) == []
    assert server.cli("quota", "check", check=False).returncode == 0


def test_only_the_business_sees_its_contacts(server: Daemon, alice: httpx.Client) -> None:
    mine = create(alice, first_name="Private", emails="private@secret.example")
    with closing(signed_in(server, "partner")) as partner:  # manages client-co, not example.test
        assert partner.get(CONTACTS).status_code == 403
        assert 'href="/admin/business/client-co/contacts/"' in partner.get("/admin/business/client-co/").text
        assert partner.get("/admin/business/client-co/contacts/" + mine).status_code == 404
        token = csrf_token(partner.get("/admin/business/client-co/contacts/"))
        response = partner.post(
            "/admin/business/client-co/contacts/import", data={"csrf": token}, files={"file": ("a.csv", b"x")}
        )
        refused = partner.post(CONTACTS + "import", data={"csrf": token}, files={"file": ("a.csv", b"x")})
        assert response.status_code == 422 and refused.status_code == 403
    no_csrf = alice.post(CONTACTS + "import", data={"csrf": "forged"}, files={"file": ("a.csv", b"x")})
    assert no_csrf.status_code == 403
    with closing(browser(server)) as nora:
        assert sign_in(nora, NODAV, PASSWORD).status_code == 303
        assert "/contacts/" not in nora.get("/admin/").text
        assert nora.get("/admin/business/nodav.test/contacts/").status_code == 404
    assert 'href="/admin/contacts/"' in alice.get("/admin/").text
    assert alice.get("/admin/contacts/").headers["location"] == CONTACTS
