"""The owner's journey in Debian's chromium: from the sign-up page to the business's own site (its name, the theme
it chose, its phone and town, a first page) live, counting every form sent on the way (at most 3), in English
and in French, on a desktop and a phone; screenshots under artifacts/journey/ (ignored by git)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from smb_suite.sites.media import MAX_MEDIA_BYTES
from tests.adminweb import PASSWORD, make_admin_daemon
from tests.browser.test_themes import CHROMIUM
from tests.daemon import Daemon, Daemons

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "journey"
ADMIN = "mail.example.test"
MAX_FORMS = 3
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
STYLESHEETS = {"default": "site.css", "bistro": "bistro.css", "harbour": "harbour.css"}
WORDS = {
    "en": {"accept": "en-GB,en", "home": "Home", "dashboard": "Mail", "welcome": "Welcome to"},
    "fr": {"accept": "fr-FR,fr", "home": "Accueil", "dashboard": "Messagerie", "welcome": "Bienvenue chez"},
}
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


@pytest.fixture(scope="module")
def server(start_daemon: Daemons) -> Daemon:
    return start_daemon(make=make_admin_daemon, name="owner-journey")


class Trip:
    """One browser context that counts the forms it sends (POSTs that navigate) and every host it calls."""

    def __init__(self, chromium: object, lang: str, viewport: str, name: str) -> None:
        from playwright.sync_api import Browser

        assert isinstance(chromium, Browser)
        self.context = chromium.new_context(
            viewport=SIZES[viewport],  # type: ignore[arg-type]
            locale="fr-FR" if lang == "fr" else "en-GB",
            extra_http_headers={"Accept-Language": WORDS[lang]["accept"]},
            ignore_https_errors=True,  # the admin pages are HTTPS only; the test certificate is self-signed
            is_mobile=viewport == "phone",
            has_touch=viewport == "phone",
        )
        self.page = self.context.new_page()
        self.forms = 0
        self.hosts: set[str] = set()
        self.page.on("request", self._seen)
        self.name = name
        self.shots = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def _seen(self, request: object) -> None:
        from playwright.sync_api import Request

        assert isinstance(request, Request)
        self.hosts.add(urlsplit(request.url).hostname or "")
        if request.method == "POST" and request.is_navigation_request():
            self.forms += 1

    def shot(self, label: str) -> None:
        self.shots += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.shots}-{label}.png"), full_page=True)


@pytest.fixture
def trip(chromium: object, request: pytest.FixtureRequest) -> Iterator[Trip]:
    lang, viewport, _ = request.node.callspec.params["case"]
    journey = Trip(chromium, lang, viewport, request.node.callspec.id)
    yield journey
    journey.context.close()


CASES = [
    ("en", "desktop", "bistro"),
    ("en", "phone", "harbour"),
    ("fr", "desktop", "harbour"),
    ("fr", "phone", "default"),
]


@pytest.mark.parametrize("case", CASES, ids=["-".join(case) for case in CASES])
def test_sign_up_puts_the_business_own_site_live_within_three_forms(
    trip: Trip, server: Daemon, case: tuple[str, str, str]
) -> None:
    lang, viewport, theme = case
    words = WORDS[lang]
    identifier = f"journey-{lang}-{viewport}"
    business = "Boulangerie Dupont" if lang == "fr" else "Miller's Bakery"
    page = trip.page
    page.goto(f"https://{ADMIN}:{server.ports['https']}/admin/signup", wait_until="networkidle")
    assert page.get_attribute("html", "lang") == lang
    pictures = page.locator("fieldset.themes img")
    assert pictures.count() == len(STYLESHEETS)
    assert all(pictures.nth(i).evaluate("img => img.complete && img.naturalWidth > 0") for i in range(3))
    trip.shot("signup")

    page.fill("#business", business)
    page.fill("#activity", "boulangerie" if lang == "fr" else "bakery")
    page.fill("#phone", "+33 1 23 45 67 89")
    page.fill("#city", "Lyon")
    page.click(f"label[for=theme-{theme}] img")  # the picture chooses the theme
    assert page.is_checked(f"#theme-{theme}")
    page.fill("#identifier", identifier)
    page.fill("#password", PASSWORD)
    page.click("form[action='/admin/signup'] button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == business  # the dashboard shows the business's name
    assert page.locator("nav.groups").get_by_text(words["dashboard"]).is_visible()
    trip.shot("dashboard")

    page.goto(f"http://{identifier}.sites.test:{server.ports['http']}/", wait_until="networkidle")
    assert page.get_attribute("html", "lang") == lang
    assert page.locator("h1").inner_text() == business
    assert page.locator(f"link[rel=stylesheet][href*='{STYLESHEETS[theme]}']").count() == 1
    text = page.locator("body").inner_text()
    assert "+33 1 23 45 67 89" in text and "Lyon" in text and words["welcome"] in text
    assert page.locator("nav a").first.inner_text() == words["home"]
    if lang == "fr":
        assert not re.search(r"\b(Phone|Home|Opening hours|Contact us|Call)\b", text), text
    trip.shot("live-site")
    assert trip.forms <= MAX_FORMS, f"{trip.forms} forms from the sign-up page to the live site"
    assert trip.forms == 1
    assert trip.hosts <= {ADMIN, f"{identifier}.sites.test"}, trip.hosts


SCRIPTED_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
    '<script>alert(1)</script><rect width="10" height="10" fill="#123456"/></svg>'
)


def test_the_editor_updates_colours_and_search_preview_at_once_and_takes_pictures(
    chromium: object, server: Daemon, tmp_path: Path
) -> None:
    from playwright.sync_api import Browser

    assert isinstance(chromium, Browser)
    trip = Trip(chromium, "en", "phone", "editor-phone")
    page = trip.page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(f"https://{ADMIN}:{server.ports['https']}/admin/signup", wait_until="networkidle")
        page.fill("#business", "Harbour Tools")
        page.fill("#identifier", "editor-phone")
        page.fill("#password", PASSWORD)
        page.click("form[action='/admin/signup'] button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.click("text=Edit the website editor-phone.sites.test")
        page.wait_for_load_state("networkidle")
        assert page.locator("#colour option").all_inner_texts() == ["Blue", "Green", "Dark"]
        page.click("label[for=theme-harbour] img")  # no form sent: the list follows the theme at once
        assert page.locator("#colour option").all_inner_texts() == ["Navy and sand", "Teal", "Plum"]
        trip.shot("colours")

        for name, content, alt, answer in (
            ("huge.jpg", b"\xff\xd8\xff" + bytes(MAX_MEDIA_BYTES + 1), "Too big", "the picture is too big"),
            ("invoice.png", b"%PDF-1.7\n", "Not a picture", "not a JPEG, PNG, WebP or SVG picture"),
            ("mark.svg", SCRIPTED_SVG.encode(), "Blue square", "Parts that could run code"),
        ):
            page.set_input_files("#picture", {"name": name, "mimeType": "image/png", "buffer": content})
            page.fill("#alt", alt)
            page.click("form[action$='/media'] button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert answer in page.content(), name
            trip.shot(name.replace(".", "-"))
            if name != "mark.svg":
                page.go_back(wait_until="networkidle")
        assert "Parts that could run code" in page.content()
        assert page.locator("ul.pictures img[alt='Blue square']").evaluate("img => img.naturalWidth > 0")
        assert page.locator("ul.pictures li").count() == 1  # the refused files left nothing
        assert not dialogs  # the script of the SVG never ran

        page.click("#pages a")
        page.wait_for_load_state("networkidle")
        page.fill("#seo_title", "Harbour Tools – hardware in the harbour")
        assert page.locator(".serp-title").inner_text() == "Harbour Tools – hardware in the harbour"
        trip.shot("search-preview")
        assert trip.hosts <= {ADMIN}, trip.hosts
    finally:
        trip.context.close()
    assert server.log_text().count("Started server process") <= 1  # uvicorn's start line, once at most
