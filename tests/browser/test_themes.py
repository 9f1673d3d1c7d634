"""Every theme with demo content in Debian's chromium (Playwright): screenshots under artifacts/themes/, no
request to another host, every image with alt text, a lang attribute, and keyboard focus reaching the page."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from smb_suite import config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import sites
from smb_suite.services import open_services
from smb_suite.sites import themes
from tests.daemon import Daemon, Daemons

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "themes"
THEMES = sorted(themes.discover(config.BUNDLED_THEMES))
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a1e2b40000000049454e44ae426082"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--host-resolver-rules=MAP *.test 127.0.0.1, MAP * ~NOTFOUND",  # nothing may leave the machine
]
ABOUT = """Fresh bread and cakes from our own oven, every morning since 1920.

![Our shop window with bread on display](/media/logo.png)

## What we bake

- Rye and spelt loaves
- Cakes to order ([write to us](/contact/))

| Day | Special |
| --- | --- |
| Friday | Plum cake |
"""

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


def demo_site(server: Daemon, theme: str) -> str:
    """Publish demo content with `theme` on its own domain; return the domain."""
    domain = f"{theme}.test"
    server.cli("domain", "add", domain, "--tenant", "example.test")
    services = open_services(config.load(server.config))
    try:
        scheme = themes.get_theme(services.config.themes_dir, theme).colours[0].key
        sites.choose_theme(services, OPERATOR, domain, theme, scheme)
        fields = {
            "business_name": "Bakery Miller",
            "tagline": "Bread since 1920",
            "description": "A family bakery in the old town.",
            "address": "1 Main Street\n12345 Old Town",
            "phone": "+1 555 0100",
            "email": "demo@example.test",
            "opening_hours": "Mon–Fri 7:00–18:00\nSat 7:00–12:00",
            "lang": "en",
        }
        sites.save_info(services, OPERATOR, domain, fields, contact_form=True)
        sites.save_logo(services, OPERATOR, domain, PNG, "image/png")
        home = services.content.load(services.directory.get_domain(OPERATOR, domain), theme).pages[0]
        sites.update_page(services, OPERATOR, domain, home.id, title="Welcome", body=ABOUT)
        page_id = sites.add_page(services, OPERATOR, domain, "about", "About us")
        sites.update_page(services, OPERATOR, domain, page_id, body="Three generations of bakers.")
        sites.publish_site(services, OPERATOR, domain)
    finally:
        services.close()
    return domain


@pytest.fixture(scope="module")
def server(start_daemon: Daemons) -> Daemon:
    return start_daemon(services=("smtp", "http", "https"), name="browser")


@pytest.mark.parametrize("theme", THEMES)
def test_theme_renders_offline_with_alt_texts_and_keyboard_focus(server: Daemon, chromium: object, theme: str) -> None:
    from playwright.sync_api import Browser

    browser = chromium
    assert isinstance(browser, Browser)
    domain = demo_site(server, theme)
    base = f"http://{domain}:{server.ports['http']}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for viewport, size in (("desktop", {"width": 1280, "height": 900}), ("phone", {"width": 390, "height": 844})):
        page = browser.new_page(viewport=size)  # type: ignore[arg-type]
        requests: list[str] = []
        page.on("request", lambda request, seen=requests: seen.append(request.url))
        for path in ("/", "/about/", "/contact/", "/missing"):
            response = page.goto(base + path, wait_until="networkidle")
            assert response is not None and response.status == (404 if path == "/missing" else 200)
            name = path.strip("/") or "home"
            page.screenshot(path=str(ARTIFACTS / f"{theme}-{viewport}-{name}.png"), full_page=True)
            assert page.get_attribute("html", "lang") == "en"
            missing_alt = page.eval_on_selector_all("img", "els => els.filter(e => !e.hasAttribute('alt')).length")
            assert missing_alt == 0, f"{theme} {path}: image without alt"
            assert page.locator("h1").count() == 1
        page.goto(base + "/", wait_until="networkidle")
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.textContent.trim()")
        assert focused and "skip" in focused.lower()
        foreign = [url for url in requests if urlsplit(url).hostname != domain]
        assert not foreign, f"{theme} requested other hosts: {foreign}"
        assert any(url.endswith(".css") or ".css?" in url for url in requests)
        page.close()


def test_artifacts_folder_is_ignored_by_git() -> None:
    ignore = (Path(__file__).resolve().parents[2] / ".gitignore").read_text()
    assert "artifacts/" in ignore
    assert shutil.which("chromium") or CHROMIUM.exists()
