"""Alembic environment: runs migrations on the engine handed over by smb_suite.storage.database.migrate.

On SQLite, foreign keys are off while migrations run: a batch migration recreates a table (copy, drop, rename),
and with them on, dropping the old table would cascade into (or be refused by) the tables that reference it.
Every foreign key is checked once the migrations are done; a violation aborts before anything is committed.
"""

from alembic import context

from smb_suite.storage.db import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: run before BEGIN
        connection.commit()
    try:
        with connection.begin():
            context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:10]}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
