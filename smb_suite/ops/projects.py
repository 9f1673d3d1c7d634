"""Projects and their tasks, for the admin pages: the business's VTODO collections (dav/tasklists.py), the same
ones its users sync with CalDAV clients.

Every user of a business reads and writes its projects, as over CalDAV; nobody else names them: the acting
principal's own business is the only one reached, and without the "collaboration" module there is nothing
(NotFound, like a project that does not exist). A task is assigned to a user of the same business only.
Creating, renaming and archiving a project are audited; tasks are the business's content, like its mail.
Radicale blocks on files: callers run these in a thread (web: `Views.read`), as DAV requests do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from smb_suite.dav import tasks
from smb_suite.dav.tasklists import MAX_NAME, Project, TaskLists
from smb_suite.directory.model import Principal
from smb_suite.errors import InvalidInput, NotFound
from smb_suite.ops.tiers import COLLABORATION, has_module
from smb_suite.services import Services

NO_MODULE = "Your business has no projects: they come with the collaboration module."
TITLE_RULE = "A task's title has 1 to 500 characters."
ASSIGNEE_RULE = "A task is assigned to a user of your business."
UNASSIGNED = "none"  # the assignee filter for tasks nobody has
OPEN = "open"  # the status filter for tasks not done or cancelled


@dataclass(frozen=True, slots=True)
class Business:
    """The acting user's business as the project pages need it: its task lists and its users' addresses."""

    tenant_id: int
    lists: TaskLists
    members: list[str]


def business(services: Services, actor: Principal) -> Business:
    tenant_id = actor.tenant_id
    if tenant_id is None or not has_module(services, tenant_id, COLLABORATION):
        raise NotFound(NO_MODULE)
    _, storage = services.dav.calendars(tenant_id)
    storage.ensure_business()
    members = [str(user.address).lower() for user in services.directory.members(tenant_id)]
    return Business(tenant_id, TaskLists(storage, tenant_id), members)


def _now(services: Services) -> datetime:
    return datetime.fromtimestamp(services.clock(), UTC)


def _checked(found: Business, fields: tasks.Fields) -> tasks.Fields:
    title = " ".join(fields.title.split())
    if not title or len(title) > tasks.MAX_TITLE:
        raise InvalidInput(TITLE_RULE)
    assignee = fields.assignee.strip().lower() if fields.assignee else None
    if assignee and assignee not in found.members:
        raise InvalidInput(ASSIGNEE_RULE)
    return replace(fields, title=title, assignee=assignee or None)


# -- projects ---------------------------------------------------------------------------------------------


def projects(services: Services, actor: Principal) -> list[Project]:
    return business(services, actor).lists.projects()


def create_project(services: Services, actor: Principal, name: str) -> Project:
    found = business(services, actor)
    project = found.lists.create(name)
    services.audit.record(actor, "project.create", f"{project.name} ({project.id})", found.tenant_id)
    return project


def rename_project(services: Services, actor: Principal, project_id: str, name: str) -> None:
    found = business(services, actor)
    found.lists.rename(project_id, name)
    services.audit.record(actor, "project.rename", f"{name[:MAX_NAME]} ({project_id})", found.tenant_id)


def archive_project(services: Services, actor: Principal, project_id: str, archived: bool) -> None:
    found = business(services, actor)
    found.lists.set_archived(project_id, archived)
    action = "project.archive" if archived else "project.reopen"
    services.audit.record(actor, action, project_id, found.tenant_id)


# -- tasks ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProjectTasks:
    project: Project
    tasks: list[tasks.Task]  # open first, each part overdue first then by due date
    members: list[str]


def _wanted(task: tasks.Task, status: str, assignee: str) -> bool:
    if status == OPEN and not task.is_open or status not in ("", OPEN) and task.status.value != status:
        return False
    if assignee == UNASSIGNED:
        return task.assignee is None
    return not assignee or task.assignee == assignee


def project_tasks(
    services: Services, actor: Principal, project_id: str, status: str = "", assignee: str = ""
) -> ProjectTasks:
    """A project and its tasks, filtered by status ("open", a STATUS value or all) and assignee (an address,
    "none" or all)."""
    found = business(services, actor)
    project = found.lists.project(project_id)
    now = _now(services)
    listed = [task for task in found.lists.tasks(project_id, found.members) if _wanted(task, status, assignee)]
    listed.sort(key=lambda task: (not task.is_open, tasks.order_key(task, now)))
    return ProjectTasks(project, listed, found.members)


def task(services: Services, actor: Principal, project_id: str, href: str) -> tuple[Project, tasks.Task, list[str]]:
    found = business(services, actor)
    return found.lists.project(project_id), found.lists.task(project_id, href, found.members), found.members


def add_task(services: Services, actor: Principal, project_id: str, fields: tasks.Fields) -> tasks.Task:
    found = business(services, actor)
    return found.lists.add(project_id, _checked(found, fields), found.members, _now(services))


def update_task(
    services: Services, actor: Principal, project_id: str, href: str, etag: str, fields: tasks.Fields
) -> tasks.Task:
    """Save the edit form; ChangedMeanwhile when a client changed the task since the form was shown."""
    found = business(services, actor)
    checked = _checked(found, fields)
    return found.lists.update(project_id, href, etag, lambda _: checked, found.members, _now(services))


def set_status(services: Services, actor: Principal, project_id: str, href: str, status: tasks.Status) -> tasks.Task:
    """The quick status change of the list: only STATUS (and COMPLETED) change, whatever a client did meanwhile."""
    found = business(services, actor)

    def edit(current: tasks.Task) -> tasks.Fields:
        return replace(current.fields, status=status)

    return found.lists.update(project_id, href, "", edit, found.members, _now(services))


def delete_task(services: Services, actor: Principal, project_id: str, href: str) -> None:
    business(services, actor).lists.delete(project_id, href)


def overview(services: Services, actor: Principal) -> list[tuple[str | None, list[tasks.Listed]]]:
    """Open tasks of every project not archived, per person (the unassigned last), overdue first."""
    found = business(services, actor)
    return tasks.by_person(found.lists.all_tasks(found.members), _now(services))
