"""Projects in the admin UI: the business's task lists (the VTODO collections its users sync over CalDAV), one
project's tasks with filters and a quick status change, a task's form, and the open tasks per person.

Views only translate HTTP; ops/projects.py decides (the visitor's own business only, 404 without the
"collaboration" module or for a project or task it does not have). Every form carries the CSRF token; every
change answers 303 with a notice. An edit that crosses a change made by a CalDAV client meanwhile (its ETag no
longer matches) shows the form again with the task as it is now (409).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smb_suite.dav.layout import tenant_principal
from smb_suite.dav.tasklists import CHANGED, NAME_RULE, NO_PROJECT, NO_TASK
from smb_suite.dav.tasks import Fields, Priority, Status
from smb_suite.errors import ChangedMeanwhile, InvalidInput
from smb_suite.ops import projects
from smb_suite.ops.projects import ASSIGNEE_RULE, NO_MODULE, TITLE_RULE
from smb_suite.web.admin import FORM_BYTES, Views, Visitor, text_field
from smb_suite.web.dav import dav_url

PROJECTS = "/admin/projects/"
PROJECT = PROJECTS + "{project}/"
TASKS = PROJECT + "tasks"
TASK = TASKS + "/{task}"
OVERVIEW = "/admin/tasks/"
NOTICES = {
    "project-created": "The project is created. Phones and calendar apps show it as a task list.",
    "project-renamed": "The project is renamed.",
    "project-archived": "The project is archived: it no longer shows in the lists.",
    "project-reopened": "The project is back in the lists.",
    "task-added": "The task is added.",
    "task-saved": "The task is saved.",
    "task-deleted": "The task is deleted.",
}
STATUS_LABELS = {
    Status.NEEDS_ACTION: "To do",
    Status.IN_PROCESS: "In progress",
    Status.COMPLETED: "Done",
    Status.CANCELLED: "Cancelled",
}
PRIORITY_LABELS = {Priority.HIGH: "High", Priority.NORMAL: "Normal", Priority.LOW: "Low"}
BAD_DUE = "Give the due date as YYYY-MM-DD, or leave it empty."
BAD_STATUS = "Choose one of the statuses offered."
ERRORS = (BAD_DUE, BAD_STATUS, NAME_RULE, NO_PROJECT, NO_TASK, CHANGED, NO_MODULE, TITLE_RULE, ASSIGNEE_RULE)


def project_path(project_id: str) -> str:
    return PROJECT.format(project=quote(project_id, safe=""))


def task_path(project_id: str, href: str) -> str:
    return TASK.format(project=quote(project_id, safe=""), task=quote(href, safe=""))


def posted_fields(form: FormData) -> Fields:
    """The task form's fields (InvalidInput for a status, priority or date no form offers)."""
    due_text = text_field(form, "due").strip()
    try:
        due = date.fromisoformat(due_text) if due_text else None
        status = Status(text_field(form, "status") or Status.NEEDS_ACTION)
        priority = Priority(text_field(form, "priority") or Priority.NORMAL)
    except ValueError as error:
        raise InvalidInput(BAD_DUE) from error
    return Fields(text_field(form, "title"), status, priority, due, text_field(form, "assignee") or None)


class ProjectViews(Views):
    notices = {**Views.notices, **NOTICES}

    def routes(self) -> list[BaseRoute]:
        return [
            Route(PROJECTS, self.list_page, methods=["GET"]),
            Route(PROJECTS, self.create, methods=["POST"], max_body_size=FORM_BYTES),
            Route(PROJECT, self.project_page, methods=["GET"]),
            Route(PROJECT + "rename", self.rename, methods=["POST"], max_body_size=FORM_BYTES),
            Route(PROJECT + "archive", self.archive, methods=["POST"], max_body_size=FORM_BYTES),
            Route(TASKS, self.add_task, methods=["POST"], max_body_size=FORM_BYTES),
            Route(TASK, self.task_page, methods=["GET"]),
            Route(TASK, self.save_task, methods=["POST"], max_body_size=FORM_BYTES),
            Route(TASK + "/status", self.quick_status, methods=["POST"], max_body_size=FORM_BYTES),
            Route(TASK + "/delete", self.delete_task, methods=["POST"], max_body_size=FORM_BYTES),
            Route(OVERVIEW, self.overview, methods=["GET"]),
        ]

    def _render(self, request: Request, name: str, visitor: Visitor, status: int = 200, **context: object) -> Response:
        now = datetime.fromtimestamp(self.services.clock(), UTC)
        return self.render(
            request, name, visitor, status, statuses=STATUS_LABELS, priorities=PRIORITY_LABELS,
            project_path=project_path, task_path=task_path, now=now, **context,
        )  # fmt: skip

    async def list_page(self, request: Request, status: int = 200, error: str = "") -> Response:
        visitor = await self.require(request)
        listed = await self.read(projects.projects, visitor.actor)
        return self._render(request, "projects.html", visitor, status, projects=listed, error=error)

    async def create(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        try:
            project = await self.read(projects.create_project, visitor.actor, text_field(form, "name"))
        except InvalidInput as error:
            return await self.list_page(request, 422, str(error))
        return self.done(project_path(project.id), "project-created")

    async def project_page(self, request: Request, status: int = 200, error: str = "") -> Response:
        visitor = await self.require(request)
        wanted_status = request.query_params.get("status", projects.OPEN)
        wanted_assignee = request.query_params.get("assignee", "")
        shown = await self.read(
            projects.project_tasks, visitor.actor, request.path_params["project"], wanted_status, wanted_assignee
        )
        base = dav_url(self.services.config.server.hostname, self.services.listening.get("https"))
        address = f"{base}{tenant_principal(visitor.user.tenant_id)}/{shown.project.id}/"
        return self._render(
            request, "project.html", visitor, status, shown=shown, wanted_status=wanted_status,
            wanted_assignee=wanted_assignee, unassigned=projects.UNASSIGNED, error=error, address=address,
        )  # fmt: skip

    async def rename(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        project_id = request.path_params["project"]
        try:
            await self.read(projects.rename_project, visitor.actor, project_id, text_field(form, "name"))
        except InvalidInput as error:
            return await self.project_page(request, 422, str(error))
        return self.done(project_path(project_id), "project-renamed")

    async def archive(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        project_id = request.path_params["project"]
        archived = text_field(form, "archived") != "0"
        await self.read(projects.archive_project, visitor.actor, project_id, archived)
        if archived:
            return self.done(PROJECTS, "project-archived")
        return self.done(project_path(project_id), "project-reopened")

    async def add_task(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        project_id = request.path_params["project"]
        try:
            await self.read(projects.add_task, visitor.actor, project_id, posted_fields(form))
        except InvalidInput as error:
            return await self.project_page(request, 422, str(error))
        return self.done(project_path(project_id), "task-added")

    async def task_page(self, request: Request, status: int = 200, error: str = "") -> Response:
        visitor = await self.require(request)
        project, task, members = await self.read(
            projects.task, visitor.actor, request.path_params["project"], request.path_params["task"]
        )
        return self._render(
            request, "task.html", visitor, status, project=project, task=task, members=members, error=error
        )

    async def save_task(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        project_id, href = request.path_params["project"], request.path_params["task"]
        try:
            fields = posted_fields(form)
            await self.read(projects.update_task, visitor.actor, project_id, href, text_field(form, "etag"), fields)
        except ChangedMeanwhile as error:
            return await self.task_page(request, 409, str(error))
        except InvalidInput as error:
            return await self.task_page(request, 422, str(error))
        return self.done(project_path(project_id), "task-saved")

    async def quick_status(self, request: Request) -> Response:
        visitor, form = await self.posted(request)
        project_id, href = request.path_params["project"], request.path_params["task"]
        try:
            status = Status(text_field(form, "status"))
        except ValueError as error:
            raise InvalidInput(BAD_STATUS) from error
        await self.read(projects.set_status, visitor.actor, project_id, href, status)
        back = text_field(form, "back")
        return self.done(back if back == OVERVIEW else project_path(project_id), "task-saved")

    async def delete_task(self, request: Request) -> Response:
        visitor, _ = await self.posted(request)
        project_id = request.path_params["project"]
        await self.read(projects.delete_task, visitor.actor, project_id, request.path_params["task"])
        return self.done(project_path(project_id), "task-deleted")

    async def overview(self, request: Request) -> Response:
        visitor = await self.require(request)
        groups = await self.read(projects.overview, visitor.actor)
        return self._render(request, "tasks_overview.html", visitor, groups=groups, overview=OVERVIEW)
