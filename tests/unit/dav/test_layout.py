"""DAV paths come from ids only, and the front end lets a user name only its own principal, its business's and
the documents (smb_suite/dav/layout.py, smb_suite/web/dav.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smb_suite.dav.access import DavUser
from smb_suite.dav.calendars import item_name_ok
from smb_suite.dav.layout import DavLayout, tenant_principal, user_principal, visible_bytes
from smb_suite.web.dav import allowed_path, dav_url, well_known_target

ALICE = DavUser(user_id=12, tenant_id=3, address="alice@example.test")


@pytest.mark.parametrize("value", [0, -1, True, "12", "../1", 1.0])
def test_principals_and_folders_are_made_of_positive_integer_ids_only(value: object) -> None:
    with pytest.raises(ValueError):
        user_principal(value)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DavLayout(Path("/data")).shared(value)  # type: ignore[arg-type]


def test_every_folder_of_a_business_is_named_after_ids() -> None:
    layout = DavLayout(Path("/data"))
    assert (user_principal(12), tenant_principal(3)) == ("u12", "t3")
    assert layout.calendars(3) == Path("/data/dav/3")
    assert layout.shared(3) == Path("/data/files/3/shared")
    assert layout.private(3, 12) == Path("/data/files/3/users/12")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/dav", True),
        ("/dav/", True),
        ("/dav/u12/calendar/", True),
        ("/dav/t3/team/x.ics", True),
        ("/dav/files/Shared/a.txt", True),
        ("/dav/files/", True),
        ("/dav/files/alice@example.test/notes.txt", True),
        ("/dav/files/bob@example.test/notes.txt", False),  # a colleague's private folder
        ("/dav/files/users/", False),
        ("/dav/u13/", False),  # a colleague's own collections
        ("/dav/t4/contacts/", False),  # another business
        ("/dav/.well-known/caldav", False),
        ("/dav/t3x/", False),
    ],
)
def test_a_user_may_name_only_its_principal_its_business_and_the_documents(path: str, allowed: bool) -> None:
    assert allowed_path(path, ALICE) is allowed


def test_well_known_redirects_stay_on_our_name() -> None:
    assert well_known_target("mail.host.test", 8443, on_admin_host=True) == "/dav/"
    assert well_known_target("mail.host.test", 443, on_admin_host=False) == "https://mail.host.test/dav/"
    assert dav_url("mail.host.test", 8443) == "https://mail.host.test:8443/dav/"


def test_hidden_radicale_files_do_not_count_as_the_business_data(tmp_path: Path) -> None:
    (tmp_path / "t3" / "team" / ".Radicale.cache").mkdir(parents=True)
    (tmp_path / "t3" / "team" / "event.ics").write_bytes(b"x" * 10)
    (tmp_path / "t3" / "team" / ".Radicale.props").write_bytes(b"y" * 100)
    (tmp_path / "t3" / "team" / ".Radicale.cache" / "event.ics").write_bytes(b"z" * 1000)
    assert visible_bytes(tmp_path) == 10


def test_an_item_id_from_a_page_is_one_visible_file_name_whatever_the_client_called_it() -> None:
    for name in ("4f2c.ics", "Contact 12.vcf", "no-extension", "thunderbird@event"):
        assert item_name_ok(name), name
    for name in ("", ".", "..", "../t3/Team/x.ics", "a/b.ics", ".Radicale.props"):
        assert not item_name_ok(name), name
