"""The OpenAPI 3.1 document of /api/v1/, written from the endpoint table (spec.py) and the answers' schemas here."""

from __future__ import annotations

from collections.abc import Sequence

from smb_suite.web.api.spec import Endpoint, JSONDoc, body_schema

PREFIX = "/api/v1"
ERROR_STATUSES = {
    "400": "the request is malformed or refused (invalid_input, invalid_json)",
    "401": "no token, or an unknown or revoked one (unauthorized)",
    "403": "the token lacks the scope, or the caller may not do this (insufficient_scope, forbidden)",
    "404": "no such business, user or partner among the caller's (not_found)",
    "409": "it exists already, does not fit the storage, or the same Idempotency-Key is still running",
    "422": "the Idempotency-Key was used with another request (idempotency_key_reused)",
    "429": "the token made too many calls this minute (rate_limited; see Retry-After)",
    "503": "a temporary failure: try again later (unavailable)",
}


def _string(description: str = "") -> JSONDoc:
    return {"type": "string", "description": description} if description else {"type": "string"}


def _strings() -> JSONDoc:
    return {"type": "array", "items": {"type": "string"}}


def _object(properties: dict[str, JSONDoc]) -> JSONDoc:
    return {"type": "object", "properties": properties, "required": list(properties)}


def _list_of(key: str, item: str) -> JSONDoc:
    return _object({key: {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}})


STATE = _object({"plan": {"type": ["string", "null"]}, "modules": _strings(), "extensions": _strings()})
AMOUNT = {"type": "string", "pattern": r"^-?\d+\.\d\d$", "description": "a decimal amount, never a float"}
SCHEMAS: dict[str, JSONDoc] = {
    "Error": _object({"error": _object({"code": _string("stable, for programs"), "message": _string("for people")})}),
    "Business": _object(
        {
            "name": _string(),
            "tier": _string("storage tier"),
            "suspended": {"type": "boolean"},
            "partner": _string("the partner's business, '' for none"),
            "domains": _strings(),
            "used_bytes": {"type": "integer"},
            "limit_bytes": {"type": "integer"},
        }
    ),
    "Businesses": _list_of("businesses", "Business"),
    "User": _object(
        {"address": _string(), "role": _string("user, owner, partner or operator"), "kind": _string("billing kind")}
    ),
    "Users": _list_of("users", "User"),
    "Subscription": _object(
        {
            "business": _string(),
            "sold_by": {"type": ["string", "null"], "description": "the partner who sold it; null: the operator"},
            "start": {"type": "string", "format": "date"},
            "current": {"anyOf": [STATE, {"type": "null"}]},
            "changes": {
                "type": "array",
                "items": _object({"day": {"type": "string", "format": "date"}, "state": STATE}),
            },
        }
    ),
    "Usage": _object(
        {
            "business": _string(),
            "tier": _string(),
            "used_bytes": {"type": "integer"},
            "limit_bytes": {"type": "integer"},
            "users": _object({"standard": {"type": "integer"}, "deskless": {"type": "integer"}}),
            "history": {
                "type": "array",
                "items": _object(
                    {"day": {"type": "string"}, "used_bytes": {"type": "integer"}, "limit_bytes": {"type": "integer"}}
                ),
            },
        }
    ),
    "Statement": _object(
        {
            "partner": _string(),
            "month": _string("YYYY-MM"),
            "lines": {
                "type": "array",
                "items": _object(
                    {
                        "business": _string(),
                        "month": _string(),
                        "contract_year": {"type": "integer"},
                        "currency": _string(),
                        "billed": AMOUNT,
                        "rate_percent": {"type": "string"},
                        "share": AMOUNT,
                    }
                ),
            },
            "totals": {
                "type": "array",
                "items": _object({"currency": _string(), "billed": AMOUNT, "share": AMOUNT}),
            },
        }
    ),
}


def _ref(name: str) -> JSONDoc:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _parameters(endpoint: Endpoint) -> list[JSONDoc]:
    found: list[JSONDoc] = []
    for part in endpoint.path.split("/"):
        if part.startswith("{"):
            name = part.strip("{}")
            schema = {"type": "string", "minLength": 1, "maxLength": 320, "pattern": "^[^/]+$"}
            found.append({"name": name, "in": "path", "required": True, "schema": schema})
    for field in endpoint.query:
        found.append({"name": field.name, "in": "query", "required": field.required, "schema": field.schema()})
    if endpoint.idempotent:
        key = {"type": "string", "minLength": 1, "maxLength": 200}
        text = "a retry with the same key and body answers the first answer again and changes nothing"
        found.append({"name": "Idempotency-Key", "in": "header", "required": False, "schema": key, "description": text})
    return found


def _operation(endpoint: Endpoint) -> JSONDoc:
    responses: JSONDoc = {str(endpoint.status): {"description": "done", "content": _ref(endpoint.response)}}
    for status, text in ERROR_STATUSES.items():
        responses[status] = {"description": text, "content": _ref("Error")}
    operation: JSONDoc = {
        "operationId": endpoint.operation,
        "summary": endpoint.summary,
        "description": f"Scope: {endpoint.scope}.",
        "security": [{"bearer": []}],
        "parameters": _parameters(endpoint),
        "responses": responses,
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": any(field.required for field in endpoint.body),
            "content": {"application/json": {"schema": body_schema(endpoint.body)}},
        }
    return operation


def openapi(endpoints: Sequence[Endpoint], server: str) -> JSONDoc:
    paths: dict[str, JSONDoc] = {}
    for endpoint in endpoints:
        paths.setdefault(PREFIX + endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "smb-suite provisioning API",
            "version": "1",
            "description": "Partners' systems create and manage their customers' businesses. Tokens: "
            '`smb-suite api token create PARTNER`. Errors: {"error": {"code", "message"}}.',
        },
        "servers": [{"url": server}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
