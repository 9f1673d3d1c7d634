"""The README documents every log event name the code emits (issue 17: logs stay key=value, each event named)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENT = re.compile(r'log\.event\(\s*[\w.]+,\s*f?"([a-z_.{}]+)"')
EXPANDED = {"queue.{outcome.kind}": ("queue.sent", "queue.temporary", "queue.permanent")}
EXPANDED["queue.dsn_{action}"] = ("queue.dsn_failed", "queue.dsn_delayed")


def event_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "smb_suite").rglob("*.py"):
        for name in EVENT.findall(path.read_text()):
            names.update(EXPANDED.get(name, (name,)))
    return names


def test_every_log_event_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    found = event_names()
    assert len(found) > 40
    missing = sorted(name for name in found if f"`{name}`" not in readme)
    assert not missing, f"add these log events to the README's 'Log events' table: {missing}"
