"""What search engines read of a generated site: LocalBusiness structured data checked against the schema.org
types it uses, opening hours read from the owner's lines (English and French), canonical URLs, Open Graph image
from the cover, and a sitemap with every page and its last change."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest

from smb_suite import config
from smb_suite.sites import render, seo, themes
from smb_suite.sites.content import Page, SiteContent, SiteInfo
from smb_suite.sites.library import Picture

# The schema.org types the sites use (https://schema.org/LocalBusiness and the types of its values): for each,
# the properties it has (its own and inherited from Organization, Place and Thing) and the checks of a value.
DAY_URLS = {f"https://schema.org/{day}" for day in seo.DAYS}
TIME = re.compile(r"([01]\d|2[0-4]):[0-5]\d")
URL = re.compile(r"https://[^\s]+")
SCHEMA: dict[str, dict[str, Any]] = {
    "LocalBusiness": {
        "required": {"name", "url"},  # what a search engine needs to show a business at all
        "properties": {
            "name": str, "url": URL, "description": str, "telephone": str, "email": str, "logo": URL,
            "image": [URL], "address": "PostalAddress", "openingHoursSpecification": ["OpeningHoursSpecification"],
        },
    },
    "PostalAddress": {
        "required": {"addressLocality"},
        "properties": {"streetAddress": str, "addressLocality": str, "postalCode": str, "addressCountry": str},
    },
    "OpeningHoursSpecification": {
        "required": {"dayOfWeek", "opens", "closes"},
        "properties": {"dayOfWeek": [DAY_URLS], "opens": TIME, "closes": TIME},
    },
}  # fmt: skip


def check_value(expected: Any, value: Any, where: str) -> None:
    if isinstance(expected, list):
        assert isinstance(value, list) and value, where
        for item in value:
            check_value(expected[0], item, where)
    elif isinstance(expected, str):
        check_node(expected, value, where)
    elif isinstance(expected, re.Pattern):
        assert isinstance(value, str) and expected.fullmatch(value), f"{where}: {value!r}"
    elif isinstance(expected, set):
        assert value in expected, f"{where}: {value!r}"
    else:
        assert isinstance(value, expected) and value, f"{where}: {value!r}"


def check_node(kind: str, node: Any, where: str = "") -> None:
    """A JSON-LD node of schema.org type `kind`: its @type, required properties, and each property's value."""
    assert isinstance(node, dict) and node.get("@type") == kind, where
    schema = SCHEMA[kind]
    assert schema["required"] <= set(node), f"{where}{kind}: missing {schema['required'] - set(node)}"
    for name, value in node.items():
        if name.startswith("@"):
            continue
        assert name in schema["properties"], f"{where}{kind} has no property {name!r} in schema.org"
        check_value(schema["properties"][name], value, f"{where}{kind}.{name}")


def structured_data(html: str) -> dict[str, Any]:
    (block,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    data = json.loads(block)
    assert data["@context"] == "https://schema.org"
    return data  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("line", "days", "hours"),
    [
        ("Mon–Fri 7:00–18:00", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], [("07:00", "18:00")]),
        ("Lun-Ven 7h-18h30", ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], [("07:00", "18:30")]),
        ("Sat 8am-12pm", ["Saturday"], [("08:00", "12:00")]),
        ("Sa, Su: 10:00-14:00", ["Saturday", "Sunday"], [("10:00", "14:00")]),
        ("Mardi au samedi : 9h - 12h, 14h - 19h", ["Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
         [("09:00", "12:00"), ("14:00", "19:00")]),
        ("Fri-Mon 18:00-23:00", ["Friday", "Saturday", "Sunday", "Monday"], [("18:00", "23:00")]),
    ],
)  # fmt: skip
def test_opening_hours_lines_become_opening_hours_specifications(
    line: str, days: list[str], hours: list[tuple[str, str]]
) -> None:
    found = seo.opening_hours([line])
    assert [(spec["opens"], spec["closes"]) for spec in found] == hours
    for spec in found:
        assert spec["dayOfWeek"] == [f"https://schema.org/{day}" for day in days]
        check_node("OpeningHoursSpecification", spec)


@pytest.mark.parametrize("line", ["Closed on Sundays", "By appointment", "Holidays 25:00-26:00", "Mon-Fri", ""])
def test_lines_that_are_not_days_and_hours_stay_text_only(line: str) -> None:
    assert seo.opening_hours([line]) == []


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["1 Main Street", "12345 Old Town"], {"streetAddress": "1 Main Street", "postalCode": "12345",
                                               "addressLocality": "Old Town"}),
        (["Lyon"], {"addressLocality": "Lyon"}),
        (["3 rue des Fleurs", "Bât. B", "69001 Lyon"], {"streetAddress": "3 rue des Fleurs, Bât. B",
                                                        "postalCode": "69001", "addressLocality": "Lyon"}),
    ],
)  # fmt: skip
def test_address_lines_become_a_postal_address(lines: list[str], expected: dict[str, str]) -> None:
    assert seo.postal_address(lines) == {"@type": "PostalAddress", **expected}


INFO = SiteInfo(
    theme="bistro",
    business_name="Café </script><script>alert(1)</script>",
    description="Coffee & cakes",
    address="3 rue des Fleurs\n69001 Lyon",
    phone="+33 4 72 00 00 00",
    email="owner@cafe.test",
    opening_hours="Lun-Ven 7h-18h30\nSam 8h-12h\nFermé le dimanche",
    lang="fr",
    cover_id=7,
)
PAGES = (
    Page(1, "home", "Café", "", "Bienvenue\n\n![La terrasse](/media/7.jpg)", updated_at=1_780_000_000),
    Page(2, "menu", "La carte", "Nos plats", "…", updated_at=1_790_000_000, seo_title="Carte du Café à Lyon"),
)
COVER = Picture(7, "image/jpeg", "La terrasse au soleil", 1920, 1280, 900, 0, b"\xff\xd8\xffscreen", b"\xff\xd8\xffp")


@pytest.mark.parametrize("key", sorted(themes.discover(config.BUNDLED_THEMES)))
def test_every_theme_publishes_valid_local_business_data_from_the_owner_answers(key: str) -> None:
    theme = themes.discover(config.BUNDLED_THEMES)[key]
    files = render.build_site(theme, SiteContent("cafe.test", replace(INFO, theme=key), PAGES), "/", [COVER])
    home = files["index.html"].decode()
    data = structured_data(home)
    check_node("LocalBusiness", data)
    assert data["name"] == INFO.business_name and data["telephone"] == INFO.phone
    assert data["address"] == {"@type": "PostalAddress", "streetAddress": "3 rue des Fleurs", "postalCode": "69001",
                               "addressLocality": "Lyon"}  # fmt: skip
    assert len(data["openingHoursSpecification"]) == 2  # "Fermé le dimanche" stays text
    assert data["image"] == ["https://cafe.test/media/7.jpg"]
    assert "</script><script>" not in home  # the owner's text cannot end the data block
    assert '<link rel="canonical" href="https://cafe.test/">' in home
    assert '<meta property="og:image" content="https://cafe.test/media/7.jpg">' in home
    assert re.search(r'<img class="cover" src="/media/7\.jpg\?v=\w+" alt="La terrasse au soleil"', home)
    assert 'srcset="/media/7-phone.jpg 640w, /media/7.jpg 1920w"' in home  # the picture in the page's text
    assert files["media/7.jpg"] == COVER.data and files["media/7-phone.jpg"] == COVER.phone
    menu = files["menu/index.html"].decode()
    assert "<title>Carte du Café à Lyon</title>" in menu and "application/ld+json" not in menu
    assert '<link rel="canonical" href="https://cafe.test/menu/">' in menu


def test_the_sitemap_lists_every_page_with_its_last_change() -> None:
    theme = themes.discover(config.BUNDLED_THEMES)["default"]
    files = render.build_site(theme, SiteContent("cafe.test", INFO, PAGES))
    root = ET.fromstring(files["sitemap.xml"])
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    entries = {url.findtext(f"{namespace}loc"): url.findtext(f"{namespace}lastmod") for url in root}
    assert entries["https://cafe.test/"] == "2026-05-28"
    assert entries["https://cafe.test/menu/"] == "2026-09-21"
    assert "https://cafe.test/contact/" in entries
    assert "Sitemap: https://cafe.test/sitemap.xml" in files["robots.txt"].decode()
