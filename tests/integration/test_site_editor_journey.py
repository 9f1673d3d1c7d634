"""The site editor as a new owner meets it (real daemon, httpx as the browser): stable page links, no useless
buttons, layouts by human names, when and by whom the live version was published, the business's own addresses
offered, storage shown as each mailbox's share in the owner's language, a favicon on the admin and on sites."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest

from tests.adminweb import csrf_token, sign_in
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, Daemon

WEB = ("smtp", "http", "https")
EDITOR = f"/admin/sites/{DOMAIN}/"
FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
pytestmark = pytest.mark.daemon('[tiers.tiny]\nstorage_mb = 1\n[quota]\ndefault_tier = "tiny"\n', services=WEB)


@pytest.fixture
def owner(server: Daemon) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"https://127.0.0.1:{server.ports['https']}", verify=False) as client:
        assert sign_in(client, OWNER, OWNER_PASSWORD).status_code == 303
        yield client


def site(server: Daemon, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.ports['http']}{path}", headers={"Host": DOMAIN})


def page_links(editor: httpx.Response) -> list[str]:
    return re.findall(rf'href="({re.escape(EDITOR)}pages/\d+)"', editor.text)


def test_the_home_page_link_stays_the_same_after_saving(owner: httpx.Client) -> None:
    (home,) = page_links(owner.get(EDITOR))
    assert not home.endswith("/0")  # the content exists from the domain's creation
    token = csrf_token(owner.get(home))
    saved = owner.post(home, data={"csrf": token, "title": "Welcome", "body": "Hello", "layout": "standard"})
    assert saved.status_code == 303
    assert page_links(owner.get(EDITOR)) == [home]
    assert owner.get(home).status_code == 200
    assert owner.get(EDITOR + "pages/0").status_code == 200  # a link from before content existed still opens


def test_a_single_page_has_no_up_or_down_buttons(owner: httpx.Client) -> None:
    editor = owner.get(EDITOR).text
    assert len(page_links(owner.get(EDITOR))) == 1
    assert "/move" not in editor


def test_layouts_are_shown_by_human_names_in_the_owner_language(owner: httpx.Client) -> None:
    (home,) = page_links(owner.get(EDITOR))
    english = owner.get(home).text
    assert '<option value="standard" selected>One column</option>' in english
    assert ">standard<" not in english and ">wide<" not in english
    assert ">Une colonne large<" in owner.get(home, headers=FRENCH).text


def test_the_live_version_says_when_and_by_whom_it_was_published(owner: httpx.Client) -> None:
    assert owner.post(EDITOR + "publish", data={"csrf": csrf_token(owner.get(EDITOR))}).status_code == 303
    editor = owner.get(EDITOR).text
    assert re.search(rf"Live version: published on \d{{4}}-\d\d-\d\d \d\d:\d\d UTC by {re.escape(OWNER)}\.", editor)
    french = owner.get(EDITOR, headers=FRENCH).text
    assert re.search(r"Version en ligne : publiée le \d{4}-\d\d-\d\d \d\d:\d\d UTC par", french)


def test_site_info_offers_the_business_own_addresses_not_an_invented_one(owner: httpx.Client) -> None:
    editor = owner.get(EDITOR).text
    assert f'<option value="{OWNER}">' in editor
    assert re.search(rf'id="email" name="email" type="email" value="{re.escape(OWNER)}"', editor)
    assert f"contact@{DOMAIN}" not in editor


def test_the_colour_list_of_every_theme_is_in_the_page_for_the_script(owner: httpx.Client) -> None:
    editor = owner.get(EDITOR).text
    lists = dict(re.findall(r"id=\"theme-(\w+)\"[^>]*data-colours='([^']*)'", editor))
    assert set(lists) >= {"default", "bistro", "harbour"}
    assert ["olive", "Olive"] in json.loads(lists["bistro"])
    assert 'select id="colour" name="colour" data-follows="theme"' in editor
    assert "/admin/themes/bistro/preview.svg" in editor


def test_storage_shows_each_mailbox_share_and_the_business_total_in_french(owner: httpx.Client) -> None:
    page = owner.get("/admin/", headers=FRENCH).text
    assert "sur 1,0\u00a0Mo" in page and "MB" not in page and " bytes" not in page
    assert page.count("sur 1,0\u00a0Mo") == 1  # the business's limit, once
    assert re.search(r"\(\d+ % des [\d,]+\u00a0(Ko|octets?|Mo) de l&#39;entreprise\)", page)
    for group in ("#mail", "#website", "#domains", "#business"):
        assert f'href="{group}"' in page


def test_admin_pages_and_sites_have_a_favicon(owner: httpx.Client, server: Daemon) -> None:
    page = owner.get("/admin/").text
    assert '<link rel="icon" href="/admin/static/favicon.svg"' in page
    assert owner.get("/admin/static/favicon.svg").headers["content-type"].startswith("image/svg")
    home = site(server).text
    icon = re.search(r'<link rel="icon" href="(/favicon\.svg\?v=\w+)"', home)
    assert icon, home
    answer = site(server, icon.group(1))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/svg")


def test_an_address_of_the_business_that_receives_no_mail_is_refused_for_the_site(owner: httpx.Client) -> None:
    info = {"business_name": "Bakery", "lang": "en", "contact_form": "on"}
    token = csrf_token(owner.get(EDITOR))
    refused = owner.post(EDITOR + "info", data={"csrf": token, **info, "email": f"contact@{DOMAIN}"})
    assert refused.status_code == 400 and "receives no mail" in refused.text
    assert owner.post(EDITOR + "info", data={"csrf": token, **info, "email": OWNER}).status_code == 303
    elsewhere = owner.post(EDITOR + "info", data={"csrf": token, **info, "email": "bakery@elsewhere.test"})
    assert elsewhere.status_code == 303  # an address at another provider is the owner's business
