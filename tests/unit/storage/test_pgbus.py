"""The change bus across machines: change hubs joined by PostgreSQL LISTEN/NOTIFY (a private server)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from smb_suite.storage.changes import ChangeHub
from smb_suite.storage.pgbus import PostgresBus
from tests.pgserver import Postgres


@pytest.fixture(scope="module")
def url(postgres: Postgres) -> str:
    return postgres.create_database()


async def _nodes(url: str, count: int) -> list[ChangeHub]:
    hubs = []
    for _ in range(count):
        hub = ChangeHub()
        await hub.connect(PostgresBus(url))
        hubs.append(hub)
    return hubs


async def _close(hubs: list[ChangeHub]) -> None:
    for hub in hubs:
        assert hub.bus is not None
        await hub.bus.close()


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.005)


def test_a_change_published_on_one_node_reaches_the_listeners_of_every_node_once(url: str) -> None:
    async def scenario() -> None:
        hubs = await _nodes(url, 3)
        heard: list[tuple[int, int]] = []
        for number, hub in enumerate(hubs):
            hub.subscribe(7, lambda mailbox, _, number=number: heard.append((number, mailbox)))
        hubs[0].publish(7)
        await _until(lambda: len(heard) == 3)
        hubs[1].publish(8)  # nobody listens to 8
        hubs[1].publish(7)
        await _until(lambda: len(heard) == 6)
        marks: list[int] = []
        for hub in hubs:
            hub.subscribe(9, lambda mailbox, _: marks.append(mailbox))
        hubs[1].publish(9)  # sent after the others: once every node heard it, nothing else is on its way
        await _until(lambda: len(marks) == 3)
        assert sorted(heard) == [(0, 7), (0, 7), (1, 7), (1, 7), (2, 7), (2, 7)]
        await _close(hubs)

    asyncio.run(scenario())


def test_repeated_drops_and_changes_of_one_folder_all_arrive_in_order(url: str) -> None:
    """PostgreSQL folds identical payloads of one transaction: each carries its sender's sequence number."""

    async def scenario() -> None:
        hubs = await _nodes(url, 2)
        events: list[str] = []
        hubs[1].on_drop(lambda mailbox: events.append(f"drop {mailbox}"))
        hubs[1].subscribe(5, lambda mailbox, _: events.append(f"change {mailbox}"))
        for _ in range(3):
            hubs[0].drop(5)
            hubs[0].publish(5)
        await _until(lambda: len(events) == 6)
        assert events == ["drop 5", "change 5"] * 3
        await _close(hubs)

    asyncio.run(scenario())


def test_a_node_whose_database_connection_breaks_hears_changes_again_once_reconnected(
    url: str, postgres: Postgres
) -> None:
    async def scenario() -> None:
        hubs = await _nodes(url, 2)
        heard: list[int] = []
        hubs[1].subscribe(3, lambda mailbox, _: heard.append(mailbox))
        postgres.terminate_connections(url)  # as a restarted or failed-over server would
        async with asyncio.timeout(20):
            while not heard:
                hubs[0].publish(3)
                await asyncio.sleep(0.2)
        await _close(hubs)

    asyncio.run(scenario())
