"""What each API call takes and answers, declared once: the request bodies and query parameters are parsed from
the same `Field`s the OpenAPI document is written from, so the document cannot drift from what the code accepts
(schemathesis, tests/integration/test_api_schema.py, checks the answers against it on a running daemon).

Written by hand rather than with apispec or spectree: our bodies are a few flat objects of strings and lists of
strings, and those libraries bring pydantic or marshmallow models for what twenty lines here parse and describe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from smb_suite.errors import InvalidInput

JSONDoc = dict[str, Any]
MAX_BODY = 64 * 1024
MAX_TEXT = 500
MAX_LIST = 20


@dataclass(frozen=True, slots=True)
class Field:
    """A string (`choices`: one of them; `pattern`: matching it), or with `many` a list of such strings."""

    name: str
    description: str
    required: bool = False
    many: bool = False
    choices: tuple[str, ...] = ()
    pattern: str = ""
    max_length: int = MAX_TEXT
    default: str | None = None

    def schema(self) -> JSONDoc:
        item: JSONDoc = {"type": "string", "maxLength": self.max_length}
        if self.choices:
            item = {"type": "string", "enum": list(self.choices)}
        elif self.pattern:
            item["pattern"] = self.pattern
        if self.default is not None:
            item["default"] = self.default
        if self.many:
            return {"type": "array", "items": item, "maxItems": MAX_LIST, "description": self.description}
        return {**item, "description": self.description}

    def parse(self, value: Any) -> str | list[str]:
        if self.many:
            if not isinstance(value, list) or len(value) > MAX_LIST:
                raise InvalidInput(f"{self.name}: expected a list of at most {MAX_LIST} strings")
            return [self._one(item) for item in value]
        return self._one(value)

    def _one(self, value: Any) -> str:
        if not isinstance(value, str) or len(value) > self.max_length:
            raise InvalidInput(f"{self.name}: expected a string of at most {self.max_length} characters")
        if self.choices and value not in self.choices:
            raise InvalidInput(f"{self.name}: expected one of {', '.join(self.choices)}")
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise InvalidInput(f"{self.name}: expected {self.description.lower()}")
        return value


def body_schema(fields: tuple[Field, ...]) -> JSONDoc:
    return {
        "type": "object",
        "properties": {f.name: f.schema() for f in fields},
        "required": [f.name for f in fields if f.required],
        "additionalProperties": False,
    }


def parse_body(fields: tuple[Field, ...], raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body, every field checked; absent optional fields take their default."""
    try:
        document = json.loads(raw or b"{}")
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("the request body is not JSON") from exc
    if not isinstance(document, dict):
        raise InvalidInput("the request body must be a JSON object")
    return parse_fields(fields, document)


def parse_fields(fields: tuple[Field, ...], given: Mapping[str, Any]) -> dict[str, Any]:
    known = {f.name for f in fields}
    unknown = sorted(set(given) - known)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for f in fields:
        if f.name in given:
            values[f.name] = f.parse(given[f.name])
        elif f.required:
            raise InvalidInput(f"{f.name}: required")
        else:
            values[f.name] = [] if f.many else f.default
    return values


@dataclass(frozen=True, slots=True)
class Call:
    """One authorised call as an endpoint sees it: who, the path parameters, the parsed body and query."""

    actor: Any  # the caller's Principal
    path: Mapping[str, str]
    values: Mapping[str, Any]


Handler = Callable[[Call], Awaitable[tuple[int, JSONDoc]]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One operation of the API: the document's entry for it and the code that answers it."""

    method: str
    path: str  # below /api/v1, with {parameters}
    operation: str
    summary: str
    scope: str
    handler: Handler
    response: str  # a schema name of RESPONSES
    status: int = 200
    body: tuple[Field, ...] | None = None
    query: tuple[Field, ...] = ()
    errors: tuple[int, ...] = field(default=(400, 404))

    @property
    def idempotent(self) -> bool:
        """POSTs take an Idempotency-Key: a retry with it answers the first answer again."""
        return self.method == "POST"
