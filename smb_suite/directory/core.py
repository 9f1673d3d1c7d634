"""The account directory as one object: access (who may touch which business), domains, users and routing,
composed in that order (each part may use the ones before it). Every call takes the acting principal and refuses
what it may not do, so a front end cannot forget a permission check it never makes."""

from __future__ import annotations

from smb_suite.directory.routing import Routing


class Directory(Routing):
    """The account directory over the database."""
