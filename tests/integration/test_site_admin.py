"""The owner builds the site in the admin UI, and visitors write through its contact form (real daemon)."""

from __future__ import annotations

import email
import email.policy
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.adminweb import csrf_token, sign_in
from tests.daemon import DOMAIN, OWNER, OWNER_PASSWORD, USER, USER_PASSWORD, Daemon, make_daemon

WEB = ("smtp", "http", "https")
EDITOR = f"/admin/sites/{DOMAIN}/"
TINY = '[tiers.tiny]\nstorage_mb = 1\nprice = "2 EUR/month"\n[tiers.big]\nstorage_mb = 10\nprice = "5 EUR/month"\n'
TINY += '[quota]\ndefault_tier = "tiny"\n[sites]\ncontact_per_hour = 3\n'
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2a1e2b40000000049454e44ae426082"
)


pytestmark = pytest.mark.daemon(TINY, services=WEB)


@pytest.fixture
def owner(server: Daemon) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"https://127.0.0.1:{server.ports['https']}", verify=False) as client:
        assert sign_in(client, OWNER, OWNER_PASSWORD).status_code == 303
        yield client


def site(server: Daemon, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.ports['http']}{path}", headers={"Host": DOMAIN})


def post(client: httpx.Client, path: str, data: dict[str, str], **kwargs: object) -> httpx.Response:
    token = csrf_token(client.get(EDITOR))
    return client.post(path, data={"csrf": token, **data}, **kwargs)  # type: ignore[arg-type]


def inbox(server: Daemon, local: str = "demo") -> list[email.message.EmailMessage]:
    folder = server.maildir(f"{local}@{DOMAIN}")
    files = sorted((folder / "new").iterdir()) + sorted((folder / "cur").iterdir())
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in files]  # type: ignore[misc]


def contact(server: Daemon, data: dict[str, str], ip_headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{server.ports['http']}/_contact",
        headers={"Host": DOMAIN, **(ip_headers or {})},
        data=data,
    )


# -- editing --------------------------------------------------------------------------------------------------


def test_editor_forms_are_labelled_and_carry_csrf_tokens(owner: httpx.Client) -> None:
    page = owner.get(EDITOR)
    assert page.status_code == 200
    forms = page.text.count("<form")
    assert forms >= 6 and page.text.count('name="csrf"') == forms
    for field in ("business_name", "address", "phone", "opening_hours", "logo", "new-title", "site"):
        assert f'<label for="{field}"' in page.text


def test_owner_edits_previews_publishes_and_rolls_back(owner: httpx.Client, server: Daemon) -> None:
    response = post(
        owner,
        EDITOR + "info",
        {"business_name": "Bakery Miller", "tagline": "Bread since 1920", "address": "1 Main St\nTown",
         "phone": "+1 555 0100", "email": OWNER, "opening_hours": "Mon-Fri 7-18\nSat 7-12", "lang": "en",
         "contact_form": "on", "description": "Fresh bread"},
    )  # fmt: skip
    assert response.status_code == 303
    post(owner, EDITOR + "theme", {"theme": "bistro", "colour": "olive"})
    added = post(owner, EDITOR + "pages", {"title": "Our bread", "slug": "bread"})
    assert added.status_code == 303
    page_url = added.headers["location"].split("?")[0]
    token = csrf_token(owner.get(page_url))
    body = "## Rye\n\nBaked **daily**.\n\n<script>alert(1)</script>"
    saved = owner.post(page_url, data={"csrf": token, "title": "Our bread", "body": body, "layout": "text",
                                       "description": "", "in_navigation": "on"})  # fmt: skip
    assert saved.status_code == 303

    preview = owner.get(EDITOR + "preview/bread/")
    assert preview.status_code == 200 and "<strong>daily</strong>" in preview.text
    assert "<script>alert" not in preview.text
    assert site(server, "/bread/").status_code == 404  # not published yet

    assert post(owner, EDITOR + "publish", {}).status_code == 303
    live = site(server, "/bread/")
    assert live.status_code == 200 and "<strong>daily</strong>" in live.text and "Bakery Miller" in live.text
    assert "Mon-Fri 7-18" in site(server, "/").text
    assert "/bread/" in site(server, "/sitemap.xml").text

    assert post(owner, EDITOR + "rollback", {}).status_code == 303
    assert site(server, "/bread/").status_code == 404
    assert post(owner, EDITOR + "rollback", {}).status_code == 303
    assert site(server, "/bread/").status_code == 200


def test_logo_upload_shows_on_the_published_site_with_alt_text(owner: httpx.Client, server: Daemon) -> None:
    token = csrf_token(owner.get(EDITOR))
    response = owner.post(EDITOR + "logo", data={"csrf": token}, files={"logo": ("logo.png", PNG, "image/png")})
    assert response.status_code == 303
    post(owner, EDITOR + "publish", {})
    home = site(server, "/").text
    assert 'alt="Bakery Miller logo"' in home or 'alt="example.test logo"' in home
    assert site(server, "/media/logo.png").content == PNG


def test_editing_without_a_csrf_token_changes_nothing(owner: httpx.Client, server: Daemon) -> None:
    before = site(server, "/").content
    response = owner.post(EDITOR + "info", data={"business_name": "Hacked"})
    assert response.status_code == 403
    assert owner.post(EDITOR + "publish", data={}).status_code == 403
    assert "Hacked" not in owner.get(EDITOR).text
    assert site(server, "/").content == before


def test_a_plain_user_cannot_edit_the_site(server: Daemon) -> None:
    with httpx.Client(base_url=f"https://127.0.0.1:{server.ports['https']}", verify=False) as client:
        sign_in(client, USER, USER_PASSWORD)
        assert client.get(EDITOR).status_code == 403


def test_web_upload_over_quota_is_413_with_usage_limit_and_upgrade(owner: httpx.Client, server: Daemon) -> None:
    before = site(server, "/").content
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("index.html", "<h1>big</h1>")
        archive.writestr("video.bin", bytes(1536 * 1024))
    token = csrf_token(owner.get(EDITOR))
    response = owner.post(
        EDITOR + "upload", data={"csrf": token}, files={"site": ("big.zip", buffer.getvalue(), "application/zip")}
    )
    assert response.status_code == 413
    text = response.text
    assert "limit (tiny tier)" in text and "1.0 MB" in text
    assert "larger tier" in text and "big (10.0 MB, 5 EUR/month)" in text
    assert site(server, "/").content == before


def test_unsafe_web_upload_is_refused_with_400(owner: httpx.Client, server: Daemon) -> None:
    before = site(server, "/").content
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "x")
        archive.writestr("../../escape.html", "x")
    token = csrf_token(owner.get(EDITOR))
    response = owner.post(EDITOR + "upload", data={"csrf": token}, files={"site": ("s.zip", buffer.getvalue())})
    assert response.status_code == 400 and "leave the site folder" in response.text
    assert site(server, "/").content == before


# -- the contact form ------------------------------------------------------------------------------------------

VISITOR = {"name": "Vera Visitor", "email": "vera@visitor.test", "phone": "", "subject": "Cake order",
           "message": "Two cakes for Saturday, please."}  # fmt: skip


def test_contact_form_delivers_to_the_owners_inbox_with_reply_to_the_visitor(server: Daemon) -> None:
    before = len(inbox(server))
    response = contact(server, VISITOR)
    assert response.status_code == 303 and response.headers["location"] == "/thanks/"
    messages = inbox(server)
    assert len(messages) == before + 1
    message = messages[-1]
    assert message["Reply-To"].addresses[0].addr_spec == "vera@visitor.test"
    assert message["Subject"] == "Cake order"
    assert "Two cakes for Saturday" in message.get_content()
    assert site(server, "/thanks/").status_code == 200


def test_header_injection_in_contact_fields_adds_no_header(server: Daemon) -> None:
    before = len(inbox(server))
    for field in ("name", "email", "subject"):
        attempt = {**VISITOR, field: VISITOR[field] + "\r\nBcc: victim@elsewhere.test"}
        response = contact(server, attempt)
        assert response.status_code == 400 and "single line" in response.text
    body_attempt = {**VISITOR, "message": "hi\r\nBcc: victim@elsewhere.test\r\n\r\nmore"}
    assert contact(server, body_attempt).status_code == 303
    messages = inbox(server)
    assert len(messages) == before + 1
    sent = [message for message in messages if "Bcc: victim" in message.get_content()]
    assert len(sent) == 1 and sent[0]["Bcc"] is None  # the line stayed in the body


def test_honeypot_pretends_success_but_sends_nothing(server: Daemon) -> None:
    before = len(inbox(server))
    response = contact(server, {**VISITOR, "website": "http://spam.example"})
    assert response.status_code == 303
    assert len(inbox(server)) == before


def test_contact_form_is_rate_limited_per_address(tmp_path: Path) -> None:
    daemon = make_daemon(tmp_path / "limit", "[sites]\ncontact_per_hour = 2\n", WEB).start()
    try:
        statuses = [contact(daemon, VISITOR).status_code for _ in range(3)]
        assert statuses == [303, 303, 429]
        assert len(inbox(daemon)) == 2
    finally:
        daemon.stop()


def test_contact_post_from_another_site_is_refused(server: Daemon) -> None:
    response = contact(server, VISITOR, {"Origin": "https://evil.example"})
    assert response.status_code == 403
