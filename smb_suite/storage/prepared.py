"""The store writer's hot statements, compiled once per database dialect and run straight on the DBAPI cursor.

Every IMAP write command (STORE, EXPUNGE, APPEND's commit, the \\Recent claim, the quota charge) runs 4 to 9
small statements on the one store writer thread. SQLAlchemy's path for a statement it has already compiled
(execution context, parameter construction, result wrapping) still costs ~100 us of Python each, about half
of the writer's time under many clients, holding the GIL against the event loop. `Prepared` keeps the
statement written with SQLAlchemy Core (readable, one text for SQLite and PostgreSQL), compiles it the first
time it runs on a dialect, and then hands the SQL text and the parameters to the driver's cursor itself, in
the caller's transaction. Everything else keeps going through SQLAlchemy.

It takes only what it can run exactly as SQLAlchemy would: statements without expanding (IN) or
literal-rendered parameters, whose result columns need no conversion; a parameter type that converts its
value (LargeBinary on SQLite) is converted the same way. PostgreSQL parameters lose their NUL characters as
database.create_engine's cursor hook does, and driver errors are raised wrapped as SQLAlchemy raises them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from smb_suite.storage import database

Params = Mapping[str, Any]
Row = tuple[Any, ...]
_UNSET = object()


@dataclass(frozen=True, slots=True)
class _Form:
    """One statement as one dialect's driver takes it."""

    sql: str
    positional: tuple[str, ...] | None  # parameter names in order (SQLite's "?"), None: named (PostgreSQL's)
    defaults: dict[str, Any]  # values SQLAlchemy binds itself (the 1 of `highestmodseq + 1`)
    convert: dict[str, Callable[[Any], Any]]  # parameter types that convert their value for the driver
    without_nul: bool

    @classmethod
    def compile(cls, statement: sa.Executable, dialect: sa.Dialect) -> _Form:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError(f"expanding or literal parameters are compiled per call: {compiled.string}")
        for column in getattr(compiled, "_result_columns", ()):
            if column.type._cached_result_processor(dialect, None) is not None:
                raise ValueError(f"result column {column.keyname} needs SQLAlchemy's conversion")
        defaults = {name: bind.value for bind, name in compiled.bind_names.items() if not bind.required}
        positional = tuple(compiled.positiontup) if compiled.positional else None
        convert = {name: process for name, process in compiled._bind_processors.items() if process is not None}
        return cls(compiled.string, positional, defaults, convert, dialect.name == "postgresql")

    def parameters(self, given: Params) -> Any:
        values = {**self.defaults, **given} if self.defaults else dict(given)
        for name, process in self.convert.items():
            if values.get(name) is not None:
                values[name] = process(values[name])
        if self.without_nul:
            values = database.nul_free(values)
        if self.positional is None:
            return values
        return tuple(values[name] for name in self.positional)


class Prepared:
    """A statement built once with SQLAlchemy Core and run on the driver's cursor in the caller's transaction
    (see the module docstring). Parameters are passed by their bindparam names."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._forms: dict[str, _Form] = {}

    def _form(self, dialect: sa.Dialect) -> _Form:
        form = self._forms.get(dialect.name)
        if form is None:
            form = self._forms[dialect.name] = _Form.compile(self.statement, dialect)
        return form

    def _cursor(self, conn: sa.Connection, run: Callable[[Any, _Form], Any]) -> Any:
        """Run on a new cursor of the connection, inside its transaction (begun now if none is, as SQLAlchemy
        begins one at a connection's first statement)."""
        if not conn.in_transaction():
            conn.begin()
        dialect = conn.dialect
        form = self._form(dialect)
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        cursor = dbapi_connection.cursor()
        try:
            return run(cursor, form)
        except dialect.loaded_dbapi.Error as error:
            invalidated = dialect.is_disconnect(error, dbapi_connection, cursor)
            if invalidated:
                conn.invalidate(error)
            raise sa.exc.DBAPIError.instance(
                form.sql, None, error, dialect.loaded_dbapi.Error, connection_invalidated=invalidated, dialect=dialect
            ) from error
        finally:
            cursor.close()

    def rows(self, conn: sa.Connection, params: Params) -> list[Row]:
        """Every row the statement returns, as tuples."""
        return self._cursor(conn, lambda cursor, form: _fetch(cursor, form, params))  # type: ignore[no-any-return]

    def first(self, conn: sa.Connection, params: Params) -> Row | None:
        found = self.rows(conn, params)
        return found[0] if found else None

    def one(self, conn: sa.Connection, params: Params) -> Row:
        found = self.rows(conn, params)
        if len(found) != 1:
            raise sa.exc.NoResultFound("no row") if not found else sa.exc.MultipleResultsFound("several rows")
        return found[0]

    def scalar(self, conn: sa.Connection, params: Params) -> Any:
        """The first column of the first row; None when there is none."""
        row = self.first(conn, params)
        return None if row is None else row[0]

    def run(self, conn: sa.Connection, params: Params) -> int:
        """Execute once; the number of rows it changed."""
        return self._cursor(conn, lambda cursor, form: _execute(cursor, form, params))  # type: ignore[no-any-return]

    def run_many(self, conn: sa.Connection, many: Sequence[Params]) -> None:
        """Execute once per parameter set, in one driver call (executemany)."""
        if many:
            self._cursor(conn, lambda cursor, form: cursor.executemany(form.sql, _all(form, many)))


def _fetch(cursor: Any, form: _Form, params: Params) -> list[Row]:
    cursor.execute(form.sql, form.parameters(params))
    return cursor.fetchall()  # type: ignore[no-any-return]  # tuples, from both drivers


def _execute(cursor: Any, form: _Form, params: Params) -> int:
    cursor.execute(form.sql, form.parameters(params))
    if cursor.description is not None:  # RETURNING: read to the end, so the statement is finished
        cursor.fetchall()
    return int(cursor.rowcount)


def _all(form: _Form, many: Iterable[Params]) -> list[Any]:
    return [form.parameters(params) for params in many]
