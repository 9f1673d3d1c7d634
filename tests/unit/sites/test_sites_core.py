"""Site building blocks without a daemon: themes, Markdown sanitizing, zip validation, contact mail headers."""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import re
import shutil
import stat
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smb_suite import config
from smb_suite.directory.model import Domain
from smb_suite.errors import InvalidInput, SmbSuiteError
from smb_suite.ops import sites
from smb_suite.sites import render, themes
from smb_suite.sites.content import SiteContent, SiteInfo, check_slug, default_home
from smb_suite.sites.upload import UploadLimits, extract_site

LIMITS = UploadLimits(max_bytes=1024 * 1024, max_files=50)
DOMAIN = Domain(1, "bakery.test", 1, "Bakery Miller")


def make_zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are a case we test
        for name, data in entries:
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def unix_entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


# -- themes -------------------------------------------------------------------------------------------------


def test_at_least_three_bundled_themes_are_discovered() -> None:
    found = themes.discover(config.BUNDLED_THEMES)
    assert {"default", "harbour", "bistro"} <= set(found)


@pytest.mark.parametrize("key", sorted(themes.discover(config.BUNDLED_THEMES)))
def test_every_colour_scheme_meets_wcag_aa_contrast(key: str) -> None:
    theme = themes.discover(config.BUNDLED_THEMES)[key]
    for scheme in theme.colours:
        assert themes.contrast_ratio(scheme.value("text"), scheme.value("background")) >= 4.5, scheme.key
        assert themes.contrast_ratio(scheme.value("accent"), scheme.value("background")) >= 4.5, scheme.key
        assert themes.contrast_ratio(scheme.value("accent-text"), scheme.value("accent")) >= 4.5, scheme.key


@pytest.mark.parametrize("key", sorted(themes.discover(config.BUNDLED_THEMES)))
def test_themes_reference_nothing_from_another_host(key: str) -> None:
    folder = config.BUNDLED_THEMES / key
    for path in folder.rglob("*"):
        if path.is_file():
            # an SVG's namespace is a name, not something fetched
            text = path.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
            assert "http://" not in text and "//fonts." not in text and "@import" not in text, path
            assert "https://" not in text.replace("https://{{", ""), path


def test_a_theme_folder_dropped_in_is_discovered(tmp_path: Path) -> None:
    shutil.copytree(config.BUNDLED_THEMES / "default", tmp_path / "mine")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "theme.toml").write_text('name = "Broken"\nlayouts = ["nothere"]\n')
    found = themes.discover(tmp_path)
    assert list(found) == ["mine"]


def test_a_colour_that_is_not_a_hex_value_is_refused(tmp_path: Path) -> None:
    shutil.copytree(config.BUNDLED_THEMES / "default", tmp_path / "evil")
    toml = tmp_path / "evil" / "theme.toml"
    toml.write_text(toml.read_text().replace('accent = "#1d4ed8"', 'accent = "red;} body{background:url(//x)}"'))
    with pytest.raises(InvalidInput, match="accent"):
        themes.load_theme(tmp_path / "evil")


# -- content and rendering ----------------------------------------------------------------------------------


def test_markdown_cannot_add_scripts_handlers_frames_or_foreign_images() -> None:
    html = str(
        render.render_markdown(
            "# Title\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "[click](javascript:alert(1)) ![tracker](https://evil.example/p.gif) ![ok](/media/logo.png)\n\n"
            "<iframe src='https://evil.example'></iframe>"
        )
    )
    tags = re.findall(r"<[^>]*>", html)
    assert not any(tag.startswith(("<script", "<iframe")) or "onerror" in tag for tag in tags), tags
    assert not any("javascript:" in tag or "evil.example" in tag for tag in tags), tags
    assert "&lt;script&gt;" in html  # shown as text, harmless
    assert '<img src="/media/logo.png" alt="ok">' in html
    assert "<h2>Title</h2>" in html  # the page title is the only h1


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_markdown_rendering_never_raises_and_never_emits_a_script(text: str) -> None:
    html = str(render.render_markdown(text))
    assert "<script" not in html.lower()


@pytest.mark.parametrize("slug", ["contact", "static", "../x", "A B", "", "-x", "x--y", "_contact"])
def test_bad_or_reserved_page_addresses_are_refused(slug: str) -> None:
    with pytest.raises(InvalidInput):
        check_slug(slug)


@pytest.mark.parametrize("key", sorted(themes.discover(config.BUNDLED_THEMES)))
def test_every_theme_builds_pages_sitemap_robots_and_404(key: str) -> None:
    theme = themes.discover(config.BUNDLED_THEMES)[key]
    info = SiteInfo(theme=key, business_name="Bakery <Miller>", description="Fresh bread", phone="+49 30 1234")
    files = render.build_site(theme, SiteContent(DOMAIN.name, info, (default_home(info),)))
    for name in ("index.html", "404.html", "contact/index.html", "thanks/index.html", "sitemap.xml", "robots.txt"):
        assert name in files
    index = files["index.html"].decode()
    assert "Bakery &lt;Miller&gt;" in index and "<Miller>" not in index
    assert '<meta property="og:title"' in index and 'rel="canonical" href="https://bakery.test/"' in index
    assert b"<loc>https://bakery.test/</loc>" in files["sitemap.xml"]
    assert b"Sitemap: https://bakery.test/sitemap.xml" in files["robots.txt"]


# -- zip uploads ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        ("../evil.html", b"x"),
        ("site/../../evil.html", b"x"),
        ("/etc/cron.d/evil", b"x"),
        ("C:/evil.html", b"x"),
        ("dir\\..\\evil.html", b"x"),
        (unix_entry("link.html", stat.S_IFLNK | 0o777), b"/etc/passwd"),
        (unix_entry("dev", stat.S_IFCHR | 0o644), b""),
        (unix_entry("fifo", stat.S_IFIFO | 0o644), b""),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "drive", "backslash", "symlink", "device", "fifo"],
)
def test_unsafe_zip_entries_are_refused_and_nothing_is_left(
    tmp_path: Path, entry: tuple[str | zipfile.ZipInfo, bytes]
) -> None:
    archive = make_zip([("index.html", b"<h1>hi</h1>"), entry])
    with pytest.raises(InvalidInput):
        extract_site(archive, tmp_path / "v", LIMITS)
    assert not (tmp_path / "v").exists()
    assert not (tmp_path / "evil.html").exists()


def test_too_many_files_or_bytes_are_refused(tmp_path: Path) -> None:
    many = make_zip([("index.html", b"x")] + [(f"f{i}.txt", b"x") for i in range(60)])
    with pytest.raises(InvalidInput, match="too many files"):
        extract_site(many, tmp_path / "a", LIMITS)
    bomb = make_zip([("index.html", b"x"), ("zeros.bin", bytes(2 * 1024 * 1024))])
    with pytest.raises(InvalidInput, match="too large"):
        extract_site(bomb, tmp_path / "b", LIMITS)


def test_a_zipped_folder_becomes_the_docroot(tmp_path: Path) -> None:
    archive = make_zip([("mysite/index.html", b"home"), ("mysite/img/a.png", b"png")])
    assert extract_site(archive, tmp_path / "v", LIMITS) == 2
    assert (tmp_path / "v" / "index.html").read_bytes() == b"home"
    assert (tmp_path / "v" / "img" / "a.png").exists()


def test_not_a_zip_and_no_index_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a zip"):
        extract_site(io.BytesIO(b"hello"), tmp_path / "a", LIMITS)
    with pytest.raises(InvalidInput, match="index.html"):
        extract_site(make_zip([("about.html", b"x")]), tmp_path / "b", LIMITS)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=30), st.binary(max_size=50)), min_size=1, max_size=5))
def test_zip_extraction_raises_only_our_errors_and_stays_inside(entries: list[tuple[str, bytes]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "site" / "v"
        try:
            archive = make_zip([(name, data) for name, data in entries])
        except (ValueError, UnicodeEncodeError, IndexError):  # names zipfile itself cannot write
            return
        with contextlib.suppress(SmbSuiteError):
            extract_site(archive, target, LIMITS)
        written = [p for p in Path(folder).rglob("*") if p.is_file()]
        assert all(p.resolve().is_relative_to(target.resolve()) for p in written)


# -- contact form mail ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "email", "phone", "subject"])
def test_contact_fields_with_line_breaks_are_refused(field: str) -> None:
    values = {"name": "Eve", "email": "eve@visitor.test", "phone": "", "subject": "Hi", "message": "Hello"}
    values[field] = values[field] + "\r\nBcc: victim@elsewhere.test"
    with pytest.raises(InvalidInput, match="single line"):
        sites.check_contact(**{("mail" if k == "email" else k): v for k, v in values.items()})


def test_contact_mail_has_the_visitor_as_reply_to_and_no_extra_headers() -> None:
    message = sites.check_contact('Ann "Boss" <x>', "ann@visitor.test", "+1 555", "Order", "Bcc: x@y\r\nHi")
    data = sites.build_contact_mail(DOMAIN, message, "192.0.2.1", 0.0)
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["Reply-To"].addresses[0].addr_spec == "ann@visitor.test"
    assert parsed["Subject"] == "Order"
    assert parsed["Bcc"] is None
    assert sorted(parsed.keys()) == sorted(
        ["From", "Reply-To", "To", "Subject", "Date", "Message-ID", "Content-Type", "Content-Transfer-Encoding",
         "MIME-Version"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("phone", "mail", "lang", "heading"),
    [
        ("+33 1 23", "", "en", "Call us"),
        ("", "owner@cafe.test", "en", "Write to us"),
        ("+33 1 23", "owner@cafe.test", "en", "Contact us"),
        ("+33 1 23", "owner@cafe.test", "fr", "Nous contacter"),
    ],
)
def test_the_bistro_footer_heading_follows_what_the_business_gave(
    phone: str, mail: str, lang: str, heading: str
) -> None:
    theme = themes.discover(config.BUNDLED_THEMES)["bistro"]
    info = SiteInfo(theme="bistro", business_name="Café", phone=phone, email=mail, lang=lang)
    index = render.build_site(theme, SiteContent(DOMAIN.name, info, (default_home(info),)))["index.html"].decode()
    assert f"<h2>{heading}</h2>" in index and "Reservations" not in index
