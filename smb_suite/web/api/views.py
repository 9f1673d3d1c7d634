"""The calls of /api/v1/: each translates its parsed arguments into one use case of ops/provisioning (through
the store runner) and its result into JSON. Who may do what is decided there and in the core."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from smb_suite.billing import export
from smb_suite.billing.contract import Contract, State, UserKind
from smb_suite.billing.money import Month
from smb_suite.directory.model import Role
from smb_suite.ops import billing, provisioning
from smb_suite.ops.tenants import TenantRow
from smb_suite.services import Services
from smb_suite.web.api.spec import Call, Endpoint, Field, JSONDoc

T = TypeVar("T")
BUSINESS = "/businesses/{business}"
NAME = Field("name", "The business's name (letters, digits, dots, hyphens)", required=True, max_length=100)
PASSWORD = Field("password", "The mailbox's password (at least 8 characters)", required=True, max_length=200)
KIND = Field("kind", "How the user is billed", choices=tuple(UserKind), default=UserKind.STANDARD.value)
EDIT = (
    Field("plan", "A plan of the catalogue, or 'none' to drop the plan", max_length=50),
    Field("add_modules", "Modules to add", many=True, max_length=50),
    Field("remove_modules", "Modules to remove", many=True, max_length=50),
    Field("add_extensions", "Storage extensions to add", many=True, max_length=50),
    Field("remove_extensions", "Storage extensions to remove", many=True, max_length=50),
)
MONTH = Field("month", "A month, YYYY-MM", required=True, pattern=r"[0-9]{4}-[0-9]{2}", max_length=7)


def business_json(row: TenantRow) -> JSONDoc:
    return {
        "name": row.tenant.name,
        "tier": row.tenant.tier,
        "suspended": row.tenant.suspended,
        "partner": row.partner,
        "domains": list(row.domains),
        "used_bytes": row.usage.used,
        "limit_bytes": row.usage.limit,
    }


def member_json(member: provisioning.Member) -> JSONDoc:
    return {"address": str(member.user.address), "role": str(member.user.role), "kind": str(member.kind)}


def state_json(state: State) -> JSONDoc:
    return {"plan": state.plan, "modules": sorted(state.modules), "extensions": sorted(state.extensions)}


def contract_json(contract: Contract, services: Services) -> JSONDoc:
    current = contract.state_on(services.subscriptions.today())
    return {
        "business": contract.business,
        "sold_by": contract.partner,
        "start": contract.start.isoformat(),
        "current": None if current is None else state_json(current),
        "changes": [{"day": change.day.isoformat(), "state": state_json(change.state)} for change in contract.changes],
    }


def _edit(values: Any) -> billing.Edit:
    return billing.Edit(
        values["plan"] or "",
        values["add_modules"],
        values["remove_modules"],
        values["add_extensions"],
        values["remove_extensions"],
    )


class ApiViews:
    def __init__(self, services: Services) -> None:
        self.services = services

    async def _read(self, function: Callable[..., T], *args: Any) -> T:
        return await self.services.runner.read(function, self.services, *args)

    async def _write(self, function: Callable[..., T], *args: Any) -> T:
        return await self.services.runner.write(function, self.services, *args)

    def endpoints(self) -> list[Endpoint]:
        read, write = "businesses:read", "businesses:write"
        return [
            Endpoint("GET", "/businesses", "listBusinesses", "The caller's businesses", read, self.list, "Businesses"),
            Endpoint(
                "POST", "/businesses", "createBusiness", "A business with its first domain, owner and subscription",
                write, self.create, "Business", 201,
                body=(
                    NAME,
                    Field("domain", "Its first domain", required=True, max_length=253),
                    Field("owner", "The owner's address, at that domain", required=True, max_length=320),
                    PASSWORD,
                    Field("tier", "Storage tier (default: the server's default tier)", max_length=50),
                    *EDIT,
                ),
            ),
            Endpoint("GET", BUSINESS, "getBusiness", "One business", read, self.get, "Business"),
            Endpoint("POST", BUSINESS + "/suspend", "suspendBusiness", "Suspend (mail waits, no login, sites 503)",
                     write, self.suspend, "Business", body=()),
            Endpoint("POST", BUSINESS + "/resume", "resumeBusiness", "Lift a suspension", write, self.resume,
                     "Business", body=()),
            Endpoint("GET", BUSINESS + "/users", "listUsers", "Its named users and their kinds", read, self.users,
                     "Users"),
            Endpoint(
                "POST", BUSINESS + "/users", "addUser", "Add a mailbox, billed by kind from today", write,
                self.add_user, "User", 201,
                body=(
                    Field("address", "The mailbox's address, at one of the business's domains", required=True,
                          max_length=320),
                    PASSWORD,
                    KIND,
                    Field("role", "Its role", choices=("user", "owner"), default="user"),
                ),
            ),
            Endpoint("DELETE", BUSINESS + "/users/{address}", "removeUser", "Remove a mailbox and its mail", write,
                     self.remove_user, "User"),
            Endpoint("GET", BUSINESS + "/usage", "getUsage", "Storage used, users by kind, daily history", read,
                     self.usage, "Usage"),
            Endpoint("GET", BUSINESS + "/subscription", "getSubscription", "The subscription and its changes",
                     "billing:read", self.subscription, "Subscription"),
            Endpoint("POST", BUSINESS + "/subscription", "changeSubscription",
                     "Change the plan, modules or extensions from today (the first change starts the contract)",
                     "billing:write", self.change_subscription, "Subscription", body=EDIT),
            Endpoint(
                "GET", "/statement", "getStatement", "A partner's revenue share of a month (a partner: its own)",
                "billing:read", self.statement, "Statement",
                query=(MONTH, Field("partner", "The partner (the operator's tokens only)", max_length=100)),
            ),
        ]  # fmt: skip

    async def list(self, call: Call) -> tuple[int, JSONDoc]:
        rows = await self._read(provisioning.businesses, call.actor)
        return 200, {"businesses": [business_json(row) for row in rows]}

    async def _business(self, call: Call, name: str | None = None) -> JSONDoc:
        row = await self._read(provisioning.business_row, call.actor, name or call.path["business"])
        return business_json(row)

    async def create(self, call: Call) -> tuple[int, JSONDoc]:
        values = call.values
        edit = _edit(values)
        wanted = any(values[field.name] for field in EDIT)
        tenant = await self._write(
            provisioning.create_business,
            call.actor,
            values["name"],
            values["domain"],
            values["owner"],
            values["password"],
            values["tier"],
            edit if wanted else None,
        )
        return 201, await self._business(call, tenant.name)

    async def get(self, call: Call) -> tuple[int, JSONDoc]:
        return 200, await self._business(call)

    async def suspend(self, call: Call) -> tuple[int, JSONDoc]:
        await self._write(provisioning.set_suspended, call.actor, call.path["business"], True)
        return 200, await self._business(call)

    async def resume(self, call: Call) -> tuple[int, JSONDoc]:
        await self._write(provisioning.set_suspended, call.actor, call.path["business"], False)
        return 200, await self._business(call)

    async def users(self, call: Call) -> tuple[int, JSONDoc]:
        found = await self._read(provisioning.members, call.actor, call.path["business"])
        return 200, {"users": [member_json(member) for member in found]}

    async def add_user(self, call: Call) -> tuple[int, JSONDoc]:
        values = call.values
        added = await self._write(
            provisioning.add_member,
            call.actor,
            call.path["business"],
            values["address"],
            values["password"],
            UserKind(values["kind"]),
            Role(values["role"]),
        )
        return 201, member_json(added)

    async def remove_user(self, call: Call) -> tuple[int, JSONDoc]:
        removed = await self._write(provisioning.remove_member, call.actor, call.path["business"], call.path["address"])
        return 200, member_json(removed)

    async def usage(self, call: Call) -> tuple[int, JSONDoc]:
        found = await self._read(provisioning.usage, call.actor, call.path["business"])
        return 200, {
            "business": found.usage.tenant,
            "tier": found.usage.tier,
            "used_bytes": found.usage.used,
            "limit_bytes": found.usage.limit,
            "users": {str(kind): count for kind, count in found.users.items()},
            "history": [{"day": day, "used_bytes": used, "limit_bytes": limit} for day, used, limit in found.history],
        }

    async def subscription(self, call: Call) -> tuple[int, JSONDoc]:
        contract = await self._read(provisioning.subscription, call.actor, call.path["business"])
        return 200, contract_json(contract, self.services)

    async def change_subscription(self, call: Call) -> tuple[int, JSONDoc]:
        contract = await self._write(
            provisioning.change_subscription, call.actor, call.path["business"], _edit(call.values)
        )
        return 200, contract_json(contract, self.services)

    async def statement(self, call: Call) -> tuple[int, JSONDoc]:
        month = Month.parse(call.values["month"])
        found = await self._read(provisioning.statement, call.actor, call.values["partner"], month)
        return 200, {
            "partner": found.partner,
            "month": str(found.month),
            "lines": [export.share_row(line) for line in found.lines],
            "totals": [export.total_row(total) for total in found.totals],
        }
