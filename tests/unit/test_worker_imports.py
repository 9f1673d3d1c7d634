"""Worker memory (issue 14: idle RSS per worker <= 80 MB): what a worker imports to start serving leaves out the
libraries only some requests need; they are loaded by the first such request (DAV, admin pages, a picture, IMAP,
PostgreSQL). Checked in a fresh interpreter: sys.modules of this test process holds whatever other tests loaded."""

from __future__ import annotations

import subprocess
import sys

# Loaded at first use: Radicale/wsgidav/lxml (web/dav.py), the admin views and what they import (web/routes.py),
# Pillow (sites/media.py), twisted (daemon._start_twisted), psycopg (PostgreSQL only), alembic (migrations).
LAZY = ("radicale", "wsgidav", "lxml", "icalendar", "markdown_it", "PIL", "twisted", "psycopg", "alembic")

SCRIPT = f"""
import sys
import smb_suite.daemon, smb_suite.web.app, smb_suite.web.protocol
print(" ".join(name for name in {LAZY!r} if name in sys.modules))
"""


def test_a_worker_starts_without_the_libraries_only_some_requests_need() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)
    assert result.stdout.split() == []
