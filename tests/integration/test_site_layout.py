"""Sites live in folders named after domain ids, never after names: the old name-based layout is moved on start
(once, idempotent), the Host is looked up in the database, nothing outside a site's folder or behind a symlink
is served, and a zip upload cannot write outside its version folder."""

from __future__ import annotations

import io
import os
import stat
import tempfile
import warnings
import zipfile
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR
from smb_suite.errors import InvalidInput
from smb_suite.ops import domains
from smb_suite.services import initialise, open_services
from smb_suite.sites import publish, upload
from tests.daemon import DOMAIN, Daemon, Daemons, make_daemon, site_folder

WEB = ("smtp", "http", "https")
LIMITS = upload.UploadLimits(max_bytes=1024 * 1024, max_files=100)


def zip_bytes(files: dict[str, bytes], extra: list[zipfile.ZipInfo] | None = None) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore")  # duplicate names are one of the things we try
        for name, data in files.items():
            archive.writestr(name, data)
        for info in extra or []:
            archive.writestr(info, b"../../secret")
    return buffer.getvalue()


def page(server: Daemon, host: str, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.ports['http']}{path}", headers={"Host": host})


def upload_site(server: Daemon, domain: str, files: dict[str, bytes]) -> None:
    archive = server.folder / f"{domain}.zip"
    archive.write_bytes(zip_bytes(files))
    server.cli("site", "upload", domain, str(archive))


@pytest.fixture(scope="module")
def site(start_daemon: Daemons) -> Daemon:
    return start_daemon(services=WEB, name="layout")


# -- the layout and its migration -----------------------------------------------------------------------------


def test_a_site_folder_is_named_after_the_domain_id(site: Daemon) -> None:
    folder = site_folder(site.config, DOMAIN)
    assert folder.name.isdigit() and (folder / "current" / "index.html").is_file()
    assert not (folder.parent / DOMAIN).exists()


def test_the_old_name_based_layout_is_moved_once_and_served_the_same(tmp_path: Path) -> None:
    server = make_daemon(tmp_path / "old", services=WEB)
    settings = load_config(server.config)
    services = open_services(settings)
    try:
        second = domains.add_domain(services, OPERATOR, "second.example")
    finally:
        services.close()
    sites = settings.sites_dir
    first = site_folder(server.config, DOMAIN)
    index = (first / "current" / "index.html").read_bytes()
    first.rename(sites / DOMAIN)  # the layout before ids: sites/<domain name>/
    (sites / str(second.id)).rename(sites / second.name)
    (sites / second.name / "versions").joinpath("1", "marker.txt").parent.mkdir(parents=True)

    created = initialise(settings)  # as `serve` does on start
    assert f"site layout: moved site {DOMAIN} -> {first.name}" in created
    assert not (sites / DOMAIN).exists() and not (sites / second.name).exists()
    assert (first / "current" / "index.html").read_bytes() == index
    assert (sites / str(second.id) / "versions" / "1").is_dir()  # the whole folder moved, not only `current`
    assert not [line for line in initialise(settings) if line.startswith("site layout")]  # idempotent

    # A run cut short (one folder moved, one not) is finished by the next start.
    (sites / str(second.id)).rename(sites / second.name)
    assert initialise(settings) == [f"site layout: moved site {second.name} -> {second.id}"]

    server.start()
    try:
        assert page(server, DOMAIN).content == index
        assert b"second.example" in page(server, "second.example").content
    finally:
        server.stop()


def test_an_id_folder_is_never_overwritten_by_an_old_name_folder(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    (sites / "7" / "versions").mkdir(parents=True)
    (sites / "shop.example" / "versions").mkdir(parents=True)
    steps = publish.migrate_layout(sites, [(7, "shop.example"), (9, "../../etc"), (10, "")])
    assert steps == ["kept shop.example: its site folder 7 already exists"]
    assert (sites / "shop.example").is_dir() and (sites / "7" / "versions").is_dir()


def test_a_folder_left_by_a_removed_domain_is_cleared_on_start(tmp_path: Path) -> None:
    sites = tmp_path / "sites"
    for name in ("3", "5", "9"):
        (sites / name / "versions").mkdir(parents=True)
    steps = publish.migrate_layout(sites, [(5, "kept.example")])
    assert steps == ["removed the site folder 3 of a removed domain"]
    assert sorted(os.listdir(sites)) == ["5", "9"]  # 9 may be a domain added since the list was read


def test_site_folders_are_only_ever_named_after_ids(tmp_path: Path) -> None:
    for wrong in ("example.test", "../x", 0, -1, True, 1.5):
        with pytest.raises(ValueError):
            publish.site_root(tmp_path, wrong)  # type: ignore[arg-type]
    assert publish.site_root(tmp_path, 12) == tmp_path / "12"


# -- the Host is looked up in the database --------------------------------------------------------------------


def test_a_removed_and_re_added_domain_does_not_show_the_old_files(site: Daemon) -> None:
    name = "gone.example"
    site.cli("domain", "add", name)
    upload_site(site, name, {"index.html": b"<h1>first owner</h1>", "private.html": b"first owner's page"})
    assert page(site, name).content == b"<h1>first owner</h1>"
    old_folder = site_folder(site.config, name)

    site.cli("domain", "remove", name)
    assert not old_folder.exists()
    assert page(site, name).status_code == 404
    assert page(site, "www." + name).status_code == 404

    site.cli("domain", "add", name)  # somebody else takes the name: a new id, a new folder
    assert site_folder(site.config, name) != old_folder
    assert b"first owner" not in page(site, name).content
    assert page(site, name, "/private.html").status_code == 404
    site.cli("domain", "remove", name)


def test_a_new_domain_never_shows_a_removed_domain_s_files(site: Daemon) -> None:
    site.cli("domain", "add", "old.example")
    upload_site(site, "old.example", {"index.html": b"<h1>old</h1>", "secret.html": b"old secret"})
    assert page(site, "old.example", "/secret.html").content == b"old secret"
    site.cli("domain", "remove", "old.example")
    site.cli("domain", "add", "new.example")
    for host in ("new.example", "www.new.example", "old.example"):
        response = page(site, host, "/secret.html")
        assert response.status_code == 404 and b"old secret" not in response.content
    site.cli("domain", "remove", "new.example")


def test_a_symlink_in_a_site_is_never_followed(site: Daemon, tmp_path: Path) -> None:
    live = site_folder(site.config, DOMAIN) / "current"
    outside = tmp_path / "outside.html"
    outside.write_bytes(b"outside the site")
    (live / "out.html").symlink_to(outside)
    (live / "in.html").symlink_to(live / "index.html")
    (live / "folder").symlink_to(tmp_path, target_is_directory=True)
    try:
        for path in ("/out.html", "/in.html", "/folder/outside.html", "/folder/"):
            response = page(site, DOMAIN, path)
            assert response.status_code == 404 and b"outside the site" not in response.content, path
    finally:
        for name in ("out.html", "in.html", "folder"):
            (live / name).unlink()


# -- zip uploads ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x.html", "'..'"),
        ("a/../../x.html", "'..'"),
        ("/etc/x.html", "absolute"),
        ("C:\\x.html", "backslash"),
        ("C:x.html", "drive letter"),
        ("a\\..\\x.html", "backslash"),
        ("a\x01b.html", "control character"),
        ("a\x85b.html", "U.0085"),
        ("a\u2028b.html", "U.2028"),
    ],
)
def test_unsafe_zip_entries_are_refused_with_the_reason_and_nothing_is_written(
    tmp_path: Path, name: str, reason: str
) -> None:
    target = tmp_path / "version"
    data = zip_bytes({"index.html": b"<h1>x</h1>", name: b"x"})
    with pytest.raises(InvalidInput, match=reason):
        upload.extract_site(io.BytesIO(data), target, LIMITS)
    assert not target.exists() and os.listdir(tmp_path) == []


def test_a_symlink_entry_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("leak.html")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(InvalidInput, match="symlink"):
        upload.extract_site(io.BytesIO(zip_bytes({"index.html": b"x"}, [link])), tmp_path / "v", LIMITS)
    assert os.listdir(tmp_path) == []


# No NUL here: zipfile itself ends a name at its first NUL when it reads an archive (APPNOTE 4.4.17 names have none).
entry_names = st.lists(
    st.sampled_from(["a", "b", "..", ".", "", "/", "\\", "\x01", "\x85", "C:", "é", "index.html", " "]), max_size=8
).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # no timing assertions
@given(st.lists(entry_names, min_size=1, max_size=4))
def test_a_generated_zip_is_refused_or_written_inside_its_folder(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as temp:
        base = Path(temp)
        target = base / "site" / "version"
        target.parent.mkdir()
        files = {"index.html": b"<h1>home</h1>"} | {name: b"generated" for name in names if name}
        try:
            upload.extract_site(io.BytesIO(zip_bytes(files)), target, LIMITS)
        except InvalidInput:
            assert os.listdir(base) == ["site"] and os.listdir(target.parent) == []
            return
        inside = target.resolve()
        for folder, dirs, found in os.walk(base):
            for entry in [*dirs, *found]:
                path = Path(folder, entry)
                assert not path.is_symlink()
                assert path == target.parent or path.resolve().is_relative_to(inside), path
