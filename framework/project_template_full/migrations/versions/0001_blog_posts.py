"""The blog app's posts table.

Revision ID: 0001_blog_posts
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_blog_posts"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "blog_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blog_posts")),
        sa.UniqueConstraint("title", name=op.f("uq_blog_posts_title")),
    )


def downgrade():
    op.drop_table("blog_posts")
