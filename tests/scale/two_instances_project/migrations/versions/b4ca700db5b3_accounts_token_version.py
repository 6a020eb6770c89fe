"""accounts: token_version column, ids never reused (SQLite AUTOINCREMENT)

Every login token names the account's token_version; existing rows get the version "0"
(tokens issued before this revision name none and are refused: log in again). On SQLite
the table is rebuilt with AUTOINCREMENT so that a deleted account's id is never given to
a new one; PostgreSQL's sequences never reuse ids already.

Revision ID: b4ca700db5b3
Revises: 40499a70f657
Create Date: 2026-12-02 05:26:25

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b4ca700db5b3'
down_revision = '40499a70f657'
branch_labels = None
depends_on = None


def _users_table(autoincrement):
    """The table to alter; on SQLite rebuilt, with or without AUTOINCREMENT."""
    if op.get_context().dialect.name != 'sqlite':
        return op.batch_alter_table('accounts_users')
    return op.batch_alter_table('accounts_users', recreate='always',
                                table_kwargs={'sqlite_autoincrement': autoincrement})


def upgrade():
    with _users_table(autoincrement=True) as batch_op:
        batch_op.add_column(sa.Column('token_version', sa.String(length=32), nullable=False,
                                      server_default='0'))
    # the model gives each new row a random version; the default only filled the existing rows
    with _users_table(autoincrement=True) as batch_op:
        batch_op.alter_column('token_version', server_default=None)


def downgrade():
    with _users_table(autoincrement=False) as batch_op:
        batch_op.drop_column('token_version')
