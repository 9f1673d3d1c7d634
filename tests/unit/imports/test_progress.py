"""A run is shown as under way (the page refreshes, the form is hidden) only while it moves: a command-line
import killed midway stays "running" in the database and must not hide the form forever."""

from __future__ import annotations

from smb_suite.imports.records import Progress


def run(state: str, updated: float) -> Progress:
    return Progress(1, "old@imap.example:993", state, None, 10, 20, 1000, 2000, updated)


def test_a_run_is_under_way_while_it_reports_and_not_once_it_stopped_moving_or_ended() -> None:
    assert run("running", 1000.0).under_way(1030.0, 60.0)
    assert run("queued", 1000.0).under_way(1030.0, 60.0)
    assert not run("running", 1000.0).under_way(1100.0, 60.0)  # its process was killed
    assert not run("done", 1000.0).under_way(1001.0, 60.0)
    assert not run("failed", 1000.0).under_way(1001.0, 60.0)
