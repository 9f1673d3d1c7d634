"""A business's projects: its VTODO collections in Radicale's storage, read and written by the admin pages through
the same storage object that serves CalDAV (dav/store.py `calendars`), under Radicale's own lock.

So there is one source of truth: a task made on a page is an item a phone syncs, with its ETag and a new sync
token (Radicale's item cache and history are updated by `upload` and `delete`), charged to the quota by
`QuotaCollection`; a task a client wrote is what the page shows.

A project is a calendar collection of the business principal (`t<tenant id>`) that holds to-dos: the default
"Tasks", the ones made here (named by a random id on disk, the name the user typed only in its display name),
and those a client made with MKCALENDAR. Archiving is a collection property (`ARCHIVED`): an archived project
keeps syncing but leaves the pages' lists and the overview. Names from URLs are only ever compared with the
names the storage lists, never turned into paths.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import radicale.item as radicale_item
import vobject
from radicale import storage as radicale_storage

from smb_suite.dav.calendars import QuotaStorage, item_name_ok
from smb_suite.dav.layout import tenant_principal
from smb_suite.dav.tasks import Fields, Listed, Task, apply, new_calendar, read_task
from smb_suite.errors import ChangedMeanwhile, InvalidInput, NotFound, QuotaExceeded

DISPLAY_NAME = "D:displayname"
COMPONENTS = "C:supported-calendar-component-set"
ARCHIVED = "{urn:x-smb-suite}archived"  # a dead property (RFC 4918 4.3): kept, shown to clients that ask
MAX_NAME = 200
NO_PROJECT = "This project does not exist."
NO_TASK = "This task does not exist."
NAME_RULE = "A project's name has 1 to 200 characters."
CHANGED = "This task was changed meanwhile (in a calendar app or another page): here it is as it is now."


@dataclass(frozen=True, slots=True)
class Project:
    id: str  # the collection's name on disk
    name: str
    archived: bool


def _project(collection: Any) -> Project | None:
    """The project a collection is, or None when it holds no to-dos (the Team calendar, the address book)."""
    meta = collection.get_meta()
    components = meta.get(COMPONENTS, "")
    if meta.get("tag") != "VCALENDAR" or components and "VTODO" not in components.split(","):
        return None
    name = collection.path.rsplit("/", 1)[-1]
    return Project(name, meta.get(DISPLAY_NAME) or name, meta.get(ARCHIVED) == "1")


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(NAME_RULE)
    return name


class TaskLists:
    """One business's projects and tasks; every call takes Radicale's lock like a DAV request does."""

    def __init__(self, storage: QuotaStorage, tenant_id: int) -> None:
        self._storage = storage
        self._business = tenant_principal(tenant_id)
        self._rrule_limit = int(storage.configuration.get("server", "max_vevent_rrule_occurrence"))

    def _collections(self) -> Iterator[Any]:
        found = self._storage.discover(f"/{self._business}/", "1")
        next(found, None)  # the business principal itself
        yield from found

    def _projects(self) -> dict[str, tuple[Project, Any]]:
        listed = ((_project(collection), collection) for collection in self._collections())
        return {project.id: (project, collection) for project, collection in listed if project is not None}

    def _collection(self, project_id: str) -> Any:
        found = self._projects().get(project_id)
        if found is None:
            raise NotFound(NO_PROJECT)
        return found[1]

    def projects(self) -> list[Project]:
        with self._storage.acquire_lock("r", self._business):
            listed = [project for project, _ in self._projects().values()]
        return sorted(listed, key=lambda project: (project.name.casefold(), project.id))

    def project(self, project_id: str) -> Project:
        with self._storage.acquire_lock("r", self._business):
            found = self._projects().get(project_id)
        if found is None:
            raise NotFound(NO_PROJECT)
        return found[0]

    def create(self, name: str) -> Project:
        """A new task list: a VTODO calendar named by a random id, the name as its display name."""
        project = Project(uuid.uuid4().hex, _name(name), False)
        props = {"tag": "VCALENDAR", DISPLAY_NAME: project.name, COMPONENTS: "VTODO"}
        with self._storage.acquire_lock("w", self._business):
            self._storage.create_collection(f"/{self._business}/{project.id}/", props=props)
        return project

    def _set_meta(self, project_id: str, key: str, value: str | None) -> None:
        with self._storage.acquire_lock("w", self._business):
            collection = self._collection(project_id)
            meta = dict(collection.get_meta())
            meta[key] = value
            collection.set_meta(radicale_item.check_and_sanitize_props(meta))

    def rename(self, project_id: str, name: str) -> None:
        self._set_meta(project_id, DISPLAY_NAME, _name(name))

    def set_archived(self, project_id: str, archived: bool) -> None:
        self._set_meta(project_id, ARCHIVED, "1" if archived else None)

    def tasks(self, project_id: str, members: Sequence[str]) -> list[Task]:
        with self._storage.acquire_lock("r", self._business):
            return self._tasks(self._collection(project_id), members)

    @staticmethod
    def _tasks(collection: Any, members: Sequence[str]) -> list[Task]:
        found = (read_task(item.href, item.etag, item.vobject_item, members) for item in collection.get_all())
        return [task for task in found if task is not None]

    def all_tasks(self, members: Sequence[str]) -> list[Listed]:
        """The tasks of every project that is not archived (the overview)."""
        with self._storage.acquire_lock("r", self._business):
            return [
                Listed(project.id, project.name, task)
                for project, collection in self._projects().values()
                if not project.archived
                for task in self._tasks(collection, members)
            ]

    @staticmethod
    def _item(collection: Any, href: str) -> Any:
        """The item of that name (only a plain file name inside the collection is looked up)."""
        item = dict(collection.get_multi([href])).get(href) if item_name_ok(href) else None
        if item is None:
            raise NotFound(NO_TASK)
        return item

    def task(self, project_id: str, href: str, members: Sequence[str]) -> Task:
        with self._storage.acquire_lock("r", self._business):
            item = self._item(self._collection(project_id), href)
        task = read_task(item.href, item.etag, item.vobject_item, members)
        if task is None:
            raise NotFound(NO_TASK)
        return task

    def _upload(self, collection: Any, href: str, calendar: Any, members: Sequence[str]) -> Task:
        items = [calendar]
        radicale_item.check_and_sanitize_items(items, self._rrule_limit, tag="VCALENDAR")
        item = radicale_item.Item(collection_path=collection.path, vobject_item=calendar)
        item.prepare()
        try:
            stored, _ = collection.upload(href, item)
        except ValueError as error:  # QuotaStorage.charge: over quota (ENOSPC for Radicale's own requests)
            cause = error.__cause__
            if isinstance(cause, QuotaExceeded):
                raise cause from None
            raise
        task = read_task(stored.href, stored.etag, calendar, members)
        assert task is not None
        return task

    def add(self, project_id: str, fields: Fields, members: Sequence[str], now: datetime) -> Task:
        uid = str(uuid.uuid4())
        with self._storage.acquire_lock("w", self._business):
            collection = self._collection(project_id)
            return self._upload(collection, f"{uid}.ics", new_calendar(uid, fields, members, now), members)

    def update(
        self,
        project_id: str,
        href: str,
        etag: str,
        edit: Callable[[Task], Fields],
        members: Sequence[str],
        now: datetime,
    ) -> Task:
        """Change a task: `edit` gets it as stored and gives its new fields, under the lock. With an `etag`, the
        change is refused (ChangedMeanwhile) when a client changed the task since it was shown (the rule of a
        CalDAV PUT with If-Match, RFC 7232 3.1)."""
        with self._storage.acquire_lock("w", self._business):
            collection = self._collection(project_id)
            item = self._item(collection, href)
            if etag and item.etag != etag:
                raise ChangedMeanwhile(CHANGED)
            current = read_task(item.href, item.etag, item.vobject_item, members)
            if current is None:
                raise NotFound(NO_TASK)
            calendar = vobject.readOne(item.serialize())
            apply(calendar, edit(current), members, now)
            return self._upload(collection, href, calendar, members)

    def delete(self, project_id: str, href: str) -> None:
        with self._storage.acquire_lock("w", self._business):
            collection = self._collection(project_id)
            try:
                collection.delete(self._item(collection, href).href)
            except radicale_storage.ComponentNotFoundError as error:
                raise NotFound(NO_TASK) from error
