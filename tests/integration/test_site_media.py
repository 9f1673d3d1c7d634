"""The media library in the admin UI (real daemon, httpx as the browser): a photo uploaded with its alt text gets
a phone size, counts in the quota, becomes the cover and the Open Graph image of the live site; a file too big,
of the wrong kind (whatever its name says) or without alt text is refused and nothing is kept or published; an
SVG with a script is kept without it."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from smb_suite.sites.media import MAX_MEDIA_BYTES
from tests.adminweb import csrf_token, sign_in
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, Daemon

WEB = ("smtp", "http", "https")
EDITOR = f"/admin/sites/{DOMAIN}/"
SCRIPTED_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
    b'<script>alert(document.cookie)</script><rect width="10" height="10" fill="#123456"/></svg>'
)
pytestmark = pytest.mark.daemon(services=WEB)


@pytest.fixture
def owner(server: Daemon) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"https://127.0.0.1:{server.ports['https']}", verify=False, timeout=60) as client:
        assert sign_in(client, OWNER, OWNER_PASSWORD).status_code == 303
        yield client


def site(server: Daemon, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.ports['http']}{path}", headers={"Host": DOMAIN})


def photo(size: tuple[int, int] = (1600, 900)) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, "#3a6ea5").save(output, "JPEG", quality=90)
    return output.getvalue()


def upload(owner: httpx.Client, data: bytes, name: str, alt: str = "Our shop window") -> httpx.Response:
    token = csrf_token(owner.get(EDITOR))
    return owner.post(
        EDITOR + "media", data={"csrf": token, "alt": alt}, files={"picture": (name, data, "application/octet-stream")}
    )


def library(owner: httpx.Client) -> list[str]:
    return re.findall(rf'src="{re.escape(EDITOR)}media/(\d+)"', owner.get(EDITOR).text)


def used(owner: httpx.Client) -> str:
    match = re.search(r"Storage: ([^<]*?) of", owner.get(EDITOR).text)
    assert match
    return match.group(1)


def test_a_photo_becomes_the_cover_of_the_live_site_with_a_phone_size(owner: httpx.Client, server: Daemon) -> None:
    before = len(library(owner))
    added = upload(owner, photo(), "shop.jpeg")
    assert added.status_code == 303 and "done=picture-added" in added.headers["location"]
    (media_id,) = library(owner)[before:]
    editor = owner.get(EDITOR).text
    assert f"![Our shop window](/media/{media_id}.jpg)" in editor
    token = csrf_token(owner.get(EDITOR))
    assert owner.post(EDITOR + "cover", data={"csrf": token, "media": media_id}).status_code == 303
    assert owner.post(EDITOR + "publish", data={"csrf": token}).status_code == 303

    home = site(server).text
    assert re.search(rf'<img class="cover" src="/media/{media_id}\.jpg\?v=\w+" alt="Our shop window"', home)
    assert f'<meta property="og:image" content="https://{DOMAIN}/media/{media_id}.jpg">' in home
    data = json.loads(re.findall(r'<script type="application/ld\+json">(.*?)</script>', home, re.DOTALL)[0])
    assert data["@type"] == "LocalBusiness" and data["image"] == [f"https://{DOMAIN}/media/{media_id}.jpg"]
    screen, phone = site(server, f"/media/{media_id}.jpg"), site(server, f"/media/{media_id}-phone.jpg")
    assert screen.status_code == phone.status_code == 200
    assert Image.open(io.BytesIO(phone.content)).size == (640, 360)


def test_a_refused_file_keeps_nothing_and_publishes_nothing(owner: httpx.Client, server: Daemon) -> None:
    pictures, storage, live = library(owner), used(owner), site(server).text
    too_big = upload(owner, b"\xff\xd8\xff" + bytes(MAX_MEDIA_BYTES + 1), "huge.jpg")
    assert too_big.status_code == 400 and "too big" in too_big.text
    wrong = upload(owner, b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "invoice.png")  # a PDF named like a picture
    assert wrong.status_code == 400 and "not a JPEG, PNG, WebP or SVG" in wrong.text
    no_alt = upload(owner, photo((50, 50)), "dot.jpg", alt="  ")
    assert no_alt.status_code == 400 and "alt text" in no_alt.text
    assert library(owner) == pictures and used(owner) == storage and site(server).text == live


def test_an_svg_with_a_script_is_kept_without_it(owner: httpx.Client, server: Daemon) -> None:
    before = len(library(owner))
    added = upload(owner, SCRIPTED_SVG, "logo.svg", alt="Blue square")
    assert added.status_code == 303 and "done=picture-cleaned" in added.headers["location"]
    (media_id,) = library(owner)[before:]
    kept = owner.get(f"{EDITOR}media/{media_id}")
    assert kept.headers["content-type"].startswith("image/svg+xml")
    assert "sandbox" in kept.headers["content-security-policy"]
    assert b"script" not in kept.content and b"onload" not in kept.content and b"#123456" in kept.content


def test_pictures_count_in_the_quota_until_deleted(owner: httpx.Client) -> None:
    start = used(owner)
    assert upload(owner, photo((900, 700)), "big.jpg").status_code == 303
    media_id = library(owner)[-1]
    assert used(owner) != start
    token = csrf_token(owner.get(EDITOR))
    assert owner.post(f"{EDITOR}media/{media_id}/delete", data={"csrf": token}).status_code == 303
    assert used(owner) == start and media_id not in library(owner)


def test_the_operator_adds_and_lists_pictures_from_the_command_line(server: Daemon, tmp_path: Path) -> None:
    svg = tmp_path / "mark.svg"
    svg.write_bytes(SCRIPTED_SVG)
    added = server.cli("site", "picture", DOMAIN, str(svg), "--alt", "Blue mark")
    assert "removed from the SVG: onload, script" in added.stdout
    media_id = re.search(r"added picture (\d+)", added.stdout)
    assert media_id and f"![Blue mark](/media/{media_id.group(1)}.svg)" in added.stdout
    listed = server.cli("site", "pictures", DOMAIN).stdout
    assert f"{media_id.group(1)}\timage/svg+xml\t10x10" in listed and "Blue mark" in listed
    (tmp_path / "note.png").write_text("not a picture")
    refused = server.cli("site", "picture", DOMAIN, str(tmp_path / "note.png"), "--alt", "x", check=False)
    assert refused.returncode != 0 and "not a JPEG, PNG, WebP or SVG" in refused.stderr


def test_a_french_owner_reads_the_refusal_in_french(owner: httpx.Client) -> None:
    token = csrf_token(owner.get(EDITOR))
    refused = owner.post(
        EDITOR + "media",
        data={"csrf": token, "alt": "Facture"},
        files={"picture": ("facture.jpg", b"%PDF-1.7\n", "image/jpeg")},
        headers={"Accept-Language": "fr-FR,fr"},
    )
    assert refused.status_code == 400 and "ce fichier n&#39;est pas une image JPEG, PNG, WebP ou SVG" in refused.text
