"""Imports started from the admin UI run in the daemon and survive its restarts

`imports.settings`: where from (host, port, security, user, certificate check) as JSON; `imports.secret`: the
old provider's password, sealed with the key in data_dir/keys/ (imports/secrets.py), erased when the run ends;
`imports.claimed_until`: the lease of the daemon process running it (another takes it over once it lapses).

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("imports", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.add_column(sa.Column("settings", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("secret", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imports", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("secret")
        batch_op.drop_column("settings")
