"""The one-machine change bus: workers' change hubs joined by the supervisor's relay over socket pairs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

from smb_suite.storage.bus import Change, ChangeKind, PipeBus, Relay
from smb_suite.storage.changes import ChangeHub


async def _workers(count: int) -> tuple[Relay, list[ChangeHub]]:
    relay = Relay()
    hubs = []
    for worker in range(count):
        ours, theirs = socket.socketpair()
        await relay.attach(worker, ours)
        hub = ChangeHub()
        await hub.connect(PipeBus(theirs))
        hubs.append(hub)
    return relay, hubs


async def _close(relay: Relay, hubs: list[ChangeHub]) -> None:
    for hub in hubs:
        assert hub.bus is not None
        await hub.bus.close()
    await relay.close()


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.005)


def test_a_change_published_in_one_worker_reaches_the_listeners_of_every_other_once() -> None:
    async def scenario() -> None:
        relay, hubs = await _workers(3)
        heard: list[tuple[int, int]] = []
        for number, hub in enumerate(hubs):
            hub.subscribe(7, lambda mailbox, _, number=number: heard.append((number, mailbox)))
        hubs[0].publish(7)
        await _until(lambda: len(heard) == 3)
        hubs[1].publish(8)  # nobody listens to 8: the next change still arrives in order after it
        hubs[1].publish(7)
        await _until(lambda: len(heard) == 6)
        assert sorted(heard) == [(0, 7), (0, 7), (1, 7), (1, 7), (2, 7), (2, 7)]
        await _close(relay, hubs)

    asyncio.run(scenario())


def test_a_drop_reaches_the_other_workers_before_the_changes_sent_after_it() -> None:
    async def scenario() -> None:
        relay, hubs = await _workers(2)
        events: list[str] = []
        hubs[1].on_drop(lambda mailbox: events.append(f"drop {mailbox}"))
        hubs[1].subscribe(5, lambda mailbox, _: events.append(f"change {mailbox}"))
        hubs[0].drop(5)
        hubs[0].publish(5)
        await _until(lambda: len(events) == 2)
        assert events == ["drop 5", "change 5"]
        await _close(relay, hubs)

    asyncio.run(scenario())


def test_a_worker_whose_supervisor_is_gone_is_told() -> None:
    async def scenario() -> None:
        ours, theirs = socket.socketpair()
        lost = asyncio.Event()
        bus = PipeBus(theirs, on_lost=lost.set)
        await bus.start(lambda change: None)
        ours.close()
        await asyncio.wait_for(lost.wait(), 10)
        await bus.close()

    asyncio.run(scenario())


def test_changes_of_unknown_kinds_are_ignored() -> None:
    assert Change.decode("mailbox 42") == Change(ChangeKind.MAILBOX, 42)
    assert Change.decode("dropped 3\n") == Change(ChangeKind.DROPPED, 3)
    assert Change.decode("calendar 3") is None
    assert Change.decode("mailbox x") is None


def test_other_kinds_of_change_reach_the_listeners_of_their_kind_in_every_other_worker() -> None:
    async def scenario() -> None:
        relay, hubs = await _workers(2)
        heard: list[int] = []
        hubs[1].on(ChangeKind.CREDENTIAL, heard.append)
        hubs[1].subscribe(1 << 200, lambda mailbox, _: heard.append(-1))  # not a mailbox change
        hubs[0].post(Change(ChangeKind.CREDENTIAL, 1 << 200))
        await _until(lambda: len(heard) == 1)
        assert heard == [1 << 200]
        await _close(relay, hubs)

    asyncio.run(scenario())
