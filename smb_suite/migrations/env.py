"""Alembic environment: runs migrations on the engine handed over by smb_suite.db.migrate."""

from alembic import context

from smb_suite.db import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
