"""The main journeys of the admin UI in Debian's chromium (Playwright), screenshots under artifacts/admin/:
sign up, add a domain and read its DNS records, add a mailbox and use it over IMAP, set a vacation reply and
receive it, change the tier, suspend a business, reset a forgotten password through the mailed link, make a
project and move its task on, create an event and see it in the week and the month; each page checked for a
lang attribute, labelled form fields and no request to another host."""

from __future__ import annotations

import imaplib
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from smb_suite.auth.recovery import CONFIRM
from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import users
from smb_suite.services import open_services
from tests.adminweb import BOB, CUSTOMER_OWNER, PASSWORD, imap_login, make_admin_daemon
from tests.browser.test_themes import CHROMIUM
from tests.daemon import USER, USER_PASSWORD, Daemon, Daemons
from tests.integration.test_admin_mail_rules import wait_for
from tests.mailtest import insecure_context, submission

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "admin"
ADMIN = "mail.example.test"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def server(start_daemon: Daemons) -> Daemon:
    return start_daemon(make=make_admin_daemon, name="journeys")


class Journey:
    """One browser context (its own cookies) on the admin pages, checking each page it shows."""

    def __init__(self, chromium: object, server: Daemon, name: str, phone: bool = False) -> None:
        from playwright.sync_api import Browser

        assert isinstance(chromium, Browser)
        size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
        self.context = chromium.new_context(
            viewport=size,  # type: ignore[arg-type]
            locale="en-GB",
            ignore_https_errors=True,  # the admin pages are HTTPS only; the test certificate is self-signed
        )
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.base = f"https://{ADMIN}:{server.ports['https']}"
        self.name = name
        self.shots = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path, wait_until="networkidle")
        assert response is not None and response.status == 200, path

    def check(self, label: str) -> None:
        """lang set, every visible field labelled, nothing fetched from elsewhere; then a screenshot."""
        page = self.page
        assert page.get_attribute("html", "lang") in ("en", "fr")
        unlabelled = page.eval_on_selector_all(
            "input:not([type=hidden]):not([hidden]), select, textarea",
            "els => els.filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.name)",
        )
        assert not unlabelled, f"{label}: fields without a label: {unlabelled}"
        foreign = [url for url in self.requests if urlsplit(url).hostname not in (ADMIN,)]
        assert not foreign, foreign
        self.shots += 1
        page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.shots}-{label}.png"), full_page=True)

    def sign_in(self, address: str, password: str) -> None:
        self.open("/admin/")
        self.page.fill("#username", address)
        self.page.fill("#password", password)
        self.page.click("form[action='/admin/login'] button")
        self.page.wait_for_load_state("networkidle")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def journey(chromium: object, server: Daemon, request: pytest.FixtureRequest) -> Iterator[Journey]:
    trip = Journey(chromium, server, request.node.name.removeprefix("test_")[:40])
    yield trip
    trip.close()


def test_sign_up_gives_a_mailbox_and_a_website(journey: Journey, server: Daemon) -> None:
    journey.open("/admin/")
    journey.page.click("text=Create your business's mail and website")
    journey.check("signup-form")
    journey.page.fill("#business", "Boulangerie Dupont")
    journey.page.fill("#identifier", "dupont")
    journey.page.fill("#password", PASSWORD)
    journey.page.click("form[action='/admin/signup'] button")
    journey.page.wait_for_load_state("networkidle")
    assert "Welcome! Your mailbox and your website are ready." in journey.page.content()
    assert "owner@dupont.sites.test" in journey.page.content()
    journey.check("welcome")
    site = httpx.get(f"http://127.0.0.1:{server.ports['http']}/", headers={"Host": "dupont.sites.test"})
    assert site.status_code == 200 and "Boulangerie Dupont" in site.text
    assert imap_login(server, "owner@dupont.sites.test", PASSWORD) == "OK"


def test_owner_adds_a_domain_and_reads_its_dns_records(journey: Journey) -> None:
    journey.sign_in("demo@example.test", "correct horse battery staple")
    journey.page.keyboard.press("Tab")  # the first stop is the skip link, for keyboard and screen reader users
    assert "Skip to the content" in journey.page.evaluate("document.activeElement.textContent")
    journey.check("business")
    journey.page.fill("#new-domain", "my-shop.test")
    journey.page.click("form[action$='/domains'] button")
    journey.page.wait_for_load_state("networkidle")
    content = journey.page.content()
    assert "DNS records of my-shop.test" in content
    for name in ("_imaps._tcp.my-shop.test", "_domainkey.my-shop.test", "_mta-sts.my-shop.test", "_dmarc.my-shop"):
        assert name in content
    assert journey.page.locator("button.copy").first.is_visible()  # the script reveals the copy buttons
    journey.check("dns-records")


def test_owner_adds_a_mailbox_that_logs_into_imap(journey: Journey, server: Daemon) -> None:
    journey.sign_in("demo@example.test", "correct horse battery staple")
    journey.page.fill("#local", "frank")
    journey.page.fill("#mailbox-password", "franks secret words")
    journey.page.click("form[action$='/mailboxes'] button")
    journey.page.wait_for_load_state("networkidle")
    assert "The mailbox is ready" in journey.page.content()
    assert journey.page.locator("tbody td:first-child", has_text="frank@example.test").count() == 1
    journey.check("mailbox-added")
    with imaplib.IMAP4("127.0.0.1", server.ports["imap"], timeout=30) as client:
        client.starttls(ssl_context=insecure_context())
        assert client.login("frank@example.test", "franks secret words")[0] == "OK"
        assert client.select("INBOX")[0] == "OK"


def test_operator_upgrades_a_business_and_its_owner_sees_the_new_tier(
    journey: Journey, chromium: object, server: Daemon
) -> None:
    journey.sign_in("root@ops.test", PASSWORD)
    journey.check("businesses")
    journey.open("/admin/business/example.test/")
    journey.page.select_option("#tier", "plus")
    journey.page.click("form[action$='/tier'] button")
    journey.page.wait_for_load_state("networkidle")
    assert "The tier is changed." in journey.page.content()
    journey.check("tier-changed")
    owner = Journey(chromium, server, "owner-sees-tier", phone=True)
    try:
        owner.sign_in("demo@example.test", "correct horse battery staple")
        assert "Tier plus" in owner.page.content() and "6 EUR/month" in owner.page.content()
        owner.check("owner-phone")
    finally:
        owner.close()


def test_operator_suspends_a_business_and_resumes_it(journey: Journey, server: Daemon) -> None:
    journey.sign_in("root@ops.test", PASSWORD)
    journey.page.once("dialog", lambda dialog: dialog.accept())
    journey.page.click("button[aria-label='Suspend client-co']")
    journey.page.wait_for_load_state("networkidle")
    assert "The business is suspended." in journey.page.content()
    journey.check("suspended")
    site = httpx.get(f"http://127.0.0.1:{server.ports['http']}/", headers={"Host": "client.test"})
    assert site.status_code == 503
    assert imap_login(server, "boss@client.test", PASSWORD) == "NO"
    journey.page.click("button[aria-label='Resume client-co']")
    journey.page.wait_for_load_state("networkidle")
    assert "The business is active again." in journey.page.content()
    assert imap_login(server, "boss@client.test", PASSWORD) == "OK"


def test_user_sets_a_vacation_reply_and_the_sender_gets_it(journey: Journey, server: Daemon) -> None:
    journey.sign_in(USER, USER_PASSWORD)
    journey.page.fill("#vacation-subject", "Closed for the holidays")
    journey.page.fill("#vacation-body", "We are back on the 3rd.")
    journey.page.click("form[action='/admin/account/vacation'] button")
    journey.page.wait_for_load_state("networkidle")
    assert "Your vacation reply is on." in journey.page.content()
    journey.check("vacation-on")
    message = f"From: {BOB}\r\nTo: {USER}\r\nSubject: opening hours?\r\nMessage-ID: <oh@example.test>\r\n\r\n?\r\n"
    with submission(server) as client:
        client.login(BOB, PASSWORD)
        client.sendmail(BOB, [USER], message.encode())
    reply = wait_for(server, BOB, "Closed for the holidays")
    assert "We are back on the 3rd." in reply.get_content()


def test_owner_makes_a_project_adds_a_task_moves_it_on_and_sees_it_per_person(journey: Journey) -> None:
    journey.sign_in("demo@example.test", "correct horse battery staple")
    journey.page.click("nav >> text=Projects")
    journey.check("projects")
    journey.page.fill("#project-name", "Spring fair")
    journey.page.click("form[action='/admin/projects/'] button")
    journey.page.wait_for_load_state("networkidle")
    assert "The project is created." in journey.page.content()
    journey.page.fill("#title", "Book the stand")
    journey.page.select_option("#assignee", USER)
    journey.page.fill("#due", "2020-05-01")
    journey.page.select_option("#priority", "high")
    journey.page.click("text=Add the task")
    journey.page.wait_for_load_state("networkidle")
    row = journey.page.locator("#tasks tbody tr", has_text="Book the stand")
    assert "overdue" in row.inner_text() and "High" in row.inner_text()
    journey.check("project")
    row.locator("select[name=status]").select_option("IN-PROCESS")
    row.locator("button", has_text="Change").click()
    journey.page.wait_for_load_state("networkidle")
    assert journey.page.locator("#tasks tr[data-status='IN-PROCESS']", has_text="Book the stand").count() == 1
    journey.page.click("nav >> text=Open tasks")
    journey.page.wait_for_load_state("networkidle")
    person = journey.page.locator("section.person", has_text=USER)
    assert "Book the stand" in person.inner_text() and "Spring fair" in person.inner_text()
    journey.check("open-tasks")


def test_user_creates_an_event_and_sees_it_in_the_week_and_the_month(journey: Journey) -> None:
    journey.sign_in(USER, USER_PASSWORD)
    journey.page.click("nav >> text=Calendar")
    journey.page.wait_for_load_state("networkidle")
    journey.check("calendar-month")
    journey.page.click("text=New event")
    journey.page.wait_for_load_state("networkidle")
    journey.page.fill("#title", "Supplier visit")
    journey.page.fill("#start_date", "2026-06-17")
    journey.page.fill("#start_time", "10:00")
    journey.page.fill("#end_date", "2026-06-17")
    journey.page.fill("#end_time", "11:30")
    journey.page.fill("#location", "Warehouse")
    journey.check("event-form")
    journey.page.click("form.stacked button[type=submit]")
    journey.page.wait_for_load_state("networkidle")
    assert "The event is saved." in journey.page.content()
    day = journey.page.locator("td[data-day='2026-06-17']")
    assert "10:00–11:30 Supplier visit" in day.inner_text()  # the month holding the event
    journey.check("calendar-month-event")
    journey.page.click(".calendar-tools >> text=Week")
    journey.page.wait_for_load_state("networkidle")
    day = journey.page.locator("table.week td[data-day='2026-06-17']")
    assert "Supplier visit" in day.inner_text() and "Warehouse" in day.inner_text()
    assert journey.page.locator("table.week td[data-day='2026-06-18']", has_text="Supplier visit").count() == 0
    journey.check("calendar-week")


def test_french_owner_sees_french_pages(chromium: object, server: Daemon) -> None:
    from playwright.sync_api import Browser

    assert isinstance(chromium, Browser)
    trip = Journey(chromium, server, "french")
    trip.context.close()
    trip.context = chromium.new_context(
        locale="fr-FR", extra_http_headers={"Accept-Language": "fr-FR,fr"}, ignore_https_errors=True
    )
    trip.page = trip.context.new_page()
    try:
        trip.sign_in("demo@example.test", "correct horse battery staple")
        assert "Boîtes mail de votre entreprise" in trip.page.content()
        trip.check("business-fr")
    finally:
        trip.close()


def test_forgotten_password_is_reset_through_the_mailed_link(journey: Journey, server: Daemon) -> None:
    """Grace's recovery address is a mailbox of another business here (client.test), so the link arrives locally."""
    core = open_services(load_config(server.config))
    try:
        grace = users.add_user(core, OPERATOR, "grace@example.test", PASSWORD)
        core.recovery.set_pending(grace.id, CUSTOMER_OWNER, "en")
        core.recovery.confirm(core.recovery.issue(grace.id, CONFIRM, CUSTOMER_OWNER, 3600))
    finally:
        core.close()
    journey.open("/admin/")
    journey.page.click("text=Forgot your password?")
    journey.check("forgot")
    journey.page.fill("#address", "grace@example.test")
    journey.page.click("form[action='/admin/forgot'] button")
    journey.page.wait_for_load_state("networkidle")
    assert "is on its way there" in journey.page.content()
    mail = wait_for(server, CUSTOMER_OWNER, "Reset the password of grace@example.test")
    link = re.search(r"https://\S+/admin/reset\?token=\S+", mail.get_content())
    assert link is not None and link[0].startswith(journey.base)
    journey.open(link[0].removeprefix(journey.base))
    journey.check("new-password")
    journey.page.fill("#password", "graces new secret words")
    journey.page.click("form[action='/admin/reset'] button")
    journey.page.wait_for_load_state("networkidle")
    assert "Your password is changed: sign in with the new one." in journey.page.content()
    journey.sign_in("grace@example.test", "graces new secret words")
    assert "Your account" in journey.page.content()


def test_owner_keeps_contacts_filters_them_by_tag_and_merges_duplicates(journey: Journey) -> None:
    page = journey.page
    journey.sign_in("demo@example.test", "correct horse battery staple")
    page.click("nav >> text=Contacts")
    page.wait_for_load_state("networkidle")
    journey.check("contacts")
    for first, last, emails, tags in (
        ("Marie", "Curie", "marie@radium.example", "physics, vip"),
        ("M.", "Curie", "m.curie@sorbonne.example", "vip"),
        ("Pierre", "Dupont", "pierre@chimie.example", "chemistry"),
    ):
        page.click("text=New contact")
        page.fill("#first_name", first)
        page.fill("#last_name", last)
        page.fill("#emails", emails)
        page.fill("#tags", tags)
        page.select_option("#status", "customer")
        page.click("form.stacked button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "The contact is saved." in page.content()
        page.click("text=All contacts")
    page.select_option("#tag", "vip")
    page.click("form[role=search] button")
    page.wait_for_load_state("networkidle")
    rows = page.locator("#contacts tbody tr")
    assert rows.count() == 2 and "Pierre" not in rows.all_inner_texts()[0] + rows.all_inner_texts()[1]
    journey.check("contacts-vip")
    page.check("input[aria-label='Select Marie Curie']")
    page.check("input[aria-label='Select M. Curie']")
    page.check("input[aria-label='Keep Marie Curie']")
    page.click("text=Merge the selected contacts")
    page.wait_for_load_state("networkidle")
    assert "The contacts are merged into one." in page.content()
    assert page.input_value("#emails") == "marie@radium.example, m.curie@sorbonne.example"
    assert page.input_value("#tags") == "physics, vip"
    journey.check("contact-merged")
    page.click("text=All contacts")
    assert page.locator("#contacts tbody tr").count() == 2
